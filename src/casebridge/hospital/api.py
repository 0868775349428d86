import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from pydantic import BaseModel

from casebridge.api.base import actor_of
from casebridge.api.types import MAX_ID
from casebridge.hospital import selectors, services
from casebridge.hospital.models import (
    Authorization,
    AuthorizationStatus,
    Denial,
    DenialOutcome,
    DischargeBarrier,
    DischargePlan,
    HospitalStay,
    LevelOfCare,
    PostAcuteNeed,
    Readiness,
    ReviewPacket,
    ServiceType,
)

router = Router(tags=["hospital"])


def _pattern(choices: Any, *, blank: bool = False) -> str:
    values = [v for v in choices.values if v]
    return "^(" + "|".join(values) + ")" + ("?" if blank else "") + "$"


# Plain pydantic models, not ninja Schemas: a Schema wraps every row in a DjangoGetter to read it,
# which for the census's 500 rows of 22 fields cost more than the database. The rows are dicts.
class CensusRowOut(BaseModel):
    encounter_id: int
    stay_id: int | None
    case_id: int | None
    patient_id: int
    patient_name: str
    status: str
    admit_at: dt.datetime
    midnights: int
    unit: str
    case_manager: str
    payer: str
    working_drg: str
    gmlos: Decimal | None
    los_index: Decimal | None
    next_review_due: dt.datetime | None
    review_overdue: bool
    authorization_status: str
    payer_review_on: dt.date | None
    expected_discharge_on: dt.date | None
    barrier_count: int
    first_barrier: str
    risk_band: str


class CensusOut(BaseModel):
    count: int
    rows: list[CensusRowOut]


@router.get("/hospital/census", response=CensusOut)
def census(
    request: HttpRequest,
    unit: str = Query("", max_length=200),
    case_manager_id: int | None = Query(None, ge=1, le=MAX_ID),
    payer: str = Query("", max_length=200),
) -> dict[str, Any]:
    """Current inpatient and observation stays, overdue reviews first."""
    result = selectors.census(
        actor=actor_of(request), unit=unit, case_manager_id=case_manager_id, payer=payer, with_options=False
    )
    rows = [
        {
            "encounter_id": r.encounter_id,
            "stay_id": r.stay_id,
            "case_id": r.case_id,
            "patient_id": r.patient_id,
            "patient_name": r.patient_name,
            "status": r.status,
            "admit_at": r.admit_at,
            "midnights": r.midnights,
            "unit": r.unit,
            "case_manager": r.case_manager,
            "payer": r.payer,
            "working_drg": r.working_drg,
            "gmlos": r.gmlos,
            "los_index": r.los_index,
            "next_review_due": r.next_review_due,
            "review_overdue": r.review_overdue,
            "authorization_status": r.authorization_status,
            "payer_review_on": r.payer_review_on,
            "expected_discharge_on": r.expected_discharge_on,
            "barrier_count": r.barrier_count,
            "first_barrier": r.first_barrier,
            "risk_band": r.risk_band,
        }
        for r in result.rows
    ]
    return {"count": len(rows), "rows": rows}


class StayOut(Schema):
    id: int
    encounter_id: int
    patient_id: int
    case_id: int | None
    working_drg: str
    expected_discharge_on: dt.date | None
    readiness: str
    complex_factors: str
    treatment_plan: str
    discharge_service: str
    lace_total: int | None
    lace_band: str
    hospital_total: int | None
    hospital_band: str
    risk_band: str
    risk_detail: dict[str, Any]
    risk_computed_at: dt.datetime | None
    version: int


class StayOpenIn(Schema):
    encounter_id: int = Field(ge=1, le=MAX_ID)


class StayPatch(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID, description="The version you read; a stale one is refused (409)")
    working_drg: str | None = Field(None, max_length=4)
    expected_discharge_on: dt.date | None = None
    readiness: str | None = Field(None, pattern=_pattern(Readiness))
    complex_factors: str | None = Field(None, max_length=5000)
    treatment_plan: str | None = Field(None, max_length=5000)
    discharge_service: str | None = Field(None, max_length=40)


