from __future__ import annotations

import pytest

from casebridge.accounts import roles
from casebridge.cases.models import CareTeamMember, Case, CaseStatusChange
from casebridge.cases.selectors import case_get, case_list
from casebridge.cases.services import careteam_add, careteam_end, case_assign, case_open, case_transition, case_update
from casebridge.kernel.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from casebridge.patients.selectors import patient_get, patient_search


def test_opening_a_case_records_its_first_status_and_its_case_manager(cm, case):
    assert case.status == "referral" and case.fhir_status == "planned"
    assert list(case.status_changes.values_list("from_status", "to_status")) == [("", "referral")]
    assert list(case.care_team.values_list("user_id", "role")) == [(cm.user_id, "Case manager")]


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"case_type": "spa_day"}, "case_type"),
        ({"status": "monitoring"}, "status"),
        ({"diagnoses": [{"display": "no code"}]}, "diagnoses[0]"),
        ({"diagnoses": "M86.60"}, "diagnoses"),
    ],
)
def test_opening_a_case_refuses_bad_input_by_field(make_case, fields, field):
    before = Case.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        make_case(**fields)
    assert field in exc.value.field_errors
    assert Case.objects.count() == before


def test_a_case_manager_from_another_organization_cannot_be_assigned(make_case, outsider):
    with pytest.raises(ValidationFailed) as exc:
        make_case(assigned_to_id=outsider.user_id)
    assert "assigned_to_id" in exc.value.field_errors


def test_another_organization_cannot_open_a_case_for_the_patient(outsider, patient):
    with pytest.raises(NotFound):
        case_open(actor=outsider, patient_id=patient.pk, case_type="insurer_cm")


PROCESS = [
    ("assessment", ""),
    ("planning", ""),
    ("implementation", ""),
    ("monitoring", ""),
    ("on_hold", "patient readmitted"),
    ("monitoring", ""),
    ("transition", ""),
    ("closed", "goals met"),
]


def test_a_case_moves_through_the_whole_process_with_a_history_row_per_move(cm, case):
    version = case.version
    for status, reason in PROCESS:
        case = case_transition(actor=cm, case_id=case.pk, to_status=status, reason=reason, version=version)
        version = case.version
        assert case.status == status
    changes = list(CaseStatusChange.objects.filter(case=case).values_list("from_status", "to_status", "reason"))
    assert changes == [("", "referral", "")] + [
        (prev, status, reason)
        for (prev, _), (status, reason) in zip([("referral", "")] + PROCESS[:-1], PROCESS, strict=True)
    ]
    assert case.closed_at is not None and case.closure_reason == "goals met"
    assert case.fhir_status == "finished"
    assert case.history.count() == 1 + len(PROCESS)


def test_a_held_case_remembers_where_it_was_and_resumes_only_there(cm, case):
    case_transition(actor=cm, case_id=case.pk, to_status="assessment")
    held = case_transition(actor=cm, case_id=case.pk, to_status="on_hold", reason="in ICU")
    assert held.held_from == "assessment"
    with pytest.raises(IllegalTransition):
        case_transition(actor=cm, case_id=case.pk, to_status="planning")
    resumed = case_transition(actor=cm, case_id=case.pk, to_status="assessment")
    assert resumed.held_from == ""


def test_an_illegal_move_changes_nothing(cm, case):
    with pytest.raises(IllegalTransition):
        case_transition(actor=cm, case_id=case.pk, to_status="monitoring")
    with pytest.raises(ValidationFailed):
        case_transition(actor=cm, case_id=case.pk, to_status="closed", reason=" ")
    with pytest.raises(ValidationFailed):
        case_transition(actor=cm, case_id=case.pk, to_status="sleeping")
    case.refresh_from_db()
    assert (case.status, case.version, case.status_changes.count()) == ("referral", 1, 1)


def test_a_stale_transition_is_refused(cm, case):
    case_update(actor=cm, case_id=case.pk, version=1, reason="updated")
    with pytest.raises(StaleVersion):
        case_transition(actor=cm, case_id=case.pk, to_status="assessment", version=1)


