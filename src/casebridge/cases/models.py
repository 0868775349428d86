from __future__ import annotations

from django.conf import settings
from django.db import models
from simple_history.models import HistoricalRecords

from casebridge.cases.domain import FHIR_STATUS, STATUS_LABELS, CaseStatus


class CaseType(models.TextChoices):
    HOSPITAL_STAY = "hospital_stay", "Hospital stay"
    HOME_HEALTH = "home_health", "Home health episode"
    INSURER_CM = "insurer_cm", "Insurer case management enrollment"


STATUS_CHOICES = [(s.value, STATUS_LABELS[s]) for s in CaseStatus]


class Case(models.Model):
    """An episode of care management (FHIR EpisodeOfCare)."""

    # No single-column indexes on these three: the composite indexes below start with them (see Meta).
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="cases", db_index=False
    )
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="cases", db_index=False)
    case_type = models.CharField("type", max_length=16, choices=CaseType.choices)
    status = models.CharField(max_length=16, choices=STATUS_CHOICES, default=CaseStatus.REFERRAL)
    held_from = models.CharField(max_length=16, choices=STATUS_CHOICES, blank=True)
    assigned_to = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="assigned_cases",
        verbose_name="case manager",
        db_index=False,
    )
    reason = models.CharField(max_length=300, blank=True)
    # [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "M86.60", "display": "..."}], coded as received.
    diagnoses = models.JSONField(default=list, blank=True)
    opened_at = models.DateTimeField()
    closed_at = models.DateTimeField(null=True, blank=True)
    closure_reason = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    history = HistoricalRecords(excluded_fields=["updated_at"])

    class Meta:
        indexes = [
            models.Index(fields=["organization", "status"]),
            models.Index(fields=["assigned_to", "status"]),
            models.Index(fields=["patient", "opened_at"]),
        ]

    def __str__(self) -> str:
        return f"Case {self.pk} · {self.get_case_type_display()}"

    @property
    def status_enum(self) -> CaseStatus:
        return CaseStatus(self.status)

    @property
    def fhir_status(self) -> str:
        return FHIR_STATUS[self.status_enum]


class CaseStatusChange(models.Model):
    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="status_changes")
    from_status = models.CharField(max_length=16, choices=STATUS_CHOICES, blank=True)
    to_status = models.CharField(max_length=16, choices=STATUS_CHOICES)
    at = models.DateTimeField()
    by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["at", "pk"]


class CareTeamMember(models.Model):
    """A member of a case's care team. A member from another organization gives that
    organization read access to this case and its patient while the membership is active."""

    case = models.ForeignKey(Case, on_delete=models.CASCADE, related_name="care_team")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name = models.CharField(max_length=200, blank=True, help_text="For members without a CaseBridge account")
    role = models.CharField(max_length=100)
    phone = models.CharField(max_length=32, blank=True)
    active = models.BooleanField(default=True)
    # True when the member's organization is not the case's: the row is then a cross-organization
    # link that grants read access. Stored so visibility checks scan only the (few) links, not every
    # care-team row of the organization's own cases.
    links_organization = models.BooleanField(default=False)
    added_at = models.DateTimeField()
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [
            models.Index(fields=["organization", "active"]),
            models.Index(fields=["organization", "links_organization", "active"], name="careteam_links_idx"),
        ]

    def __str__(self) -> str:
        who = self.user.get_full_name() if self.user else self.name
        return f"{who} · {self.role}"
