from __future__ import annotations

from django.db import models
from django.db.models.functions import Lower
from simple_history.models import HistoricalRecords


class Sex(models.TextChoices):
    # FHIR AdministrativeGender
    FEMALE = "female", "Female"
    MALE = "male", "Male"
    OTHER = "other", "Other"
    UNKNOWN = "unknown", "Unknown"


class Patient(models.Model):
    # No single-column index: the two composite indexes in Meta start with the organization.
    organization = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="patients", db_index=False
    )
    family_name = models.CharField("last name", max_length=100)
    given_name = models.CharField("first name", max_length=100)
    birth_date = models.DateField("date of birth")
    sex = models.CharField(max_length=8, choices=Sex.choices, default=Sex.UNKNOWN)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField("ZIP code", max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    language = models.CharField("preferred language", max_length=40, blank=True, default="English")
    interpreter_needed = models.BooleanField(default=False)
    goals_in_own_words = models.TextField("goals in the patient's own words", blank=True)
    advance_directive_on_file = models.BooleanField(default=False)
    consent_to_share = models.BooleanField("consent to share information", default=False)
    consent_recorded_at = models.DateTimeField(null=True, blank=True)
    deceased = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(default=1)
    # Lower-cased copies kept by the database itself, so name search is an index range scan
    # on SQLite and PostgreSQL alike (case-insensitive LIKE cannot use a plain index on either).
    family_key = models.GeneratedField(
        expression=Lower("family_name"), output_field=models.CharField(max_length=100), db_persist=True
    )
    given_key = models.GeneratedField(
        expression=Lower("given_name"), output_field=models.CharField(max_length=100), db_persist=True
    )
    history = HistoricalRecords(excluded_fields=["family_key", "given_key"])

    class Meta:
        indexes = [
            models.Index(fields=["organization", "family_key", "given_key"], name="patient_org_name_idx"),
            models.Index(fields=["organization", "birth_date"], name="patient_org_birth_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.family_name}, {self.given_name}"

    @property
    def display_name(self) -> str:
        return f"{self.given_name} {self.family_name}"


class IdentifierKind(models.TextChoices):
    MRN = "mrn", "Medical record number"
    MEMBER_ID = "member_id", "Insurer member ID"
    MBI = "mbi", "Medicare beneficiary identifier"
    OTHER = "other", "Other"


class PatientIdentifier(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="identifiers")
    kind = models.CharField(max_length=16, choices=IdentifierKind.choices)
    value = models.CharField(max_length=64)
    # Who issued it: the hospital for an MRN, the insurer for a member ID. Blank for an MBI.
    assigner = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    system = models.CharField("system URI", max_length=200, blank=True)

    class Meta:
        indexes = [models.Index(fields=["value"])]
        constraints = [
            # The system is part of a number: a health system's facilities (or two senders) may each
            # issue MRN 100234 to different people, and the organization files both as assigner.
            models.UniqueConstraint(
                fields=["kind", "value", "assigner", "system"],
                name="identifier_unique_per_assigner_system",
            )
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} {self.value}"


class Relationship(models.TextChoices):
    SPOUSE = "spouse", "Spouse or partner"
    CHILD = "child", "Child"
    PARENT = "parent", "Parent"
    SIBLING = "sibling", "Sibling"
    FRIEND = "friend", "Friend or neighbor"
    GUARDIAN = "guardian", "Legal guardian"
    POA = "poa", "Health care power of attorney"
    OTHER = "other", "Other"


class Contact(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="contacts")
    name = models.CharField(max_length=200)
    relationship = models.CharField(max_length=16, choices=Relationship.choices)
    phone = models.CharField(max_length=32, blank=True)
    is_caregiver = models.BooleanField(default=False)
    able_to_give_care = models.BooleanField(default=False)
    availability = models.CharField(max_length=200, blank=True, help_text="e.g. evenings and weekends")
    lives_with_patient = models.BooleanField(default=False)
    is_emergency_contact = models.BooleanField(default=False)

    def __str__(self) -> str:
        return f"{self.name} ({self.get_relationship_display()})"


class CoverageOrder(models.IntegerChoices):
    PRIMARY = 1, "Primary"
    SECONDARY = 2, "Secondary"
    TERTIARY = 3, "Tertiary"


class Coverage(models.Model):
    patient = models.ForeignKey(Patient, on_delete=models.CASCADE, related_name="coverages")
    insurer = models.ForeignKey(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="The insurer, when it is on the platform",
    )
    payer_name = models.CharField(max_length=200)
    plan_name = models.CharField(max_length=200, blank=True)
    member_id = models.CharField("member ID", max_length=64)
    subscriber_name = models.CharField(max_length=200, blank=True)
    subscriber_relationship = models.CharField(
        max_length=16,
        default="self",
        choices=[("self", "Self"), ("spouse", "Spouse"), ("child", "Child"), ("other", "Other")],
    )
    period_start = models.DateField()
    period_end = models.DateField(null=True, blank=True)
    order = models.PositiveSmallIntegerField(choices=CoverageOrder.choices, default=CoverageOrder.PRIMARY)
    active = models.BooleanField(default=True)
    history = HistoricalRecords()

    class Meta:
        ordering = ["order", "-period_start"]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.plan_name} ({self.get_order_display()})".replace("  ", " ")
