"""The care plan's contribution to a case's timeline: assessments completed, goals added or changed,
interventions added. Derived from the records and their history; nothing is stored twice."""

from __future__ import annotations

from casebridge.careplans.instruments import KIND_LABELS, AssessmentKind
from casebridge.careplans.models import Assessment, AssessmentStatus, CarePlan, Goal, Intervention
from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry


def _who(user: object) -> str:
    return str(user) if user is not None else ""


def entries_for(case: Case) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for a in Assessment.objects.filter(case=case, status=AssessmentStatus.COMPLETED).select_related("completed_by"):
        needs = a.identified_needs.count()
        text = f"{KIND_LABELS[AssessmentKind(a.kind)]} completed"
        text += f": {needs} need{'s' if needs != 1 else ''} identified" if needs else ": no new needs"
        entries.append(
            TimelineEntry(at=a.completed_at or a.started_at, kind="assessment", text=text, who=_who(a.completed_by))
        )
    plan_id = CarePlan.objects.filter(case=case).values_list("pk", flat=True).first()
    if plan_id is None:
        return entries
    for goal in Goal.objects.filter(care_plan_id=plan_id).select_related("created_by"):
        entries.append(
            TimelineEntry(
                at=goal.created_at, kind="goal", text=f"Goal added: {goal.description}", who=_who(goal.created_by)
            )
        )
    changes = Goal.history.filter(care_plan_id=plan_id, history_type="~").select_related("history_user")
    for record in changes:
        what = record.history_change_reason or "Goal changed"
        entries.append(
            TimelineEntry(
                at=record.history_date,
                kind="goal",
                text=f"{what}: {record.description}",
                who=_who(record.history_user),
            )
        )
    interventions = Intervention.objects.filter(goal__care_plan_id=plan_id).select_related("goal", "created_by")
    for iv in interventions:
        entries.append(
            TimelineEntry(
                at=iv.created_at,
                kind="intervention",
                text=f"Intervention added: {iv.description} (goal: {iv.goal.description})",
                who=_who(iv.created_by),
            )
        )
    return entries
