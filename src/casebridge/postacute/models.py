"""Persistence for the provider directory, choice lists and referrals. Rules live in choice.py and lifecycle.py."""

from __future__ import annotations

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models

from casebridge.postacute.choice import NETWORK_LABELS
from casebridge.postacute.lifecycle import REFERRAL_LABELS, ReferralStatus
from casebridge.postacute.vocabulary import DECLINE_REASONS, PROVIDER_TYPE_LABELS, SERVICES

PROVIDER_TYPE_CHOICES = list(PROVIDER_TYPE_LABELS.items())
REFERRAL_STATUS_CHOICES = list(REFERRAL_LABELS.items())


class Provider(models.Model):
    """A post-acute provider in the directory: an organization on the platform, or an external entry."""

    organization = models.OneToOneField(
        "accounts.Organization",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="provider_entry",
        help_text="Set when the provider works on CaseBridge: referrals then reach its intake queue",
    )
    maintained_by = models.ForeignKey(
        "accounts.Organization", on_delete=models.PROTECT, related_name="+", help_text="Who keeps this entry current"
    )
    name = models.CharField(max_length=200)
    provider_type = models.CharField("type", max_length=24, choices=PROVIDER_TYPE_CHOICES)
    services = models.JSONField(default=list, blank=True, help_text="Service codes offered")
    zip_codes_served = models.JSONField("ZIP codes served", default=list, blank=True)
    address_line = models.CharField("address", max_length=200, blank=True)
    city = models.CharField(max_length=100, blank=True)
    state = models.CharField(max_length=2, blank=True)
    postal_code = models.CharField("ZIP code", max_length=10, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    fax = models.CharField(max_length=32, blank=True)
    npi = models.CharField("NPI", max_length=10, blank=True)
    ccn = models.CharField("Medicare CCN", max_length=10, blank=True)
    medicare_participating = models.BooleanField(default=True)
    star_rating = models.PositiveSmallIntegerField(
        "quality star rating",
        null=True,
        blank=True,
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="CMS Care Compare overall star rating, 1 to 5",
    )
    capacity = models.PositiveIntegerField(
        null=True, blank=True, help_text="Open beds or new-patient slots, as last reported"
    )
    accepting = models.BooleanField("accepting new patients", default=True)
    status_updated_at = models.DateTimeField(null=True, blank=True)
    active = models.BooleanField(default=True)
    created_at = models.DateTimeField()
    updated_at = models.DateTimeField()
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["name"]
        indexes = [models.Index(fields=["provider_type", "active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def on_platform(self) -> bool:
        return self.organization_id is not None

    @property
    def service_labels(self) -> list[str]:
        return [SERVICES.get(s, s) for s in self.services]


class NetworkParticipation(models.Model):
    """The provider is in this payer's network: for all its plans, or for the plan named."""

    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="networks")
    insurer = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    payer_name = models.CharField(max_length=200)
    plan_name = models.CharField(max_length=200, blank=True, help_text="Blank: every plan of this payer")

    class Meta:
        ordering = ["payer_name", "plan_name"]

    def __str__(self) -> str:
        return f"{self.payer_name} {self.plan_name or '(all plans)'}".strip()


class FinancialInterest(models.Model):
    """A hospital's financial interest in a provider; disclosed on every choice list (42 CFR 482.43(c)(3))."""

    hospital = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    provider = models.ForeignKey(Provider, on_delete=models.CASCADE, related_name="financial_interests")
    description = models.CharField(max_length=300, help_text="e.g. The hospital owns 40% of this agency")
    recorded_at = models.DateTimeField()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["hospital", "provider"], name="financial_interest_unique_per_hospital")
        ]


class PresentedTo(models.TextChoices):
    PATIENT = "patient", "Patient"
    REPRESENTATIVE = "representative", "Patient's representative"


class ChoiceList(models.Model):
    """The list of qualified providers offered to the patient, kept as it was shown."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="choice_lists")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    provider_type = models.CharField("service type", max_length=24, choices=PROVIDER_TYPE_CHOICES)
    service = models.CharField(max_length=40, blank=True)
    area_zips = models.JSONField("area (ZIP codes)", default=list)
    priorities = models.JSONField(default=list, help_text="The patient's priorities, most important first")
    payer_name = models.CharField(max_length=200, blank=True)
    plan_name = models.CharField(max_length=200, blank=True)
    managed_care = models.BooleanField(default=False)
    eligibility = models.JSONField(default=dict, blank=True, help_text="Medicare eligibility check, when asked for")
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    presented_at = models.DateTimeField(null=True, blank=True)
    presented_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    presented_to = models.CharField(max_length=16, choices=PresentedTo.choices, blank=True)
    representative_name = models.CharField(max_length=200, blank=True)
    presentation_note = models.CharField(max_length=500, blank=True)

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Choice list {self.pk} · {self.get_provider_type_display()}"

    @property
    def service_label(self) -> str:
        return SERVICES.get(self.service, self.service)


class ChoiceListEntry(models.Model):
    """One provider on a choice list, with the facts shown at the time (the directory may change later)."""

    choice_list = models.ForeignKey(ChoiceList, on_delete=models.CASCADE, related_name="entries")
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="+")
    position = models.PositiveIntegerField()
    name = models.CharField(max_length=200)
    location = models.CharField(max_length=200, blank=True)
    phone = models.CharField(max_length=32, blank=True)
    network_status = models.CharField(max_length=16, choices=list(NETWORK_LABELS.items()))
    medicare_participating = models.BooleanField()
    star_rating = models.PositiveSmallIntegerField(null=True, blank=True)
    accepting = models.BooleanField()
    capacity = models.PositiveIntegerField(null=True, blank=True)
    proximity = models.PositiveSmallIntegerField()
    financial_interest = models.CharField(max_length=300, blank=True)
    patient_rank = models.PositiveSmallIntegerField(null=True, blank=True)

    class Meta:
        ordering = ["position"]
        constraints = [models.UniqueConstraint(fields=["choice_list", "provider"], name="choice_entry_unique")]


class Referral(models.Model):
    """A referral packet sent by a hospital to one provider. A provider on the platform sees the packet,
    and nothing else of the hospital's record, while the referral is open or once it took the patient on."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="referrals")
    patient = models.ForeignKey("patients.Patient", on_delete=models.CASCADE, related_name="+")
    choice_list = models.ForeignKey(
        ChoiceList, null=True, blank=True, on_delete=models.SET_NULL, related_name="referrals"
    )
    provider = models.ForeignKey(Provider, on_delete=models.PROTECT, related_name="referrals")
    receiving_organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_type = models.CharField("service type", max_length=24, choices=PROVIDER_TYPE_CHOICES)
    service = models.CharField(max_length=40, blank=True)
    status = models.CharField(max_length=16, choices=REFERRAL_STATUS_CHOICES, default=ReferralStatus.REQUESTED)
    sections = models.JSONField(default=list)
    packet = models.JSONField(default=dict)
    sent_at = models.DateTimeField()
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    response_due_at = models.DateTimeField()
    responded_at = models.DateTimeField(null=True, blank=True)
    responded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    response_recorded_manually = models.BooleanField(default=False)
    response_contact = models.CharField(max_length=200, blank=True, help_text="Who answered, for external providers")
    decline_reason = models.CharField(max_length=24, blank=True, choices=list(DECLINE_REASONS.items()))
    response_note = models.CharField(max_length=500, blank=True)
    proposed_start_on = models.DateField(null=True, blank=True)
    patient_agreed_at = models.DateTimeField(null=True, blank=True)
    agreement_recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    start_of_service_on = models.DateField(null=True, blank=True)
    closed_reason = models.CharField(max_length=300, blank=True)
    reminder_task = models.ForeignKey("tasks.Task", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    home_health_case = models.ForeignKey(
        "cases.Case",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="source_referrals",
        help_text="The case the agency opened in its own organization for this patient",
    )
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-sent_at", "-pk"]
        indexes = [
            models.Index(fields=["receiving_organization", "status"]),
            models.Index(fields=["organization", "status", "response_due_at"]),
        ]

    def __str__(self) -> str:
        return f"Referral {self.pk} to {self.provider}"

    @property
    def status_enum(self) -> ReferralStatus:
        return ReferralStatus(self.status)

    @property
    def service_label(self) -> str:
        return SERVICES.get(self.service, self.service)

    @property
    def is_open(self) -> bool:
        return self.status in (ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED)
