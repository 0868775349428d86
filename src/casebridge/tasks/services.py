"""Writes to tasks and work queues. Each service checks permission, runs in one transaction and audits itself."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from casebridge.accounts.models import User
from casebridge.accounts.permissions import can, require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import Case
from casebridge.cases.selectors import cases_owned
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.kernel.prepared import PreparedQuery
from casebridge.kernel.rows import insert_objects_later
from casebridge.kernel.saving import save_object
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version
from casebridge.patients.selectors import patients_owned
from casebridge.tasks.domain import FINAL, TaskStatus, check_move, path_to_completion
from casebridge.tasks.models import Priority, Task, TaskStatusChange, WorkQueue

# Every new task checks its owner: compiled once (see kernel.prepared).
_ACTIVE_STAFF = PreparedQuery(
    User,
    lambda pk, organization_id: User.objects.filter(
        pk=pk, memberships__organization_id=organization_id, memberships__active=True
    ).order_by("pk")[:1],
    pk=int,
    organization_id=int,
)


def _first(rows: list[User]) -> User | None:
    return rows[0] if rows else None


def task_create(
    *,
    actor: Actor,
    title: str,
    case_id: int | None = None,
    patient_id: int | None = None,
    description: str = "",
    kind: str = "",
    priority: str = Priority.ROUTINE,
    owner_id: int | None = None,
    queue_id: int | None = None,
    due_at: dt.datetime | None = None,
    status: str = TaskStatus.READY,
    case: Case | None = None,
) -> Task:
    """Create a task in the actor's organization, owned by a user or a team queue (default: the actor).

    ``case``: the case's row when the caller read or created it in the current transaction (it must be
    ``case_id`` in the actor's organization); it is not read again."""
    require(actor, "task.change")
    if not title.strip():
        raise ValidationFailed.on("title", "is required")
    if priority not in Priority.values:
        raise ValidationFailed.on("priority", f"must be one of {', '.join(Priority.values)}")
    if status not in (TaskStatus.DRAFT, TaskStatus.REQUESTED, TaskStatus.READY):
        raise ValidationFailed.on("status", "a new task starts as draft, requested or ready")
    if owner_id is not None and queue_id is not None:
        raise ValidationFailed.on("owner_id", "a task is owned by a user or a queue, not both")
    with transaction.atomic():
        if case is not None and (
            case_id is None or case.pk != case_id or case.organization_id != actor.organization_id
        ):
            case = None
        if case_id is not None and case is None:
            case = cases_owned(actor).select_related("patient").filter(pk=case_id).first()
            if case is None:
                raise NotFound(f"No case {case_id}.")
        patient = case.patient if case is not None else None
        if patient_id is not None:
            if case is not None and case.patient_id != patient_id:
                raise ValidationFailed.on("patient_id", "is not the case's patient")
            patient = patients_owned(actor).filter(pk=patient_id).first()
            if patient is None:
                raise NotFound(f"No patient {patient_id}.")
        owner = None
        queue = None
        if queue_id is not None:
            queue = WorkQueue.objects.filter(pk=queue_id, organization=actor.organization).first()
            if queue is None:
                raise ValidationFailed.on("queue_id", f"no queue {queue_id} in {actor.organization.name}")
        elif owner_id is None or owner_id == actor.user_id:
            owner = actor.user  # the acting user, whose membership made the actor: no lookup
        else:
            owner = _first(_ACTIVE_STAFF(pk=owner_id, organization_id=actor.organization_id))
            if owner is None:
                raise ValidationFailed.on("owner_id", f"user {owner_id} is not staff of {actor.organization.name}")
        now = clock.now()
        task = Task(
            organization=actor.organization,
            case=case,
            patient=patient,
            title=title.strip(),
            description=description,
            kind=kind,
            status=status,
            priority=priority,
            owner=owner,
            queue=queue,
            due_at=due_at,
            created_at=now,
            created_by=actor.user,
        )
        validate_model(task, trust_loaded=True)
        save_object(task)
        insert_objects_later([TaskStatusChange(task=task, from_status="", to_status=status, at=now, by=actor.user)])
        audit_record(actor=actor, action="task.create", subject=task, patient=patient)
    return task


