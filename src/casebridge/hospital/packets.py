"""Builds a clinical review packet's content from the record: a JSON snapshot, frozen when built, so
what the payer saw can be shown later exactly as sent."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import Q
from django.utils import timezone

from casebridge.clinical.models import Condition, MedicationRequest, Observation, Procedure
from casebridge.hospital.models import Authorization, DischargePlan, HospitalStay
from casebridge.hospital.rules.two_midnight import midnights_between
from casebridge.hospital.selectors import drg_of, unit_of
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.utilization import selectors as ur_selectors

MAX_RESULTS = 25
VITAL_CATEGORY = "vital-signs"
LAB_CATEGORY = "laboratory"


def _iso(value: dt.datetime | dt.date | None) -> str | None:
    if value is None:
        return None
    if isinstance(value, dt.datetime):
        return timezone.localtime(value).isoformat(timespec="seconds")
    return value.isoformat()


def _category_codes(obs: Observation) -> set[str]:
    return {str(c.get("code", "")) for c in obs.categories or [] if isinstance(c, dict)}


def _results(stay: HospitalStay, end: dt.datetime) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """The latest value of each vital sign and lab test during the stay."""
    encounter = stay.encounter
    rows = (
        Observation.objects.filter(patient_id=stay.patient_id)
        .filter(Q(encounter_id=encounter.pk) | Q(effective_at__gte=encounter.admit_at, effective_at__lte=end))
        .exclude(status__in=("entered-in-error", "cancelled"))
        .order_by("-effective_at", "-pk")[:2000]
    )
    vitals: dict[str, dict[str, Any]] = {}
    labs: dict[str, dict[str, Any]] = {}
    for obs in rows:
        categories = _category_codes(obs)
        target = vitals if VITAL_CATEGORY in categories else labs if LAB_CATEGORY in categories else None
        if target is None or obs.code in target or len(target) >= MAX_RESULTS:
            continue
        if obs.value_quantity is not None:
            value = f"{obs.value_quantity:g} {obs.value_unit}".strip()
        elif obs.components:
            value = (
                " / ".join(
                    f"{c.get('value', '')}"
                    for c in obs.components
                    if isinstance(c, dict) and c.get("value") is not None
                )
                or obs.value_text
            )
        else:
            value = obs.value_text or ", ".join(str(c.get("display") or c.get("code")) for c in obs.value_codings or [])
        target[obs.code] = {
            "code": obs.code,
            "name": obs.display or obs.code,
            "value": value,
            "at": _iso(obs.effective_at),
            "observation_id": obs.pk,
        }
    return list(vitals.values()), list(labs.values())


def build_content(*, actor: Actor, stay: HospitalStay, authorization: Authorization | None) -> dict[str, Any]:
    encounter = stay.encounter
    patient = stay.patient
    now = clock.now()
    end = encounter.discharge_at or now
    assert encounter.admit_at is not None
    drg = drg_of(actor=actor, code=stay.working_drg)
    diagnoses = [
        {"system": c.code_system, "code": c.code, "display": c.display}
        for c in Condition.objects.filter(patient_id=patient.pk)
        .filter(Q(encounter_id=encounter.pk) | Q(clinical_status="active"))
        .exclude(verification_status__in=("refuted", "entered-in-error"))
        .order_by("-encounter_id", "pk")[:40]
    ]
    medications = [
        {
            "code": m.code,
            "display": m.display,
            "dosage": m.dosage_text,
            "status": m.status,
            "authored": _iso(m.authored_at),
        }
        for m in MedicationRequest.objects.filter(patient_id=patient.pk)
        .filter(Q(encounter_id=encounter.pk) | Q(status="active", authored_at__lte=end))
        .order_by("-authored_at", "pk")[:40]
    ]
    procedures = [
        {"code": p.code, "display": p.display, "performed": _iso(p.performed_start)}
        for p in Procedure.objects.filter(patient_id=patient.pk)
        .filter(Q(encounter_id=encounter.pk) | Q(performed_start__gte=encounter.admit_at, performed_start__lte=end))
        .order_by("performed_start", "pk")[:40]
    ]
    vitals, labs = _results(stay, end)
    coverage = patient.coverages.filter(active=True).order_by("order").first()
    plan = DischargePlan.objects.filter(stay=stay).first()
    content: dict[str, Any] = {
        "schema": "casebridge.review-packet/1",
        "built_at": _iso(now),
        "hospital": {"name": actor.organization.name, "npi": actor.organization.npi},
        "patient": {
            "name": f"{patient.family_name}, {patient.given_name}",
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
            "member_id": coverage.member_id if coverage else "",
            "payer": coverage.payer_name if coverage else "",
        },
        "stay": {
            "class": encounter.encounter_class,
            "admit_at": _iso(encounter.admit_at),
            "admit_date": timezone.localdate(encounter.admit_at).isoformat(),
            "midnights": midnights_between(
                encounter.admit_at, max(end, encounter.admit_at), timezone.get_current_timezone()
            ),
            "unit": unit_of(encounter),
            "attending": encounter.attending_name or (str(encounter.attending) if encounter.attending_id else ""),
            "working_drg": stay.working_drg,
            "drg_title": drg.title if drg else "",
            "gmlos": str(drg.gmlos) if drg else None,
            "expected_discharge_on": _iso(stay.expected_discharge_on),
            "readiness": stay.get_readiness_display(),
        },
        "authorization": None
        if authorization is None
        else {
            "payer": authorization.payer_name,
            "reference_number": authorization.reference_number,
            "status": authorization.status,
            "approved_level_of_care": authorization.approved_level_of_care,
            "approved_days": authorization.approved_days,
            "next_review_on": _iso(authorization.next_review_on),
        },
        "diagnoses": diagnoses,
        "complex_factors": stay.complex_factors,
        "criteria": ur_selectors.criteria_results_for_packet(actor=actor, encounter_id=encounter.pk),
        "vitals": vitals,
        "labs": labs,
        "treatments": {"medications": medications, "procedures": procedures},
        "plan": stay.treatment_plan,
        "discharge_plan": {
            "expected_discharge_on": _iso(stay.expected_discharge_on),
            "readiness": stay.get_readiness_display(),
            "evaluation_status": plan.evaluation_status if plan else "not_required",
            "likely_needs": plan.likely_needs if plan else "",
            "self_care": plan.get_self_care_capacity_display() if plan and plan.self_care_capacity else "",
            "patient_goals": plan.patient_goals if plan else "",
            "caregiver": plan.caregiver if plan else "",
            "barriers": [
                b.description for b in stay.barriers.filter(resolved_at__isnull=True).order_by("created_at", "pk")
            ],
            "post_acute_needs": [n.get_service_type_display() for n in stay.needs.order_by("pk")],
        },
        "readmission_risk": {
            "lace": stay.lace_total,
            "lace_band": stay.lace_band,
            "hospital": stay.hospital_total,
            "hospital_band": stay.hospital_band,
        },
    }
    return content
