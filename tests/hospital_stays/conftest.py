"""Hospital fixtures: a hospital with a current admission built through the services, frozen at noon."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.cases.services import case_open
from casebridge.clinical.coding import ICD10CM, LOINC
from casebridge.clinical.models import Condition, Encounter, Observation
from casebridge.clinical.services import encounter_upsert
from casebridge.hospital import services
from casebridge.kernel import clock
from casebridge.patients.services import coverage_add

SAMPLE_DRG = Path(__file__).resolve().parents[2] / "src/casebridge/hospital/data/ms_drg_gmlos_SAMPLE.csv"
NOW = timezone.make_aware(dt.datetime(2026, 3, 12, 12, 0))


def at(day: int, hour: int = 8, minute: int = 0) -> dt.datetime:
    return timezone.make_aware(dt.datetime(2026, 3, day, hour, minute))


@pytest.fixture(autouse=True)
def frozen_now():
    with clock.frozen_at(NOW):
        yield NOW


@pytest.fixture
def drg_table(hospital):
    return services.drg_table_load(organization=hospital, text=SAMPLE_DRG.read_text(), source="SAMPLE")


_visit = iter(range(1, 10**6))


def admit(
    actor, patient, *, when, klass="inpatient", status="in-progress", discharge=None, unit="4 West", case=True, **extra
):
    """An encounter through encounter_upsert, with its hospital case (as the admission rule would open it)."""
    encounter, _ = encounter_upsert(
        actor=actor,
        patient_id=patient.pk,
        identifier_system="urn:test:visit",
        identifier_value=f"V{next(_visit)}",
        status=status,
        encounter_class=klass,
        admit_at=when,
        discharge_at=discharge,
        location_text=f"{unit}^401^A" if unit else "",
        **extra,
    )
    if case:
        hospital_case = case_open(actor=actor, patient_id=patient.pk, case_type="hospital_stay")
        Encounter.objects.filter(pk=encounter.pk).update(hospital_case=hospital_case)
        encounter.refresh_from_db()
    return encounter


def condition(encounter, code, display="", *, on_encounter=True, system=ICD10CM):
    return Condition.objects.create(
        organization_id=encounter.organization_id,
        patient_id=encounter.patient_id,
        encounter=encounter if on_encounter else None,
        code_system=system,
        code=code,
        display=display,
        codings=[{"system": system, "code": code, "display": display}],
        clinical_status="active",
        verification_status="confirmed",
    )


def lab(encounter, code, value, unit, when, category="laboratory", name=""):
    return Observation.objects.create(
        organization_id=encounter.organization_id,
        patient_id=encounter.patient_id,
        encounter=encounter,
        code_system=LOINC,
        code=code,
        display=name or code,
        status="final",
        categories=[{"code": category}],
        effective_at=when,
        value_quantity=value,
        value_unit=unit,
    )


@pytest.fixture
def supervisor(make_actor, hospital):
    return make_actor(hospital, roles.SUPERVISOR)


@pytest.fixture
def stay(cm, patient, drg_table):
    """An inpatient admitted 03/10 08:00 through the ED, primary coverage on file, opened as a stay."""
    coverage_add(
        actor=cm, patient_id=patient.pk, payer_name="Acme Health Plan", member_id="A1", period_start=dt.date(2025, 1, 1)
    )
    encounter = admit(cm, patient, when=at(10, 8), admission_source={"code": "emd"})
    return services.stay_open(actor=cm, encounter_id=encounter.pk)
