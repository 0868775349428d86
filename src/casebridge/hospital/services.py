"""Writes for hospital stays: working DRG and discharge dates, readmission risk, the early screen and
the 42 CFR 482.43 evaluation, barriers and post-acute needs, payer authorizations, review packets and
what was shared with the insurer, and concurrent denials. Each service checks permission, runs in one
transaction and writes its audit row in it."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from typing import Any, TypeVar

from django.db import models, transaction
from django.utils import timezone
from pydantic import ValidationError as PydanticValidationError

from casebridge.accounts.models import Organization, User
from casebridge.accounts.permissions import can, require
from casebridge.accounts.roles import PHYSICIAN_ADVISOR
from casebridge.audit.recorder import audit_record
from casebridge.clinical.coding import EncounterClass
from casebridge.clinical.models import Encounter, MedicationRequest
from casebridge.communications.models import Channel, Direction
from casebridge.communications.services import communication_log
from casebridge.hospital import drg_table
from casebridge.hospital.fhir_bundle import packet_bundle
from casebridge.hospital.models import (
    Authorization,
    AuthorizationStatus,
    Denial,
    DenialOutcome,
    DischargeBarrier,
    DischargePlan,
    DrgWeight,
    EvaluationStatus,
    HospitalStay,
    LevelOfCare,
    PacketShare,
    PacketStatus,
    PostAcuteNeed,
    Readiness,
    ReviewPacket,
    SelfCareCapacity,
    ServiceType,
)
from casebridge.hospital.packet_check import missing_for_approval
from casebridge.hospital.packets import build_content
from casebridge.hospital.risk import score_as_dict, stay_risk
from casebridge.hospital.rules import post_acute
from casebridge.hospital.selectors import open_admissions, stays_owned
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError, IllegalTransition, NotFound, StaleVersion, ValidationFailed
from casebridge.kernel.numbers import ascii_digits
from casebridge.kernel.prepared import PreparedQuery
from casebridge.kernel.versioning import lock_at_version
from casebridge.tasks.domain import OPEN as OPEN_TASK_STATUSES
from casebridge.tasks.models import Priority
from casebridge.tasks.services import task_complete, task_create

M = TypeVar("M", bound=models.Model)

EVALUATION_DUE = dt.timedelta(hours=24)
PEER_TO_PEER_DUE = dt.timedelta(hours=24)
DAILY_UPDATE_HOUR = 10
HOME_HEALTH_DISCIPLINES = ("SN", "PT", "OT", "ST", "MSW", "HHA")
# Condition code prefixes read as a new functional deficit on admission (stroke, hip fracture, spinal
# cord injury, amputation): an EXAMPLE list for clinical leadership to replace.
FUNCTIONAL_DEFICIT_ICD10 = (
    "I60",
    "I61",
    "I62",
    "I63",
    "I64",
    "S72",
    "S32",
    "S12",
    "S14",
    "S22",
    "S24",
    "S34",
    "G81",
    "G82",
    "Z89",
)
FUNCTIONAL_DEFICIT_SNOMED = frozenset({"230690007", "5913000", "359817006", "263102004", "22298006"})


def _stay_locked(actor: Actor, stay_id: int, version: int | None = None) -> HospitalStay:
    stay = lock_at_version(stays_owned(actor).select_related("encounter", "patient"), stay_id, version, "hospital stay")
    stay.updated_at = clock.now()
    return stay


def _own_locked(actor: Actor, model: type[M], pk: int, what: str, *related: str) -> M:
    """The organization's ``model`` row ``pk``, locked (its own row only, not the joined ``related``
    ones) for the current transaction; NotFound names it as ``what``."""
    row = (
        model._default_manager.select_for_update(of=("self",))
        .filter(organization_id=actor.organization_id, pk=pk)
        .select_related(*related)
        .first()
    )
    if row is None:
        raise NotFound(f"No {what} {pk}.")
    return row


def _stay(actor: Actor, stay_id: int) -> HospitalStay:
    stay = stays_owned(actor).select_related("encounter", "patient").filter(pk=stay_id).first()
    if stay is None:
        raise NotFound(f"No hospital stay {stay_id}.")
    return stay


# --- stays ----------------------------------------------------------------------------------------


def _new_stay(encounter: Encounter) -> HospitalStay:
    now = clock.now()
    return HospitalStay.objects.create(
        organization_id=encounter.organization_id,
        encounter=encounter,
        patient_id=encounter.patient_id,
        case_id=encounter.hospital_case_id,
        created_at=now,
        updated_at=now,
    )


def stays_sync(*, actor: Actor) -> int:
    """Open a stay record, with its early discharge screen and risk scores, for every current admission
    that has none yet. Returns how many were opened."""
    require(actor, "stay.change")
    encounters = list(open_admissions(actor).filter(hospital_stay__isnull=True, admit_at__isnull=False))
    for encounter in encounters:
        with transaction.atomic():
            stay = _new_stay(encounter)
            audit_record(actor=actor, action="stay.open", subject=stay, patient=stay.patient_id)
            _refresh_risk(stay)
            if can(actor, "discharge.plan"):
                _screen(actor, stay, new_functional_deficit=None, high_cost_needs=None, requested_by="")
    return len(encounters)


def stay_open(*, actor: Actor, encounter_id: int) -> HospitalStay:
    """The stay record of one current admission (created if needed), screened and scored."""
    require(actor, "stay.change")
    with transaction.atomic():
        encounter = open_admissions(actor).filter(pk=encounter_id).first()
        if encounter is None or encounter.admit_at is None:
            raise NotFound(f"No current inpatient or observation encounter {encounter_id}.")
        existing = HospitalStay.objects.filter(encounter=encounter).first()
        if existing is not None:
            return existing
        stay = _new_stay(encounter)
        audit_record(actor=actor, action="stay.open", subject=stay, patient=stay.patient_id)
        _refresh_risk(stay)
        if can(actor, "discharge.plan"):
            _screen(actor, stay, new_functional_deficit=None, high_cost_needs=None, requested_by="")
    return stay


STAY_FIELDS = (
    "working_drg",
    "expected_discharge_on",
    "readiness",
    "complex_factors",
    "treatment_plan",
    "discharge_service",
)


def stay_update(*, actor: Actor, stay_id: int, version: int | None = None, **changes: Any) -> HospitalStay:
    require(actor, "stay.change")
    unknown = set(changes) - set(STAY_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    if "working_drg" in changes:
        code = str(changes["working_drg"] or "").strip()
        if code and (not ascii_digits(code) or len(code) > 3):
            raise ValidationFailed.on("working_drg", "must be an MS-DRG number of 1 to 3 digits")
        changes["working_drg"] = code.zfill(3) if code else ""
    if "readiness" in changes and changes["readiness"] not in Readiness.values:
        raise ValidationFailed.on("readiness", f"must be one of {', '.join(Readiness.values)}")
    for text in ("complex_factors", "treatment_plan"):
        if text in changes:
            changes[text] = str(changes[text] or "").strip()
            if len(changes[text]) > 5000:
                raise ValidationFailed.on(text, "at most 5000 characters")
    if "discharge_service" in changes:
        changes["discharge_service"] = str(changes["discharge_service"] or "").strip()[:40]
    with transaction.atomic():
        stay = _stay_locked(actor, stay_id, version)
        expected = changes.get("expected_discharge_on")
        if expected is not None:
            if not isinstance(expected, dt.date):
                raise ValidationFailed.on("expected_discharge_on", "must be a date")
            admitted = timezone.localdate(stay.encounter.admit_at) if stay.encounter.admit_at else None
            if admitted and expected < admitted:
                raise ValidationFailed.on("expected_discharge_on", f"is before the admission on {admitted:%m/%d/%Y}")
        for key, value in changes.items():
            setattr(stay, key, value)
        stay.save()
        audit_record(
            actor=actor, action="stay.update", subject=stay, patient=stay.patient_id, detail={"fields": sorted(changes)}
        )
        if {"expected_discharge_on", "discharge_service"} & set(changes):
            _refresh_risk(stay)
    return stay


def _refresh_risk(stay: HospitalStay) -> HospitalStay:
    """Recompute LACE and HOSPITAL from the record and store them on the stay (derived data: no audit row)."""
    risk = stay_risk(
        stay.encounter,
        now=clock.now(),
        expected_discharge_on=stay.expected_discharge_on,
        discharge_service=stay.discharge_service,
    )
    stay.lace_total = risk.lace.total
    stay.lace_band = risk.lace.band or ""
    stay.hospital_total = risk.hospital.total
    stay.hospital_band = risk.hospital.band or ""
    stay.risk_band = risk.band
    stay.risk_detail = {
        "lace": score_as_dict(risk.lace),
        "hospital": score_as_dict(risk.hospital),
        "charlson": None
        if risk.charlson is None
        else {
            "total": risk.charlson.total,
            "conditions": [
                {"label": m.label, "weight": m.weight, "counted": m.counted, "codes": [c.code for c in m.codes]}
                for m in risk.charlson.conditions
            ],
            "unreviewed": [c.code for c in risk.charlson.unreviewed],
        },
    }
    stay.risk_computed_at = clock.now()
    HospitalStay.objects.filter(pk=stay.pk).update(
        lace_total=stay.lace_total,
        lace_band=stay.lace_band,
        hospital_total=stay.hospital_total,
        hospital_band=stay.hospital_band,
        risk_band=stay.risk_band,
        risk_detail=stay.risk_detail,
        risk_computed_at=stay.risk_computed_at,
    )
    return stay


def stay_risk_refresh(*, actor: Actor, stay_id: int) -> HospitalStay:
    require(actor, "census.view")
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        _refresh_risk(stay)
    return stay


#: A patient's current stays, ids only. Run after every commit that touched clinical data (an HL7 feed
#: commits hundreds of messages a second), so it is compiled once; most patients have no current stay.
_CURRENT_STAY_IDS = PreparedQuery(
    HospitalStay,
    lambda patient_id: HospitalStay.objects.filter(
        patient_id=patient_id, encounter__discharge_at__isnull=True, encounter__admit_at__isnull=False
    ).only("pk"),
    patient_id=int,
)


def risk_refresh_for_patients(patient_ids: set[int]) -> int:
    """System refresh after clinical data changed (signals): recompute the current stays of these patients."""
    if len(patient_ids) == 1:
        (only,) = patient_ids
        current = [stay.pk for stay in _CURRENT_STAY_IDS(patient_id=only)]
        if not current:
            return 0
        stays = HospitalStay.objects.filter(pk__in=current).select_related("encounter")
    else:
        stays = HospitalStay.objects.filter(
            patient_id__in=patient_ids, encounter__discharge_at__isnull=True, encounter__admit_at__isnull=False
        ).select_related("encounter")
    count = 0
    for stay in stays:
        _refresh_risk(stay)
        count += 1
    return count


# --- discharge planning ---------------------------------------------------------------------------


def _plan_for(stay: HospitalStay) -> DischargePlan:
    plan = DischargePlan.objects.select_for_update().filter(stay=stay).first()
    if plan is None:
        plan = DischargePlan.objects.create(organization_id=stay.organization_id, stay=stay, updated_at=clock.now())
    return plan


def _lives_alone(stay: HospitalStay) -> tuple[bool | None, str]:
    contacts = list(stay.patient.contacts.all())
    if not contacts:
        return None, "no contacts on record: living situation unknown"
    with_patient = [c for c in contacts if c.lives_with_patient]
    if with_patient:
        return False, f"lives with {', '.join(c.name for c in with_patient)}"
    return True, f"none of {len(contacts)} contact(s) lives with the patient"


def _functional_deficit_on_record(stay: HospitalStay) -> tuple[bool | None, str]:
    from casebridge.clinical.models import Condition

    rows = Condition.objects.filter(encounter_id=stay.encounter_id).values_list("code_system", "code", "display")
    for _system, code, display in rows:
        if code.upper().replace(".", "").startswith(FUNCTIONAL_DEFICIT_ICD10) or code in FUNCTIONAL_DEFICIT_SNOMED:
            return True, f"diagnosis this stay: {code} {display}".strip()
    return None, "not recorded by the case manager; no stroke, fracture or spinal diagnosis this stay"


def _high_cost_on_record(stay: HospitalStay) -> tuple[bool | None, str]:
    meds = MedicationRequest.objects.filter(encounter_id=stay.encounter_id).values_list("display", "dosage_text")
    for display, dosage in meds:
        text = f"{display} {dosage}".lower()
        if " iv " in f" {text} " or "intravenous" in text or "infusion" in text:
            return True, f"IV medication this stay: {display}"
    return None, "not recorded by the case manager; no IV medication this stay"


def _screen(
    actor: Actor,
    stay: HospitalStay,
    *,
    new_functional_deficit: bool | None,
    high_cost_needs: bool | None,
    requested_by: str,
) -> DischargePlan:
    plan = _plan_for(stay)
    lives_alone, alone_source = _lives_alone(stay)
    deficit, deficit_source = (
        (new_functional_deficit, "recorded by the case manager")
        if new_functional_deficit is not None
        else _functional_deficit_on_record(stay)
    )
    costly, cost_source = (
        (high_cost_needs, "recorded by the case manager") if high_cost_needs is not None else _high_cost_on_record(stay)
    )
    high_risk = stay.risk_band == "high"
    flags = {
        "high_readmission_risk": {
            "value": high_risk if stay.risk_band != "unknown" else None,
            "source": f"LACE {stay.lace_total if stay.lace_total is not None else 'incomplete'}, "
            f"HOSPITAL {stay.hospital_total if stay.hospital_total is not None else 'incomplete'}",
        },
        "lives_alone": {"value": lives_alone, "source": alone_source},
        "new_functional_deficit": {"value": deficit, "source": deficit_source},
        "high_cost_needs": {"value": costly, "source": cost_source},
    }
    labels = {
        "high_readmission_risk": "High readmission risk",
        "lives_alone": "Lives alone",
        "new_functional_deficit": "New functional deficit",
        "high_cost_needs": "High-cost needs",
    }
    for key, flag in flags.items():
        flag["label"] = labels[key]
    plan.screen_flags = flags
    plan.screened_at = clock.now()
    at_risk = [k for k, f in flags.items() if f["value"] is True]
    reason = ""
    if requested_by:
        reason = f"requested by {requested_by}"
    elif at_risk:
        reason = "screen: " + ", ".join(k.replace("_", " ") for k in at_risk)
    if reason and plan.evaluation_status == EvaluationStatus.NOT_REQUIRED:
        plan.evaluation_status = EvaluationStatus.REQUIRED
        plan.evaluation_reason = reason[:200]
        if stay.case_id is not None and plan.evaluation_task_id is None and can(actor, "task.change"):
            plan.evaluation_task = task_create(
                actor=actor,
                title="Discharge planning evaluation (42 CFR 482.43)",
                case_id=stay.case_id,
                kind="discharge_evaluation",
                priority=Priority.URGENT if high_risk else Priority.ROUTINE,
                owner_id=stay.case.assigned_to_id if stay.case and stay.case.assigned_to_id else None,
                due_at=clock.now() + EVALUATION_DUE,
            )
    plan.updated_at = clock.now()
    plan.save()
    audit_record(
        actor=actor, action="discharge.screen", subject=plan, patient=stay.patient_id, detail={"at_risk": at_risk}
    )
    return plan


def discharge_screen(
    *,
    actor: Actor,
    stay_id: int,
    new_functional_deficit: bool | None = None,
    high_cost_needs: bool | None = None,
    requested_by: str = "",
) -> DischargePlan:
    """The early screen (42 CFR 482.43(a)): flags the patient at risk and opens the evaluation when any flag
    holds, or when the patient, representative or physician asks (``requested_by``)."""
    require(actor, "discharge.plan")
    if len(requested_by) > 100:
        raise ValidationFailed.on("requested_by", "at most 100 characters")
    with transaction.atomic():
        stay = _stay_locked(actor, stay_id)
        stay.save(update_fields=["updated_at", "version"])
        return _screen(
            actor,
            stay,
            new_functional_deficit=new_functional_deficit,
            high_cost_needs=high_cost_needs,
            requested_by=requested_by.strip(),
        )


EVALUATION_FIELDS = (
    "likely_needs",
    "needs_availability",
    "self_care_capacity",
    "self_care_notes",
    "patient_goals",
    "caregiver",
    "caregiver_involved",
    "discussed_with_patient_at",
)
# 42 CFR 482.43(b): what a completed evaluation must hold.
EVALUATION_REQUIRED = {
    "likely_needs": "record the likely post-discharge needs (or that there are none)",
    "needs_availability": "record whether those services are available and accessible",
    "self_care_capacity": "assess the capacity for self-care or care in the prior setting",
    "patient_goals": "record the patient's goals and treatment preferences",
    "discussed_with_patient_at": "discuss the evaluation with the patient or representative",
}


def discharge_evaluation_record(
    *, actor: Actor, stay_id: int, complete: bool = False, version: int | None = None, **fields: Any
) -> DischargePlan:
    require(actor, "discharge.plan")
    unknown = set(fields) - set(EVALUATION_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not an evaluation field")
    if "self_care_capacity" in fields and (fields["self_care_capacity"] or "") not in SelfCareCapacity.values:
        raise ValidationFailed.on(
            "self_care_capacity", f"must be one of {', '.join(v for v in SelfCareCapacity.values if v)}"
        )
    when = fields.get("discussed_with_patient_at")
    if when is not None and (not isinstance(when, dt.datetime) or when > clock.now()):
        raise ValidationFailed.on("discussed_with_patient_at", "must be a date and time, not in the future")
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        plan = _plan_for(stay)
        if version is not None and plan.version != version:
            raise StaleVersion("discharge plan")
        for key, value in fields.items():
            setattr(plan, key, value.strip() if isinstance(value, str) else value)
        if complete:
            missing = {k: m for k, m in EVALUATION_REQUIRED.items() if not getattr(plan, k)}
            if missing:
                raise ValidationFailed(
                    "The evaluation is incomplete: " + "; ".join(missing.values()),
                    field_errors={k: [m] for k, m in missing.items()},
                )
            plan.evaluation_status = EvaluationStatus.COMPLETED
            plan.evaluated_at = clock.now()
            plan.evaluated_by = actor.user
        plan.version += 1
        plan.updated_at = clock.now()
        plan.save()
        audit_record(
            actor=actor,
            action="discharge.evaluation",
            subject=plan,
            patient=stay.patient_id,
            detail={"fields": sorted(fields), "complete": complete},
        )
        task = plan.evaluation_task
        if complete and task is not None and task.status in {s.value for s in OPEN_TASK_STATUSES}:
            task_complete(actor=actor, task_id=task.pk)
    return plan


def barrier_add(
    *,
    actor: Actor,
    stay_id: int,
    description: str,
    owner_id: int | None = None,
    owner_name: str = "",
    due_on: dt.date | None = None,
) -> DischargeBarrier:
    require(actor, "discharge.plan")
    description = (description or "").strip()
    if not description:
        raise ValidationFailed.on("description", "is required")
    if len(description) > 300:
        raise ValidationFailed.on("description", "at most 300 characters")
    owner_name = (owner_name or "").strip()
    if owner_id is None and not owner_name:
        raise ValidationFailed.on("owner_id", "name who owns the barrier (a staff member or a name)")
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        owner = None
        if owner_id is not None:
            owner = User.objects.filter(
                pk=owner_id, memberships__organization_id=actor.organization_id, memberships__active=True
            ).first()
            if owner is None:
                raise ValidationFailed.on("owner_id", f"user {owner_id} is not staff of {actor.organization.name}")
        barrier = DischargeBarrier.objects.create(
            organization_id=actor.organization_id,
            stay=stay,
            description=description,
            owner=owner,
            owner_name=owner_name[:200],
            due_on=due_on,
            created_at=clock.now(),
        )
        audit_record(actor=actor, action="discharge.barrier.add", subject=barrier, patient=stay.patient_id)
    return barrier


def barrier_resolve(*, actor: Actor, barrier_id: int) -> DischargeBarrier:
    require(actor, "discharge.plan")
    with transaction.atomic():
        barrier = _own_locked(actor, DischargeBarrier, barrier_id, "discharge barrier", "stay")
        if barrier.resolved_at is not None:
            raise IllegalTransition("This barrier is already resolved.")
        barrier.resolved_at = clock.now()
        barrier.save(update_fields=["resolved_at"])
        audit_record(actor=actor, action="discharge.barrier.resolve", subject=barrier, patient=barrier.stay.patient_id)
    return barrier


def _eligibility(
    stay: HospitalStay, service_type: str, disciplines: list[str], details: Mapping[str, Any]
) -> dict[str, Any]:
    """Runs the post-acute eligibility rule for the service type (RULES.md facts, ``rules.post_acute``)."""
    encounter = stay.encounter
    today = timezone.localdate(clock.now())
    discharge_on = stay.expected_discharge_on or today
    try:
        if service_type == ServiceType.SNF:
            if encounter.encounter_class != EncounterClass.INPATIENT or encounter.admit_at is None:
                return {
                    "eligible": False,
                    "rule": "SNF 3-day qualifying inpatient stay",
                    "reasons": ["an observation stay has no inpatient days: it does not qualify for Part A SNF"],
                }
            snf_on = details.get("snf_admission_on")
            result = post_acute.snf_qualifying_stay(
                inpatient_admitted_on=timezone.localdate(encounter.admit_at),
                discharged_on=discharge_on,
                snf_admission_on=dt.date.fromisoformat(snf_on) if isinstance(snf_on, str) and snf_on else None,
            )
            return {
                "eligible": result.eligible,
                "rule": "SNF 3-day qualifying inpatient stay",
                "reasons": list(result.reasons),
            }
        if service_type == ServiceType.IRF:
            minutes = details.get("therapy_minutes_by_day")
            if not isinstance(minutes, list) or not all(
                isinstance(m, int) and not isinstance(m, bool) for m in minutes
            ):
                raise ValidationFailed.on(
                    "details.therapy_minutes_by_day", "give 7 whole numbers of planned therapy minutes"
                )
            therapy = details.get("therapy_disciplines") or []
            if not isinstance(therapy, list):
                raise ValidationFailed.on("details.therapy_disciplines", 'must be a list such as ["PT", "OT"]')
            eligibility = post_acute.irf_intensity(
                therapy_minutes_by_day=minutes, disciplines=[str(d) for d in therapy]
            )
            return {
                "eligible": eligibility.eligible,
                "rule": "IRF therapy intensity",
                "reasons": list(eligibility.reasons),
            }
        if service_type == ServiceType.HOME_INFUSION:
            route = details.get("route")
            per_dose = details.get("minutes_per_administration")
            if not isinstance(route, str) or not route.strip():
                raise ValidationFailed.on("details.route", "is required (intravenous, subcutaneous, oral...)")
            if not isinstance(per_dose, int) or isinstance(per_dose, bool) or per_dose < 0:
                raise ValidationFailed.on("details.minutes_per_administration", "must be a whole number of minutes")
            coverage = post_acute.home_infusion_coverage(
                route=route,
                minutes_per_administration=per_dose,
                through_dme_pump=bool(details.get("through_dme_pump")),
                service_date=discharge_on,
            )
            return {
                "eligible": coverage.eligible,
                "rule": "Part B home infusion therapy",
                "reasons": list(coverage.reasons),
            }
    except ValueError as exc:
        if isinstance(exc, ValidationFailed):
            raise
        raise ValidationFailed.on("details", str(exc)) from exc
    if service_type == ServiceType.HOME_HEALTH:
        return {
            "eligible": None,
            "rule": "",
            "reasons": [
                f"disciplines: {', '.join(disciplines)}; "
                "homebound status and a face-to-face encounter are checked by the agency"
            ],
        }
    return {
        "eligible": None,
        "rule": "",
        "reasons": ["no eligibility rule encoded for this service: verify coverage with the payer"],
    }


def need_add(
    *,
    actor: Actor,
    stay_id: int,
    service_type: str,
    disciplines: list[str] | None = None,
    details: Mapping[str, Any] | None = None,
    note: str = "",
) -> PostAcuteNeed:
    """Record a post-acute need, mapped to a service type, with its eligibility check."""
    require(actor, "discharge.plan")
    if service_type not in ServiceType.values:
        raise ValidationFailed.on("service_type", f"must be one of {', '.join(ServiceType.values)}")
    chosen = [str(d).strip().upper() for d in disciplines or []]
    if service_type == ServiceType.HOME_HEALTH:
        if not chosen:
            raise ValidationFailed.on("disciplines", f"name at least one of {', '.join(HOME_HEALTH_DISCIPLINES)}")
        bad = [d for d in chosen if d not in HOME_HEALTH_DISCIPLINES]
        if bad:
            raise ValidationFailed.on(
                "disciplines", f"unknown discipline(s) {', '.join(bad)}; use {', '.join(HOME_HEALTH_DISCIPLINES)}"
            )
    elif chosen:
        raise ValidationFailed.on("disciplines", "only home health needs name disciplines")
    details = dict(details or {})
    if len(note) > 500:
        raise ValidationFailed.on("note", "at most 500 characters")
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        eligibility = _eligibility(stay, service_type, chosen, details)
        need = PostAcuteNeed.objects.create(
            organization_id=actor.organization_id,
            stay=stay,
            service_type=service_type,
            disciplines=chosen,
            details=details,
            eligibility=eligibility,
            note=note.strip(),
            created_at=clock.now(),
            created_by=actor.user,
        )
        audit_record(actor=actor, action="discharge.need.add", subject=need, patient=stay.patient_id)
    return need


# --- payer liaison ----------------------------------------------------------------------------------


def _insurer(insurer_id: int | None, field: str = "insurer_id") -> Organization | None:
    if insurer_id is None:
        return None
    insurer = Organization.objects.filter(pk=insurer_id, active=True).first()
    if insurer is None or insurer.org_type != "insurer":
        raise ValidationFailed.on(field, f"organization {insurer_id} is not a health insurer on the platform")
    return insurer


def _check_authorization(fields: Mapping[str, Any]) -> None:
    if "status" in fields and fields["status"] not in AuthorizationStatus.values:
        raise ValidationFailed.on("status", f"must be one of {', '.join(AuthorizationStatus.values)}")
    level = fields.get("approved_level_of_care")
    if level and level not in LevelOfCare.values:
        raise ValidationFailed.on("approved_level_of_care", f"must be one of {', '.join(LevelOfCare.values)}")
    days = fields.get("approved_days")
    if days is not None and (isinstance(days, bool) or not isinstance(days, int) or not 0 <= days <= 365):
        raise ValidationFailed.on("approved_days", "must be a whole number from 0 to 365")
    if len(str(fields.get("reference_number") or "")) > 64:
        raise ValidationFailed.on("reference_number", "at most 64 characters")
    if len(str(fields.get("note") or "")) > 500:
        raise ValidationFailed.on("note", "at most 500 characters")


def authorization_add(
    *,
    actor: Actor,
    stay_id: int,
    payer_name: str = "",
    insurer_id: int | None = None,
    reference_number: str = "",
    status: str = AuthorizationStatus.PENDING,
    approved_level_of_care: str = "",
    approved_days: int | None = None,
    next_review_on: dt.date | None = None,
    note: str = "",
) -> Authorization:
    """The payer's authorization of the stay. Without a payer named, the patient's primary coverage is used."""
    require(actor, "authorization.manage")
    _check_authorization(
        {
            "status": status,
            "approved_level_of_care": approved_level_of_care,
            "approved_days": approved_days,
            "reference_number": reference_number,
            "note": note,
        }
    )
    insurer = _insurer(insurer_id)
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        payer_name = (payer_name or "").strip()
        if insurer is None and not payer_name:
            coverage = stay.patient.coverages.filter(active=True).order_by("order").first()
            if coverage is None:
                raise ValidationFailed.on("payer_name", "name the payer: the patient has no active coverage")
            payer_name, insurer = coverage.payer_name, coverage.insurer
        now = clock.now()
        auth = Authorization.objects.create(
            organization_id=actor.organization_id,
            stay=stay,
            payer_name=(payer_name or (insurer.name if insurer else ""))[:200],
            insurer=insurer,
            reference_number=reference_number.strip(),
            status=status,
            approved_level_of_care=approved_level_of_care,
            approved_days=approved_days,
            next_review_on=next_review_on,
            decided_at=None if status == AuthorizationStatus.PENDING else now,
            note=note.strip(),
            created_at=now,
            updated_at=now,
        )
        audit_record(actor=actor, action="authorization.add", subject=auth, patient=stay.patient_id)
    return auth


AUTHORIZATION_FIELDS = (
    "reference_number",
    "status",
    "approved_level_of_care",
    "approved_days",
    "next_review_on",
    "note",
)


def authorization_update(
    *, actor: Actor, authorization_id: int, version: int | None = None, **changes: Any
) -> Authorization:
    require(actor, "authorization.manage")
    unknown = set(changes) - set(AUTHORIZATION_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    _check_authorization(changes)
    with transaction.atomic():
        auth = lock_at_version(
            Authorization.objects.filter(organization_id=actor.organization_id).select_related("stay"),
            authorization_id,
            version,
            "authorization",
        )
        before = auth.status
        for key, value in changes.items():
            setattr(auth, key, value.strip() if isinstance(value, str) else value)
        if before == AuthorizationStatus.PENDING and auth.status != AuthorizationStatus.PENDING:
            auth.decided_at = clock.now()
        auth.updated_at = clock.now()
        auth.save()
        audit_record(
            actor=actor,
            action="authorization.update",
            subject=auth,
            patient=auth.stay.patient_id,
            detail={"fields": sorted(changes), "from": before, "to": auth.status},
        )
    return auth


def packet_build(*, actor: Actor, stay_id: int, authorization_id: int | None = None) -> ReviewPacket:
    """Build a clinical review packet from the record and run the pre-send check on it."""
    require(actor, "packet.send")
    with transaction.atomic():
        stay = _stay(actor, stay_id)
        auth = None
        if authorization_id is not None:
            auth = stay.authorizations.filter(pk=authorization_id).first()
            if auth is None:
                raise ValidationFailed.on("authorization_id", f"no authorization {authorization_id} on this stay")
        else:
            auth = stay.authorizations.order_by("-pk").first()
        content = build_content(actor=actor, stay=stay, authorization=auth)
        packet = ReviewPacket.objects.create(
            organization_id=actor.organization_id,
            stay=stay,
            authorization=auth,
            content=content,
            missing=missing_for_approval(content),
            built_at=clock.now(),
            built_by=actor.user,
        )
        audit_record(actor=actor, action="packet.build", subject=packet, patient=stay.patient_id)
    return packet


def _daily_update_due() -> dt.datetime:
    tomorrow = timezone.localdate(clock.now()) + dt.timedelta(days=1)
    return timezone.make_aware(dt.datetime.combine(tomorrow, dt.time(DAILY_UPDATE_HOUR, 0)))


SEND_CHANNELS = (Channel.PORTAL, Channel.FAX, Channel.SECURE_MESSAGE, Channel.EMAIL)


def packet_send(
    *,
    actor: Actor,
    packet_id: int,
    insurer_id: int | None = None,
    recipient_name: str = "",
    channel: str = "",
    acknowledge_missing: bool = False,
) -> ReviewPacket:
    """Send a packet. To an insurer on the platform it lands in that insurer's intake queue through a link
    that shares this packet only; to an insurer outside, it becomes a print-ready page and a FHIR Bundle.
    Either way the send is logged as a communication with a reminder for the daily update."""
    require(actor, "packet.send")
    recipient_name = (recipient_name or "").strip()
    insurer = _insurer(insurer_id)
    if insurer is not None and insurer.pk == actor.organization_id:
        raise ValidationFailed.on("insurer_id", "cannot send a packet to your own organization")
    if insurer is None and not recipient_name:
        raise ValidationFailed.on("recipient_name", "name the insurer outside the platform, or choose one on it")
    channel = channel or (Channel.PORTAL if insurer is not None else Channel.FAX)
    if channel not in SEND_CHANNELS:
        raise ValidationFailed.on("channel", f"must be one of {', '.join(SEND_CHANNELS)}")
    if len(recipient_name) > 200:
        raise ValidationFailed.on("recipient_name", "at most 200 characters")
    with transaction.atomic():
        packet = _own_locked(actor, ReviewPacket, packet_id, "review packet", "stay", "stay__case")
        if packet.status != PacketStatus.DRAFT:
            raise IllegalTransition("This packet was already sent: build a new one from the current record.")
        if packet.missing and not acknowledge_missing:
            raise ValidationFailed(
                f"The pre-send check found {len(packet.missing)} missing item(s): "
                + "; ".join(m["message"] for m in packet.missing)
                + ". Add them, or confirm sending anyway.",
                field_errors={"acknowledge_missing": ["confirm sending with the missing items listed"]},
            )
        stay = packet.stay
        if stay.case_id is None:
            raise ValidationFailed.on("packet_id", "the stay has no hospital case to log the send on")
        now = clock.now()
        to_name = insurer.name if insurer is not None else recipient_name
        if insurer is not None:
            PacketShare.objects.create(packet=packet, organization=insurer, shared_at=now)
        else:
            try:
                packet.fhir_bundle = packet_bundle(packet, recipient_name=to_name)
            except PydanticValidationError as exc:
                raise DomainError(
                    f"The FHIR Bundle for this packet is not valid R4B: {exc.errors()[0]['msg']}"
                ) from exc
        packet.status = PacketStatus.SENT
        packet.sent_at = now
        packet.sent_by = actor.user
        packet.sent_to_name = to_name
        packet.sent_channel = channel
        packet.missing_acknowledged = bool(packet.missing)
        packet.communication = communication_log(
            actor=actor,
            case_id=stay.case_id,
            channel=channel,
            direction=Direction.OUTBOUND,
            parties=[{"kind": "insurer_cm", "name": f"{to_name} utilization management", "organization": to_name}],
            occurred_at=now,
            summary=f"Clinical review packet #{packet.pk} sent to {to_name}"
            + (" through CaseBridge" if insurer is not None else f" by {Channel(channel).label.lower()}")
            + (f"; sent with {len(packet.missing)} item(s) missing" if packet.missing else ""),
            follow_up_title=f"Daily clinical update to {to_name}",
            follow_up_due_at=_daily_update_due(),
        )
        packet.save()
        audit_record(
            actor=actor,
            action="packet.send",
            subject=packet,
            patient=stay.patient_id,
            detail={"to": to_name, "on_platform": insurer is not None, "missing": len(packet.missing)},
        )
    return packet


def payer_contact_log(
    *,
    actor: Actor,
    stay_id: int,
    contact_name: str,
    summary: str,
    channel: str = Channel.PHONE,
    direction: str = Direction.OUTBOUND,
    outcome: str = "",
    occurred_at: dt.datetime | None = None,
) -> Any:
    """A call (or other contact) with the insurer's case manager, logged with the next daily-update reminder."""
    require(actor, "authorization.manage")
    if not (contact_name or "").strip():
        raise ValidationFailed.on("contact_name", "is required")
    stay = _stay(actor, stay_id)
    if stay.case_id is None:
        raise ValidationFailed.on("stay_id", "the stay has no hospital case to log the contact on")
    payer = stay.authorizations.order_by("-pk").values_list("payer_name", flat=True).first() or ""
    return communication_log(
        actor=actor,
        case_id=stay.case_id,
        channel=channel,
        direction=direction,
        parties=[{"kind": "insurer_cm", "name": contact_name.strip(), "organization": payer}],
        occurred_at=occurred_at or clock.now(),
        summary=summary,
        outcome=outcome,
        follow_up_title=f"Daily clinical update to {payer or contact_name.strip()}",
        follow_up_due_at=_daily_update_due(),
    )