@router.post("/hospital/stays", response={201: StayOut})
def stay_open(request: HttpRequest, payload: StayOpenIn) -> Status[HospitalStay]:
    return Status(201, services.stay_open(actor=actor_of(request), encounter_id=payload.encounter_id))


@router.get("/hospital/stays/{stay_id}", response=StayOut)
def stay_read(request: HttpRequest, stay_id: int = Path(..., ge=1, le=MAX_ID)) -> HospitalStay:
    return selectors.stay_get(actor=actor_of(request), stay_id=stay_id)


@router.patch("/hospital/stays/{stay_id}", response=StayOut)
def stay_update(request: HttpRequest, payload: StayPatch, stay_id: int = Path(..., ge=1, le=MAX_ID)) -> HospitalStay:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    return services.stay_update(actor=actor_of(request), stay_id=stay_id, version=version, **changes)


@router.post("/hospital/stays/{stay_id}/risk", response=StayOut)
def stay_risk_refresh(request: HttpRequest, stay_id: int = Path(..., ge=1, le=MAX_ID)) -> HospitalStay:
    """Recompute LACE and HOSPITAL from the current record."""
    return services.stay_risk_refresh(actor=actor_of(request), stay_id=stay_id)


# --- authorizations -------------------------------------------------------------------------------


class AuthorizationIn(Schema):
    payer_name: str = Field("", max_length=200, description="Default: the patient's primary coverage")
    insurer_id: int | None = Field(None, ge=1, le=MAX_ID)
    reference_number: str = Field("", max_length=64)
    status: str = Field(AuthorizationStatus.PENDING, pattern=_pattern(AuthorizationStatus))
    approved_level_of_care: str = Field("", pattern=_pattern(LevelOfCare, blank=True))
    approved_days: int | None = Field(None, ge=0, le=365)
    next_review_on: dt.date | None = None
    note: str = Field("", max_length=500)