def _staff(actor: Actor, user_id: int, field: str) -> User:
    user = User.objects.filter(
        pk=user_id, memberships__organization=actor.organization, memberships__active=True
    ).first()
    if user is None:
        raise ValidationFailed.on(field, f"user {user_id} is not staff of {actor.organization.name}")
    return user


def _queue(actor: Actor, queue_id: int, field: str = "queue_id") -> WorkQueue:
    queue = WorkQueue.objects.filter(pk=queue_id, organization=actor.organization).first()
    if queue is None:
        raise ValidationFailed.on(field, f"no queue {queue_id} in {actor.organization.name}")
    return queue


def _locked(actor: Actor, task_id: int, version: int | None) -> Task:
    # Scoped to the actor's organization: another organization's task is "not found", like a missing one.
    return lock_at_version(Task.objects.filter(organization_id=actor.organization_id), task_id, version, "task")


def _parse_status(value: str) -> TaskStatus:
    try:
        return TaskStatus(value)
    except ValueError as exc:
        raise ValidationFailed.on("status", f"unknown task status {value!r}") from exc


def _record_move(task: Task, *, to: TaskStatus, actor: Actor, at: dt.datetime, reason: str = "") -> None:
    change = TaskStatusChange(task=task, from_status=task.status, to_status=to, at=at, by=actor.user, reason=reason)
    insert_objects_later([change])
    task.status = to
    if to == TaskStatus.COMPLETED:
        task.completed_at = at
    if to in FINAL:
        task.escalated_at = None
    if reason:
        task.status_reason = reason


def task_transition(
    *, actor: Actor, task_id: int, to_status: str, reason: str = "", version: int | None = None
) -> Task:
    """Move a task one step along the FHIR Task status machine; illegal moves are refused (409)."""
    require(actor, "task.change")
    target = _parse_status(to_status)
    reason = reason.strip()
    with transaction.atomic():
        task = _locked(actor, task_id, version)
        current = TaskStatus(task.status)
        check_move(current, target, reason=reason)
        _record_move(task, to=target, actor=actor, at=clock.now(), reason=reason)
        task.save()
        audit_record(
            actor=actor,
            action="task.transition",
            subject=task,
            patient=task.patient_id,
            detail={"from": current.value, "to": target.value},
        )
    return task


def task_complete(*, actor: Actor, task_id: int, version: int | None = None, note: str = "") -> Task:
    """Mark done: walk the legal path to completed, recording every step (e.g. ready -> in-progress -> completed)."""
    require(actor, "task.change")
    with transaction.atomic():
        task = _locked(actor, task_id, version)
        current = TaskStatus(task.status)
        steps = path_to_completion(current)
        now = clock.now()
        for step in steps:
            check_move(TaskStatus(task.status), step)
            _record_move(task, to=step, actor=actor, at=now, reason=note.strip() if step == steps[-1] else "")
        task.save()
        audit_record(
            actor=actor,
            action="task.complete",
            subject=task,
            patient=task.patient_id,
            detail={"from": current.value, "steps": [s.value for s in steps]},
        )
    return task


TASK_EDITABLE = ("title", "description", "due_at", "priority")


def task_update(*, actor: Actor, task_id: int, version: int | None, **changes: Any) -> Task:
    """Change what a task asks for and when. A closed task is a record and stays as it was."""
    require(actor, "task.change")
    unknown = set(changes) - set(TASK_EDITABLE)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    if "title" in changes:
        if changes["title"] is None or not str(changes["title"]).strip():
            raise ValidationFailed.on("title", "is required")
        changes["title"] = str(changes["title"]).strip()
    if "description" in changes and changes["description"] is None:
        changes["description"] = ""
    if "priority" in changes and changes["priority"] not in Priority.values:
        raise ValidationFailed.on("priority", f"must be one of {', '.join(Priority.values)}")
    with transaction.atomic():
        task = _locked(actor, task_id, version)
        if TaskStatus(task.status) in FINAL:
            raise ValidationFailed.on("status", f"a {task.status} task cannot be edited")
        for k, v in changes.items():
            setattr(task, k, v)
        if "due_at" in changes:
            task.escalated_at = None  # rescheduled: the escalation was about the old due time
        validate_model(task)
        task.save()
        audit_record(
            actor=actor, action="task.update", subject=task, patient=task.patient_id, detail={"fields": sorted(changes)}
        )
    return task


