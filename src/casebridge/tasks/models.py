from __future__ import annotations

from django.conf import settings
from django.db import models

from casebridge.tasks.domain import TaskStatus

STATUS_CHOICES = [(s.value, s.value.replace("-", " ").capitalize()) for s in TaskStatus]


class Priority(models.TextChoices):
    # FHIR request-priority
    ROUTINE = "routine", "Routine"
    URGENT = "urgent", "Urgent"
    ASAP = "asap", "ASAP"
    STAT = "stat", "STAT"


class WorkQueue(models.Model):
    """A team queue that tasks can be owned by, e.g. "UR nurses" or "Intake"."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="work_queues")
    name = models.CharField(max_length=100)
    members = models.ManyToManyField(settings.AUTH_USER_MODEL, related_name="work_queues", blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "name"], name="queue_unique_name")]
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Task(models.Model):
    """A piece of work (FHIR Task), owned by a user or a team queue."""

    # No single-column indexes on organization, case, owner and queue: the composite indexes in Meta
    # start with them, and every index costs each of the feed's inserts.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="tasks", db_index=False
    )
    case = models.ForeignKey(
        "cases.Case", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks", db_index=False
    )
    patient = models.ForeignKey(
        "patients.Patient", null=True, blank=True, on_delete=models.CASCADE, related_name="tasks"
    )
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    kind = models.CharField(max_length=40, blank=True, help_text="What kind of work, e.g. initial_review, follow_up")
    status = models.CharField(max_length=20, choices=STATUS_CHOICES, default=TaskStatus.READY)
    priority = models.CharField(max_length=8, choices=Priority.choices, default=Priority.ROUTINE)
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="owned_tasks",
        db_index=False,
    )
    queue = models.ForeignKey(
        WorkQueue, null=True, blank=True, on_delete=models.SET_NULL, related_name="tasks", db_index=False
    )
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    # Set by the overdue check when an urgent task passes its due time; cleared when it is reassigned or rescheduled.
    escalated_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            # The worklist: my open tasks by due time.
            models.Index(fields=["owner", "status", "due_at"]),
            models.Index(fields=["queue", "status", "due_at"]),
            models.Index(fields=["case", "status"]),
            models.Index(fields=["organization", "status", "due_at"]),
        ]

    def __str__(self) -> str:
        return self.title


class TaskStatusChange(models.Model):
    task = models.ForeignKey(Task, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=20, choices=STATUS_CHOICES, blank=True)
    to_status = models.CharField(max_length=20, choices=STATUS_CHOICES)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]