class AuthorizationPatch(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    reference_number: str | None = Field(None, max_length=64)
    status: str | None = Field(None, pattern=_pattern(AuthorizationStatus))
    approved_level_of_care: str | None = Field(None, pattern=_pattern(LevelOfCare, blank=True))
    approved_days: int | None = Field(None, ge=0, le=365)
    next_review_on: dt.date | None = None
    note: str | None = Field(None, max_length=500)


class AuthorizationOut(Schema):
    id: int
    stay_id: int
    payer_name: str
    insurer_id: int | None
    reference_number: str
    status: str
    approved_level_of_care: str
    approved_days: int | None
    next_review_on: dt.date | None
    decided_at: dt.datetime | None
    note: str
    version: int


@router.get("/hospital/stays/{stay_id}/authorizations", response=list[AuthorizationOut])
def authorizations(request: HttpRequest, stay_id: int = Path(..., ge=1, le=MAX_ID)) -> list[Authorization]:
    stay = selectors.stay_get(actor=actor_of(request), stay_id=stay_id)
    return list(selectors.authorizations_of(stay))


@router.post("/hospital/stays/{stay_id}/authorizations", response={201: AuthorizationOut})
def authorization_add(
    request: HttpRequest, payload: AuthorizationIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Authorization]:
    auth = services.authorization_add(actor=actor_of(request), stay_id=stay_id, **payload.dict())
    return Status(201, auth)


@router.patch("/hospital/authorizations/{authorization_id}", response=AuthorizationOut)
def authorization_update(
    request: HttpRequest, payload: AuthorizationPatch, authorization_id: int = Path(..., ge=1, le=MAX_ID)
) -> Authorization:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    return services.authorization_update(
        actor=actor_of(request), authorization_id=authorization_id, version=version, **changes
    )


# --- packets ------------------------------------------------------------------------------------


class PacketBuildIn(Schema):
    authorization_id: int | None = Field(None, ge=1, le=MAX_ID)


class PacketSendIn(Schema):
    insurer_id: int | None = Field(None, ge=1, le=MAX_ID, description="An insurer on the platform")
    recipient_name: str = Field("", max_length=200, description="An insurer outside the platform")
    channel: str = Field("", pattern="^(portal|fax|secure_message|email)?$")
    acknowledge_missing: bool = False


class MissingItem(Schema):
    key: str
    message: str


class PacketOut(Schema):
    id: int
    stay_id: int
    authorization_id: int | None
    status: str
    missing: list[MissingItem]
    content: dict[str, Any]
    built_at: dt.datetime
    sent_at: dt.datetime | None
    sent_to_name: str
    sent_channel: str
    communication_id: int | None


@router.post("/hospital/stays/{stay_id}/packets", response={201: PacketOut})
def packet_build(
    request: HttpRequest, payload: PacketBuildIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[ReviewPacket]:
    """Build a clinical review packet; ``missing`` lists what a reviewer would need for approval."""
    packet = services.packet_build(actor=actor_of(request), stay_id=stay_id, authorization_id=payload.authorization_id)
    return Status(201, packet)


@router.get("/hospital/packets/{packet_id}", response=PacketOut)
def packet_read(request: HttpRequest, packet_id: int = Path(..., ge=1, le=MAX_ID)) -> ReviewPacket:
    return selectors.packet_get(actor=actor_of(request), packet_id=packet_id)


@router.post("/hospital/packets/{packet_id}/send", response=PacketOut)
def packet_send(
    request: HttpRequest, payload: PacketSendIn, packet_id: int = Path(..., ge=1, le=MAX_ID)
) -> ReviewPacket:
    return services.packet_send(actor=actor_of(request), packet_id=packet_id, **payload.dict())


class ShareEndOut(Schema):
    packet_id: int
    links_ended: int = Field(description="0 when the packet's links had already ended")


@router.post("/hospital/packets/{packet_id}/share/end", response=ShareEndOut)
def packet_share_end(request: HttpRequest, packet_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, int]:
    """End the insurer's access to a packet sent on the platform: it leaves the insurer's intake queue."""
    return {
        "packet_id": packet_id,
        "links_ended": services.packet_share_end(actor=actor_of(request), packet_id=packet_id),
    }


@router.get("/hospital/packets/{packet_id}/bundle", response=dict[str, Any])
def packet_bundle(request: HttpRequest, packet_id: int = Path(..., ge=1, le=MAX_ID)) -> dict[str, Any]:
    """The FHIR R4B Bundle sent to an insurer outside the platform."""
    packet = selectors.packet_get(actor=actor_of(request), packet_id=packet_id)
    if not packet.fhir_bundle:
        from casebridge.kernel.errors import NotFound

        raise NotFound(f"Packet {packet_id} was not sent outside the platform: it has no FHIR Bundle.")
    return dict(packet.fhir_bundle)


class IntakeOut(Schema):
    id: int
    from_organization: str
    shared_at: dt.datetime
    reviewed_at: dt.datetime | None
    review_note: str
    content: dict[str, Any]

    @staticmethod
    def resolve_from_organization(obj: Any) -> str:
        return str(obj.packet.organization.name)

    @staticmethod
    def resolve_content(obj: Any) -> dict[str, Any]:
        return dict(obj.packet.content)


class IntakeReviewIn(Schema):
    note: str = Field("", max_length=500)


@router.get("/hospital/intake", response=list[IntakeOut])
def intake(request: HttpRequest) -> list[Any]:
    """For insurers: clinical review packets hospitals sent you (only what they sent)."""
    return list(selectors.intake_list(actor=actor_of(request))[:200])


@router.get("/hospital/intake/{share_id}", response=IntakeOut)
def intake_read(request: HttpRequest, share_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    return selectors.intake_get(actor=actor_of(request), share_id=share_id)


@router.post("/hospital/intake/{share_id}/review", response=IntakeOut)
def intake_review(request: HttpRequest, payload: IntakeReviewIn, share_id: int = Path(..., ge=1, le=MAX_ID)) -> Any:
    return services.intake_review(actor=actor_of(request), share_id=share_id, note=payload.note)


# --- denials ------------------------------------------------------------------------------------


class DenialIn(Schema):
    authorization_id: int = Field(ge=1, le=MAX_ID)
    reason: str = Field(min_length=1, max_length=500)
    received_at: dt.datetime | None = None
    denied_from: dt.date | None = None
    denied_days: int | None = Field(None, ge=1, le=365)
    level_of_care_offered: str = Field("", pattern=_pattern(LevelOfCare, blank=True))


class AppealIn(Schema):
    appeal_deadline: dt.date
    filed_at: dt.datetime | None = None


class PeerToPeerIn(Schema):
    result: str = Field(min_length=1, max_length=300)
    occurred_at: dt.datetime | None = None


class OutcomeIn(Schema):
    outcome: str = Field(pattern="^(upheld|overturned|partially_overturned|accepted)$")
    version: int | None = Field(None, ge=1, le=MAX_ID)


class DenialOut(Schema):
    id: int
    stay_id: int
    authorization_id: int
    received_at: dt.datetime
    reason: str
    denied_from: dt.date | None
    denied_days: int | None
    level_of_care_offered: str
    peer_to_peer_task_id: int | None
    peer_to_peer_at: dt.datetime | None
    peer_to_peer_result: str
    appeal_filed_at: dt.datetime | None
    appeal_deadline: dt.date | None
    appeal_task_id: int | None
    outcome: str
    outcome_at: dt.datetime | None
    version: int


@router.post("/hospital/denials", response={201: DenialOut})
def denial_record(request: HttpRequest, payload: DenialIn) -> Status[Denial]:
    return Status(201, services.denial_record(actor=actor_of(request), **payload.dict()))


@router.get("/hospital/denials/{denial_id}", response=DenialOut)
def denial_read(request: HttpRequest, denial_id: int = Path(..., ge=1, le=MAX_ID)) -> Denial:
    return selectors.denial_get(actor=actor_of(request), denial_id=denial_id)


@router.post("/hospital/denials/{denial_id}/peer-to-peer", response=DenialOut)
def denial_peer_to_peer(
    request: HttpRequest, payload: PeerToPeerIn, denial_id: int = Path(..., ge=1, le=MAX_ID)
) -> Denial:
    return services.denial_peer_to_peer(actor=actor_of(request), denial_id=denial_id, **payload.dict())


@router.post("/hospital/denials/{denial_id}/appeal", response=DenialOut)
def denial_appeal(request: HttpRequest, payload: AppealIn, denial_id: int = Path(..., ge=1, le=MAX_ID)) -> Denial:
    return services.denial_appeal(actor=actor_of(request), denial_id=denial_id, **payload.dict())


@router.post("/hospital/denials/{denial_id}/outcome", response=DenialOut)
def denial_outcome(request: HttpRequest, payload: OutcomeIn, denial_id: int = Path(..., ge=1, le=MAX_ID)) -> Denial:
    return services.denial_outcome(actor=actor_of(request), denial_id=denial_id, **payload.dict())


class DenialRateOut(Schema):
    payer: str
    decided: int
    denied: int
    appealed: int
    overturned: int
    rate_percent: Decimal | None

    @staticmethod
    def resolve_rate_percent(obj: Any) -> Decimal | None:
        return obj.rate  # type: ignore[no-any-return]


@router.get("/hospital/reports/denial-rate", response=list[DenialRateOut])
def denial_rate(request: HttpRequest, since: dt.date, until: dt.date | None = None) -> list[Any]:
    return selectors.denial_rate(actor=actor_of(request), since=since, until=until)


# --- discharge planning -------------------------------------------------------------------------


class ScreenIn(Schema):
    new_functional_deficit: bool | None = None
    high_cost_needs: bool | None = None
    requested_by: str = Field("", max_length=100, description="Patient, representative or physician asking")


class EvaluationIn(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    complete: bool = False
    likely_needs: str | None = Field(None, max_length=5000)
    needs_availability: str | None = Field(None, max_length=5000)
    self_care_capacity: str | None = Field(None, pattern="^(independent|needs_help|dependent)?$")
    self_care_notes: str | None = Field(None, max_length=5000)
    patient_goals: str | None = Field(None, max_length=5000)
    caregiver: str | None = Field(None, max_length=200)
    caregiver_involved: bool | None = None
    discussed_with_patient_at: dt.datetime | None = None


class BarrierIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    owner_id: int | None = Field(None, ge=1, le=MAX_ID)
    owner_name: str = Field("", max_length=200)
    due_on: dt.date | None = None


class BarrierOut(Schema):
    id: int
    description: str
    owner_id: int | None
    owner_name: str
    due_on: dt.date | None
    created_at: dt.datetime
    resolved_at: dt.datetime | None


class PostAcuteNeedIn(Schema):
    service_type: str = Field(pattern=_pattern(ServiceType))
    disciplines: list[str] = Field(default_factory=list, max_length=6)
    details: dict[str, Any] = Field(default_factory=dict)
    note: str = Field("", max_length=500)


class PostAcuteNeedOut(Schema):
    id: int
    service_type: str
    disciplines: list[str]
    details: dict[str, Any]
    eligibility: dict[str, Any]
    note: str


class DischargePlanOut(Schema):
    stay_id: int
    screened_at: dt.datetime | None
    screen_flags: dict[str, Any]
    evaluation_status: str
    evaluation_reason: str
    evaluation_task_id: int | None
    likely_needs: str
    needs_availability: str
    self_care_capacity: str
    self_care_notes: str
    patient_goals: str
    caregiver: str
    caregiver_involved: bool | None
    discussed_with_patient_at: dt.datetime | None
    evaluated_at: dt.datetime | None
    version: int
    barriers: list[BarrierOut]
    needs: list[PostAcuteNeedOut]

    @staticmethod
    def resolve_barriers(obj: DischargePlan) -> list[DischargeBarrier]:
        return list(obj.stay.barriers.order_by("resolved_at", "created_at", "pk"))

    @staticmethod
    def resolve_needs(obj: DischargePlan) -> list[PostAcuteNeed]:
        return list(obj.stay.needs.order_by("pk"))


def _plan(request: HttpRequest, stay_id: int) -> DischargePlan:
    actor = actor_of(request)
    stay = selectors.stay_get(actor=actor, stay_id=stay_id)
    plan = selectors.discharge_plan_of(actor=actor, stay=stay)
    if plan is None:
        return DischargePlan(stay=stay, organization_id=stay.organization_id, screen_flags={})
    return plan


@router.get("/hospital/stays/{stay_id}/discharge-plan", response=DischargePlanOut)
def discharge_plan(request: HttpRequest, stay_id: int = Path(..., ge=1, le=MAX_ID)) -> DischargePlan:
    return _plan(request, stay_id)


@router.post("/hospital/stays/{stay_id}/discharge-plan/screen", response=DischargePlanOut)
def discharge_screen(
    request: HttpRequest, payload: ScreenIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> DischargePlan:
    services.discharge_screen(actor=actor_of(request), stay_id=stay_id, **payload.dict())
    return _plan(request, stay_id)


@router.put("/hospital/stays/{stay_id}/discharge-plan/evaluation", response=DischargePlanOut)
def discharge_evaluation(
    request: HttpRequest, payload: EvaluationIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> DischargePlan:
    """Record the 42 CFR 482.43(b) evaluation; ``complete`` refuses (422) until every element is present."""
    data = payload.dict(exclude_unset=True)
    services.discharge_evaluation_record(
        actor=actor_of(request),
        stay_id=stay_id,
        complete=data.pop("complete", False),
        version=data.pop("version", None),
        **data,
    )
    return _plan(request, stay_id)


@router.post("/hospital/stays/{stay_id}/barriers", response={201: BarrierOut})
def barrier_add(
    request: HttpRequest, payload: BarrierIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[DischargeBarrier]:
    return Status(201, services.barrier_add(actor=actor_of(request), stay_id=stay_id, **payload.dict()))


@router.post("/hospital/barriers/{barrier_id}/resolve", response=BarrierOut)
def barrier_resolve(request: HttpRequest, barrier_id: int = Path(..., ge=1, le=MAX_ID)) -> DischargeBarrier:
    return services.barrier_resolve(actor=actor_of(request), barrier_id=barrier_id)


@router.post("/hospital/stays/{stay_id}/needs", response={201: PostAcuteNeedOut})
def need_add(
    request: HttpRequest, payload: PostAcuteNeedIn, stay_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[PostAcuteNeed]:
    """A post-acute need with its eligibility check (SNF qualifying stay, IRF intensity, home infusion)."""
    return Status(201, services.need_add(actor=actor_of(request), stay_id=stay_id, **payload.dict()))


__all__ = ["DenialOutcome", "router"]
