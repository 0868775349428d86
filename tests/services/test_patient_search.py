import datetime as dt

from casebridge.audit.models import AuditEvent
from casebridge.cases.services import careteam_add, case_open
from casebridge.patients.selectors import patient_search


def _names(patients):
    return [f"{p.family_name}, {p.given_name}" for p in patients]


def test_search_matches_last_name_prefix_case_insensitively(cm, make_patient):
    make_patient(family_name="Smith", given_name="Ann")
    make_patient(family_name="Smithers", given_name="Bob")
    make_patient(family_name="Jones", given_name="Smitty")
    assert _names(patient_search(actor=cm, name="smi")) == ["Smith, Ann", "Smithers, Bob"]


def test_search_understands_last_comma_first_and_first_last(cm, make_patient):
    make_patient(family_name="Smith", given_name="Ann")
    make_patient(family_name="Smith", given_name="Zoe")
    make_patient(family_name="Ann", given_name="Smith")
    assert _names(patient_search(actor=cm, name="Smith, Z")) == ["Smith, Zoe"]
    assert _names(patient_search(actor=cm, name="ann smith")) == ["Ann, Smith", "Smith, Ann"]


def test_search_by_birth_date_and_identifier(cm, make_patient):
    make_patient(family_name="Ng", given_name="Al", birth_date=dt.date(1944, 2, 2), mrn="X-77")
    make_patient(family_name="Ng", given_name="Bo", birth_date=dt.date(1950, 1, 1))
    assert _names(patient_search(actor=cm, birth_date=dt.date(1944, 2, 2))) == ["Ng, Al"]
    assert _names(patient_search(actor=cm, identifier="X-77")) == ["Ng, Al"]


def test_search_pages_through_results_in_name_order(cm, make_patient):
    for given in "EDCBA":
        make_patient(family_name="Park", given_name=given)
    first = patient_search(actor=cm, name="Park", limit=2)
    second = patient_search(actor=cm, name="Park", limit=2, offset=2)
    assert _names(first + second) == ["Park, A", "Park, B", "Park, C", "Park, D"]


def test_search_includes_care_team_linked_patients_of_another_organization(cm, outsider, make_patient):
    linked = make_patient(family_name="Linked", given_name="Lou")
    make_patient(family_name="Lindqvist", given_name="Unlinked")
    assert patient_search(actor=outsider, name="Lin") == []
    case = case_open(actor=cm, patient_id=linked.pk, case_type="hospital_stay")
    careteam_add(
        actor=cm, case_id=case.pk, role="Insurer case manager", organization_id=outsider.organization_id, name="Ida"
    )
    assert _names(patient_search(actor=outsider, name="Lin")) == ["Linked, Lou"]


def test_every_patient_listed_gets_a_search_audit_event(cm, make_patient):
    a = make_patient(family_name="Audit", given_name="One")
    b = make_patient(family_name="Audit", given_name="Two")
    patient_search(actor=cm, name="Audit")
    events = AuditEvent.objects.filter(action="patient.search", username=cm.user.username)
    assert sorted(e.patient_id for e in events) == sorted([a.pk, b.pk])
