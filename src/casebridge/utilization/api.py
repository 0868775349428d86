import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from casebridge.api.base import actor_of
from casebridge.api.types import MAX_ID
from casebridge.utilization import selectors, services
from casebridge.utilization.criteria import LEVEL_ORDER
from casebridge.utilization.models import (
    AvoidableDay,
    ConditionCode44,
    CriteriaSet,
    CriteriaSetVersion,
    Determination,
    MoonNotice,
    ResponsibleParty,
    UtilizationReview,
)

router = Router(tags=["utilization review"])

LEVEL_PATTERN = "^(" + "|".join(LEVEL_ORDER) + ")$"
ID = Path(..., ge=1, le=MAX_ID)


# --- reviews ---------------------------------------------------------------------------------------


class ReviewOut(Schema):
    id: int
    patient_id: int
    case_id: int | None
    encounter_id: int
    task_id: int | None
    advisor_task_id: int | None
    kind: str
    status: str
    payer: str
    due_at: dt.datetime
    evaluated_at: dt.datetime | None
    criteria_versions: list[int]
    results: list[dict[str, Any]]
    recommendation: dict[str, Any]
    answers: dict[str, Any]
    recommended_level: str
    decided_level: str
    decision: str
    override_reason: str
    completed_at: dt.datetime | None
    escalated_at: dt.datetime | None
    escalation_reason: str
    version: int


class ReviewFilters(Schema):
    status: str | None = Field(None, pattern="^(open|pending|escalated|completed|cancelled)$")
    kind: str | None = Field(None, pattern="^(initial|continued_stay)$")
    encounter_id: int | None = Field(None, ge=1, le=MAX_ID)
    case_id: int | None = Field(None, ge=1, le=MAX_ID)
    overdue: bool | None = None


@router.get("/reviews", response=list[ReviewOut])
def reviews(request: HttpRequest, filters: Query[ReviewFilters]) -> list[UtilizationReview]:
    return selectors.reviews_listed(actor=actor_of(request), limit=500, **filters.dict())


class ReviewIn(Schema):
    encounter_id: int = Field(ge=1, le=MAX_ID)


@router.post("/reviews", response={201: ReviewOut})
def review_schedule(request: HttpRequest, payload: ReviewIn) -> Status[UtilizationReview]:
    return Status(201, services.review_schedule_initial(actor=actor_of(request), encounter_id=payload.encounter_id))


@router.get("/reviews/{review_id}", response=ReviewOut)
def review_read(request: HttpRequest, review_id: int = ID) -> UtilizationReview:
    return selectors.review_get(actor=actor_of(request), review_id=review_id)


class AnswerIn(Schema):
    value: str = Field(pattern="^(met|not_met|unknown)$")
    note: str = Field("", max_length=1000)


class EvaluateIn(Schema):
    set_keys: list[str] | None = Field(None, max_length=50, description="Default: the sets that apply to the stay")
    answers: dict[str, dict[str, AnswerIn]] | None = Field(
        None, description="{set key: {criterion id: answer}} for manual criteria"
    )
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/reviews/{review_id}/evaluate", response=ReviewOut)
def review_evaluate(request: HttpRequest, payload: EvaluateIn, review_id: int = ID) -> UtilizationReview:
    answers = None
    if payload.answers is not None:
        answers = {k: {cid: a.dict() for cid, a in v.items()} for k, v in payload.answers.items()}
    return services.review_evaluate(
        actor=actor_of(request),
        review_id=review_id,
        set_keys=payload.set_keys,
        answers=answers,
        version=payload.version,
    )


class CompleteIn(Schema):
    decision: str = Field(pattern="^(confirmed|overridden)$")
    level: str = Field("", pattern="^$|" + LEVEL_PATTERN)
    reason: str = Field("", max_length=5000)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/reviews/{review_id}/complete", response=ReviewOut)
def review_complete(request: HttpRequest, payload: CompleteIn, review_id: int = ID) -> UtilizationReview:
    return services.review_complete(actor=actor_of(request), review_id=review_id, **payload.dict())


class EscalateIn(Schema):
    reason: str = Field(min_length=1, max_length=5000)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/reviews/{review_id}/escalate", response=ReviewOut)
def review_escalate(request: HttpRequest, payload: EscalateIn, review_id: int = ID) -> UtilizationReview:
    return services.review_escalate(actor=actor_of(request), review_id=review_id, **payload.dict())


@router.post("/reviews/{review_id}/schedule-next", response={200: ReviewOut, 204: None})
def review_schedule_next(request: HttpRequest, review_id: int = ID) -> Any:
    nxt = services.review_schedule_next(actor=actor_of(request), review_id=review_id)
    return Status(204, None) if nxt is None else nxt


class DueOut(Schema):
    encounter_id: int
    next_review_due: dt.datetime | None


