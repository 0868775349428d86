"""Encounter and Condition (the clinical app): export and /fhir/r4."""

from __future__ import annotations

import datetime as dt

import pytest
import test_fhir_export_support as support
from django.apps import apps
from fhir.resources.R4B import get_fhir_model_class

from casebridge.interop.fhir_export import bundles

agency = support.agency
demo_case = support.demo_case

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/admit-source"
DISPOSITION = "http://terminology.hl7.org/CodeSystem/discharge-disposition"
ADMIT = dt.datetime(2030, 1, 2, 14, 30, tzinfo=dt.UTC)


@pytest.fixture
def admission(cm, demo_case):
    """The admission that opened the case, its attending and hospital, and its diagnosis."""
    org = cm.organization
    hospital = apps.get_model("clinical", "ExternalOrganization").objects.create(
        organization=org, name="General Hospital Main Campus", npi="1234567893"
    )
    attending = apps.get_model("clinical", "Practitioner").objects.create(
        organization=org, family_name="Osler", given_name="William", prefix="Dr.", npi="1992999999"
    )
    encounter = apps.get_model("clinical", "Encounter").objects.create(
        organization=org, patient=demo_case.patient, identifier_system="urn:oid:1.2.3.4", identifier_value="V100",
        status="finished", encounter_class="inpatient", class_system="http://terminology.hl7.org/CodeSystem/v3-ActCode",
        class_code="IMP", admit_at=ADMIT, discharge_at=ADMIT + dt.timedelta(days=3),
        admission_source={"system": ADMIT_SOURCE, "code": "emd", "display": "From accident/emergency department"},
        discharge_disposition={"system": DISPOSITION, "code": "home", "display": "Home"},
        location_text="4W^401^B", attending=attending, attending_name="Dr. William Osler", service_provider=hospital,
        reasons=[{"system": ICD10, "code": "I50.9", "display": "Heart failure"}], hospital_case=demo_case.case,
    )  # fmt: skip
    condition = apps.get_model("clinical", "Condition").objects.create(
        organization=org, patient=demo_case.patient, encounter=encounter, code_system=ICD10, code="I50.9",
        display="Heart failure", codings=[{"system": ICD10, "code": "I50.9", "display": "Heart failure"}],
        clinical_status="active", verification_status="confirmed", category="encounter-diagnosis", onset_at=ADMIT,
        recorded_at=ADMIT,
    )  # fmt: skip
    return encounter, condition


def test_a_case_exports_its_admission_and_diagnosis_with_everything_they_refer_to(cm, demo_case, admission):
    encounter, condition = admission
    bundle = bundles.case_export(actor=cm, case_id=demo_case.case.pk)
    get_fhir_model_class("Bundle").model_validate(bundle)
    by_id = {f"{e['resource']['resourceType']}/{e['resource']['id']}": e["resource"] for e in bundle["entry"]}
    enc = by_id[f"Encounter/casebridge-encounter-{encounter.pk}"]
    assert enc["status"] == "finished" and enc["class"]["code"] == "IMP"
    assert {"use": "official", "system": "urn:oid:1.2.3.4", "value": "V100"} in enc["identifier"]
    assert enc["hospitalization"]["dischargeDisposition"]["coding"][0]["code"] == "home"
    assert enc["episodeOfCare"][0]["reference"] == f"EpisodeOfCare/casebridge-case-{demo_case.case.pk}"
    cond = by_id[f"Condition/casebridge-condition-{condition.pk}"]
    assert cond["code"]["coding"][0]["code"] == "I50.9" and cond["clinicalStatus"]["coding"][0]["code"] == "active"
    refs = {r for r in bundles._references(list(by_id.values())) if not r.startswith("#")}
    assert refs <= set(by_id)  # the attending and the hospital are in the bundle too


def test_fhir_api_searches_encounters_and_conditions_in_scope(api_as, cm, outsider, demo_case, admission):
    encounter, condition = admission
    mine, other = api_as(cm), api_as(outsider)
    patient = f"Patient/casebridge-patient-{demo_case.patient.pk}"
    found = mine.get("/fhir/r4/Encounter", {"patient": patient, "status": "finished"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"casebridge-encounter-{encounter.pk}"]
    found = mine.get("/fhir/r4/Encounter", {"identifier": "urn:oid:1.2.3.4|V100"}).json()
    assert found["total"] == 1
    found = mine.get("/fhir/r4/Condition", {"subject": patient, "clinical-status": "active"}).json()
    assert [e["resource"]["id"] for e in found["entry"]] == [f"casebridge-condition-{condition.pk}"]
    assert other.get(f"/fhir/r4/Condition/casebridge-condition-{condition.pk}").status_code == 404
    assert other.get("/fhir/r4/Encounter").json()["total"] == 0
