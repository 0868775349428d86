"""Services that take rows the caller already read: the same result, fewer statements, no trust across
organizations. And ``validate_model(trust_loaded=True)``, which skips only the existence query of
foreign keys that hold a row read from the database."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from casebridge.accounts import roles
from casebridge.accounts.models import Organization
from casebridge.cases.models import Case
from casebridge.cases.services import case_open
from casebridge.clinical.models import Encounter
from casebridge.clinical.services import case_open_for_admission, encounter_upsert
from casebridge.kernel.errors import NotFound, StaleVersion, ValidationFailed
from casebridge.kernel.validation import loaded_relations, validate_model
from casebridge.patients.models import Patient, PatientIdentifier
from casebridge.patients.services import patient_update
from casebridge.tasks.services import task_create

pytestmark = pytest.mark.django_db


@pytest.fixture
def intake_actor(make_actor, hospital):
    return make_actor(hospital, roles.INTAKE_COORDINATOR, username="intake")


def selects(ctx: CaptureQueriesContext) -> list[str]:
    return [q["sql"] for q in ctx.captured_queries if q["sql"].lstrip().upper().startswith("SELECT")]


# --- validate_model --------------------------------------------------------------------------------


def test_trusted_foreign_keys_are_the_loaded_ones_only(hospital, patient):
    by_object = PatientIdentifier(patient=patient, kind="mrn", value="X-1", assigner=hospital)
    assert loaded_relations(by_object) == {"patient", "assigner"}
    by_id = PatientIdentifier(patient_id=patient.pk, kind="mrn", value="X-1", assigner_id=hospital.pk)
    assert loaded_relations(by_id) == set()
    unsaved = PatientIdentifier(patient=patient, kind="mrn", value="X-1", assigner=Organization(name="new"))
    assert loaded_relations(unsaved) == {"patient"}


def test_trust_loaded_skips_the_existence_query_and_nothing_else(hospital, patient):
    ident = PatientIdentifier(patient=patient, kind="mrn", value="X-1", assigner=hospital)
    with CaptureQueriesContext(connection) as plain:
        validate_model(ident)
    with CaptureQueriesContext(connection) as trusting:
        validate_model(ident, trust_loaded=True)
    assert len(selects(trusting)) == len(selects(plain)) - 2  # patient and organization not re-read
    assert any("patients_patientidentifier" in q for q in selects(trusting))  # the unique check still runs

    # uniqueness over a trusted foreign key is still checked
    taken = patient.identifiers.get(kind="mrn")
    duplicate = PatientIdentifier(patient=patient, kind="mrn", value=taken.value, assigner=hospital)
    with pytest.raises(ValidationFailed) as exc:
        validate_model(duplicate, trust_loaded=True)
    assert "non_field" in exc.value.field_errors

    # an id that names no row is still refused: only loaded rows are trusted
    ghost = PatientIdentifier(patient=patient, kind="mrn", value="X-2", assigner_id=999_999)
    with pytest.raises(ValidationFailed) as exc:
        validate_model(ghost, trust_loaded=True)
    assert "assigner" in exc.value.field_errors


def test_trust_loaded_reports_field_errors_as_before(hospital):
    bad = Patient(organization=hospital, family_name="", given_name="A", birth_date=dt.date(1950, 1, 1), sex="nope")
    with pytest.raises(ValidationFailed) as plain:
        validate_model(bad)
    with pytest.raises(ValidationFailed) as trusting:
        validate_model(bad, trust_loaded=True)
    assert trusting.value.field_errors == plain.value.field_errors
    assert {"family_name", "sex"} <= set(trusting.value.field_errors)


# --- history ---------------------------------------------------------------------------------------


def test_history_manager_is_built_once_and_still_scoped_to_its_instance(cm, patient, make_patient):
    other = make_patient(mrn="MRN-2002", family_name="Other")
    patient_update(actor=cm, patient_id=patient.pk, version=None, family_name="Rivera-Diaz")
    assert type(patient.history) is type(other.history)
    assert list(patient.history.order_by("history_id").values_list("family_name", flat=True)) == [
        "Rivera",
        "Rivera-Diaz",
    ]
    assert other.history.count() == 1
    assert Patient.history.count() == 3


# --- patient_update(locked=...) ---------------------------------------------------------------------


def test_patient_update_with_the_locked_row_does_not_read_it_again(cm, patient):
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    with CaptureQueriesContext(connection) as ctx:
        updated = patient_update(actor=cm, patient_id=patient.pk, version=1, locked=locked, city="Quincy")
    assert selects(ctx) == []
    assert updated is locked and updated.version == 2
    patient.refresh_from_db()
    assert (patient.city, patient.version, patient.history.count()) == ("Quincy", 2, 2)


def test_patient_update_checks_version_and_organization_of_a_locked_row(cm, outsider, patient):
    locked = Patient.objects.select_for_update().get(pk=patient.pk)
    with pytest.raises(StaleVersion):
        patient_update(actor=cm, patient_id=patient.pk, version=5, locked=locked, city="Quincy")
    with pytest.raises(NotFound):
        patient_update(actor=outsider, patient_id=patient.pk, version=None, locked=locked, city="Quincy")
    patient.refresh_from_db()
    assert (patient.city, patient.version) == ("", 1)


# --- encounters, admission case, task ---------------------------------------------------------------


def test_encounter_upsert_with_rows_at_hand_matches_the_plain_call(intake_actor, patient):
    plain, created = encounter_upsert(
        actor=intake_actor, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V1",
        status="in-progress", encounter_class="inpatient",
    )  # fmt: skip
    assert created
    locked = Encounter.objects.select_for_update().get(pk=plain.pk)
    with CaptureQueriesContext(connection) as ctx:
        again, created = encounter_upsert(
            actor=intake_actor, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V1",
            patient=patient, locked=locked, looked_up=True, location_text="4W",
        )  # fmt: skip
    assert not created and again.pk == plain.pk and selects(ctx) == []
    assert Encounter.objects.get().location_text == "4W"

    with CaptureQueriesContext(connection) as ctx:
        new, created = encounter_upsert(
            actor=intake_actor, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V2",
            patient=patient, looked_up=True, status="in-progress", encounter_class="inpatient",
        )  # fmt: skip
    assert created and selects(ctx) == [] and Encounter.objects.count() == 2


def test_encounter_upsert_does_not_trust_another_organizations_rows(outsider, intake_actor, patient):
    encounter, _ = encounter_upsert(
        actor=intake_actor, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V1",
        status="in-progress", encounter_class="inpatient",
    )  # fmt: skip
    outsider_intake = dataclasses.replace(outsider, roles=frozenset({roles.INTAKE_COORDINATOR}))
    with pytest.raises(NotFound):
        encounter_upsert(
            actor=outsider_intake, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V1",
            patient=patient, locked=encounter, location_text="stolen",
        )  # fmt: skip
    assert Encounter.objects.get().location_text == ""


def test_admission_case_and_task_with_rows_at_hand(intake_actor, patient):
    encounter, _ = encounter_upsert(
        actor=intake_actor, patient_id=patient.pk, identifier_system="urn:v", identifier_value="V1",
        patient=patient, status="in-progress", encounter_class="inpatient",
        admit_at=dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.UTC),
    )  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        case = case_open_for_admission(actor=intake_actor, encounter_id=encounter.pk, locked=encounter)
    assert case is not None and case.patient_id == patient.pk
    tables = " ".join(selects(ctx))
    assert "clinical_encounter" not in tables and '"patients_patient"' not in tables and "cases_case" not in tables
    assert case.tasks.get().kind == "initial_review"
    assert Encounter.objects.get().hospital_case_id == case.pk


def test_case_open_and_task_create_ignore_rows_of_another_organization(cm, outsider, patient, make_patient):
    with pytest.raises(NotFound):
        case_open(actor=outsider, patient_id=patient.pk, case_type="insurer_cm", patient=patient)
    case = case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", patient=patient)
    with pytest.raises(NotFound):
        task_create(actor=outsider, title="peek", case_id=case.pk, case=case)
    task = task_create(actor=cm, title="Review", case_id=case.pk, case=case)
    assert (task.case_id, task.patient_id) == (case.pk, patient.pk)
    assert Case.objects.count() == 1
