"""The overdue check: urgent work that has passed its due time is flagged for supervisors.

Runs as a background task (django-tasks). Enqueue ``flag_overdue_tasks`` from a
timer or cron every few minutes; it is idempotent, so running it twice flags nothing twice.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django_tasks import task

from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.tasks.models import Priority, Task
from casebridge.tasks.selectors import overdue_q

# FHIR request-priority: everything above routine cannot wait unnoticed.
ESCALATED_PRIORITIES = (Priority.URGENT, Priority.ASAP, Priority.STAT)
BATCH = 500


def escalate_overdue(*, now: dt.datetime | None = None) -> list[int]:
    """Flag open urgent/ASAP/STAT tasks past their due time, once each, with a system audit event per task."""
    moment = now or clock.now()
    flagged: list[int] = []
    while True:
        with transaction.atomic():
            batch = list(
                Task.objects.select_for_update()
                .filter(overdue_q(moment), priority__in=ESCALATED_PRIORITIES, escalated_at__isnull=True)
                .order_by("due_at", "pk")
                .values_list("pk", "organization_id", "patient_id", "due_at", "priority")[:BATCH]
            )
            if not batch:
                return flagged
            ids = [row[0] for row in batch]
            Task.objects.filter(pk__in=ids).update(escalated_at=moment)
            AuditEvent.objects.bulk_create(
                AuditEvent(
                    at=moment,
                    user=None,
                    username="system",
                    organization_id=org_id,
                    roles="",
                    action="task.escalate",
                    patient_id=patient_id,
                    object_type="tasks.task",
                    object_id=str(pk),
                    detail={"due_at": due_at.isoformat() if due_at else "", "priority": priority, "reason": "overdue"},
                )
                for pk, org_id, patient_id, due_at, priority in batch
            )
            flagged.extend(ids)


@task()
def flag_overdue_tasks() -> int:
    """Background entry point; returns how many tasks it flagged."""
    return len(escalate_overdue())
