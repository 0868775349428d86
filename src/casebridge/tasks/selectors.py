"""Reads of tasks and work queues, always scoped to the actor's organization.

The worklist selectors are on every user's home page, so each one runs a fixed
number of queries whatever the number of rows, reads through an index and
LIMITs what it returns.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Count, F, Func, IntegerField, OuterRef, Prefetch, Q, QuerySet, Subquery
from django.utils import timezone

from casebridge.accounts.models import User
from casebridge.accounts.permissions import require
from casebridge.accounts.roles import CASE_MANAGER, SUPERVISOR
from casebridge.audit.recorder import audit_record
from casebridge.cases import domain as case_domain
from casebridge.cases.models import Case
from casebridge.cases.selectors import cases_owned, linked_case_ids
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.tasks.domain import OPEN, TaskStatus
from casebridge.tasks.models import Task, WorkQueue

OPEN_STATUSES = sorted(s.value for s in OPEN)
WORKLIST_LIMIT = 100
MY_CASES_LIMIT = 50
QUEUE_TASKS_LIMIT = 10
RECENTLY_COMPLETED_LIMIT = 10

# Open tasks by due time; tasks without a due time come last. Because an overdue
# task is one whose due time has passed, ascending due time puts overdue first.
BY_DUE = (F("due_at").asc(nulls_last=True), "pk")


def overdue_q(now: dt.datetime | None = None, prefix: str = "") -> Q:
    """The overdue rule as a filter: open, and due before now. ``prefix`` reaches tasks through a relation."""
    moment = now or clock.now()
    return Q(**{f"{prefix}due_at__lt": moment, f"{prefix}status__in": OPEN_STATUSES})


def overdue(qs: QuerySet[Task], now: dt.datetime | None = None) -> QuerySet[Task]:
    return qs.filter(overdue_q(now))


def open_tasks(qs: QuerySet[Task]) -> QuerySet[Task]:
    return qs.filter(status__in=OPEN_STATUSES)


def scoped_to_org_by_owner_index(qs: QuerySet, actor: Actor) -> QuerySet:
    """Scope to the actor's organization without letting the planner pick the organization index.

    A per-person list (my tasks, my cases) must read through the person's index:
    the organization index would scan every open row of the organization. Without
    table statistics SQLite picks the organization index, so the organization test
    is written as ``+organization_id = ?``, which no index matches (SQLite's
    documented way to disqualify a term from index use; harmless on PostgreSQL).
    """
    return qs.alias(_org=Func(F("organization_id"), template="+%(expressions)s", output_field=IntegerField())).filter(
        _org=actor.organization_id
    )


def tasks_owned(actor: Actor) -> QuerySet[Task]:
    """Tasks of the actor's organization: the only ones the actor may change."""
    return Task.objects.filter(organization_id=actor.organization_id)


def tasks_visible(actor: Actor) -> QuerySet[Task]:
    """Own tasks plus tasks on cases another organization shares with us through its care team."""
    return Task.objects.filter(Q(organization_id=actor.organization_id) | Q(case_id__in=linked_case_ids(actor)))


def task_get(*, actor: Actor, task_id: int, audit: bool = True) -> Task:
    require(actor, "case.view")
    task = (
        tasks_visible(actor)
        .select_related("patient", "case", "owner", "queue", "created_by")
        .filter(pk=task_id)
        .first()
    )
    if task is None:
        raise NotFound(f"No task {task_id}.")
    if audit:
        audit_record(actor=actor, action="task.read", subject=task, patient=task.patient_id)
    return task


