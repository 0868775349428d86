"""42 CFR 482.30(d) determinations, MOON notices, condition code 44 and avoidable days, through the services."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from utilization_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.cases.services import careteam_add
from casebridge.kernel import clock
from casebridge.kernel.errors import PermissionDenied, ValidationFailed
from casebridge.tasks.models import Task
from casebridge.utilization import selectors, services
from casebridge.utilization.models import (
    AvoidableDay,
    ConditionCode44,
    DeterminationNotice,
    DeterminationReviewer,
    MoonNotice,
    ReviewStatus,
)


@pytest.fixture
def escalated(nurse, review):
    services.review_evaluate(actor=nurse, review_id=review.pk)
    return services.review_escalate(actor=nurse, review_id=review.pk, reason="Stable since yesterday; questioning stay")


@pytest.fixture
def det(advisor, escalated):
    return services.determination_open(
        actor=advisor,
        review_id=escalated.pk,
        scope="continued_stay",
        rationale="Afebrile 48 h, oral step-down possible",
    )


def _no(actor, det):
    return services.determination_concur(
        actor=actor, determination_id=det.pk, professionally_involved=False, direct_financial_interest=False
    )


def test_escalation_puts_the_review_in_the_physician_advisor_queue(advisor, escalated):
    assert escalated.status == ReviewStatus.ESCALATED
    task = Task.objects.get(pk=escalated.advisor_task_id)
    assert task.queue.name == "Physician advisors" and task.kind == "physician_advisor_review"
    assert [r.pk for r in selectors.advisor_queue(actor=advisor)["reviews"]] == [escalated.pk]


def test_the_attending_is_consulted_first(advisor, det):
    _no(advisor, det)
    with pytest.raises(ValidationFailed) as exc:
        services.determination_decide(actor=advisor, determination_id=det.pk)
    assert "consulted" in exc.value.detail
    with pytest.raises(ValidationFailed) as exc:
        services.determination_attending_respond(actor=advisor, determination_id=det.pk, view="concurs")
    assert exc.value.field_errors == {"view": ["consult the attending first (482.30(d)(1))"]}


def test_one_physician_suffices_when_the_attending_concurs(advisor, det, escalated):
    services.determination_attending_consult(actor=advisor, determination_id=det.pk)
    services.determination_attending_respond(actor=advisor, determination_id=det.pk, view="concurs")
    _no(advisor, det)
    decided = services.determination_decide(actor=advisor, determination_id=det.pk)
    assert decided.status == "decided" and decided.path == "single_physician"
    assert decided.notice_due_at == decided.decided_at + dt.timedelta(days=2)
    assert Task.objects.get(pk=decided.notice_task_id).due_at == decided.notice_due_at
    escalated.refresh_from_db()
    assert escalated.status == ReviewStatus.COMPLETED and escalated.decision == "not_medically_necessary"
    assert Task.objects.get(pk=escalated.advisor_task_id).status == "completed"


def test_one_physician_suffices_when_the_attending_gives_no_view(advisor, det):
    services.determination_attending_consult(actor=advisor, determination_id=det.pk)
    services.determination_attending_respond(actor=advisor, determination_id=det.pk, view="no_view_when_offered")
    _no(advisor, det)
    assert services.determination_decide(actor=advisor, determination_id=det.pk).path == "single_physician"


def test_two_members_are_needed_when_the_attending_disagrees(advisor, advisor2, det):
    services.determination_attending_consult(actor=advisor, determination_id=det.pk)
    services.determination_attending_respond(
        actor=advisor, determination_id=det.pk, view="disagrees", note="wants 2 more days IV"
    )
    _no(advisor, det)
    with pytest.raises(ValidationFailed) as exc:
        services.determination_decide(actor=advisor, determination_id=det.pk)
    assert "at least two eligible committee members must concur, 1 do" in exc.value.detail
    _no(advisor2, det)
    assert services.determination_decide(actor=advisor2, determination_id=det.pk).path == "two_members"


def test_a_conflicted_reviewer_is_refused(advisor, advisor2, det, escalated, cm):
    with pytest.raises(PermissionDenied) as exc:
        services.determination_concur(
            actor=advisor, determination_id=det.pk, professionally_involved=False, direct_financial_interest=True
        )
    assert "direct financial interest" in exc.value.detail
    # On the case's care team: professionally involved, whatever they declare.
    careteam_add(actor=cm, case_id=escalated.case_id, user_id=advisor2.user_id, role="physician")
    with pytest.raises(PermissionDenied) as exc:
        _no(advisor2, det)
    assert "professionally involved" in exc.value.detail
    assert not DeterminationReviewer.objects.filter(determination=det).exists()


def test_nurses_cannot_decide(nurse, det):
    with pytest.raises(PermissionDenied):
        services.determination_decide(actor=nurse, determination_id=det.pk)


def test_written_notices_are_tracked_against_their_two_day_deadline(advisor, nurse, det):
    start = timezone.now()
    with clock.frozen_at(start):
        services.determination_attending_consult(actor=advisor, determination_id=det.pk)
        services.determination_attending_respond(actor=advisor, determination_id=det.pk, view="concurs")
        _no(advisor, det)
        decided = services.determination_decide(actor=advisor, determination_id=det.pk)
        services.determination_notice_record(actor=nurse, determination_id=det.pk, recipient="hospital")
        services.determination_notice_record(actor=nurse, determination_id=det.pk, recipient="patient")
        with pytest.raises(ValidationFailed) as exc:
            services.determination_notice_record(actor=nurse, determination_id=det.pk, recipient="patient")
        assert "recipient" in exc.value.field_errors
    late = start + dt.timedelta(days=2, hours=1)
    with clock.frozen_at(late):
        state = selectors.determination_state(selectors.determination_get(actor=nurse, determination_id=det.pk))
        assert state["notices"]["outstanding"] == ["practitioner"]
        assert state["notices"]["late"] == ["practitioner"]
        services.determination_notice_record(actor=nurse, determination_id=det.pk, recipient="practitioner")
        state = selectors.determination_state(selectors.determination_get(actor=nurse, determination_id=det.pk))
    assert state["notices"]["complete"] is True and state["notices"]["late"] == ["practitioner"]
    assert Task.objects.get(pk=decided.notice_task_id).status == "completed"
    assert DeterminationNotice.objects.filter(determination=det).count() == 3


def test_moon_notice_is_due_36_hours_after_observation_began(nurse, admit):
    stay = admit("obs", encounter_class="OBSENC", admit_at=timezone.now() - dt.timedelta(hours=26))
    # The admission opened the MOON task itself, with the case, so its 36-hour clock is already running.
    opened = MoonNotice.objects.get(encounter=stay)
    assert opened.task.case_id == stay.hospital_case_id is not None
    moon = services.moon_start(actor=nurse, encounter_id=stay.pk)
    assert moon.pk == opened.pk and MoonNotice.objects.count() == 1
    assert moon.due_at == stay.admit_at + dt.timedelta(hours=36)
    assert moon.task.kind == "moon_notice" and moon.task.due_at == moon.due_at
    assert selectors.moon_state(moon)["required"] is True
    with pytest.raises(ValidationFailed) as exc:
        services.moon_record_delivery(actor=nurse, moon_id=moon.pk, oral_explanation=False, signed_by="patient")
    assert "oral_explanation" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.moon_record_delivery(actor=nurse, moon_id=moon.pk, oral_explanation=True, signature_refused=True)
    assert "witness" in exc.value.field_errors
    done = services.moon_record_delivery(actor=nurse, moon_id=moon.pk, oral_explanation=True, signed_by="Sam Patient")
    assert done.signed_at == done.delivered_at
    assert Task.objects.get(pk=moon.task_id).status == "completed"


def test_moon_is_only_for_observation_stays(nurse, osteo_stay):
    assert not MoonNotice.objects.filter(encounter=osteo_stay).exists()  # an inpatient admission opens none
    with pytest.raises(ValidationFailed) as exc:
        services.moon_start(actor=nurse, encounter_id=osteo_stay.pk)
    assert "encounter_id" in exc.value.field_errors


def test_condition_code_44_is_refused_unless_all_four_conditions_hold(nurse, osteo_stay):
    row = services.cc44_start(actor=nurse, encounter_id=osteo_stay.pk)
    with pytest.raises(ValidationFailed) as exc:
        services.cc44_complete(actor=nurse, cc44_id=row.pk)
    assert set(exc.value.field_errors) == {
        "change_before_discharge",
        "ur_committee_decided_and_attending_concurs",
        "concurrence_documented",
    }
    services.cc44_update(
        actor=nurse,
        cc44_id=row.pk,
        status_changed_at=timezone.now() - dt.timedelta(hours=1),
        ur_committee_decided=True,
        attending_concurs=True,
        concurrence_documented=False,
        inpatient_claim_submitted=True,
    )
    with pytest.raises(ValidationFailed) as exc:
        services.cc44_complete(actor=nurse, cc44_id=row.pk)
    assert set(exc.value.field_errors) == {"no_inpatient_claim_submitted", "concurrence_documented"}
    assert ConditionCode44.objects.get(pk=row.pk).status == "draft"
    services.cc44_update(actor=nurse, cc44_id=row.pk, concurrence_documented=True, inpatient_claim_submitted=False)
    assert services.cc44_complete(actor=nurse, cc44_id=row.pk).status == "completed"


def test_avoidable_days_are_logged_with_reason_and_reported(nurse, osteo_stay, cm):
    day = timezone.localdate(osteo_stay.admit_at)
    services.avoidable_day_log(
        actor=nurse,
        encounter_id=osteo_stay.pk,
        day=day,
        reason_code="awaiting_post_acute_bed",
        responsible_party="post_acute_provider",
    )
    with pytest.raises(ValidationFailed) as exc:
        services.avoidable_day_log(
            actor=nurse,
            encounter_id=osteo_stay.pk,
            day=day,
            reason_code="awaiting_authorization",
            responsible_party="payer",
        )
    assert "day" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.avoidable_day_log(
            actor=nurse,
            encounter_id=osteo_stay.pk,
            day=day + dt.timedelta(days=1),
            reason_code="no_such_reason",
            responsible_party="payer",
        )
    assert "reason_code" in exc.value.field_errors
    services.avoidable_day_log(
        actor=nurse,
        encounter_id=osteo_stay.pk,
        day=day + dt.timedelta(days=1),
        reason_code="awaiting_authorization",
        responsible_party="payer",
    )
    report = selectors.avoidable_day_report(actor=nurse)
    assert report.total == 2
    assert {b.label: b.count for b in report.by_reason} == {
        "Awaiting post-acute bed (SNF, IRF, LTCH)": 1,
        "Awaiting payer authorization": 1,
    }
    assert {b.label for b in report.by_provider} == {"Dr. Lee Attending"}
    assert report.by_payer[0].label == "No coverage on file" and report.by_payer[0].percent == 100.0
    assert AvoidableDay.objects.filter(encounter=osteo_stay).count() == 2