class DueFilters(Schema):
    encounter_id: list[Annotated[int, Field(ge=1, le=MAX_ID)]] = Field(..., min_length=1, max_length=1000)


@router.get("/next-reviews-due", response=list[DueOut])
def next_reviews_due(request: HttpRequest, filters: Query[DueFilters]) -> list[dict[str, Any]]:
    due = selectors.next_reviews_due(actor=actor_of(request), encounter_ids=filters.encounter_id)
    return [{"encounter_id": k, "next_review_due": v} for k, v in due.items()]


# --- criteria library -----------------------------------------------------------------------------------


class CriteriaVersionOut(Schema):
    id: int
    version: int
    fmt: str
    title: str
    citation: str
    evidence: str
    level_of_care: str
    example: bool
    change_note: str
    created_at: dt.datetime
    source_text: str


class SetOut(Schema):
    id: int
    key: str
    active: bool
    current_version: int
    title: str
    level_of_care: str
    example: bool


def _set_out(cset: CriteriaSet, version: CriteriaSetVersion | None) -> dict[str, Any]:
    return {
        "id": cset.pk,
        "key": cset.key,
        "active": cset.active,
        "current_version": cset.current_version,
        "title": version.title if version else "",
        "level_of_care": version.level_of_care if version else "",
        "example": version.example if version else False,
    }


@router.get("/criteria-sets", response=list[SetOut])
def criteria_sets(request: HttpRequest) -> list[dict[str, Any]]:
    return [_set_out(s, v) for s, v in selectors.criteria_sets(actor=actor_of(request))]


class SetDetailOut(SetOut):
    versions: list[CriteriaVersionOut]


@router.post("/criteria-sets/install-starter", response=list[SetOut])
def criteria_install_starter(request: HttpRequest) -> list[dict[str, Any]]:
    actor = actor_of(request)
    services.criteria_library_install_starter(actor=actor)
    return [_set_out(s, v) for s, v in selectors.criteria_sets(actor=actor)]


@router.get("/criteria-sets/{set_id}", response=SetDetailOut)
def criteria_set_read(request: HttpRequest, set_id: int = ID) -> dict[str, Any]:
    cset, versions = selectors.criteria_set_get(actor=actor_of(request), set_id=set_id)
    current = next((v for v in versions if v.version == cset.current_version), None)
    return {**_set_out(cset, current), "versions": versions}


class SetIn(Schema):
    key: str = Field(min_length=1, max_length=64)
    text: str = Field(min_length=1, max_length=200_000, description="The set, as YAML or JSON")
    fmt: str = Field("yaml", pattern="^(yaml|json)$")
    change_note: str = Field("", max_length=300)


@router.post("/criteria-sets", response={201: SetDetailOut})
def criteria_set_create(request: HttpRequest, payload: SetIn) -> Status[dict[str, Any]]:
    actor = actor_of(request)
    cset = services.criteria_set_create(actor=actor, **payload.dict())
    return Status(201, criteria_set_read(request, cset.pk))


class VersionIn(Schema):
    text: str = Field(min_length=1, max_length=200_000)
    fmt: str = Field("yaml", pattern="^(yaml|json)$")
    change_note: str = Field(min_length=1, max_length=300)
    expected_version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/criteria-sets/{set_id}/versions", response={201: CriteriaVersionOut})
def criteria_set_version(request: HttpRequest, payload: VersionIn, set_id: int = ID) -> Status[CriteriaSetVersion]:
    return Status(201, services.criteria_set_new_version(actor=actor_of(request), set_id=set_id, **payload.dict()))


# --- determinations ------------------------------------------------------------------------------------


class ReviewerOut(Schema):
    user_id: int
    physician: bool
    committee_member: bool
    concurred_at: dt.datetime


class NoticeOut(Schema):
    recipient: str
    delivered_at: dt.datetime
    method: str


class DeterminationOut(Schema):
    id: int
    review_id: int
    patient_id: int
    scope: str
    status: str
    rationale: str
    attending_view: str
    attending_consulted_at: dt.datetime | None
    attending_responded_at: dt.datetime | None
    decided_at: dt.datetime | None
    path: str
    notice_due_at: dt.datetime | None
    reviewers: list[ReviewerOut]
    notices: list[NoticeOut]
    state: dict[str, Any]
    version: int

    @staticmethod
    def resolve_reviewers(obj: Determination) -> list[Any]:
        return list(obj.reviewers.all())

    @staticmethod
    def resolve_notices(obj: Determination) -> list[Any]:
        return list(obj.notices.all())

    @staticmethod
    def resolve_state(obj: Determination) -> dict[str, Any]:
        return selectors.determination_state(obj)


class DeterminationIn(Schema):
    scope: str = Field(pattern="^(admission|continued_stay)$")
    rationale: str = Field(min_length=1, max_length=5000)