def task_list(
    *,
    actor: Actor,
    status: str | None = None,
    owner_id: int | None = None,
    queue_id: int | None = None,
    case_id: int | None = None,
    priority: str | None = None,
    is_overdue: bool | None = None,
) -> QuerySet[Task]:
    require(actor, "case.view")
    qs = tasks_visible(actor)
    if status == "open":
        qs = open_tasks(qs)
    elif status:
        qs = qs.filter(status=status)
    if owner_id is not None:
        qs = qs.filter(owner_id=owner_id)
    if queue_id is not None:
        qs = qs.filter(queue_id=queue_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if priority:
        qs = qs.filter(priority=priority)
    if is_overdue is True:
        qs = overdue(qs)
    elif is_overdue is False:
        qs = qs.exclude(overdue_q())
    return qs.order_by(*BY_DUE)


# --- The worklist -----------------------------------------------------------------


@dataclass
class DueGroups:
    overdue: list[Task] = field(default_factory=list)
    today: list[Task] = field(default_factory=list)
    later: list[Task] = field(default_factory=list)
    undated: list[Task] = field(default_factory=list)

    def sections(self) -> list[tuple[str, str, list[Task]]]:
        return [
            ("overdue", "Overdue", self.overdue),
            ("today", "Due today", self.today),
            ("later", "Later", self.later),
            ("undated", "No due date", self.undated),
        ]

    @property
    def total(self) -> int:
        return len(self.overdue) + len(self.today) + len(self.later) + len(self.undated)


def due_bucket(task: Task, now: dt.datetime) -> str:
    if task.due_at is None:
        return "undated"
    if task.due_at < now and task.status in OPEN_STATUSES:
        return "overdue"
    if timezone.localdate(task.due_at) == timezone.localdate(now):
        return "today"
    return "later"


def group_by_due(tasks: list[Task], now: dt.datetime | None = None) -> DueGroups:
    moment = now or clock.now()
    groups = DueGroups()
    for task in tasks:
        bucket = due_bucket(task, moment)
        task.due_bucket = bucket  # type: ignore[attr-defined]
        getattr(groups, bucket).append(task)
    return groups


def my_tasks(*, actor: Actor, limit: int | None = None) -> list[Task]:
    """My open tasks, overdue first, then by due time, undated last.

    Filters on (owner, status) and sorts on due_at: the (owner, status, due_at) index.
    """
    require(actor, "case.view")
    qs = open_tasks(scoped_to_org_by_owner_index(Task.objects.filter(owner_id=actor.user_id), actor))
    return list(qs.select_related("patient", "case").order_by(*BY_DUE)[: limit or WORKLIST_LIMIT])


def my_task_count(*, actor: Actor) -> int:
    return open_tasks(scoped_to_org_by_owner_index(Task.objects.filter(owner_id=actor.user_id), actor)).count()


def _next_open_task(field_name: str) -> Subquery:
    return Subquery(
        Task.objects.filter(case_id=OuterRef("pk"), status__in=OPEN_STATUSES).order_by(*BY_DUE).values(field_name)[:1]
    )


def my_cases(*, actor: Actor, limit: int = MY_CASES_LIMIT) -> list[Case]:
    """My open cases, each with its next action: its open task due soonest. One query, not one per case."""
    require(actor, "case.view")
    qs = (
        scoped_to_org_by_owner_index(Case.objects.filter(assigned_to_id=actor.user_id), actor)
        .filter(status__in=[s.value for s in case_domain.OPEN])
        .select_related("patient")
        .annotate(
            next_task_id=_next_open_task("pk"),
            next_task_title=_next_open_task("title"),
            next_task_due=_next_open_task("due_at"),
        )
        .order_by(F("next_task_due").asc(nulls_last=True), "-opened_at")
    )
    return list(qs[:limit])


def my_queues(*, actor: Actor, per_queue: int = QUEUE_TASKS_LIMIT) -> list[WorkQueue]:
    """Queues I am a member of, each with its open-task count and first open tasks (two queries in all)."""
    require(actor, "case.view")
    first_open = open_tasks(Task.objects.all()).select_related("patient", "case").order_by(*BY_DUE)
    return list(
        WorkQueue.objects.filter(organization_id=actor.organization_id, members=actor.user)
        .annotate(
            open_count=Count("tasks", filter=Q(tasks__status__in=OPEN_STATUSES)),
            overdue_count=Count("tasks", filter=overdue_q(prefix="tasks__")),
        )
        .prefetch_related(Prefetch("tasks", queryset=first_open[:per_queue], to_attr="open_tasks"))
        .order_by("name")
    )


def queue_list(*, actor: Actor) -> QuerySet[WorkQueue]:
    require(actor, "case.view")
    return (
        WorkQueue.objects.filter(organization_id=actor.organization_id)
        .annotate(open_count=Count("tasks", filter=Q(tasks__status__in=OPEN_STATUSES)))
        .prefetch_related("members")
        .order_by("name")
    )


# --- A case's tasks -----------------------------------------------------------------


def case_tasks_open(case: Case) -> list[Task]:
    """Open tasks of a case the caller already fetched through a scoped selector."""
    return list(open_tasks(case.tasks.all()).select_related("owner", "queue").order_by(*BY_DUE))


def case_tasks_recently_completed(case: Case, limit: int = RECENTLY_COMPLETED_LIMIT) -> list[Task]:
    return list(
        case.tasks.filter(status=TaskStatus.COMPLETED).select_related("owner").order_by("-completed_at", "-pk")[:limit]
    )


# --- Supervisors' caseload -----------------------------------------------------------


@dataclass
class CaseloadRow:
    user: User
    open_cases: int = 0
    open_tasks: int = 0
    overdue_tasks: int = 0


def caseload_staff(*, actor: Actor) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organization_id=actor.organization_id,
            memberships__active=True,
            memberships__role__in=(CASE_MANAGER, SUPERVISOR),
        )
        .distinct()
        .order_by("last_name", "first_name", "pk")
    )