def packet_share_end(*, actor: Actor, packet_id: int) -> int:
    """End the cross-organization link of a packet sent to an insurer on the platform: from then on the
    insurer no longer sees the packet in its intake queue (it sees what was sent only while the link is
    active). Returns how many links were ended (0 when already ended)."""
    require(actor, "packet.send")
    with transaction.atomic():
        packet = _own_locked(actor, ReviewPacket, packet_id, "review packet", "stay")
        ended = PacketShare.objects.filter(packet=packet, active=True).update(active=False, ended_at=clock.now())
        if ended:
            audit_record(
                actor=actor,
                action="packet.share.end",
                subject=packet,
                patient=packet.stay.patient_id,
                detail={"ended": ended},
            )
    return ended


def intake_review(*, actor: Actor, share_id: int, note: str = "") -> PacketShare:
    """The insurer marks a received packet as reviewed."""
    require(actor, "intake.review")
    if len(note) > 500:
        raise ValidationFailed.on("note", "at most 500 characters")
    with transaction.atomic():
        share = (
            PacketShare.objects.select_for_update()
            .filter(organization_id=actor.organization_id, active=True, pk=share_id)
            .first()
        )
        if share is None:
            raise NotFound(f"No packet {share_id} in your intake queue.")
        share.reviewed_at = clock.now()
        share.reviewed_by = actor.user
        share.review_note = note.strip()
        share.save()
        audit_record(actor=actor, action="intake.packet.review", subject=share)
    return share


