import datetime as dt

import pytest

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import careteam_add, case_open
from casebridge.cases.timeline import case_timeline
from casebridge.communications.models import Communication, CommunicationParty
from casebridge.communications.selectors import communication_get, communication_list_for_case
from casebridge.communications.services import communication_log
from casebridge.kernel import clock
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.tasks.models import Task

NOW = dt.datetime(2025, 3, 10, 15, 0, tzinfo=dt.UTC)
INSURER_CM = {"kind": "insurer_cm", "name": "Dana Ortiz", "organization": "Acme Health Plan"}


@pytest.fixture(autouse=True)
def frozen():
    with clock.frozen_at(NOW):
        yield


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", reason="CHF exacerbation")


def log(actor, case, **overrides):
    data = {
        "channel": "phone",
        "direction": "outbound",
        "parties": [INSURER_CM],
        "occurred_at": NOW - dt.timedelta(hours=1),
        "summary": "Requested authorization for SNF placement.",
        "outcome": "Clinicals requested by fax",
    }
    data.update(overrides)
    return communication_log(actor=actor, case_id=case.pk, **data)


def test_logging_a_contact_records_it_with_its_parties_and_an_audit_event(cm, case):
    c = log(cm, case)
    c.refresh_from_db()
    assert (c.case_id, c.patient_id, c.organization_id) == (case.pk, case.patient_id, cm.organization_id)
    assert c.logged_by_id == cm.user_id and c.logged_at == NOW
    assert [(p.kind, p.name, p.organization) for p in c.parties.all()] == [
        ("insurer_cm", "Dana Ortiz", "Acme Health Plan")
    ]
    event = AuditEvent.objects.get(action="communication.log")
    assert event.patient_id == case.patient_id and event.object_id == str(c.pk)


def test_a_contact_can_have_several_parties(cm, case):
    c = log(cm, case, parties=[INSURER_CM, {"kind": "family", "name": "Luis Rivera"}])
    assert [p.kind for p in c.parties.all()] == ["insurer_cm", "family"]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "carrier_pigeon"}, "channel"),
        ({"direction": "sideways"}, "direction"),
        ({"summary": "   "}, "summary"),
        ({"occurred_at": NOW + dt.timedelta(minutes=5)}, "occurred_at"),
        ({"parties": []}, "parties"),
        ({"parties": [{"kind": "physician", "name": " "}]}, "parties[0].name"),
        ({"parties": [INSURER_CM, {"kind": "alien", "name": "X"}]}, "parties[1].kind"),
        ({"follow_up_due_at": NOW + dt.timedelta(days=1)}, "follow_up_title"),
    ],
)
def test_bad_input_is_refused_naming_the_field_and_nothing_is_saved(cm, case, overrides, field):
    with pytest.raises(ValidationFailed) as err:
        log(cm, case, **overrides)
    assert field in err.value.field_errors
    assert Communication.objects.count() == 0
    assert CommunicationParty.objects.count() == 0
    assert not AuditEvent.objects.filter(action="communication.log").exists()


def test_a_follow_up_task_is_created_on_the_case_and_linked(cm, case):
    due = NOW + dt.timedelta(days=2)
    c = log(cm, case, follow_up_title="Fax clinicals to Acme", follow_up_due_at=due)
    task = Task.objects.get()
    assert c.follow_up_task_id == task.pk
    assert (task.case_id, task.kind, task.owner_id, task.due_at) == (case.pk, "follow_up", cm.user_id, due)
    assert task.title == "Fax clinicals to Acme"


def test_if_the_follow_up_task_is_refused_the_contact_is_not_saved_either(cm, case, make_actor, insurer):
    stranger = make_actor(insurer, roles.CASE_MANAGER)
    with pytest.raises(ValidationFailed) as err:
        log(cm, case, follow_up_title="Call back", follow_up_owner_id=stranger.user_id)
    assert "follow_up_owner_id" in err.value.field_errors
    assert Communication.objects.count() == 0
    assert CommunicationParty.objects.count() == 0
    assert Task.objects.count() == 0
    assert not AuditEvent.objects.filter(action__in=["communication.log", "task.create"]).exists()


def test_another_organization_cannot_log_on_the_case(outsider, case):
    with pytest.raises(NotFound):
        log(outsider, case)
    assert Communication.objects.count() == 0


def test_roles_without_the_permission_cannot_log(make_actor, hospital, case):
    auditor = make_actor(hospital, roles.AUDITOR)
    with pytest.raises(PermissionDenied):
        log(auditor, case)


def test_the_log_lists_newest_first_and_each_read_is_audited(cm, case):
    older = log(cm, case, occurred_at=NOW - dt.timedelta(days=2))
    newer = log(cm, case, occurred_at=NOW - dt.timedelta(minutes=10))
    assert list(communication_list_for_case(actor=cm, case_id=case.pk)) == [newer, older]
    assert AuditEvent.objects.filter(action="communication.list", patient_id=case.patient_id).count() == 1
    assert communication_get(actor=cm, communication_id=older.pk) == older
    assert AuditEvent.objects.filter(action="communication.read", object_id=str(older.pk)).count() == 1


def test_other_organizations_see_nothing_until_they_join_the_care_team(cm, outsider, insurer, case):
    c = log(cm, case)
    with pytest.raises(NotFound):
        communication_get(actor=outsider, communication_id=c.pk)
    with pytest.raises(NotFound):
        communication_list_for_case(actor=outsider, case_id=case.pk)
    careteam_add(actor=cm, case_id=case.pk, role="Insurer case manager", organization_id=insurer.pk, name="Dana")
    assert communication_get(actor=outsider, communication_id=c.pk) == c
    assert list(communication_list_for_case(actor=outsider, case_id=case.pk)) == [c]


def test_contacts_appear_on_the_case_timeline(cm, case):
    log(
        cm, case, summary="Daughter agrees to stay nights after discharge", parties=[{"kind": "family", "name": "Luis"}]
    )
    texts = [e.text for e in case_timeline(case) if e.kind == "contact"]
    assert texts == [
        "Outbound phone contact with Luis (family or caregiver): Daughter agrees to stay nights after discharge"
    ]
