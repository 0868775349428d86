from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from casebridge.careplans.instruments import KIND_LABELS, AssessmentKind
from casebridge.careplans.vocabulary import (
    PAYER_LABELS,
    ActivityStatus,
    CarePlanIntent,
    CarePlanStatus,
    GoalAchievement,
    GoalLifecycle,
    choices,
)


class AssessmentStatus(models.TextChoices):
    IN_PROGRESS = "in-progress", "In progress"
    COMPLETED = "completed", "Completed"


class Assessment(models.Model):
    """An assessment of needs and resources for a case; answers are validated against the instrument's questions."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="assessments")
    kind = models.CharField(max_length=24, choices=[(k.value, v) for k, v in KIND_LABELS.items()])
    status = models.CharField(max_length=16, choices=AssessmentStatus.choices, default=AssessmentStatus.IN_PROGRESS)
    answers = models.JSONField(default=dict, blank=True)
    started_at = models.DateTimeField()
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-started_at", "-pk"]
        indexes = [models.Index(fields=["case", "status"])]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} #{self.pk}"

    @property
    def kind_enum(self) -> AssessmentKind:
        return AssessmentKind(self.kind)


class CarePlan(models.Model):
    """The case's plan of care (FHIR CarePlan). Its version counts every saved change to it or its parts."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="care_plan")
    title = models.CharField(max_length=200, blank=True)
    description = models.TextField(blank=True)
    status = models.CharField(max_length=20, choices=choices(CarePlanStatus), default=CarePlanStatus.DRAFT)
    intent = models.CharField(max_length=12, choices=choices(CarePlanIntent), default=CarePlanIntent.PLAN)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords()

    def __str__(self) -> str:
        return self.title or f"Care plan for case {self.case_id}"


class NeedStatus(models.TextChoices):
    ACTIVE = "active", "Active"
    RESOLVED = "resolved", "Resolved"
    ENTERED_IN_ERROR = "entered-in-error", "Entered in error"


class Need(models.Model):
    """An identified need (FHIR CarePlan.addresses / Condition of category health-concern)."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="needs")
    code = models.CharField(max_length=64)
    label = models.CharField(max_length=200)
    domain = models.CharField(max_length=40, blank=True)
    evidence = models.CharField(max_length=500, blank=True)
    assessment = models.ForeignKey(
        Assessment, null=True, blank=True, on_delete=models.SET_NULL, related_name="identified_needs"
    )
    status = models.CharField(max_length=20, choices=NeedStatus.choices, default=NeedStatus.ACTIVE)
    identified_at = models.DateTimeField()
    history = HistoricalRecords()

    class Meta:
        ordering = ["identified_at", "pk"]

    def __str__(self) -> str:
        return self.label


class Goal(models.Model):
    """A measurable goal (FHIR Goal) addressing a need."""

    care_plan = models.ForeignKey(CarePlan, on_delete=models.CASCADE, related_name="goals")
    need = models.ForeignKey(Need, null=True, blank=True, on_delete=models.SET_NULL, related_name="goals")
    description = models.CharField("goal", max_length=300)
    measure = models.CharField(max_length=200, blank=True, help_text="What is measured, e.g. falls per month")
    target_value = models.CharField(max_length=100, blank=True, help_text="e.g. 0, at least 3, independent")
    target_date = models.DateField(null=True, blank=True)
    lifecycle_status = models.CharField(max_length=20, choices=choices(GoalLifecycle), default=GoalLifecycle.PROPOSED)
    achievement_status = models.CharField(max_length=20, choices=choices(GoalAchievement), blank=True)
    status_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def lifecycle(self) -> GoalLifecycle:
        return GoalLifecycle(self.lifecycle_status)


class Intervention(models.Model):
    """An intervention or service toward a goal (FHIR CarePlan.activity.detail)."""

    goal = models.ForeignKey(Goal, on_delete=models.CASCADE, related_name="interventions")
    description = models.CharField("what", max_length=300)
    discipline = models.CharField(
        "discipline or type", max_length=60, blank=True, help_text="e.g. SN, PT, MSW, meal delivery, transport"
    )
    provider_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_name = models.CharField(max_length=200, blank=True)
    frequency = models.CharField(max_length=100, blank=True, help_text='e.g. "SN 2w3" or "weekly"')
    start_date = models.DateField(null=True, blank=True)
    end_date = models.DateField(null=True, blank=True)
    estimated_cost = models.DecimalField(max_digits=10, decimal_places=2, null=True, blank=True)
    payer = models.CharField(
        "who pays", max_length=24, choices=[(k.value, v) for k, v in PAYER_LABELS.items()], default="unknown"
    )
    status = models.CharField(max_length=20, choices=choices(ActivityStatus), default=ActivityStatus.NOT_STARTED)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    history = HistoricalRecords()

    class Meta:
        ordering = ["created_at", "pk"]

    def __str__(self) -> str:
        return self.description

    @property
    def provider(self) -> str:
        return str(self.provider_organization) if self.provider_organization_id else self.provider_name
