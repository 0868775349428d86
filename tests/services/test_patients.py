from __future__ import annotations

import datetime as dt

import pytest

from casebridge.accounts import roles
from casebridge.audit.models import AuditEvent
from casebridge.kernel.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from casebridge.patients.models import Coverage, Patient, PatientIdentifier
from casebridge.patients.services import (
    contact_add,
    coverage_add,
    coverage_end,
    identifier_add,
    patient_update,
)
from tests.support import db


def test_a_patient_is_created_in_the_actors_organization_with_its_mrn(cm, patient):
    assert patient.organization_id == cm.organization_id
    mrn = patient.identifiers.get()
    assert (mrn.kind, mrn.value, mrn.assigner_id) == ("mrn", "MRN-1001", cm.organization_id)
    assert patient.version == 1


def test_an_mbi_is_stored_normalized_without_an_assigner(cm, patient):
    ident = identifier_add(actor=cm, patient_id=patient.pk, kind="mbi", value="1eg4-te5-mk73")
    assert (ident.value, ident.assigner_id) == ("1EG4TE5MK73", None)


def test_an_invalid_mbi_is_refused(cm, patient):
    with pytest.raises(ValidationFailed) as exc:
        identifier_add(actor=cm, patient_id=patient.pk, kind="mbi", value="1EG4-TE5-MK7O")
    assert "value" in exc.value.field_errors


def test_an_mrn_is_unique_per_issuing_organization(cm, outsider, make_patient, patient):
    with pytest.raises(ValidationFailed) as exc:
        make_patient(mrn="MRN-1001", family_name="Other")
    assert exc.value.field_errors == {"value": ["MRN-1001 is already assigned to another patient"]}
    # Another organization's MRNs are its own numbering: the same string is fine there.
    make_patient(actor=outsider, mrn="MRN-1001")


def test_an_mrn_without_a_system_is_refused_when_another_patient_holds_it_under_any_system(cm, make_patient):
    """A number stored without a system matches that number under every system (identifier_holder), so it
    may not be another patient's under some system: two charts would answer to it."""
    north = make_patient(identifiers=[{"kind": "mrn", "value": "100234", "system": "urn:oid:north"}])
    south = make_patient(
        family_name="Lind", identifiers=[{"kind": "mrn", "value": "100234", "system": "urn:oid:south"}]
    )
    other = make_patient(mrn="MRN-2002", family_name="Other")
    with pytest.raises(ValidationFailed) as exc:
        identifier_add(actor=cm, patient_id=other.pk, kind="mrn", value="100234")
    assert exc.value.field_errors == {"value": ["100234 is already assigned to another patient"]}
    assert sorted(PatientIdentifier.objects.filter(value="100234").values_list("patient_id", "system")) == sorted(
        [(north.pk, "urn:oid:north"), (south.pk, "urn:oid:south")]
    )
    # Under a system of its own the number is that system's: another patient may hold it there.
    identifier_add(actor=cm, patient_id=other.pk, kind="mrn", value="100234", system="urn:oid:east")


def test_a_refused_identifier_leaves_no_partly_registered_patient(cm, make_patient, patient):
    before = db.counts()
    with pytest.raises(ValidationFailed):
        make_patient(mrn="MRN-1001", identifiers=[{"kind": "mbi", "value": "1EG4TE5MK73"}])
    assert db.counts() == before


@pytest.mark.parametrize(
    ("fields", "field"),
    [
        ({"birth_date": dt.date(2999, 1, 1)}, "birth_date"),
        ({"birth_date": dt.date(1850, 1, 1)}, "birth_date"),
        ({"postal_code": "ABCDE"}, "postal_code"),
        ({"postal_code": "02134abcde"}, "postal_code"),  # five digits and ten characters: it passed before
        ({"postal_code": "٠٢١٣٤"}, "postal_code"),  # Arabic-Indic digits pass str.isdigit()
        ({"postal_code": "0213"}, "postal_code"),
        ({"sex": "robot"}, "sex"),
        ({"family_name": ""}, "family_name"),
        ({"favourite_color": "blue"}, "favourite_color"),
    ],
)
def test_patient_create_refuses_bad_fields_by_name(make_patient, fields, field):
    before = Patient.objects.count()
    with pytest.raises(ValidationFailed) as exc:
        make_patient(**fields)
    assert field in exc.value.field_errors
    assert Patient.objects.count() == before


def test_an_auditor_cannot_register_patients(make_actor, hospital, make_patient):
    with pytest.raises(PermissionDenied):
        make_patient(actor=make_actor(hospital, roles.AUDITOR))


def test_an_update_bumps_the_version_and_keeps_history(cm, patient):
    updated = patient_update(actor=cm, patient_id=patient.pk, version=1, phone="617-555-0199")
    assert updated.version == 2
    assert patient.history.count() == 2
    assert patient.history.earliest().phone == ""


