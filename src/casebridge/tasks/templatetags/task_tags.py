"""Template helpers for the tasks area: the case page's task section loads its own data here,
so the cases package does not need to know about tasks."""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.accounts.selectors import organization_users
from casebridge.kernel import clock
from casebridge.kernel.errors import IllegalTransition
from casebridge.tasks import selectors
from casebridge.tasks.domain import MOVES, TaskStatus, path_to_completion
from casebridge.tasks.forms import TaskForm
from casebridge.tasks.models import Task, WorkQueue

register = template.Library()


@register.simple_tag(takes_context=True)
def case_task_section(context: template.Context, case: Any) -> dict[str, Any]:
    actor = getattr(context.get("request"), "actor", None)
    owned = actor is not None and case.organization_id == actor.organization_id
    can_change = actor is not None and owned and can(actor, "task.change")
    now = clock.now()
    open_tasks = selectors.case_tasks_open(case)
    for t in open_tasks:
        t.due_bucket = selectors.due_bucket(t, now)  # type: ignore[attr-defined]
    form = None
    if can_change and actor is not None:
        form = TaskForm(
            users=organization_users(actor=actor),
            queues=WorkQueue.objects.filter(organization_id=actor.organization_id).order_by("name"),
            initial={"owner": f"u{actor.user_id}"},
            auto_id="id_task_%s",
        )
    return {
        "open": open_tasks,
        "completed": selectors.case_tasks_recently_completed(case),
        "form": form,
        "can_change": can_change,
    }


@register.filter
def can_start(task: Task) -> bool:
    return TaskStatus.IN_PROGRESS in MOVES[TaskStatus(task.status)]


@register.filter
def can_complete(task: Task) -> bool:
    try:
        path_to_completion(TaskStatus(task.status))
    except IllegalTransition:
        return False
    return True
