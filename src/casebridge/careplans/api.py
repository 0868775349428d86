"""REST endpoints for assessments and care plans. No ``from __future__ import annotations``: ninja reads
the annotations at runtime."""

import datetime as dt
from decimal import Decimal
from typing import Any

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from casebridge.api.base import actor_of
from casebridge.api.types import MAX_ID
from casebridge.careplans import selectors, services
from casebridge.careplans.instruments import AssessmentKind, summary
from casebridge.careplans.models import Assessment, CarePlan, Goal, Intervention, Need
from casebridge.careplans.vocabulary import (
    ActivityStatus,
    CarePlanIntent,
    CarePlanStatus,
    GoalAchievement,
    GoalLifecycle,
    Payer,
)

router = Router(tags=["care plans"])


def _pattern(enum: Any) -> str:
    return "^(" + "|".join(m.value for m in enum) + ")$"


CaseId = Path(..., ge=1, le=MAX_ID)
VERSION_HELP = "The care plan version you read; a stale one gets 409"

AnswerValue = str | list[str] | None


# ---- assessments


class AssessmentOut(Schema):
    id: int
    case_id: int
    kind: str
    status: str
    answers: dict[str, Any]
    summary: dict[str, int | None]
    started_at: dt.datetime
    started_by_id: int | None
    completed_at: dt.datetime | None
    completed_by_id: int | None
    version: int

    @staticmethod
    def resolve_summary(obj: Assessment) -> dict[str, int | None]:
        return summary(obj.kind_enum, obj.answers)


class NeedOut(Schema):
    id: int
    code: str
    label: str
    domain: str
    evidence: str
    status: str
    assessment_id: int | None
    identified_at: dt.datetime


class AssessmentStartIn(Schema):
    kind: str = Field(pattern=_pattern(AssessmentKind))
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=100)


class AnswersIn(Schema):
    answers: dict[str, AnswerValue] = Field(max_length=100)
    version: int = Field(ge=1, le=MAX_ID, description="The assessment version you read; a stale one gets 409")


class CompleteIn(Schema):
    answers: dict[str, AnswerValue] = Field(default_factory=dict, max_length=100)
    version: int | None = Field(None, ge=1, le=MAX_ID)


class CompleteOut(Schema):
    assessment: AssessmentOut
    needs_added: list[NeedOut]


@router.get("/cases/{case_id}/assessments", response=list[AssessmentOut])
def assessments_list(request: HttpRequest, case_id: int = CaseId) -> list[Assessment]:
    return selectors.assessments_of_case(actor=actor_of(request), case_id=case_id)


@router.post("/cases/{case_id}/assessments", response={201: AssessmentOut})
def assessment_start(request: HttpRequest, payload: AssessmentStartIn, case_id: int = CaseId) -> Status[Assessment]:
    return Status(
        201,
        services.assessment_start(actor=actor_of(request), case_id=case_id, kind=payload.kind, answers=payload.answers),
    )


@router.get("/assessments/{assessment_id}", response=AssessmentOut)
def assessment_read(request: HttpRequest, assessment_id: int = Path(..., ge=1, le=MAX_ID)) -> Assessment:
    return selectors.assessment_get(actor=actor_of(request), assessment_id=assessment_id)


@router.patch("/assessments/{assessment_id}", response=AssessmentOut)
def assessment_answer(
    request: HttpRequest, payload: AnswersIn, assessment_id: int = Path(..., ge=1, le=MAX_ID)
) -> Assessment:
    return services.assessment_answer(
        actor=actor_of(request), assessment_id=assessment_id, answers=payload.answers, version=payload.version
    )


@router.post("/assessments/{assessment_id}/complete", response=CompleteOut)
def assessment_complete(
    request: HttpRequest, payload: CompleteIn, assessment_id: int = Path(..., ge=1, le=MAX_ID)
) -> dict[str, Any]:
    assessment, needs = services.assessment_complete(
        actor=actor_of(request), assessment_id=assessment_id, answers=payload.answers, version=payload.version
    )
    return {"assessment": assessment, "needs_added": needs}


# ---- care plan