# --- denials ------------------------------------------------------------------------------------


def _advisor(actor: Actor) -> int | None:
    user = (
        User.objects.filter(
            memberships__organization_id=actor.organization_id,
            memberships__role=PHYSICIAN_ADVISOR,
            memberships__active=True,
            is_active=True,
        )
        .order_by("pk")
        .first()
    )
    return user.pk if user else None


def denial_record(
    *,
    actor: Actor,
    authorization_id: int,
    reason: str,
    received_at: dt.datetime | None = None,
    denied_from: dt.date | None = None,
    denied_days: int | None = None,
    level_of_care_offered: str = "",
    peer_to_peer_due_at: dt.datetime | None = None,
) -> Denial:
    """A concurrent denial, with a peer-to-peer task for the physician advisor. Every denial must state the
    payer's specific reason (CMS-0057-F)."""
    require(actor, "authorization.manage")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationFailed.on("reason", "record the payer's specific reason for the denial")
    if len(reason) > 500:
        raise ValidationFailed.on("reason", "at most 500 characters")
    if level_of_care_offered and level_of_care_offered not in LevelOfCare.values:
        raise ValidationFailed.on("level_of_care_offered", f"must be one of {', '.join(LevelOfCare.values)}")
    if denied_days is not None and (
        isinstance(denied_days, bool) or not isinstance(denied_days, int) or not 0 < denied_days <= 365
    ):
        raise ValidationFailed.on("denied_days", "must be a whole number from 1 to 365")
    now = clock.now()
    received_at = received_at or now
    if received_at > now:
        raise ValidationFailed.on("received_at", "cannot be in the future")
    with transaction.atomic():
        auth = lock_at_version(
            Authorization.objects.filter(organization_id=actor.organization_id).select_related("stay", "stay__case"),
            authorization_id,
            None,
            "authorization",
        )
        stay = auth.stay
        partial = auth.approved_days is not None and auth.approved_days > 0 and denied_days is not None
        auth.status = AuthorizationStatus.PARTIALLY_APPROVED if partial else AuthorizationStatus.DENIED
        auth.decided_at = auth.decided_at or received_at
        auth.updated_at = now
        auth.save()
        denial = Denial.objects.create(
            organization_id=actor.organization_id,
            stay=stay,
            authorization=auth,
            received_at=received_at,
            reason=reason,
            denied_from=denied_from,
            denied_days=denied_days,
            level_of_care_offered=level_of_care_offered,
            created_at=now,
        )
        if stay.case_id is not None:
            denial.peer_to_peer_task = task_create(
                actor=actor,
                title=f"Peer-to-peer with {auth.payer_name} on the denial",
                description=f"Denial reason: {reason}",
                case_id=stay.case_id,
                kind="peer_to_peer",
                priority=Priority.URGENT,
                owner_id=_advisor(actor),
                due_at=peer_to_peer_due_at or now + PEER_TO_PEER_DUE,
            )
            denial.save(update_fields=["peer_to_peer_task"])
        audit_record(actor=actor, action="denial.record", subject=denial, patient=stay.patient_id)
    return denial


