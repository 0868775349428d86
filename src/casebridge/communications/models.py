from __future__ import annotations

from django.conf import settings
from django.db import models


class Channel(models.TextChoices):
    PHONE = "phone", "Phone"
    FAX = "fax", "Fax"
    SECURE_MESSAGE = "secure_message", "Secure message"
    IN_PERSON = "in_person", "In person"
    PORTAL = "portal", "Portal"
    EMAIL = "email", "Email"
    VIDEO = "video", "Video"


class Direction(models.TextChoices):
    INBOUND = "inbound", "Inbound"
    OUTBOUND = "outbound", "Outbound"


class PartyKind(models.TextChoices):
    INSURER_CM = "insurer_cm", "Insurer case manager"
    PHYSICIAN = "physician", "Physician"
    PROVIDER = "provider", "Provider"
    PATIENT = "patient", "Patient"
    FAMILY = "family", "Family or caregiver"
    OTHER = "other", "Other"


class Communication(models.Model):
    """One contact about a case (FHIR Communication): who, how, which way, what was said, what came of it."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="communications")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="communications")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    direction = models.CharField(max_length=8, choices=Direction.choices)
    occurred_at = models.DateTimeField("when")
    summary = models.TextField(max_length=5000)
    outcome = models.CharField(max_length=300, blank=True)
    follow_up_task = models.OneToOneField(
        "tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="communication"
    )
    logged_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    logged_at = models.DateTimeField()

    class Meta:
        indexes = [models.Index(fields=["case", "occurred_at"])]

    def __str__(self) -> str:
        return f"{self.get_direction_display()} {self.get_channel_display().lower()} · {self.occurred_at:%Y-%m-%d}"

    @property
    def parties_text(self) -> str:
        return ", ".join(str(p) for p in self.parties.all())


class CommunicationParty(models.Model):
    communication = models.ForeignKey(Communication, on_delete=models.CASCADE, related_name="parties")
    kind = models.CharField(max_length=16, choices=PartyKind.choices)
    name = models.CharField(max_length=200)
    organization = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["pk"]

    def __str__(self) -> str:
        text = f"{self.name} ({self.get_kind_display().lower()})"
        return f"{text}, {self.organization}" if self.organization else text


class DocumentType(models.TextChoices):
    DISCHARGE_SUMMARY = "discharge_summary", "Discharge summary"
    CONSENT = "consent", "Consent"
    PLAN_OF_CARE = "plan_of_care", "Plan of care"
    ADVANCE_DIRECTIVE = "advance_directive", "Advance directive"
    INSURANCE_CARD = "insurance_card", "Insurance card"
    REFERRAL = "referral", "Referral"
    CLINICAL_NOTE = "clinical_note", "Clinical note"
    OTHER = "other", "Other"


class Document(models.Model):
    """A file attached to a patient, or to one of the patient's cases (FHIR DocumentReference)."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="documents")
    case = models.ForeignKey("cases.Case", null=True, blank=True, on_delete=models.PROTECT, related_name="documents")
    document_type = models.CharField("type", max_length=24, choices=DocumentType.choices)
    title = models.CharField(max_length=200)
    # The stored name is generated: a client's file name never becomes a path on disk.
    file = models.FileField(max_length=255)
    original_name = models.CharField(max_length=255)
    content_type = models.CharField(max_length=100)
    size = models.PositiveBigIntegerField()
    sha256 = models.CharField(max_length=64)
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    uploaded_at = models.DateTimeField()

    class Meta:
        indexes = [
            models.Index(fields=["patient", "uploaded_at"]),
            models.Index(fields=["case", "uploaded_at"]),
        ]

    def __str__(self) -> str:
        return self.title