class InterventionOut(Schema):
    id: int
    goal_id: int
    description: str
    discipline: str
    provider_organization_id: int | None
    provider_name: str
    frequency: str
    start_date: dt.date | None
    end_date: dt.date | None
    estimated_cost: Decimal | None
    payer: str
    status: str
    care_plan_version: int

    @staticmethod
    def resolve_care_plan_version(obj: Intervention) -> int:
        return obj.goal.care_plan.version


class GoalOut(Schema):
    id: int
    need_id: int | None
    description: str
    measure: str
    target_value: str
    target_date: dt.date | None
    lifecycle_status: str
    achievement_status: str
    status_reason: str
    created_at: dt.datetime
    interventions: list[InterventionOut]
    care_plan_version: int

    @staticmethod
    def resolve_interventions(obj: Goal) -> list[Intervention]:
        rows = list(obj.interventions.all())
        for row in rows:
            row.goal = obj
        return rows

    @staticmethod
    def resolve_care_plan_version(obj: Goal) -> int:
        return obj.care_plan.version


class CarePlanOut(Schema):
    id: int
    case_id: int
    title: str
    description: str
    status: str
    intent: str
    version: int
    created_at: dt.datetime
    updated_at: dt.datetime
    needs: list[NeedOut]
    goals: list[GoalOut]

    @staticmethod
    def resolve_needs(obj: CarePlan) -> list[Need]:
        return list(obj.needs.all())

    @staticmethod
    def resolve_goals(obj: CarePlan) -> list[Goal]:
        rows = list(obj.goals.all())
        for row in rows:
            row.care_plan = obj
        return rows


class CarePlanIn(Schema):
    title: str = Field("", max_length=200)
    status: str = Field(CarePlanStatus.DRAFT.value, pattern="^(draft|active)$")
    intent: str = Field(CarePlanIntent.PLAN.value, pattern=_pattern(CarePlanIntent))


class CarePlanPatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description=VERSION_HELP)
    title: str | None = Field(None, max_length=200)
    description: str | None = Field(None, max_length=5000)
    status: str | None = Field(None, pattern=_pattern(CarePlanStatus))
    intent: str | None = Field(None, pattern=_pattern(CarePlanIntent))


class VersionOut(Schema):
    version: int
    at: dt.datetime
    by: str
    change: str
    status: str
    intent: str
    title: str


@router.get("/cases/{case_id}/care-plan", response=CarePlanOut)
def careplan_read(request: HttpRequest, case_id: int = CaseId) -> CarePlan:
    return selectors.careplan_get(actor=actor_of(request), case_id=case_id)


@router.post("/cases/{case_id}/care-plan", response={201: CarePlanOut})
def careplan_create(request: HttpRequest, payload: CarePlanIn, case_id: int = CaseId) -> Status[CarePlan]:
    actor = actor_of(request)
    services.careplan_create(actor=actor, case_id=case_id, **payload.dict())
    return Status(201, selectors.careplan_get(actor=actor, case_id=case_id))


@router.patch("/cases/{case_id}/care-plan", response=CarePlanOut)
def careplan_update(request: HttpRequest, payload: CarePlanPatch, case_id: int = CaseId) -> CarePlan:
    actor = actor_of(request)
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    version = changes.pop("version")
    services.careplan_update(actor=actor, case_id=case_id, version=version, **changes)
    return selectors.careplan_get(actor=actor, case_id=case_id)


@router.get("/cases/{case_id}/care-plan/versions", response=list[VersionOut])
def careplan_versions(request: HttpRequest, case_id: int = CaseId) -> list[selectors.PlanVersion]:
    _, versions = selectors.careplan_versions(actor=actor_of(request), case_id=case_id)
    return versions


class NeedIn(Schema):
    label: str = Field(min_length=1, max_length=200)
    domain: str = Field("", max_length=40)
    code: str = Field("", max_length=64)
    evidence: str = Field("", max_length=500)
    version: int | None = Field(None, ge=1, le=MAX_ID, description=VERSION_HELP)


@router.post("/cases/{case_id}/care-plan/needs", response={201: NeedOut})
def need_add(request: HttpRequest, payload: NeedIn, case_id: int = CaseId) -> Status[Need]:
    return Status(201, services.need_add(actor=actor_of(request), case_id=case_id, **payload.dict()))


class GoalIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    measure: str = Field("", max_length=200)
    target_value: str = Field("", max_length=100)
    target_date: dt.date | None = None
    need_id: int | None = Field(None, ge=1, le=MAX_ID)
    lifecycle_status: str = Field(GoalLifecycle.PROPOSED.value, pattern="^(proposed|planned|accepted|active)$")
    version: int | None = Field(None, ge=1, le=MAX_ID, description=VERSION_HELP)


@router.post("/cases/{case_id}/care-plan/goals", response={201: GoalOut})
def goal_add(request: HttpRequest, payload: GoalIn, case_id: int = CaseId) -> Status[Goal]:
    return Status(201, services.goal_add(actor=actor_of(request), case_id=case_id, **payload.dict()))


class GoalPatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description=VERSION_HELP)
    description: str | None = Field(None, min_length=1, max_length=300)
    measure: str | None = Field(None, max_length=200)
    target_value: str | None = Field(None, max_length=100)
    target_date: dt.date | None = None
    need_id: int | None = Field(None, ge=1, le=MAX_ID)
    achievement_status: str | None = Field(None, pattern=_pattern(GoalAchievement))


@router.patch("/goals/{goal_id}", response=GoalOut)
def goal_update(request: HttpRequest, payload: GoalPatch, goal_id: int = Path(..., ge=1, le=MAX_ID)) -> Goal:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    return services.goal_update(actor=actor_of(request), goal_id=goal_id, version=version, **changes)


class GoalTransitionIn(Schema):
    status: str = Field(pattern=_pattern(GoalLifecycle))
    reason: str = Field("", max_length=300)
    achievement_status: str | None = Field(None, pattern=_pattern(GoalAchievement))
    version: int = Field(ge=1, le=MAX_ID, description=VERSION_HELP)


@router.post("/goals/{goal_id}/transition", response=GoalOut)
def goal_transition(request: HttpRequest, payload: GoalTransitionIn, goal_id: int = Path(..., ge=1, le=MAX_ID)) -> Goal:
    return services.goal_transition(
        actor=actor_of(request),
        goal_id=goal_id,
        to_status=payload.status,
        reason=payload.reason,
        achievement_status=payload.achievement_status,
        version=payload.version,
    )


class InterventionIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    discipline: str = Field("", max_length=60)
    provider_organization_id: int | None = Field(None, ge=1, le=MAX_ID)
    provider_name: str = Field("", max_length=200)
    frequency: str = Field("", max_length=100)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    estimated_cost: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    payer: str = Field(Payer.UNKNOWN.value, pattern=_pattern(Payer))
    status: str = Field(ActivityStatus.NOT_STARTED.value, pattern="^(not-started|scheduled|in-progress)$")
    version: int | None = Field(None, ge=1, le=MAX_ID, description=VERSION_HELP)


@router.post("/goals/{goal_id}/interventions", response={201: InterventionOut})
def intervention_add(
    request: HttpRequest, payload: InterventionIn, goal_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Intervention]:
    return Status(201, services.intervention_add(actor=actor_of(request), goal_id=goal_id, **payload.dict()))


class InterventionPatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description=VERSION_HELP)
    description: str | None = Field(None, min_length=1, max_length=300)
    discipline: str | None = Field(None, max_length=60)
    provider_organization_id: int | None = Field(None, ge=1, le=MAX_ID)
    provider_name: str | None = Field(None, max_length=200)
    frequency: str | None = Field(None, max_length=100)
    start_date: dt.date | None = None
    end_date: dt.date | None = None
    estimated_cost: Decimal | None = Field(None, ge=0, max_digits=10, decimal_places=2)
    payer: str | None = Field(None, pattern=_pattern(Payer))
    status: str | None = Field(None, pattern=_pattern(ActivityStatus))


@router.patch("/interventions/{intervention_id}", response=InterventionOut)
def intervention_update(
    request: HttpRequest, payload: InterventionPatch, intervention_id: int = Path(..., ge=1, le=MAX_ID)
) -> Intervention:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version")
    return services.intervention_update(
        actor=actor_of(request), intervention_id=intervention_id, version=version, **changes
    )
