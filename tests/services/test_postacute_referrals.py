"""Referrals: send to several providers, answers, the patient's agreement, the agency's new case, reminders."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone
from postacute_fixtures import *  # noqa: F403 - fixtures, scoped to this module

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.models import Case
from casebridge.cases.selectors import case_get
from casebridge.cases.services import case_transition
from casebridge.kernel import clock
from casebridge.kernel.clock import frozen_at
from casebridge.kernel.errors import IllegalTransition, NotFound, PermissionDenied, ValidationFailed
from casebridge.patients.models import Patient
from casebridge.patients.selectors import patient_get
from casebridge.postacute import selectors, services
from casebridge.postacute.models import Referral
from casebridge.tasks.models import Task


def tomorrow() -> dt.date:
    return clock.today() + dt.timedelta(days=1)


def test_referral_to_two_providers_one_accepts_one_declines(cm, two_referrals, intake, intake2):
    sunrise, harbor = two_referrals
    services.referral_accept(actor=intake, referral_id=sunrise.pk, proposed_start_on=tomorrow())
    services.referral_decline(actor=intake2, referral_id=harbor.pk, reason_code="no_capacity", note="No RN until May")
    sunrise.refresh_from_db()
    harbor.refresh_from_db()
    assert (sunrise.status, harbor.status) == ("accepted", "rejected")
    assert harbor.decline_reason == "no_capacity" and harbor.responded_by_id == intake2.user_id


def test_the_packet_holds_only_the_sections_chosen(cm, hcase, directory, presented_list):
    (referral,) = services.referral_send(
        actor=cm,
        case_id=hcase.pk,
        provider_ids=[directory["sunrise"].pk],
        provider_type="home_health",
        sections=["diagnoses"],
    )
    assert set(referral.packet) == {"referring", "need", "demographics", "diagnoses"}
    assert referral.packet["demographics"]["hospital_mrn"] == "MRN-2001"
    assert "coverage" not in referral.packet and "care_plan" not in referral.packet


def test_home_health_referral_needs_a_presented_choice_list(cm, hcase, directory):
    with pytest.raises(ValidationFailed) as exc:
        services.referral_send(
            actor=cm, case_id=hcase.pk, provider_ids=[directory["sunrise"].pk], provider_type="home_health"
        )
    assert "482.43" in exc.value.detail
    assert not Referral.objects.exists()


def test_referral_to_a_provider_of_another_type_is_refused_and_nothing_is_sent(cm, hcase, directory, presented_list):
    with pytest.raises(ValidationFailed) as exc:
        services.referral_send(
            actor=cm,
            case_id=hcase.pk,
            provider_ids=[directory["sunrise"].pk, directory["lakeside"].pk],
            provider_type="home_infusion",
        )
    assert "provider_ids" in exc.value.field_errors
    assert not Referral.objects.exists()


def test_receiving_org_reads_its_packet_but_not_the_hospitals_patient_or_case(two_referrals, intake, hcase):
    referral = selectors.referral_get(actor=intake, referral_id=two_referrals[0].pk)
    assert referral.packet["demographics"]["family_name"] == "Rivera"
    with pytest.raises(NotFound):
        patient_get(actor=intake, patient_id=hcase.patient_id)
    with pytest.raises(NotFound):
        case_get(actor=intake, case_id=hcase.pk)


def test_receiving_org_sees_only_its_own_referrals(two_referrals, intake):
    incoming = list(selectors.referral_list(actor=intake, direction="incoming"))
    assert incoming == [two_referrals[0]]
    with pytest.raises(NotFound):
        selectors.referral_get(actor=intake, referral_id=two_referrals[1].pk)


def test_an_unrelated_organization_cannot_read_or_answer_a_referral(two_referrals, outsider):
    with pytest.raises(NotFound):
        selectors.referral_get(actor=outsider, referral_id=two_referrals[0].pk)
    with pytest.raises(NotFound):
        services.referral_accept(actor=outsider, referral_id=two_referrals[0].pk)
    two_referrals[0].refresh_from_db()
    assert two_referrals[0].status == "requested"


def test_a_withdrawn_referral_disappears_from_the_receivers_queue(cm, two_referrals, intake):
    services.referral_withdraw(actor=cm, referral_id=two_referrals[0].pk, reason="Patient changed mind")
    assert not selectors.referral_list(actor=intake, direction="incoming").exists()
    with pytest.raises(NotFound):
        selectors.referral_get(actor=intake, referral_id=two_referrals[0].pk)


def test_declining_needs_a_known_reason(two_referrals, intake):
    with pytest.raises(ValidationFailed) as exc:
        services.referral_decline(actor=intake, referral_id=two_referrals[0].pk, reason_code="busy")
    assert "reason_code" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        services.referral_decline(actor=intake, referral_id=two_referrals[0].pk, reason_code="other")
    assert "note" in exc.value.field_errors


def test_acceptance_and_agreement_move_the_case_to_transition_and_open_the_agencys_linked_case(
    cm, hcase, two_referrals, intake, agency, hospital
):
    sunrise, harbor = two_referrals
    services.referral_accept(actor=intake, referral_id=sunrise.pk)
    start = tomorrow()
    done = services.referral_agreement_record(actor=cm, referral_id=sunrise.pk, start_of_service_on=start)

    hcase.refresh_from_db()
    assert hcase.status == "transition"
    steps = list(hcase.status_changes.values_list("to_status", flat=True))
    assert steps == ["referral", "assessment", "planning", "implementation", "transition"]

    assert done.status == "completed" and done.start_of_service_on == start
    hh = done.home_health_case
    assert hh is not None and hh.organization_id == agency.pk and hh.case_type == "home_health"
    assert hh.patient.organization_id == agency.pk and hh.patient_id != hcase.patient_id
    assert (hh.patient.family_name, hh.patient.birth_date) == ("Rivera", dt.date(1950, 3, 4))
    ident = hh.patient.identifiers.get()
    assert (ident.value, ident.assigner_id) == ("MRN-2001", hospital.pk)
    assert hh.patient.coverages.get().member_id == "ACM123"
    assert hh.diagnoses[0]["code"] == "M86.60"
    assert Task.objects.filter(case=hh, kind="start_of_care").exists()
    # the link, seen from the agency's side
    assert list(selectors.referrals_that_opened(actor=intake, case_id=hh.pk)) == [done]
    # the other provider's open referral is withdrawn, so it stops seeing the packet
    harbor.refresh_from_db()
    assert harbor.status == "cancelled" and "Sunrise" in harbor.closed_reason
    assert AuditEvent.objects.filter(action="referral.home_health_case.open", organization=agency).exists()


def test_agreement_needs_an_accepted_referral(cm, two_referrals):
    with pytest.raises(IllegalTransition):
        services.referral_agreement_record(actor=cm, referral_id=two_referrals[0].pk, start_of_service_on=tomorrow())
    assert not Case.objects.filter(case_type="home_health").exists()


def test_a_case_on_hold_is_not_moved_and_nothing_changes(cm, hcase, two_referrals, intake):
    services.referral_accept(actor=intake, referral_id=two_referrals[0].pk)
    case_transition(actor=cm, case_id=hcase.pk, to_status="on_hold", reason="Patient in ICU")
    with pytest.raises(IllegalTransition) as exc:
        services.referral_agreement_record(actor=cm, referral_id=two_referrals[0].pk, start_of_service_on=tomorrow())
    assert "resume" in exc.value.detail
    two_referrals[0].refresh_from_db()
    assert two_referrals[0].status == "accepted"
    assert not Patient.objects.filter(organization__org_type="home_health").exists()


def test_the_receiver_cannot_record_the_patients_agreement(two_referrals, intake, make_actor, agency):
    services.referral_accept(actor=intake, referral_id=two_referrals[0].pk)
    with pytest.raises(PermissionDenied):
        services.referral_agreement_record(
            actor=intake, referral_id=two_referrals[0].pk, start_of_service_on=tomorrow()
        )
    agency_cm = make_actor(agency, roles.CASE_MANAGER)
    with pytest.raises(NotFound):
        services.referral_agreement_record(
            actor=agency_cm, referral_id=two_referrals[0].pk, start_of_service_on=tomorrow()
        )
    two_referrals[0].refresh_from_db()
    assert two_referrals[0].status == "accepted"


def test_an_external_providers_answer_is_recorded_by_the_hospital(cm, hcase, directory, presented_list):
    (referral,) = services.referral_send(
        actor=cm, case_id=hcase.pk, provider_ids=[directory["lakeside"].pk], provider_type="home_health"
    )
    assert referral.receiving_organization_id is None
    services.referral_response_record(actor=cm, referral_id=referral.pk, accepted=True, contact_name="Pat, intake RN")
    referral.refresh_from_db()
    assert referral.status == "accepted" and referral.response_recorded_manually
    done = services.referral_agreement_record(actor=cm, referral_id=referral.pk, start_of_service_on=tomorrow())
    assert done.home_health_case is None  # an external agency keeps its own records


def test_the_hospital_cannot_answer_for_a_provider_on_the_platform(cm, two_referrals):
    with pytest.raises(ValidationFailed):
        services.referral_response_record(actor=cm, referral_id=two_referrals[0].pk, accepted=True, contact_name="X")


def test_overdue_referrals_give_the_sender_one_reminder_each(cm, hcase, directory, presented_list, intake):
    sent = timezone.make_aware(dt.datetime(2030, 3, 4, 9, 0))
    with frozen_at(sent):
        sunrise, harbor = services.referral_send(
            actor=cm,
            case_id=hcase.pk,
            provider_ids=[directory["sunrise"].pk, directory["harbor"].pk],
            provider_type="home_health",
            response_hours=4,
        )
    with frozen_at(sent + dt.timedelta(hours=3, minutes=59)):
        assert services.remind_overdue_referrals() == []
    with frozen_at(sent + dt.timedelta(hours=2)):
        services.referral_accept(actor=intake, referral_id=sunrise.pk)
    with frozen_at(sent + dt.timedelta(hours=4)):
        assert services.remind_overdue_referrals() == [harbor.pk]
        assert services.remind_overdue_referrals() == []  # idempotent
    task = Task.objects.get(kind="referral_follow_up")
    assert task.owner_id == cm.user_id and task.case_id == hcase.pk
    assert task.due_at == sent + dt.timedelta(hours=4) and task.priority == "urgent"
    assert "Harbor Visiting Nurses" in task.title
