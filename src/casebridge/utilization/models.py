"""Utilization review records: reviews and their clocks, criteria sets and versions, 482.30(d)
determinations and notices, MOON notices, condition code 44, avoidable days. Persistence only."""

from __future__ import annotations

from django.conf import settings
from django.db import models

from casebridge.hospital.rules.ur_determination import AttendingView, DecisionPath, NoticeRecipient
from casebridge.utilization.criteria import LEVEL_LABELS, LevelOfCare

LEVEL_CHOICES = [(level.value, LEVEL_LABELS[level]) for level in LevelOfCare]


class PayerReviewPolicy(models.Model):
    """The hospital's UR plan per payer (42 CFR 482.30): hours to the initial review and between
    continued-stay reviews. ``payer`` blank is the organization's default for payers not listed."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    payer = models.CharField(max_length=200, blank=True, help_text="Payer name as on the coverage; blank = default")
    initial_review_hours = models.PositiveIntegerField(default=24)
    continued_stay_interval_hours = models.PositiveIntegerField(default=24)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "payer"], name="ur_policy_unique_payer")]
        ordering = ["payer"]


class CriteriaSet(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    key = models.SlugField(max_length=64)
    current_version = models.PositiveIntegerField(default=1)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "key"], name="criteria_set_unique_key")]
        ordering = ["key"]

    def __str__(self) -> str:
        return self.key


class CriteriaSetVersion(models.Model):
    """One version of a set, as authored (YAML or JSON) and as parsed. Versions are never edited."""

    criteria_set = models.ForeignKey(CriteriaSet, on_delete=models.CASCADE, related_name="versions")
    version = models.PositiveIntegerField()
    fmt = models.CharField("format", max_length=8, choices=[("yaml", "YAML"), ("json", "JSON")])
    source_text = models.TextField()
    definition = models.JSONField()
    title = models.CharField(max_length=200)
    citation = models.TextField()
    evidence = models.TextField()
    level_of_care = models.CharField(max_length=16, choices=LEVEL_CHOICES)
    example = models.BooleanField(default=False)
    change_note = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["criteria_set", "version"], name="criteria_version_unique")]
        ordering = ["criteria_set", "-version"]

    def __str__(self) -> str:
        return f"{self.title} v{self.version}"


class ReviewKind(models.TextChoices):
    INITIAL = "initial", "Initial review"
    CONTINUED_STAY = "continued_stay", "Continued-stay review"


TASK_KIND = {ReviewKind.INITIAL: "initial_review", ReviewKind.CONTINUED_STAY: "continued_stay_review"}


class ReviewStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ESCALATED = "escalated", "With physician advisor"
    COMPLETED = "completed", "Completed"
    CANCELLED = "cancelled", "Cancelled"


class ReviewDecision(models.TextChoices):
    CONFIRMED = "confirmed", "Confirmed the recommendation"
    OVERRIDDEN = "overridden", "Overrode the recommendation"
    NOT_MEDICALLY_NECESSARY = "not_medically_necessary", "Not medically necessary (42 CFR 482.30(d))"


class UtilizationReview(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    encounter = models.ForeignKey("clinical.Encounter", on_delete=models.CASCADE, related_name="+")
    task = models.OneToOneField("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    kind = models.CharField(max_length=16, choices=ReviewKind.choices)
    status = models.CharField(max_length=16, choices=ReviewStatus.choices, default=ReviewStatus.PENDING)
    payer = models.CharField(max_length=200, blank=True, help_text="Payer whose review interval applies")
    due_at = models.DateTimeField()
    # The latest evaluation: the criteria set versions used, each criterion's result with evidence, the recommendation.
    criteria_versions = models.JSONField(default=list, blank=True, help_text="[CriteriaSetVersion ids]")
    results = models.JSONField(default=list, blank=True)
    recommendation = models.JSONField(default=dict, blank=True)
    answers = models.JSONField(default=dict, blank=True, help_text="{set key: {criterion id: answer}}")
    evaluated_at = models.DateTimeField(null=True, blank=True)
    recommended_level = models.CharField(max_length=16, choices=LEVEL_CHOICES, blank=True)
    decided_level = models.CharField(max_length=16, choices=LEVEL_CHOICES, blank=True)
    decision = models.CharField(max_length=24, choices=ReviewDecision.choices, blank=True)
    override_reason = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalated_at = models.DateTimeField(null=True, blank=True)
    escalated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    escalation_reason = models.TextField(blank=True)
    advisor_task = models.OneToOneField(
        "tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        indexes = [
            models.Index(fields=["encounter", "status", "due_at"], name="ur_review_encounter_idx"),
            models.Index(fields=["organization", "status", "due_at"], name="ur_review_org_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.pk}"


class DeterminationStatus(models.TextChoices):
    OPEN = "open", "Open"
    DECIDED = "decided", "Decided: not medically necessary"
    WITHDRAWN = "withdrawn", "Withdrawn"


class DeterminationScope(models.TextChoices):
    ADMISSION = "admission", "Admission"
    CONTINUED_STAY = "continued_stay", "Continued stay"


class Determination(models.Model):
    """A proposed "not medically necessary" determination, 42 CFR 482.30(d)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    review = models.ForeignKey(UtilizationReview, on_delete=models.CASCADE, related_name="determinations")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    scope = models.CharField(max_length=16, choices=DeterminationScope.choices)
    status = models.CharField(max_length=16, choices=DeterminationStatus.choices, default=DeterminationStatus.OPEN)
    rationale = models.TextField()
    attending_view = models.CharField(
        max_length=24, choices=[(v.value, v.value.replace("_", " ")) for v in AttendingView]
    )
    attending_name = models.CharField(max_length=200, blank=True)
    attending_consulted_at = models.DateTimeField(null=True, blank=True)
    attending_responded_at = models.DateTimeField(null=True, blank=True)
    attending_note = models.TextField(blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)
    path = models.CharField(
        max_length=20, blank=True, choices=[(p.value, p.value.replace("_", " ")) for p in DecisionPath]
    )
    notice_due_at = models.DateTimeField(null=True, blank=True)
    notice_task = models.OneToOneField("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)


class DeterminationReviewer(models.Model):
    """A committee member who concurs, with the 482.30(b) declarations."""

    determination = models.ForeignKey(Determination, on_delete=models.CASCADE, related_name="reviewers")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    physician = models.BooleanField()
    committee_member = models.BooleanField()
    professionally_involved = models.BooleanField(default=False)
    direct_financial_interest = models.BooleanField(default=False)
    concurred_at = models.DateTimeField()
    note = models.TextField(blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["determination", "user"], name="determination_reviewer_once")]