def caseload(*, actor: Actor) -> list[CaseloadRow]:
    """Per case manager: open cases, open tasks and overdue tasks. Three queries, whatever the staff size."""
    require(actor, "caseload.view")
    rows = {u.pk: CaseloadRow(user=u) for u in caseload_staff(actor=actor)}
    case_counts = (
        cases_owned(actor)
        .filter(assigned_to_id__in=list(rows), status__in=[s.value for s in case_domain.OPEN])
        .values("assigned_to_id")
        .annotate(n=Count("pk"))
    )
    for c in case_counts:
        rows[c["assigned_to_id"]].open_cases = c["n"]
    task_counts = (
        open_tasks(tasks_owned(actor))
        .filter(owner_id__in=list(rows))
        .values("owner_id")
        .annotate(n=Count("pk"), late=Count("pk", filter=Q(due_at__lt=clock.now())))
    )
    for t in task_counts:
        rows[t["owner_id"]].open_tasks = t["n"]
        rows[t["owner_id"]].overdue_tasks = t["late"]
    return list(rows.values())


def unassigned_case_count(*, actor: Actor) -> int:
    return cases_owned(actor).filter(assigned_to__isnull=True, status__in=[s.value for s in case_domain.OPEN]).count()


def member_cases(*, actor: Actor, user_id: int, limit: int = 200) -> list[Case]:
    require(actor, "caseload.view")
    return list(
        cases_owned(actor)
        .filter(assigned_to_id=user_id, status__in=[s.value for s in case_domain.OPEN])
        .select_related("patient")
        .annotate(open_task_count=Count("tasks", filter=Q(tasks__status__in=OPEN_STATUSES)))
        .order_by("-opened_at", "-pk")[:limit]
    )


def member_tasks(*, actor: Actor, user_id: int, limit: int = 200) -> list[Task]:
    require(actor, "caseload.view")
    return list(
        open_tasks(tasks_owned(actor).filter(owner_id=user_id))
        .select_related("patient", "case")
        .order_by(*BY_DUE)[:limit]
    )


def escalated_tasks(*, actor: Actor, limit: int = 50) -> list[Task]:
    require(actor, "caseload.view")
    return list(
        open_tasks(tasks_owned(actor).filter(escalated_at__isnull=False))
        .select_related("patient", "case", "owner", "queue")
        .order_by(*BY_DUE)[:limit]
    )