@router.post("/reviews/{review_id}/determinations", response={201: DeterminationOut})
def determination_open(request: HttpRequest, payload: DeterminationIn, review_id: int = ID) -> Status[Determination]:
    return Status(201, services.determination_open(actor=actor_of(request), review_id=review_id, **payload.dict()))


@router.get("/determinations/{determination_id}", response=DeterminationOut)
def determination_read(request: HttpRequest, determination_id: int = ID) -> Determination:
    return selectors.determination_get(actor=actor_of(request), determination_id=determination_id)


class NoteIn(Schema):
    note: str = Field("", max_length=5000)


@router.post("/determinations/{determination_id}/attending-consult", response=DeterminationOut)
def determination_consult(request: HttpRequest, payload: NoteIn, determination_id: int = ID) -> Determination:
    return services.determination_attending_consult(
        actor=actor_of(request), determination_id=determination_id, note=payload.note
    )


class AttendingIn(Schema):
    view: str = Field(pattern="^(concurs|disagrees|no_view_when_offered)$")
    note: str = Field("", max_length=5000)


@router.post("/determinations/{determination_id}/attending-response", response=DeterminationOut)
def determination_respond(request: HttpRequest, payload: AttendingIn, determination_id: int = ID) -> Determination:
    return services.determination_attending_respond(
        actor=actor_of(request), determination_id=determination_id, **payload.dict()
    )


class ConcurIn(Schema):
    professionally_involved: bool
    direct_financial_interest: bool
    note: str = Field("", max_length=5000)


@router.post("/determinations/{determination_id}/concur", response=DeterminationOut)
def determination_concur(request: HttpRequest, payload: ConcurIn, determination_id: int = ID) -> Determination:
    actor = actor_of(request)
    services.determination_concur(actor=actor, determination_id=determination_id, **payload.dict())
    return selectors.determination_get(actor=actor, determination_id=determination_id)