class DeterminationNotice(models.Model):
    determination = models.ForeignKey(Determination, on_delete=models.CASCADE, related_name="notices")
    recipient = models.CharField(max_length=16, choices=[(r.value, r.value.title()) for r in NoticeRecipient])
    delivered_at = models.DateTimeField()
    method = models.CharField(max_length=100, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["determination", "recipient"], name="determination_notice_once")]


class MoonNotice(models.Model):
    """Medicare Outpatient Observation Notice (NOTICE Act, 42 CFR 489.20(y)) for one observation stay."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    encounter = models.OneToOneField("clinical.Encounter", on_delete=models.CASCADE, related_name="+")
    observation_started_at = models.DateTimeField()
    due_at = models.DateTimeField()
    task = models.OneToOneField("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    delivered_at = models.DateTimeField(null=True, blank=True)
    oral_explanation = models.BooleanField(default=False)
    signed_at = models.DateTimeField(null=True, blank=True)
    signature_refused = models.BooleanField(default=False)
    signed_by = models.CharField(max_length=200, blank=True, help_text="Patient or representative")
    witness = models.CharField(max_length=200, blank=True, help_text="Staff witness when the signature is refused")
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField()


class ConditionCode44Status(models.TextChoices):
    DRAFT = "draft", "In progress"
    COMPLETED = "completed", "Completed: bill as outpatient (condition code 44)"


class ConditionCode44(models.Model):
    """Inpatient changed to outpatient (CMS IOM 100-04 ch.1 50.3): the four conditions, as recorded."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    encounter = models.OneToOneField("clinical.Encounter", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=16, choices=ConditionCode44Status.choices, default=ConditionCode44Status.DRAFT)
    status_changed_at = models.DateTimeField(null=True, blank=True)
    inpatient_claim_submitted = models.BooleanField(default=False)
    ur_committee_decided = models.BooleanField(default=False)
    attending_concurs = models.BooleanField(default=False)
    concurrence_documented = models.BooleanField(default=False)
    concurrence_note = models.TextField(blank=True)
    completed_at = models.DateTimeField(null=True, blank=True)
    completed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)


class AvoidableDayReason(models.Model):
    """The organization's configurable list of reasons a day had no medical need."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    code = models.SlugField(max_length=40)
    label = models.CharField(max_length=120)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="avoidable_reason_unique")]
        ordering = ["position", "label"]

    def __str__(self) -> str:
        return self.label


class ResponsibleParty(models.TextChoices):
    HOSPITAL = "hospital", "Hospital"
    PHYSICIAN = "physician", "Physician"
    PAYER = "payer", "Payer"
    POST_ACUTE_PROVIDER = "post_acute_provider", "Post-acute provider"
    PATIENT_FAMILY = "patient_family", "Patient or family"
    OTHER = "other", "Other"


class AvoidableDay(models.Model):
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    encounter = models.ForeignKey("clinical.Encounter", on_delete=models.CASCADE, related_name="+")
    day = models.DateField()
    reason = models.ForeignKey(AvoidableDayReason, on_delete=models.PROTECT, related_name="+")
    responsible_party = models.CharField(max_length=24, choices=ResponsibleParty.choices)
    payer = models.CharField(max_length=200, blank=True)
    provider = models.CharField(max_length=200, blank=True, help_text="The attending or responsible provider")
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["encounter", "day"], name="avoidable_day_once")]
        indexes = [models.Index(fields=["organization", "day"], name="avoidable_day_org_idx")]
