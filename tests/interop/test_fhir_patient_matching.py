"""A FHIR import matches patients by MRN within their number space: the identifier's system.

Two facilities (or two senders) may each issue MRN 100234 to different people; matching on the
value alone would write one person's demographics over another's chart."""

from __future__ import annotations

import json

import pytest

from casebridge.clinical.models import Encounter
from casebridge.interop.services import fhir_import_files
from casebridge.patients.models import Patient, PatientIdentifier
from tests.support import db

pytestmark = pytest.mark.django_db


def patient(source_id: str, family: str, system: str | None, birth: str = "1948-02-03") -> dict:
    identifier = {"type": {"coding": [{"code": "MR"}]}, "value": "100234"}
    if system is not None:
        identifier["system"] = system
    return {
        "resourceType": "Patient",
        "id": source_id,
        "identifier": [identifier],
        "name": [{"family": family, "given": ["Ada"]}],
        "gender": "female",
        "birthDate": birth,
    }


def run(actor, tmp_path, name: str, *resources: dict):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": r} for r in resources]}
    (tmp_path / name).write_text(json.dumps(bundle))
    return fhir_import_files(actor=actor, paths=[str(tmp_path / name)])


def families() -> list[str]:
    return list(Patient.objects.order_by("pk").values_list("family_name", flat=True))


def test_one_number_under_two_systems_is_two_patients_and_each_update_finds_its_own(intake, tmp_path):
    run(intake, tmp_path, "north.json", patient("n1", "North", "urn:oid:north"))
    report = run(intake, tmp_path, "south.json", patient("s1", "South", "urn:oid:south", birth="1980-01-01"))
    assert report.counts["Patient"]["created"] == 1, report.as_text()
    assert families() == ["North", "South"]
    # From another source (new source ids), each matched by its own system.
    report = run(intake, tmp_path, "again.json", patient("x9", "South-Lee", "urn:oid:south", birth="1980-01-01"))
    assert report.counts["Patient"]["updated"] == 1, report.as_text()
    assert families() == ["North", "South-Lee"]
    assert PatientIdentifier.objects.filter(value="100234").count() == 2


def test_a_number_without_system_updates_its_only_holder(intake, tmp_path):
    run(intake, tmp_path, "north.json", patient("n1", "North", "urn:oid:north"))
    report = run(intake, tmp_path, "bare.json", patient("b1", "North-Lee", None))
    assert report.counts["Patient"]["updated"] == 1, report.as_text()
    assert families() == ["North-Lee"]


def test_a_number_without_system_that_two_patients_hold_is_rejected_not_guessed(intake, tmp_path):
    run(intake, tmp_path, "north.json", patient("n1", "North", "urn:oid:north"))
    run(intake, tmp_path, "south.json", patient("s1", "South", "urn:oid:south", birth="1980-01-01"))
    before = db.counts()
    report = run(intake, tmp_path, "bare.json", patient("b1", "Who", None))
    assert report.rejected_total == 1
    assert report.rejections[0].reason == (
        "Patient.identifier MRN 100234 could be any of 2 patients here (they hold it under different systems, "
        "and one side has none): send the identifier's system"
    )
    assert families() == ["North", "South"]
    assert db.counts()["patients.patient"] == before["patients.patient"]


def test_a_reference_by_an_identifier_without_system_that_two_patients_hold_is_unresolvable(intake, tmp_path):
    run(intake, tmp_path, "north.json", patient("n1", "North", "urn:oid:north"))
    run(intake, tmp_path, "south.json", patient("s1", "South", "urn:oid:south", birth="1980-01-01"))
    encounter = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"identifier": {"value": "100234"}},
        "period": {"start": "2026-03-01T08:00:00Z", "end": "2026-03-01T09:00:00Z"},
    }
    report = run(intake, tmp_path, "enc.json", encounter)
    assert report.rejected_total == 1
    assert "identifier |100234 could be any of 2 patients here" in report.rejections[0].reason
    assert not Encounter.objects.exists()
    with_system = dict(encounter, subject={"identifier": {"system": "urn:oid:south", "value": "100234"}})
    report = run(intake, tmp_path, "enc2.json", with_system)
    assert report.rejected_total == 0, report.as_text()
    assert Encounter.objects.get().patient.family_name == "South"
