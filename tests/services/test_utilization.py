"""Utilization review services: review clocks per payer, criteria evaluation on imported records, confirm/override."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from utilization_fixtures import *  # noqa: F403 - fixtures, scoped to this module
from utilization_fixtures import OSTEO

from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.patients.services import coverage_add
from casebridge.tasks.models import Task
from casebridge.utilization import selectors, services
from casebridge.utilization.models import CriteriaSetVersion, ReviewStatus, UtilizationReview


def _answer_osteo(nurse, review, value="met"):
    return services.review_evaluate(
        actor=nurse,
        review_id=review.pk,
        answers={"osteomyelitis_inpatient": {"needs_hospital_level_care": {"value": value, "note": "debridement Fri"}}},
    )


def test_initial_review_adopts_the_admission_task_and_is_due_24_hours_after_admission(nurse, review, osteo_stay):
    assert review.kind == "initial"
    assert review.due_at == osteo_stay.admit_at + dt.timedelta(hours=24)
    # The importer opened the hospital case with its initial-review task; the review took that task over.
    assert review.task.kind == "initial_review"
    assert review.task.case_id == osteo_stay.hospital_case_id
    assert Task.objects.filter(kind="initial_review", case_id=osteo_stay.hospital_case_id).count() == 1
    assert review.task.due_at == review.due_at
    assert services.review_schedule_initial(actor=nurse, encounter_id=osteo_stay.pk).pk == review.pk


def test_review_clock_follows_the_payers_policy(nurse, director, library, admit, cm):
    services.review_policy_set(
        actor=director, payer="Acme Health Plan", initial_review_hours=8, continued_stay_interval_hours=48
    )
    stay = admit("acme", **OSTEO)
    coverage_add(
        actor=cm,
        patient_id=stay.patient_id,
        payer_name="Acme Health Plan",
        member_id="A-1",
        period_start=dt.date(2020, 1, 1),
    )
    review = services.review_schedule_initial(actor=nurse, encounter_id=stay.pk)
    assert review.payer == "Acme Health Plan"
    assert review.due_at == stay.admit_at + dt.timedelta(hours=8)
    services.review_evaluate(actor=nurse, review_id=review.pk)
    with clock.frozen_at(timezone.now()):
        done = services.review_complete(
            actor=nurse, review_id=review.pk, decision="overridden", level="inpatient", reason="Awaiting MRI, septic"
        )
        nxt = UtilizationReview.objects.get(encounter=stay, kind="continued_stay")
        assert nxt.due_at == done.completed_at + dt.timedelta(hours=48)
    assert nxt.task.kind == "continued_stay_review"
    assert nxt.task.due_at == nxt.due_at


def test_default_payer_gets_a_daily_continued_stay_review(nurse, review):
    _answer_osteo(nurse, review)
    done = services.review_complete(actor=nurse, review_id=review.pk, decision="confirmed")
    nxt = services.review_schedule_next(actor=nurse, review_id=done.pk)
    assert nxt is not None and nxt.kind == "continued_stay"
    assert nxt.due_at == done.completed_at + dt.timedelta(hours=24)
    assert selectors.next_reviews_due(actor=nurse, encounter_ids=[review.encounter_id, 999999]) == {
        review.encounter_id: nxt.due_at,
        999999: None,
    }


def test_osteomyelitis_admission_meets_the_iv_antibiotic_set_with_its_evidence(nurse, review):
    review = _answer_osteo(nurse, review)
    by_key = {r["key"]: r for r in review.results}
    # Sets are chosen by the stay's diagnoses: Two-Midnight always; both osteomyelitis sets; not pneumonia or HF.
    assert set(by_key) == {"two_midnight", "osteomyelitis_inpatient", "osteomyelitis_home_iv"}
    osteo = {c["id"]: c for c in by_key["osteomyelitis_inpatient"]["criteria"]}
    assert osteo["osteomyelitis_diagnosis"]["status"] == "met"
    assert osteo["osteomyelitis_diagnosis"]["evidence"][0]["display"] == "Osteomyelitis (disorder)"
    assert osteo["osteomyelitis_diagnosis"]["evidence"][0]["source_id"] == "cond-osteo-0"
    assert osteo["iv_antibiotics"]["status"] == "met"
    assert osteo["iv_antibiotics"]["evidence"][0]["value"] == "Vancomycin 1000 MG Injection"
    assert osteo["inflammatory_markers"]["status"] == "met"
    assert osteo["inflammatory_markers"]["evidence"][0]["value"] == "14.0 mg/dL"
    assert osteo["needs_hospital_level_care"]["status"] == "met"
    assert by_key["osteomyelitis_inpatient"]["status"] == "met"
    assert review.recommended_level == "inpatient"
    assert review.recommendation["reason"].startswith("Osteomyelitis needing IV antibiotics")
    assert len(review.criteria_versions) == 3
    assert AuditEvent.objects.filter(action="review.evaluate", patient_id=review.patient_id).exists()


def test_two_midnight_is_unknown_until_the_reviewer_documents_complex_factors(nurse, review):
    review = services.review_evaluate(actor=nurse, review_id=review.pk)
    tm = next(r for r in review.results if r["key"] == "two_midnight")
    crit = {c["id"]: c for c in tm["criteria"]}
    assert crit["crossed_two_midnights"]["status"] in ("met", "not_met")  # 30 h in: 1 or 2 midnights by clock
    assert crit["complex_factors"]["status"] == "unknown"
    assert crit["inpatient_only_procedure"]["status"] == "not_met"
    assert crit["inpatient_only_procedure"]["explanation"].startswith("no Procedure coded %inpatientOnlyCodes")


def test_override_needs_a_reason_and_a_different_level(nurse, review):
    _answer_osteo(nurse, review)
    with pytest.raises(ValidationFailed) as exc:
        services.review_complete(actor=nurse, review_id=review.pk, decision="overridden", level="home_health")
    assert "reason" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.review_complete(
            actor=nurse, review_id=review.pk, decision="overridden", level="inpatient", reason="same level again"
        )
    assert "level" in exc.value.field_errors
    done = services.review_complete(
        actor=nurse,
        review_id=review.pk,
        decision="overridden",
        level="home_health",
        reason="Stable; home infusion accepted him today",
    )
    assert done.status == ReviewStatus.COMPLETED and done.decided_level == "home_health"
    assert Task.objects.get(pk=review.task_id).status == "completed"
    # Home health is not a hospital level: no further continued-stay review.
    assert not UtilizationReview.objects.filter(encounter_id=review.encounter_id, kind="continued_stay").exists()


def test_answers_to_automatic_criteria_are_refused(nurse, review):
    with pytest.raises(ValidationFailed) as exc:
        services.review_evaluate(
            actor=nurse,
            review_id=review.pk,
            answers={"osteomyelitis_inpatient": {"iv_antibiotics": {"value": "met"}}},
        )
    assert exc.value.field_errors["answers"][0].endswith("is evaluated from the record, not answered")
    assert UtilizationReview.objects.get(pk=review.pk).evaluated_at is None


def test_editing_a_set_creates_a_new_version_and_keeps_the_old(director, library):
    cset = next(s for s in library if s.key == "pneumonia")
    old = CriteriaSetVersion.objects.get(criteria_set=cset, version=1)
    text = old.source_text.replace('value.value < 90"\n  - id: tachypnea', 'value.value < 92"\n  - id: tachypnea')
    assert text != old.source_text
    v2 = services.criteria_set_new_version(actor=director, set_id=cset.pk, text=text, change_note="SpO2 92%")
    assert v2.version == 2
    assert CriteriaSetVersion.objects.get(pk=old.pk).source_text == old.source_text
    with pytest.raises(ValidationFailed) as exc:
        services.criteria_set_new_version(
            actor=director, set_id=cset.pk, text=text.replace("value.value < 92", "value.value <"), change_note="x"
        )
    assert "text" in exc.value.field_errors and "criteria[1].test" in exc.value.field_errors["text"][0]


def test_nurses_cannot_author_criteria_and_other_organizations_cannot_see_them(nurse, library, outsider):
    with pytest.raises(PermissionDenied):
        services.criteria_set_create(actor=nurse, key="x", text="title: x", fmt="yaml")
    with pytest.raises(NotFound):
        selectors.criteria_set_get(actor=outsider, set_id=library[0].pk)


def test_review_status_for_reports_overdue_and_escalation(nurse, review):
    later = review.due_at + dt.timedelta(minutes=1)
    status = selectors.review_status_for(actor=nurse, encounter_ids=[review.encounter_id], now=later)
    assert status[review.encounter_id].overdue is True
    assert status[review.encounter_id].open_reviews == 1
    services.review_escalate(actor=nurse, review_id=review.pk, reason="criteria not met; stay questioned")
    status = selectors.review_status_for(actor=nurse, encounter_ids=[review.encounter_id])
    assert status[review.encounter_id].escalated is True


def test_review_of_another_organization_is_not_found(outsider, review):
    with pytest.raises(NotFound):
        services.review_evaluate(actor=outsider, review_id=review.pk)
    assert selectors.next_reviews_due(actor=outsider, encounter_ids=[review.encounter_id]) == {
        review.encounter_id: None
    }