def task_reassign(
    *, actor: Actor, task_id: int, owner_id: int | None = None, queue_id: int | None = None, version: int | None = None
) -> Task:
    """Supervisors hand an open task to a colleague or a team queue."""
    require(actor, "task.reassign")
    if (owner_id is None) == (queue_id is None):
        raise ValidationFailed.on("owner_id", "give either an owner or a queue")
    with transaction.atomic():
        task = _locked(actor, task_id, version)
        if TaskStatus(task.status) in FINAL:
            raise ValidationFailed.on("status", f"a {task.status} task cannot be reassigned")
        before = {"owner": task.owner_id, "queue": task.queue_id}
        task.owner = _staff(actor, owner_id, "owner_id") if owner_id is not None else None
        task.queue = _queue(actor, queue_id) if queue_id is not None else None
        task.escalated_at = None
        task.save()
        audit_record(
            actor=actor,
            action="task.reassign",
            subject=task,
            patient=task.patient_id,
            detail={"from": before, "to": {"owner": owner_id, "queue": queue_id}},
        )
    return task


def task_claim(*, actor: Actor, task_id: int) -> Task:
    """A member of a team queue takes one of its tasks for themself."""
    require(actor, "task.change")
    with transaction.atomic():
        task = _locked(actor, task_id, None)
        if task.queue is None or not task.queue.members.filter(pk=actor.user_id).exists():
            raise ValidationFailed.on("queue", "only members of the task's queue can take it")
        if TaskStatus(task.status) in FINAL:
            raise ValidationFailed.on("status", f"a {task.status} task cannot be taken")
        queue_id = task.queue_id
        task.owner = actor.user
        task.queue = None
        task.save()
        audit_record(
            actor=actor, action="task.claim", subject=task, patient=task.patient_id, detail={"queue": queue_id}
        )
    return task


def _require_queue_manager(actor: Actor) -> None:
    # Supervisors run their team's queues; organization admins set them up.
    if not (can(actor, "task.reassign") or can(actor, "organization.manage")):
        raise PermissionDenied(f"Your role in {actor.organization.name} does not allow managing work queues.")


def queue_create(*, actor: Actor, name: str) -> WorkQueue:
    _require_queue_manager(actor)
    name = name.strip()
    if not name:
        raise ValidationFailed.on("name", "is required")
    if len(name) > 100:
        raise ValidationFailed.on("name", "must be at most 100 characters")
    try:
        with transaction.atomic():
            if WorkQueue.objects.filter(organization=actor.organization, name__iexact=name).exists():
                raise ValidationFailed.on("name", f"a queue named {name!r} already exists")
            queue = WorkQueue.objects.create(organization=actor.organization, name=name)
            audit_record(actor=actor, action="queue.create", subject=queue)
    except IntegrityError as exc:  # a concurrent create of the same name
        raise ValidationFailed.on("name", f"a queue named {name!r} already exists") from exc
    return queue


def queue_member_add(*, actor: Actor, queue_id: int, user_id: int) -> WorkQueue:
    _require_queue_manager(actor)
    with transaction.atomic():
        queue = WorkQueue.objects.select_for_update().filter(pk=queue_id, organization=actor.organization).first()
        if queue is None:
            raise NotFound(f"No queue {queue_id}.")
        user = _staff(actor, user_id, "user_id")
        queue.members.add(user)
        audit_record(actor=actor, action="queue.member_add", subject=queue, detail={"user": user_id})
    return queue
