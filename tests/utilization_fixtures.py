"""Fixtures for the utilization review tests: admissions arrive through the FHIR importer's service,
reviews and criteria through the utilization services, as users and interfaces build them."""

from __future__ import annotations

import datetime as dt
import json
from typing import Any

import pytest
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.clinical.models import Encounter
from casebridge.interop.services import fhir_import_bundle
from casebridge.utilization import services

ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
SNOMED = "http://snomed.info/sct"
LOINC = "http://loinc.org"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"


def iso(moment: dt.datetime) -> str:
    return moment.isoformat()


def admission_bundle(
    *,
    key: str,
    admit_at: dt.datetime,
    encounter_class: str = "IMP",
    conditions: list[tuple[str, str]] = (),  # type: ignore[assignment]
    medications: list[str] = (),  # type: ignore[assignment]
    observations: list[tuple[str, str, float, str]] = (),  # type: ignore[assignment]
    discharge_at: dt.datetime | None = None,
    attending: str = "Dr. Lee Attending",
) -> dict[str, Any]:
    pid, eid = f"pat-{key}", f"enc-{key}"
    period: dict[str, str] = {"start": iso(admit_at)}
    if discharge_at is not None:
        period["end"] = iso(discharge_at)
    resources: list[dict[str, Any]] = [
        {
            "resourceType": "Patient",
            "id": pid,
            "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": "urn:mrn", "value": f"MRN-{key}"}],
            "name": [{"family": f"Patient{key}", "given": ["Sam"]}],
            "birthDate": "1951-05-06",
        },
        {
            "resourceType": "Encounter",
            "id": eid,
            "identifier": [{"system": "urn:visits", "value": f"V-{key}"}],
            "status": "finished" if discharge_at else "in-progress",
            "class": {"system": ACT, "code": encounter_class},
            "subject": {"reference": f"urn:uuid:{pid}"},
            "participant": [{"individual": {"display": attending}}],
            "period": period,
        },
    ]
    for i, (code, display) in enumerate(conditions):
        resources.append(
            {
                "resourceType": "Condition",
                "id": f"cond-{key}-{i}",
                "clinicalStatus": {"coding": [{"code": "active"}]},
                "code": {"coding": [{"system": SNOMED, "code": code, "display": display}]},
                "subject": {"reference": f"urn:uuid:{pid}"},
                "encounter": {"reference": f"urn:uuid:{eid}"},
                "onsetDateTime": iso(admit_at),
            }
        )
    for i, display in enumerate(medications):
        resources.append(
            {
                "resourceType": "MedicationRequest",
                "id": f"med-{key}-{i}",
                "status": "active",
                "intent": "order",
                "medicationCodeableConcept": {"coding": [{"system": RXNORM, "code": f"99{i}", "display": display}]},
                "subject": {"reference": f"urn:uuid:{pid}"},
                "encounter": {"reference": f"urn:uuid:{eid}"},
                "authoredOn": iso(admit_at + dt.timedelta(hours=1)),
            }
        )
    for i, (code, display, value, unit) in enumerate(observations):
        resources.append(
            {
                "resourceType": "Observation",
                "id": f"obs-{key}-{i}",
                "status": "final",
                "code": {"coding": [{"system": LOINC, "code": code, "display": display}]},
                "subject": {"reference": f"urn:uuid:{pid}"},
                "encounter": {"reference": f"urn:uuid:{eid}"},
                "effectiveDateTime": iso(admit_at + dt.timedelta(hours=2)),
                "valueQuantity": {"value": value, "unit": unit},
            }
        )
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"urn:uuid:{r['id']}", "resource": r} for r in resources],
    }


@pytest.fixture
def intake(make_actor, hospital):
    return make_actor(hospital, roles.INTAKE_COORDINATOR, username="intake")


@pytest.fixture
def nurse(make_actor, hospital):
    return make_actor(hospital, roles.UR_NURSE, username="urnurse")


@pytest.fixture
def advisor(make_actor, hospital):
    return make_actor(hospital, roles.PHYSICIAN_ADVISOR, username="advisor1")


@pytest.fixture
def advisor2(make_actor, hospital):
    return make_actor(hospital, roles.PHYSICIAN_ADVISOR, username="advisor2")


@pytest.fixture
def director(make_actor, hospital):
    return make_actor(hospital, roles.MEDICAL_DIRECTOR, username="meddir")


@pytest.fixture
def library(director):
    return services.criteria_library_install_starter(actor=director)


@pytest.fixture
def admit(intake):
    """Import an admission through the FHIR importer's service; returns the Encounter."""

    def make(key: str = "1", **kwargs: Any) -> Encounter:
        kwargs.setdefault("admit_at", timezone.now() - dt.timedelta(hours=30))
        bundle = admission_bundle(key=key, **kwargs)
        report, _, _ = fhir_import_bundle(actor=intake, body=json.dumps(bundle).encode())
        assert report.rejected_total == 0, report.as_text()
        return Encounter.objects.get(identifier_value=f"V-{key}")

    return make


OSTEO = {
    "conditions": [("60168000", "Osteomyelitis (disorder)")],
    "medications": ["Vancomycin 1000 MG Injection"],
    "observations": [("1988-5", "C reactive protein", 14.0, "mg/dL")],
}


@pytest.fixture
def osteo_stay(admit):
    return admit("osteo", **OSTEO)


@pytest.fixture
def review(nurse, library, osteo_stay):
    return services.review_schedule_initial(actor=nurse, encounter_id=osteo_stay.pk)
