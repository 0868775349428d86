"""Reads of assessments and care plans, scoped to cases the actor's organization may see."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.db.models import Prefetch, QuerySet

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.careplans.models import Assessment, CarePlan, Goal, Intervention, Need
from casebridge.cases.models import Case
from casebridge.cases.selectors import cases_visible
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound


def _visible_case(actor: Actor, case_id: int) -> Case:
    require(actor, "case.view")
    case = cases_visible(actor).filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


def plans_visible(actor: Actor) -> QuerySet[CarePlan]:
    return CarePlan.objects.filter(case__in=cases_visible(actor))


def _with_parts(qs: QuerySet[CarePlan]) -> QuerySet[CarePlan]:
    return qs.select_related("case").prefetch_related(
        "needs",
        Prefetch(
            "goals",
            queryset=Goal.objects.select_related("need").prefetch_related(
                Prefetch("interventions", queryset=Intervention.objects.select_related("provider_organization"))
            ),
        ),
    )


def careplan_find(*, actor: Actor, case_id: int, audit: bool = True) -> CarePlan | None:
    """The case's care plan with needs, goals and interventions; None when none was started yet."""
    case = _visible_case(actor, case_id)
    plan = _with_parts(CarePlan.objects.filter(case=case)).first()
    if audit:
        audit_record(
            actor=actor,
            action="careplan.read",
            subject=plan if plan is not None else case,
            patient=case.patient_id,
        )
    return plan


def careplan_get(*, actor: Actor, case_id: int) -> CarePlan:
    plan = careplan_find(actor=actor, case_id=case_id)
    if plan is None:
        raise NotFound(f"Case {case_id} has no care plan yet.")
    return plan


def assessments_of_case(*, actor: Actor, case_id: int, audit: bool = True) -> list[Assessment]:
    case = _visible_case(actor, case_id)
    rows = list(Assessment.objects.filter(case=case).select_related("completed_by", "started_by"))
    if audit:
        audit_record(actor=actor, action="assessment.list", subject=case, patient=case.patient_id)
    return rows


def assessment_get(*, actor: Actor, assessment_id: int, audit: bool = True) -> Assessment:
    require(actor, "case.view")
    assessment = (
        Assessment.objects.filter(pk=assessment_id, case__in=cases_visible(actor))
        .select_related("case", "case__patient", "completed_by", "started_by")
        .first()
    )
    if assessment is None:
        raise NotFound(f"No assessment {assessment_id}.")
    if audit:
        audit_record(actor=actor, action="assessment.read", subject=assessment, patient=assessment.case.patient_id)
    return assessment


def goal_get(*, actor: Actor, goal_id: int) -> Goal:
    require(actor, "case.view")
    goal = (
        Goal.objects.filter(pk=goal_id, care_plan__case__in=cases_visible(actor))
        .select_related("care_plan", "care_plan__case", "need")
        .first()
    )
    if goal is None:
        raise NotFound(f"No goal {goal_id}.")
    return goal


def intervention_get(*, actor: Actor, intervention_id: int) -> Intervention:
    require(actor, "case.view")
    row = (
        Intervention.objects.filter(pk=intervention_id, goal__care_plan__case__in=cases_visible(actor))
        .select_related("goal", "goal__care_plan", "goal__care_plan__case")
        .first()
    )
    if row is None:
        raise NotFound(f"No intervention {intervention_id}.")
    return row


@dataclass(frozen=True)
class PlanVersion:
    """One saved version of a care plan, and what its goals and interventions looked like then."""

    version: int
    at: Any
    by: str
    change: str
    status: str
    intent: str
    title: str
    needs: list[Need]
    goals: list[tuple[Goal, list[Intervention]]]


def _as_of(model: Any, moment: Any, **filters: Any) -> list[Any]:
    """Rows of ``model`` as they stood at ``moment`` (django-simple-history), oldest first."""
    return sorted(model.history.as_of(moment).filter(**filters), key=lambda r: r.pk)


def careplan_versions(
    *, actor: Actor, case_id: int, with_snapshots: bool = False
) -> tuple[CarePlan, list[PlanVersion]]:
    """Every saved version of the case's care plan, newest first. Earlier versions stay viewable."""
    plan = careplan_get(actor=actor, case_id=case_id)
    versions = []
    for record in plan.history.select_related("history_user").order_by("-history_date", "-history_id"):
        needs: list[Need] = []
        goals: list[tuple[Goal, list[Intervention]]] = []
        if with_snapshots:
            needs = _as_of(Need, record.history_date, care_plan_id=plan.pk)
            goal_rows = _as_of(Goal, record.history_date, care_plan_id=plan.pk)
            goal_ids = {g.pk for g in goal_rows}
            interventions = _as_of(Intervention, record.history_date, goal_id__in=goal_ids)
            goals = [
                (g, sorted((i for i in interventions if i.goal_id == g.pk), key=lambda i: i.pk)) for g in goal_rows
            ]
        versions.append(
            PlanVersion(
                version=record.version,
                at=record.history_date,
                by=str(record.history_user or ""),
                change=record.history_change_reason or "",
                status=record.status,
                intent=record.intent,
                title=record.title,
                needs=needs,
                goals=goals,
            )
        )
    return plan, versions
