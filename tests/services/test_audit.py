"""Every read of a patient's record and every change writes an audit event, in the same transaction."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from casebridge.accounts import roles
from casebridge.accounts.selectors import actor_for
from casebridge.audit import recorder
from casebridge.audit.models import AuditEvent
from casebridge.audit.recorder import audit_record_many
from casebridge.audit.services import audit_export
from casebridge.cases import services as case_services
from casebridge.cases.selectors import case_get
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError
from casebridge.patients import services as patient_services
from casebridge.patients.selectors import patient_get, patient_search
from tests.conftest import api_client_for
from tests.support import db


@pytest.fixture
def cm_at(cm):
    """The case manager acting from a known client address."""
    return actor_for(cm.user, organization_id=cm.organization_id, client_ip="10.20.30.40")


def only_new_event(before_id: int) -> AuditEvent:
    events = list(AuditEvent.objects.filter(pk__gt=before_id))
    assert len(events) == 1, [e.action for e in events]
    return events[0]


def last_id() -> int:
    return AuditEvent.objects.order_by("-pk").values_list("pk", flat=True).first() or 0


def assert_event(event: AuditEvent, actor, action: str, patient) -> None:
    assert event.action == action
    assert event.user_id == actor.user_id and event.username == actor.user.username
    assert event.organization_id == actor.organization_id
    assert event.roles == ",".join(sorted(actor.roles))
    assert event.patient_id == patient.pk
    assert event.client_ip == "10.20.30.40"
    assert event.at is not None


def test_reading_a_patient_writes_an_audit_event(cm_at, patient):
    before = last_id()
    patient_get(actor=cm_at, patient_id=patient.pk)
    assert_event(only_new_event(before), cm_at, "patient.read", patient)


def test_reading_a_case_writes_an_audit_event_for_its_patient(cm_at, case, patient):
    before = last_id()
    case_get(actor=cm_at, case_id=case.pk)
    event = only_new_event(before)
    assert_event(event, cm_at, "case.read", patient)
    assert (event.object_type, event.object_id) == ("cases.case", str(case.pk))


def test_a_search_writes_one_event_per_patient_listed(cm_at, make_patient):
    a, b = make_patient(mrn="1"), make_patient(mrn="2")
    make_patient(mrn="3", family_name="Other")
    before = last_id()
    found = patient_search(actor=cm_at, name="Rivera")
    events = AuditEvent.objects.filter(pk__gt=before)
    assert {p.pk for p in found} == {a.pk, b.pk}
    assert sorted(e.patient_id for e in events) == sorted([a.pk, b.pk])
    for e in events:
        assert (e.action, e.client_ip, e.username) == ("patient.search", "10.20.30.40", cm_at.user.username)


def test_a_search_that_finds_nobody_writes_nothing(cm_at, patient):
    before = last_id()
    assert patient_search(actor=cm_at, name="Nobody") == []
    assert last_id() == before


def test_a_refused_read_writes_nothing(outsider, patient):
    before = last_id()
    with pytest.raises(DomainError):
        patient_get(actor=outsider, patient_id=patient.pk)
    assert last_id() == before


@pytest.mark.parametrize(
    ("url", "action"),
    [("/api/v1/patients/{patient}", "patient.read"), ("/api/v1/cases/{case}", "case.read")],
)
def test_api_reads_are_audited_with_the_client_address(cm, case, patient, url, action):
    api = api_client_for(cm)
    before = last_id()
    response = api.get(url.format(patient=patient.pk, case=case.pk), REMOTE_ADDR="10.9.8.7")
    assert response.status_code == 200
    event = only_new_event(before)
    assert (event.action, event.patient_id, event.client_ip) == (action, patient.pk, "10.9.8.7")


@pytest.mark.parametrize(
    ("url", "action"),
    [
        ("/patients/{patient}/", "patient.read"),
        ("/cases/{case}/", "case.read"),
        ("/patients/{patient}/edit", "patient.read"),
        ("/patients/?name=Rivera", "patient.search"),
    ],
)
def test_web_pages_showing_a_patient_are_audited_with_the_client_address(cm, case, patient, url, action):
    web = Client(REMOTE_ADDR="10.7.7.7")
    web.force_login(cm.user)
    before = last_id()
    assert web.get(url.format(patient=patient.pk, case=case.pk)).status_code == 200
    events = list(AuditEvent.objects.filter(pk__gt=before, action=action))
    assert events, f"{url} wrote no {action} event"
    assert all(e.patient_id == patient.pk and e.client_ip == "10.7.7.7" for e in events)


def _writes(cm, patient, case):
    """(service module, callable) for each write, so a test can break its audit step."""
    return {
        "patient.create": (
            patient_services,
            lambda: patient_services.patient_create(
                actor=cm, family_name="New", given_name="Pat", birth_date=dt.date(1970, 1, 1), mrn="N1"
            ),
        ),
        "patient.update": (
            patient_services,
            lambda: patient_services.patient_update(actor=cm, patient_id=patient.pk, version=None, city="Salem"),
        ),
        "patient.identifier.add": (
            patient_services,
            lambda: patient_services.identifier_add(actor=cm, patient_id=patient.pk, kind="other", value="Z9"),
        ),
        "patient.contact.add": (
            patient_services,
            lambda: patient_services.contact_add(actor=cm, patient_id=patient.pk, name="Jo", relationship="friend"),
        ),
        "coverage.add": (
            patient_services,
            lambda: patient_services.coverage_add(
                actor=cm, patient_id=patient.pk, payer_name="P", member_id="M", period_start=dt.date(2025, 1, 1)
            ),
        ),
        "case.open": (
            case_services,
            lambda: case_services.case_open(actor=cm, patient_id=patient.pk, case_type="home_health"),
        ),
        "case.update": (
            case_services,
            lambda: case_services.case_update(actor=cm, case_id=case.pk, version=None, reason="r"),
        ),
        "case.transition": (
            case_services,
            lambda: case_services.case_transition(actor=cm, case_id=case.pk, to_status="assessment"),
        ),
        "careteam.add": (
            case_services,
            lambda: case_services.careteam_add(actor=cm, case_id=case.pk, role="PT", name="Pat"),
        ),
    }


WRITE_ACTIONS = [
    "patient.create",
    "patient.update",
    "patient.identifier.add",
    "patient.contact.add",
    "coverage.add",
    "case.open",
    "case.update",
    "case.transition",
    "careteam.add",
]


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_each_write_writes_exactly_one_audit_row_naming_the_patient(cm, patient, case, action):
    _, write = _writes(cm, patient, case)[action]
    before = last_id()
    result = write()
    event = only_new_event(before)
    assert event.action == action
    assert event.patient_id == (result.pk if action == "patient.create" else patient.pk)
    assert event.organization_id == cm.organization_id


@pytest.mark.parametrize("action", WRITE_ACTIONS)
def test_when_the_audit_write_fails_the_change_is_rolled_back(cm, patient, case, action, monkeypatch):
    module, write = _writes(cm, patient, case)[action]

    def broken(**kwargs):
        raise RuntimeError("audit store unavailable")

    monkeypatch.setattr(module, "audit_record", broken)
    before = db.snapshot()
    with pytest.raises(RuntimeError):
        write()
    assert not db.diff(before, db.snapshot()), "the change committed without its audit row"


def test_a_refused_write_leaves_no_audit_row(cm, case):
    before = last_id()
    with pytest.raises(DomainError):
        case_services.case_transition(actor=cm, case_id=case.pk, to_status="closed", reason="")
    assert last_id() == before


def test_audit_events_are_append_only(cm, patient):
    event = AuditEvent.objects.first()
    with pytest.raises(RuntimeError):
        event.save()
    with pytest.raises(RuntimeError):
        event.delete()


def test_an_export_is_valid_fhir_and_is_itself_audited(cm, patient, make_actor, hospital):
    auditor = make_actor(hospital, roles.AUDITOR)
    patient_get(actor=cm, patient_id=patient.pk)
    events = list(AuditEvent.objects.filter(organization=hospital))
    before = last_id()
    bundle = audit_export(actor=auditor, events=events, filters={})
    assert bundle["resourceType"] == "Bundle" and bundle["total"] == len(events)
    read = next(e["resource"] for e in bundle["entry"] if e["resource"]["subtype"][0]["code"] == "patient.read")
    assert read["action"] == "R"
    assert {"reference": f"Patient/{patient.pk}"} in [ent["what"] for ent in read["entity"]]
    assert only_new_event(before).action == "audit.export"


def test_the_audit_log_page_is_for_auditors_of_the_same_organization_only(cm, patient, make_actor, hospital, outsider):
    patient_get(actor=cm, patient_id=patient.pk)
    auditor = make_actor(hospital, roles.AUDITOR)
    other_auditor = make_actor(outsider.organization, roles.AUDITOR)
    web = Client()
    web.force_login(auditor.user)
    page = web.get("/audit/")
    assert page.status_code == 200 and cm.user.username.encode() in page.content
    web.force_login(other_auditor.user)
    assert cm.user.username.encode() not in web.get("/audit/").content
    web.force_login(cm.user)
    assert web.get("/audit/").status_code == 403


def _list_events(before: int) -> list[tuple]:
    return [
        (e.at, e.user_id, e.username, e.organization_id, e.roles, e.action, e.patient_id)
        + (e.object_type, e.object_id, e.client_ip, e.detail)
        for e in AuditEvent.objects.filter(pk__gt=before).order_by("patient_id")
    ]


def test_a_list_read_writes_one_complete_event_per_patient_in_one_statement(cm_at, make_patient):
    patients = [make_patient(mrn=f"L{n}") for n in range(3)]
    ids = [p.pk for p in patients]
    before = last_id()
    with clock.frozen_at(dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)), CaptureQueriesContext(connection) as ctx:
        audit_record_many(actor=cm_at, action="census.read", patient_ids=ids, detail={"rows": 3})
    expected = [
        (dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC), cm_at.user_id, cm_at.user.username, cm_at.organization_id)
        + (",".join(sorted(cm_at.roles)), "census.read", pid, "patients.patient", str(pid), "10.20.30.40")
        + ({"rows": 3},)
        for pid in sorted(ids)
    ]
    assert _list_events(before) == expected
    assert len([q for q in ctx.captured_queries if q["sql"].startswith("INSERT")]) == 1


def test_a_list_read_writes_the_same_events_through_the_generic_path(cm_at, make_patient, monkeypatch):
    """Databases without the one-statement form (and ids that are not plain ints) use bulk_create."""
    ids = [make_patient(mrn=f"G{n}").pk for n in range(2)]
    with clock.frozen_at(dt.datetime(2026, 3, 12, 12, 0, tzinfo=dt.UTC)):
        before = last_id()
        audit_record_many(actor=cm_at, action="x.read", patient_ids=ids, detail={"n": 2})
        fast = _list_events(before)
        monkeypatch.setattr(recorder, "_LISTED_ROWS", {})
        before = last_id()
        audit_record_many(actor=cm_at, action="x.read", patient_ids=ids, detail={"n": 2})
        generic = _list_events(before)
    assert fast == generic and len(fast) == 2


def test_a_list_read_of_nobody_writes_nothing(cm_at):
    before = last_id()
    audit_record_many(actor=cm_at, action="census.read", patient_ids=[], detail={})
    assert last_id() == before