def _denial_locked(actor: Actor, denial_id: int, version: int | None) -> Denial:
    return lock_at_version(
        Denial.objects.filter(organization_id=actor.organization_id).select_related("stay", "authorization"),
        denial_id,
        version,
        "denial",
    )


def denial_peer_to_peer(*, actor: Actor, denial_id: int, result: str, occurred_at: dt.datetime | None = None) -> Denial:
    require(actor, "authorization.manage")
    result = (result or "").strip()
    if not result:
        raise ValidationFailed.on("result", "record what the peer-to-peer concluded")
    with transaction.atomic():
        denial = _denial_locked(actor, denial_id, None)
        denial.peer_to_peer_at = occurred_at or clock.now()
        denial.peer_to_peer_result = result[:300]
        denial.save()
        audit_record(actor=actor, action="denial.peer_to_peer", subject=denial, patient=denial.stay.patient_id)
    return denial


def denial_appeal(
    *, actor: Actor, denial_id: int, appeal_deadline: dt.date, filed_at: dt.datetime | None = None
) -> Denial:
    """File the appeal: the authorization moves to "in appeal" and an appeal task is due by the deadline."""
    require(actor, "authorization.manage")
    if not isinstance(appeal_deadline, dt.date):
        raise ValidationFailed.on("appeal_deadline", "must be a date")
    with transaction.atomic():
        denial = _denial_locked(actor, denial_id, None)
        if denial.outcome != DenialOutcome.OPEN:
            raise IllegalTransition("The denial already has its outcome.")
        if appeal_deadline < timezone.localdate(denial.received_at):
            raise ValidationFailed.on("appeal_deadline", "is before the denial was received")
        denial.appeal_deadline = appeal_deadline
        denial.appeal_filed_at = filed_at or clock.now()
        auth = denial.authorization
        auth.status = AuthorizationStatus.IN_APPEAL
        auth.updated_at = clock.now()
        auth.save(update_fields=["status", "updated_at"])
        if denial.stay.case_id is not None:
            denial.appeal_task = task_create(
                actor=actor,
                title=f"Appeal to {auth.payer_name}: follow up on the decision",
                case_id=denial.stay.case_id,
                kind="appeal",
                priority=Priority.URGENT,
                due_at=timezone.make_aware(dt.datetime.combine(appeal_deadline, dt.time(17, 0))),
            )
        denial.save()
        audit_record(actor=actor, action="denial.appeal", subject=denial, patient=denial.stay.patient_id)
    return denial