def test_a_stale_update_is_refused_and_the_first_change_is_kept(cm, patient):
    patient_update(actor=cm, patient_id=patient.pk, version=1, phone="first")
    with pytest.raises(StaleVersion):
        patient_update(actor=cm, patient_id=patient.pk, version=1, phone="second")
    patient.refresh_from_db()
    assert (patient.phone, patient.version) == ("first", 2)


def test_consent_records_when_it_was_given(cm, patient):
    assert patient.consent_recorded_at is None
    updated = patient_update(actor=cm, patient_id=patient.pk, version=1, consent_to_share=True)
    assert updated.consent_recorded_at is not None


def test_another_organization_cannot_update_the_patient(outsider, patient):
    with pytest.raises(NotFound):
        patient_update(actor=outsider, patient_id=patient.pk, version=1, phone="x")
    with pytest.raises(NotFound):
        contact_add(actor=outsider, patient_id=patient.pk, name="X", relationship="friend")
    with pytest.raises(NotFound):
        identifier_add(actor=outsider, patient_id=patient.pk, kind="other", value="X")


def cover(cm, patient, **fields):
    data = {"payer_name": "Acme", "member_id": "M1", "period_start": dt.date(2025, 1, 1)}
    data.update(fields)
    return coverage_add(actor=cm, patient_id=patient.pk, **data)


def test_only_one_active_coverage_holds_each_order(cm, patient):
    cover(cm, patient, order=1)
    cover(cm, patient, order=2)
    with pytest.raises(ValidationFailed) as exc:
        cover(cm, patient, order=1, member_id="M2")
    assert "order" in exc.value.field_errors
    assert Coverage.objects.filter(patient=patient).count() == 2


def test_an_ended_coverage_frees_its_order(cm, patient):
    first = cover(cm, patient, order=1)
    coverage_end(actor=cm, coverage_id=first.pk, period_end=dt.date(2025, 6, 30))
    second = cover(cm, patient, order=1, member_id="M2", period_start=dt.date(2025, 7, 1))
    assert second.active and not Coverage.objects.get(pk=first.pk).active


def test_a_coverage_cannot_end_before_it_starts(cm, patient):
    with pytest.raises(ValidationFailed):
        cover(cm, patient, period_end=dt.date(2024, 1, 1))
    coverage = cover(cm, patient)
    with pytest.raises(ValidationFailed):
        coverage_end(actor=cm, coverage_id=coverage.pk, period_end=dt.date(2024, 1, 1))


def test_a_coverage_names_an_insurer_on_the_platform_or_a_payer(cm, patient, insurer, hospital):
    coverage = cover(cm, patient, payer_name="", insurer_id=insurer.pk)
    assert coverage.payer_name == insurer.name
    with pytest.raises(ValidationFailed) as exc:
        cover(cm, patient, payer_name="", order=2)
    assert "payer_name" in exc.value.field_errors
    with pytest.raises(ValidationFailed) as exc:
        cover(cm, patient, insurer_id=hospital.pk, order=2)
    assert "insurer_id" in exc.value.field_errors


def test_each_patient_write_writes_exactly_one_audit_row(cm, patient):
    writes = [
        lambda: patient_update(actor=cm, patient_id=patient.pk, version=None, city="Boston"),
        lambda: identifier_add(actor=cm, patient_id=patient.pk, kind="member_id", value="ACME-9"),
        lambda: contact_add(actor=cm, patient_id=patient.pk, name="Sam", relationship="child"),
        lambda: cover(cm, patient),
    ]
    for write in writes:
        before = AuditEvent.objects.count()
        write()
        assert AuditEvent.objects.count() == before + 1


def test_identifiers_are_unique_per_kind_value_and_assigner(cm, patient, make_patient):
    other = make_patient(mrn="MRN-2")
    identifier_add(actor=cm, patient_id=patient.pk, kind="member_id", value="ACME-1")
    with pytest.raises(ValidationFailed):
        identifier_add(actor=cm, patient_id=other.pk, kind="member_id", value="ACME-1")
    identifier_add(actor=cm, patient_id=other.pk, kind="other", value="ACME-1")
    assert PatientIdentifier.objects.filter(value="ACME-1").count() == 2


def test_an_mbi_names_one_patient_per_organization_but_the_same_person_elsewhere(cm, outsider, make_patient):
    make_patient(mrn="A", identifiers=[{"kind": "mbi", "value": "1EG4TE5MK73"}])
    with pytest.raises(ValidationFailed) as exc:
        make_patient(mrn="B", identifiers=[{"kind": "mbi", "value": "1eg4-te5-mk73"}])
    assert "value" in exc.value.field_errors
    assert make_patient(actor=outsider, identifiers=[{"kind": "mbi", "value": "1EG4TE5MK73"}])
