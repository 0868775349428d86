from __future__ import annotations

import datetime as dt

from django.db import transaction

from casebridge.accounts.models import User
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.selectors import cases_owned
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, ValidationFailed
from casebridge.kernel.validation import validate_model
from casebridge.patients.selectors import patients_owned
from casebridge.tasks.domain import TaskStatus
from casebridge.tasks.models import Priority, Task, TaskStatusChange, WorkQueue


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
) -> Task:
    """Create a task in the actor's organization, owned by a user or a team queue (default: the actor)."""
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
        case = None
        if case_id is not None:
            case = cases_owned(actor).filter(pk=case_id).first()
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
        else:
            owner_id = owner_id if owner_id is not None else actor.user_id
            owner = User.objects.filter(
                pk=owner_id, memberships__organization=actor.organization, memberships__active=True
            ).first()
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
        validate_model(task)
        task.save()
        TaskStatusChange.objects.create(task=task, from_status="", to_status=status, at=now, by=actor.user)
        audit_record(actor=actor, action="task.create", subject=task, patient=patient)
    return task