class DecideIn(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/determinations/{determination_id}/decide", response=DeterminationOut)
def determination_decide(request: HttpRequest, payload: DecideIn, determination_id: int = ID) -> Determination:
    return services.determination_decide(
        actor=actor_of(request), determination_id=determination_id, version=payload.version
    )


class NoticeIn(Schema):
    recipient: str = Field(pattern="^(hospital|patient|practitioner)$")
    delivered_at: dt.datetime | None = None
    method: str = Field("", max_length=100)


@router.post("/determinations/{determination_id}/notices", response={201: DeterminationOut})
def determination_notice(request: HttpRequest, payload: NoticeIn, determination_id: int = ID) -> Status[Determination]:
    actor = actor_of(request)
    services.determination_notice_record(actor=actor, determination_id=determination_id, **payload.dict())
    return Status(201, selectors.determination_get(actor=actor, determination_id=determination_id))


# --- MOON and condition code 44 ---------------------------------------------------------------------


class MoonOut(Schema):
    id: int
    patient_id: int
    encounter_id: int
    observation_started_at: dt.datetime
    due_at: dt.datetime
    task_id: int | None
    delivered_at: dt.datetime | None
    oral_explanation: bool
    signed_at: dt.datetime | None
    signature_refused: bool
    signed_by: str
    witness: str
    state: dict[str, Any]

    @staticmethod
    def resolve_state(obj: MoonNotice) -> dict[str, Any]:
        return selectors.moon_state(obj)


class MoonIn(Schema):
    encounter_id: int = Field(ge=1, le=MAX_ID)
    observation_started_at: dt.datetime | None = None


@router.post("/moon-notices", response={201: MoonOut})
def moon_start(request: HttpRequest, payload: MoonIn) -> Status[MoonNotice]:
    return Status(201, services.moon_start(actor=actor_of(request), **payload.dict()))


@router.get("/moon-notices/{moon_id}", response=MoonOut)
def moon_read(request: HttpRequest, moon_id: int = ID) -> MoonNotice:
    return selectors.moon_get(actor=actor_of(request), moon_id=moon_id)


class MoonDeliveryIn(Schema):
    delivered_at: dt.datetime | None = None
    oral_explanation: bool
    signed_by: str = Field("", max_length=200)
    signed_at: dt.datetime | None = None
    signature_refused: bool = False
    witness: str = Field("", max_length=200)


@router.post("/moon-notices/{moon_id}/delivery", response=MoonOut)
def moon_delivery(request: HttpRequest, payload: MoonDeliveryIn, moon_id: int = ID) -> MoonNotice:
    return services.moon_record_delivery(actor=actor_of(request), moon_id=moon_id, **payload.dict())


class CC44Out(Schema):
    id: int
    patient_id: int
    encounter_id: int
    status: str
    status_changed_at: dt.datetime | None
    inpatient_claim_submitted: bool
    ur_committee_decided: bool
    attending_concurs: bool
    concurrence_documented: bool
    concurrence_note: str
    completed_at: dt.datetime | None
    failing: list[str]
    version: int

    @staticmethod
    def resolve_failing(obj: ConditionCode44) -> list[str]:
        return list(services.cc44_check(obj).failing)


@router.post("/condition-code-44", response={201: CC44Out})
def cc44_start(request: HttpRequest, payload: ReviewIn) -> Status[ConditionCode44]:
    return Status(201, services.cc44_start(actor=actor_of(request), encounter_id=payload.encounter_id))


@router.get("/condition-code-44/{cc44_id}", response=CC44Out)
def cc44_read(request: HttpRequest, cc44_id: int = ID) -> ConditionCode44:
    return selectors.cc44_get(actor=actor_of(request), cc44_id=cc44_id)


class CC44Patch(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    status_changed_at: dt.datetime | None = None
    inpatient_claim_submitted: bool | None = None
    ur_committee_decided: bool | None = None
    attending_concurs: bool | None = None
    concurrence_documented: bool | None = None
    concurrence_note: str | None = Field(None, max_length=5000)


@router.patch("/condition-code-44/{cc44_id}", response=CC44Out)
def cc44_update(request: HttpRequest, payload: CC44Patch, cc44_id: int = ID) -> ConditionCode44:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    for name in ("inpatient_claim_submitted", "ur_committee_decided", "attending_concurs", "concurrence_documented"):
        if name in changes and changes[name] is None:
            changes.pop(name)
    services.cc44_update(actor=actor_of(request), cc44_id=cc44_id, version=version, **changes)
    return selectors.cc44_get(actor=actor_of(request), cc44_id=cc44_id)


@router.post("/condition-code-44/{cc44_id}/complete", response=CC44Out)
def cc44_complete(request: HttpRequest, payload: DecideIn, cc44_id: int = ID) -> ConditionCode44:
    return services.cc44_complete(actor=actor_of(request), cc44_id=cc44_id, version=payload.version)


# --- avoidable days --------------------------------------------------------------------------------------


class ReasonOut(Schema):
    code: str
    label: str


@router.get("/avoidable-day-reasons", response=list[ReasonOut])
def avoidable_reasons(request: HttpRequest) -> list[Any]:
    return selectors.avoidable_reasons(actor=actor_of(request))


class ReasonIn(Schema):
    label: str = Field(min_length=1, max_length=120)
    code: str = Field("", max_length=40, pattern="^[a-z0-9_-]*$")


@router.post("/avoidable-day-reasons", response={201: ReasonOut})
def avoidable_reason_add(request: HttpRequest, payload: ReasonIn) -> Status[Any]:
    """Add a reason to the organization's list (medical director or whoever manages the criteria)."""
    return Status(201, services.avoidable_reason_add(actor=actor_of(request), **payload.dict()))


class AvoidableDayOut(Schema):
    id: int
    patient_id: int
    encounter_id: int
    day: dt.date
    reason: str
    responsible_party: str
    payer: str
    provider: str
    note: str

    @staticmethod
    def resolve_reason(obj: AvoidableDay) -> str:
        return obj.reason.code


class AvoidableFilters(Schema):
    encounter_id: int | None = Field(None, ge=1, le=MAX_ID)
    date_from: dt.date | None = None
    date_to: dt.date | None = None


@router.get("/avoidable-days", response=list[AvoidableDayOut])
def avoidable_days(request: HttpRequest, filters: Query[AvoidableFilters]) -> list[AvoidableDay]:
    return selectors.avoidable_days_listed(
        actor=actor_of(request), action="avoidable_days.list", limit=1000, **filters.dict()
    )


class AvoidableDayIn(Schema):
    encounter_id: int = Field(ge=1, le=MAX_ID)
    day: dt.date
    reason_code: str = Field(min_length=1, max_length=40)
    responsible_party: str = Field(pattern="^(" + "|".join(ResponsibleParty.values) + ")$")
    note: str = Field("", max_length=5000)
    provider: str | None = Field(None, max_length=200)


@router.post("/avoidable-days", response={201: AvoidableDayOut})
def avoidable_day_log(request: HttpRequest, payload: AvoidableDayIn) -> Status[AvoidableDay]:
    return Status(201, services.avoidable_day_log(actor=actor_of(request), **payload.dict()))


class BarOut(Schema):
    label: str
    count: int


class ReportOut(Schema):
    total: int
    by_reason: list[BarOut]
    by_payer: list[BarOut]
    by_provider: list[BarOut]
    by_party: list[BarOut]


@router.get("/avoidable-days/report", response=ReportOut)
def avoidable_report(request: HttpRequest, date_from: dt.date | None = None, date_to: dt.date | None = None) -> Any:
    return selectors.avoidable_day_report(actor=actor_of(request), date_from=date_from, date_to=date_to)