OUTCOME_TO_AUTH = {
    DenialOutcome.OVERTURNED: AuthorizationStatus.APPROVED,
    DenialOutcome.PARTIALLY_OVERTURNED: AuthorizationStatus.PARTIALLY_APPROVED,
    DenialOutcome.UPHELD: AuthorizationStatus.DENIED,
    DenialOutcome.ACCEPTED: AuthorizationStatus.DENIED,
}


def denial_outcome(*, actor: Actor, denial_id: int, outcome: str, version: int | None = None) -> Denial:
    require(actor, "authorization.manage")
    if outcome not in OUTCOME_TO_AUTH:
        raise ValidationFailed.on("outcome", f"must be one of {', '.join(OUTCOME_TO_AUTH)}")
    with transaction.atomic():
        denial = _denial_locked(actor, denial_id, version)
        if denial.outcome != DenialOutcome.OPEN:
            raise IllegalTransition("The denial already has its outcome.")
        if outcome != DenialOutcome.ACCEPTED and denial.appeal_filed_at is None:
            raise ValidationFailed.on("outcome", "file the appeal before recording its outcome (or 'accepted')")
        denial.outcome = outcome
        denial.outcome_at = clock.now()
        denial.save()
        auth = denial.authorization
        auth.status = OUTCOME_TO_AUTH[DenialOutcome(outcome)]
        auth.updated_at = clock.now()
        auth.save(update_fields=["status", "updated_at"])
        audit_record(
            actor=actor,
            action="denial.outcome",
            subject=denial,
            patient=denial.stay.patient_id,
            detail={"outcome": outcome},
        )
    return denial


# --- DRG table ------------------------------------------------------------------------------------


def drg_table_load(*, organization: Organization, text: str, source: str) -> int:
    """Load (replace) an organization's DRG table from CSV text. For the console command; pages use drg_import."""
    try:
        rows = drg_table.parse_drg_csv(text)
    except drg_table.DrgTableError as exc:
        raise ValidationFailed.on(exc.field, exc.message) from exc
    source = (source or "").strip()[:200] or "imported table"
    now = clock.now()
    with transaction.atomic():
        DrgWeight.objects.filter(organization=organization).delete()
        DrgWeight.objects.bulk_create(
            DrgWeight(
                organization=organization,
                drg=r.drg,
                title=r.title,
                weight=r.weight,
                gmlos=r.gmlos,
                amlos=r.amlos,
                source=source,
                imported_at=now,
            )
            for r in rows
        )
    return len(rows)


def drg_import(*, actor: Actor, text: str, source: str) -> int:
    require(actor, "drg.import")
    with transaction.atomic():
        count = drg_table_load(organization=actor.organization, text=text, source=source)
        audit_record(actor=actor, action="drg.import", detail={"rows": count, "source": source[:200]})
    return count
