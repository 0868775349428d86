"""Imports of the real Synthea data in /work/shared/data (read in place)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from fhir_data import BULK, BUNDLES

from casebridge.clinical.models import Condition, Encounter, ExternalOrganization, MedicationRequest, Practitioner
from casebridge.interop.models import ImportRun, SourceRecord
from casebridge.interop.services import fhir_import_files
from casebridge.patients.models import Patient

BULK_COUNTS = {
    "AllergyIntolerance": 11,
    "Condition": 555,
    "Encounter": 1215,
    "Location": 44,
    "MedicationRequest": 1745,
    "Organization": 43,
    "Patient": 13,
    "Practitioner": 43,
    "PractitionerRole": 43,
    "Procedure": 2056,
}
NOT_IMPORTED = {"Device": 16, "DocumentReference": 1215, "Immunization": 161}


def test_every_bulk_file_imports_without_rejections_and_again_changes_nothing(intake):
    first = fhir_import_files(actor=intake, paths=[str(BULK)])
    assert first.rejected_total == 0, first.as_text()
    assert {t: c["created"] for t, c in first.counts.items() if c["created"]} == BULK_COUNTS
    assert {t: c["skipped"] for t, c in first.counts.items() if c["skipped"]} == NOT_IMPORTED
    assert Patient.objects.filter(organization=intake.organization).count() == 13
    assert SourceRecord.objects.filter(organization=intake.organization).count() == sum(BULK_COUNTS.values())

    second = fhir_import_files(actor=intake, paths=[str(BULK)])
    assert second.rejected_total == 0
    assert second.changed == 0
    assert {t: c["unchanged"] for t, c in second.counts.items() if c["unchanged"]} == BULK_COUNTS
    assert Patient.objects.filter(organization=intake.organization).count() == 13
    assert Encounter.objects.filter(organization=intake.organization).count() == 1215


def test_import_keeps_resources_as_received_and_json_fields_as_json(intake):
    report = fhir_import_files(actor=intake, paths=[str(BULK)])
    assert report.rejected_total == 0, report.as_text()
    line = (BULK / "Encounter.000.ndjson").read_text().splitlines()[0]
    received = json.loads(line)
    record = SourceRecord.objects.get(
        organization=intake.organization, resource_type="Encounter", source_id=received["id"]
    )
    assert record.resource == received
    encounter = Encounter.objects.get(pk=record.target_id)
    assert isinstance(encounter.types, list) and encounter.types[0]["code"]
    assert isinstance(encounter.admission_source, dict)
    run = ImportRun.objects.get(pk=report.run_id)
    assert run.processed == report.resources > 0


def test_the_collector_freeze_lasts_only_as_long_as_the_import(intake, monkeypatch):
    import gc

    from casebridge.interop.fhir import importer

    seen = []
    original = importer.FhirImporter.import_ndjson

    def watch(self, path):
        seen.append(gc.get_freeze_count())
        if path.name.startswith("Procedure"):
            raise KeyboardInterrupt
        return original(self, path)

    monkeypatch.setattr(importer.FhirImporter, "import_ndjson", watch)
    before = gc.get_freeze_count()
    with pytest.raises(KeyboardInterrupt):
        fhir_import_files(actor=intake, paths=[str(BULK)])
    assert seen and all(n > before for n in seen)
    assert gc.get_freeze_count() == before


@pytest.mark.postgres_only  # synchronous_commit is a PostgreSQL setting
def test_postgresql_commits_are_relaxed_for_the_import_only(intake, monkeypatch):
    from django.db import connection

    from casebridge.interop.fhir import importer

    def setting() -> str:
        with connection.cursor() as cursor:
            cursor.execute("SHOW synchronous_commit")
            return cursor.fetchone()[0]

    during = []
    original = importer.FhirImporter.import_ndjson

    def watch(self, path):
        during.append(setting())
        return original(self, path)

    monkeypatch.setattr(importer.FhirImporter, "import_ndjson", watch)
    before = setting()
    fhir_import_files(actor=intake, paths=[str(BULK / "Patient.000.ndjson")])
    assert during == ["off"]
    assert setting() == before


def test_bulk_encounters_keep_their_class_and_codes_as_coded(intake):
    fhir_import_files(actor=intake, paths=[str(BULK)])
    classes = dict(
        Encounter.objects.filter(organization=intake.organization)
        .values_list("encounter_class")
        .annotate(n=__import__("django.db.models", fromlist=["Count"]).Count("id"))
    )
    assert classes == {"ambulatory": 1133, "inpatient": 49, "emergency": 23, "home_health": 9, "virtual": 1}
    sepsis = Condition.objects.filter(organization=intake.organization, code="91302008").first()
    assert sepsis is not None
    assert sepsis.code_system == "http://snomed.info/sct"
    assert sepsis.display == "Sepsis (disorder)"
    assert sepsis.encounter is not None and sepsis.encounter.patient_id == sepsis.patient_id
    enc = Encounter.objects.filter(organization=intake.organization, attending__isnull=False).first()
    assert enc is not None and enc.service_provider is not None and enc.location is not None
    med = MedicationRequest.objects.filter(code="314076").first()
    assert med is not None and med.code_system == "http://www.nlm.nih.gov/research/umls/rxnorm"
    assert Practitioner.objects.filter(npi="9999974493").exists()


def test_patients_get_mrn_and_no_social_security_number(intake):
    fhir_import_files(actor=intake, paths=[str(BULK / "Patient.000.ndjson")])
    patient = Patient.objects.get(identifiers__value="129c6ac7-8d06-89de-ad63-0204a93e76c3", identifiers__kind="mrn")
    assert patient.state == "KS" or len(patient.state) in (0, 2)
    assert not patient.identifiers.filter(value__startswith="999-").exists()
    record = SourceRecord.objects.get(resource_type="Patient", source_id="129c6ac7-8d06-89de-ad63-0204a93e76c3")
    assert record.resource["resourceType"] == "Patient"
    assert record.target_id == patient.pk


def test_synthea_bundles_import_and_reimport_is_unchanged(intake):
    first = fhir_import_files(actor=intake, paths=[str(BUNDLES)])
    assert first.rejected_total == 0, first.as_text()
    assert first.counts["Patient"]["created"] == 6
    for rtype in ("Claim", "ExplanationOfBenefit", "CarePlan", "CareTeam", "Observation", "Encounter"):
        assert first.counts[rtype]["created"] > 0, rtype
    second = fhir_import_files(actor=intake, paths=[str(BUNDLES)])
    assert second.rejected_total == 0
    # Directory entries repeat across bundles with different content; the last one read wins each time.
    assert all(c["created"] == 0 for c in second.counts.values())
    assert Patient.objects.filter(organization=intake.organization).count() == 6


def test_a_changed_resource_updates_its_record(intake, tmp_path):
    line = (BULK / "Patient.000.ndjson").read_text().splitlines()[0]
    resource = json.loads(line)
    (tmp_path / "Patient.ndjson").write_text(line + "\n")
    fhir_import_files(actor=intake, paths=[str(tmp_path)])
    resource["name"][0]["family"] = "Renamed"
    (tmp_path / "Patient.ndjson").write_text(json.dumps(resource) + "\n")
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.counts["Patient"]["updated"] == 1
    patient = Patient.objects.get(organization=intake.organization)
    assert patient.family_name == "Renamed"
    assert patient.version == 2


def test_imported_data_belongs_to_the_importing_organization_only(intake, outsider, make_actor, insurer):
    from casebridge.accounts import roles

    fhir_import_files(actor=intake, paths=[str(BULK / "Organization.000.ndjson"), str(BULK / "Patient.000.ndjson")])
    other = make_actor(insurer, roles.INTAKE_COORDINATOR, username="ins-intake")
    report = fhir_import_files(actor=other, paths=[str(BULK / "Patient.000.ndjson")])
    assert report.counts["Patient"]["created"] == 13  # its own copies, not a match on the hospital's
    assert Patient.objects.filter(organization=intake.organization).count() == 13
    assert Patient.objects.filter(organization=insurer).count() == 13
    assert ExternalOrganization.objects.filter(organization=insurer).count() == 0


@pytest.mark.django_db(transaction=True)
def test_cli_import_prints_report_and_exit_status(hospital, tmp_path):
    db = tmp_path / "cli.sqlite3"
    env = {
        "PATH": "/usr/bin:/bin",
        "CASEBRIDGE_DATA_DIR": str(tmp_path),
        "DATABASE_URL": f"sqlite:///{db}",
        "PYTHONPATH": "src",
    }
    run = [sys.executable, "-m", "casebridge.cli"]
    subprocess.run([*run, "migrate", "--verbosity", "0"], env=env, check=True)
    subprocess.run(
        [
            *run,
            "manage",
            "shell",
            "-c",
            "from casebridge.accounts.services import organization_create as c; "
            "c(actor=None, name='CLI Hospital', org_type='hospital')",
        ],
        env=env,
        check=True,
    )
    help_text = subprocess.run([*run, "import", "--help"], env=env, capture_output=True, text=True, check=True)
    assert "--organization" in help_text.stdout and "--as" in help_text.stdout
    args = [*run, "import", str(BULK / "Patient.000.ndjson"), "--organization", "CLI Hospital"]
    done = subprocess.run(args, env=env, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert "Patient" in done.stdout and "13" in done.stdout
    again = subprocess.run([*args, "--json", "--quiet"], env=env, capture_output=True, text=True)
    assert again.returncode == 0
    assert json.loads(again.stdout)["totals"]["unchanged"] == 13
    missing = subprocess.run([*run, "import", str(BULK)], env=env, capture_output=True, text=True)
    assert missing.returncode == 2 and "--organization" in missing.stderr
