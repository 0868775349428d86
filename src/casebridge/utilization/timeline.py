"""Utilization review entries on the case timeline: reviews completed and escalated, determinations."""

from __future__ import annotations

from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry
from casebridge.utilization.criteria import LEVEL_LABELS, LevelOfCare
from casebridge.utilization.models import Determination, UtilizationReview


def entries_for(case: Case) -> list[TimelineEntry]:
    entries = []
    for r in UtilizationReview.objects.filter(case=case).select_related("completed_by", "escalated_by"):
        if r.completed_at is not None:
            level = LEVEL_LABELS.get(LevelOfCare(r.decided_level), r.decided_level) if r.decided_level else ""
            text = f"{r.get_kind_display()} completed: {r.get_decision_display().lower()}" + (
                f" ({level})" if level else ""
            )
            entries.append(TimelineEntry(at=r.completed_at, kind="review", text=text, who=str(r.completed_by or "")))
        if r.escalated_at is not None:
            entries.append(
                TimelineEntry(
                    at=r.escalated_at,
                    kind="review",
                    text="Escalated to physician advisor",
                    who=str(r.escalated_by or ""),
                )
            )
    for d in Determination.objects.filter(review__case=case, decided_at__isnull=False):
        assert d.decided_at is not None
        entries.append(
            TimelineEntry(
                at=d.decided_at, kind="review", text=f"Not medically necessary ({d.get_scope_display().lower()})"
            )
        )
    return entries
