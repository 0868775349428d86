"""Timeline entries for a case: tasks created, completed and otherwise closed (from TaskStatusChange)."""

from __future__ import annotations

from django.db.models import Q

from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry
from casebridge.tasks.domain import FINAL, TaskStatus
from casebridge.tasks.models import STATUS_CHOICES, TaskStatusChange

STATUS_LABELS = dict(STATUS_CHOICES)

_SHOWN = [s.value for s in FINAL]


def entries_for(case: Case) -> list[TimelineEntry]:
    changes = TaskStatusChange.objects.filter(
        Q(from_status="") | Q(to_status__in=_SHOWN), task__case_id=case.pk
    ).select_related("task", "by")
    entries = []
    for change in changes:
        title = change.task.title
        if not change.from_status:
            text = f"Task created: {title}"
        elif change.to_status == TaskStatus.COMPLETED:
            text = f"Task completed: {title}"
        else:
            text = f"Task {STATUS_LABELS.get(change.to_status, change.to_status).lower()}: {title}"
        if change.reason:
            text += f" ({change.reason})"
        entries.append(TimelineEntry(at=change.at, kind="task", text=text, who=str(change.by or "")))
    return entries