def test_case_update_changes_only_reason_and_diagnoses(cm, case):
    updated = case_update(actor=cm, case_id=case.pk, version=1, diagnoses=[{"code": " I50.9 ", "display": "HF"}])
    assert updated.diagnoses == [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9", "display": "HF"}]
    with pytest.raises(ValidationFailed) as exc:
        case_update(actor=cm, case_id=case.pk, version=2, status="closed")
    assert "status" in exc.value.field_errors


def test_only_supervisors_and_intake_assign_and_only_to_their_own_staff(cm, case, make_actor, hospital, outsider):
    supervisor = make_actor(hospital, roles.SUPERVISOR)
    other_cm = make_actor(hospital, roles.CASE_MANAGER)
    with pytest.raises(PermissionDenied):
        case_assign(actor=cm, case_id=case.pk, user_id=other_cm.user_id)
    with pytest.raises(ValidationFailed):
        case_assign(actor=supervisor, case_id=case.pk, user_id=outsider.user_id)
    case = case_assign(actor=supervisor, case_id=case.pk, user_id=other_cm.user_id)
    assert case.assigned_to_id == other_cm.user_id
    active = CareTeamMember.objects.filter(case=case, role="Case manager", active=True)
    assert list(active.values_list("user_id", flat=True)) == [other_cm.user_id]


def test_a_care_team_link_lets_the_other_organization_read_and_ending_it_takes_that_away(cm, case, patient, outsider):
    with pytest.raises(NotFound):
        case_get(actor=outsider, case_id=case.pk)
    member = careteam_add(
        actor=cm,
        case_id=case.pk,
        role="Insurer case manager",
        organization_id=outsider.organization_id,
        user_id=outsider.user_id,
    )
    assert case_get(actor=outsider, case_id=case.pk) == case
    assert patient_get(actor=outsider, patient_id=patient.pk) == patient
    assert [c.pk for c in case_list(actor=outsider)] == [case.pk]
    assert [p.pk for p in patient_search(actor=outsider, name="Rivera")] == [patient.pk]

    careteam_end(actor=cm, case_id=case.pk, member_id=member.pk)
    with pytest.raises(NotFound):
        case_get(actor=outsider, case_id=case.pk)
    with pytest.raises(NotFound):
        patient_get(actor=outsider, patient_id=patient.pk)
    assert list(case_list(actor=outsider)) == []
    assert patient_search(actor=outsider, name="Rivera") == []


def test_a_care_team_link_gives_read_access_only(cm, case, patient, outsider):
    careteam_add(actor=cm, case_id=case.pk, role="Insurer CM", organization_id=outsider.organization_id, name="Ins")
    with pytest.raises(NotFound):
        case_update(actor=outsider, case_id=case.pk, version=None, reason="mine now")
    with pytest.raises(NotFound):
        case_transition(actor=outsider, case_id=case.pk, to_status="cancelled", reason="x")
    with pytest.raises(NotFound):
        careteam_add(actor=outsider, case_id=case.pk, role="x", name="y")


def test_a_care_team_member_needs_a_role_and_a_name_or_user(cm, case, outsider):
    with pytest.raises(ValidationFailed) as exc:
        careteam_add(actor=cm, case_id=case.pk, role=" ", name="x")
    assert "role" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        careteam_add(actor=cm, case_id=case.pk, role="PT")
    assert "name" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        careteam_add(actor=cm, case_id=case.pk, role="PT", user_id=outsider.user_id)
    assert "user_id" in exc.value.field_errors


def test_an_auditor_reads_no_cases(make_actor, hospital, case):
    auditor = make_actor(hospital, roles.AUDITOR)
    with pytest.raises(PermissionDenied):
        case_get(actor=auditor, case_id=case.pk)
    with pytest.raises(PermissionDenied):
        patient_search(actor=auditor, name="Rivera")
