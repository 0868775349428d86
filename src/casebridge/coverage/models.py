"""Persistence for benefits, prices, care options and negotiations. Rules live in the pure modules.

Money is stored as integer cents (``*_cents``), like the pure engine computes it.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import models

from casebridge.coverage.benefits import SERVICE_CATEGORIES
from casebridge.coverage.money import format_cents
from casebridge.coverage.negotiation import CommitmentKind, PartyKind

CATEGORY_CHOICES = [(c, c.replace("_", " ").capitalize()) for c in sorted(SERVICE_CATEGORIES)]


class Network(models.TextChoices):
    IN = "in_network", "In network"
    OUT = "out_of_network", "Out of network"


# --- benefits --------------------------------------------------------------------------------------


class BenefitPlan(models.Model):
    """An insurer's plan. Owned by the insurer organization; only it edits the plan."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="benefit_plans")
    code = models.CharField("plan ID", max_length=64)
    name = models.CharField(max_length=200)
    deductible_cents = models.BigIntegerField(default=0)
    oop_max_cents = models.BigIntegerField("out-of-pocket maximum (cents)", default=0)
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name", "pk"]
        constraints = [models.UniqueConstraint(fields=["organization", "code"], name="benefit_plan_code_unique")]

    def __str__(self) -> str:
        return f"{self.name} ({self.code})"


class BenefitTerm(models.Model):
    """One service category's terms in one network."""

    plan = models.ForeignKey(BenefitPlan, on_delete=models.CASCADE, related_name="terms")
    category = models.CharField(max_length=40, choices=CATEGORY_CHOICES)
    network = models.CharField(max_length=16, choices=Network.choices)
    covered = models.BooleanField(default=True)
    deductible_applies = models.BooleanField(default=True)
    coinsurance = models.DecimalField(max_digits=5, decimal_places=4, default=0)
    copay_cents = models.BigIntegerField(default=0)
    unit_limit = models.PositiveIntegerField(null=True, blank=True, help_text="Visits or days per benefit period")
    prior_auth_required = models.BooleanField(default=False)

    class Meta:
        ordering = ["category", "network"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "category", "network"], name="benefit_term_unique"),
            models.CheckConstraint(
                condition=models.Q(coinsurance__gte=0) & models.Q(coinsurance__lte=1), name="benefit_coinsurance_0_1"
            ),
        ]


class MemberAccumulator(models.Model):
    """A member's year-to-date figures, kept by the insurer under its member ID."""

    plan = models.ForeignKey(BenefitPlan, on_delete=models.CASCADE, related_name="members")
    member_id = models.CharField("member ID", max_length=64)
    deductible_met_cents = models.BigIntegerField(default=0)
    oop_spent_cents = models.BigIntegerField(default=0)
    units_used = models.JSONField(default=dict, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["plan", "member_id"], name="accumulator_member_unique")]


# --- prices and costs ------------------------------------------------------------------------------


class RateBasis(models.TextChoices):
    PER_DIEM = "per_diem", "Per diem"
    PER_VISIT = "per_visit", "Per visit"
    PER_CASE = "per_case", "Per case (DRG)"
    FEE_SCHEDULE = "fee_schedule", "Fee schedule amount"
    PERCENT_OF_CHARGES = "percent_of_charges", "Percent of charges"


class ContractedRate(models.Model):
    """What a provider is paid for a service, under a payer's contract (or its own price with no payer).

    Rates are shared on the platform so case managers can price care options; a
    provider's cost to deliver (:class:`DeliveryCost`) is not.
    """

    provider = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="contracted_rates")
    payer = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    category = models.CharField(max_length=40, choices=CATEGORY_CHOICES)
    basis = models.CharField(max_length=24, choices=RateBasis.choices)
    amount_cents = models.BigIntegerField(default=0, help_text="Per unit; for percent of charges, the charge")
    percent = models.DecimalField(max_digits=5, decimal_places=4, null=True, blank=True)
    code = models.CharField("DRG or fee schedule code", max_length=32, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["provider__name", "category"]

    @property
    def unit_price_cents(self) -> int:
        if self.basis == RateBasis.PERCENT_OF_CHARGES and self.percent is not None:
            return int((self.percent * self.amount_cents).to_integral_value())
        return int(self.amount_cents)

    def describe(self) -> str:
        payer = f" with {self.payer.name}" if self.payer is not None else " (own price)"
        if self.basis == RateBasis.PERCENT_OF_CHARGES:
            return (
                f"{self.provider.name}{payer}: {self.percent:%} of charges {format_cents(self.amount_cents)}"
                f" = {format_cents(self.unit_price_cents)}"
            )
        return f"{self.provider.name}{payer}: {self.get_basis_display().lower()} {format_cents(self.amount_cents)}"


class DeliveryCost(models.Model):
    """An organization's own cost to deliver one unit of a service. Visible only to that organization."""

    organization = models.ForeignKey("accounts.Organization", on_delete=models.CASCADE, related_name="+")
    category = models.CharField(max_length=40, choices=CATEGORY_CHOICES)
    unit_cost_cents = models.BigIntegerField()
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["organization", "category"], name="delivery_cost_unique")]


# --- care options ----------------------------------------------------------------------------------


class CoverageWorkspace(models.Model):
    """The case manager's coverage planning for one case: plan, limits, and the chosen option."""

    case = models.OneToOneField("cases.Case", on_delete=models.CASCADE, related_name="coverage_workspace")
    plan = models.ForeignKey(BenefitPlan, null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    member_id = models.CharField(max_length=64, blank=True)
    patient_oop_limit_cents = models.BigIntegerField(null=True, blank=True)
    caregiver_available = models.BooleanField(default=True)
    hospital_paid_per_case = models.BooleanField(default=False)
    hospital_daily_cost_cents = models.BigIntegerField(default=0)
    chosen_option = models.ForeignKey("CareOption", null=True, blank=True, on_delete=models.SET_NULL, related_name="+")
    chosen_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    chosen_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)


class CoverageNeed(models.Model):
    """A need the options must meet, e.g. "IV antibiotics for three weeks" (home infusion drug)."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="coverage_needs")
    description = models.CharField(max_length=300)
    category = models.CharField(max_length=40, choices=CATEGORY_CHOICES)
    source = models.CharField(max_length=32, default="entered", help_text="entered, or careplan when imported")
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]


class CareOption(models.Model):
    """A way to meet the case's needs: a set of services from providers over time."""

    case = models.ForeignKey("cases.Case", on_delete=models.CASCADE, related_name="care_options")
    name = models.CharField(max_length=120)
    description = models.CharField(max_length=300, blank=True)
    clinically_eligible = models.BooleanField(default=True)
    provider_accepts = models.BooleanField(default=True)
    requires_caregiver = models.BooleanField(default=False)
    excluded_by_patient = models.BooleanField("patient declines", default=False)
    eligibility_waiver = models.CharField(
        max_length=300,
        blank=True,
        help_text="Why a failed eligibility rule does not apply (e.g. the plan waives the SNF 3-day stay)",
    )
    proposed_by_system = models.BooleanField(default=False)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["pk"]
        constraints = [models.UniqueConstraint(fields=["case", "name"], name="care_option_name_unique")]

    def __str__(self) -> str:
        return self.name


class CareOptionLine(models.Model):
    option = models.ForeignKey(CareOption, on_delete=models.CASCADE, related_name="lines")
    provider = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    provider_name = models.CharField(max_length=200, help_text="Shown when the provider is not on the platform")
    category = models.CharField(max_length=40, choices=CATEGORY_CHOICES)
    description = models.CharField(max_length=200, blank=True)
    units = models.PositiveIntegerField()
    unit_price_cents = models.BigIntegerField()
    unit_cost_cents = models.BigIntegerField(
        null=True, blank=True, help_text="Estimated cost to deliver, when known (for the margin)"
    )
    network = models.CharField(max_length=16, choices=Network.choices, default=Network.IN)
    prior_auth_obtained = models.BooleanField(default=True)
    start_day = models.PositiveIntegerField(default=1)
    end_day = models.PositiveIntegerField(default=1)
    price_source = models.CharField(max_length=300, blank=True)

    class Meta:
        ordering = ["pk"]


# --- negotiation -----------------------------------------------------------------------------------


class NegotiationStatus(models.TextChoices):
    OPEN = "open", "Open"
    AGREED = "agreed", "Agreed"
    SUPERSEDED = "superseded", "Superseded"
    CANCELLED = "cancelled", "Cancelled"


class Negotiation(models.Model):
    """Funding the unfunded part (the gap) of a chosen care option among insurer, providers and patient."""

    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="negotiations")
    option = models.ForeignKey(CareOption, on_delete=models.PROTECT, related_name="negotiations")
    gap_cents = models.BigIntegerField()
    status = models.CharField(max_length=16, choices=NegotiationStatus.choices, default=NegotiationStatus.OPEN)
    opened_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    opened_at = models.DateTimeField()
    supersedes = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["-opened_at", "-pk"]

    def __str__(self) -> str:
        return f"Negotiation {self.pk} · {self.option.name}"


class NegotiationParty(models.Model):
    """A party to a negotiation. For an organization, the active row is the explicit link that lets
    its users see this negotiation (and only their part of it); the patient is represented by the
    case manager and has no organization."""

    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="parties")
    organization = models.ForeignKey(
        "accounts.Organization", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    key = models.CharField(max_length=32)
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=[(k.value, k.value.replace("_", " ")) for k in PartyKind])
    commitment = models.CharField(max_length=24, choices=[(k.value, k.value.replace("_", " ")) for k in CommitmentKind])
    item = models.CharField(max_length=200, blank=True)
    figures = models.JSONField(default=dict)
    computed_cents = models.BigIntegerField()
    derivation = models.JSONField(default=list)
    override_cents = models.BigIntegerField(null=True, blank=True)
    override_reason = models.CharField(max_length=300, blank=True)
    override_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    hardship = models.BooleanField(default=False)
    active = models.BooleanField(default=True)
    position = models.PositiveSmallIntegerField(default=0)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["position", "pk"]
        constraints = [models.UniqueConstraint(fields=["negotiation", "key"], name="negotiation_party_key_unique")]
        indexes = [models.Index(fields=["organization", "active"])]

    def __str__(self) -> str:
        return self.name

    @property
    def walkaway_cents(self) -> int:
        return int(self.computed_cents if self.override_cents is None else self.override_cents)


class ProposalStatus(models.TextChoices):
    SENT = "sent", "Sent"
    REVISED = "revised", "Revised"
    ACCEPTED = "accepted", "Accepted by all"


class Proposal(models.Model):
    negotiation = models.ForeignKey(Negotiation, on_delete=models.CASCADE, related_name="proposals")
    number = models.PositiveIntegerField()
    rule = models.CharField(max_length=32)
    math = models.JSONField(default=list)
    note = models.CharField(max_length=500, blank=True)
    status = models.CharField(max_length=16, choices=ProposalStatus.choices, default=ProposalStatus.SENT)
    sent_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    sent_at = models.DateTimeField()

    class Meta:
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["negotiation", "number"], name="proposal_number_unique")]


class Response(models.TextChoices):
    PENDING = "pending", "Awaiting response"
    ACCEPTED = "accepted", "Accepted"
    COUNTERED = "countered", "Countered"
    DECLINED = "declined", "Declined"


class ProposalLine(models.Model):
    proposal = models.ForeignKey(Proposal, on_delete=models.CASCADE, related_name="lines")
    party = models.ForeignKey(NegotiationParty, on_delete=models.CASCADE, related_name="lines")
    share_cents = models.BigIntegerField()
    walkaway_cents = models.BigIntegerField()
    locked = models.BooleanField(default=False)
    disclosed = models.BooleanField(default=False, help_text="Shown to the other parties")
    response = models.CharField(max_length=16, choices=Response.choices, default=Response.PENDING)
    counter_cents = models.BigIntegerField(null=True, blank=True)
    reason = models.CharField(max_length=500, blank=True)
    responded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    responded_at = models.DateTimeField(null=True, blank=True)
    version = models.PositiveIntegerField(default=1)

    class Meta:
        ordering = ["party__position", "pk"]

    @property
    def gain_after_cents(self) -> int:
        """What the party keeps of its benefit from the deal after paying its share."""
        return int(self.walkaway_cents - self.share_cents)


class AgreementStatus(models.TextChoices):
    SIGNED = "signed", "Signed"
    SUPERSEDED = "superseded", "Superseded"


class ImmutableAfterSigning(models.Model):
    """A signed record: only its status and what superseded it may change after it is written."""

    MUTABLE_AFTER_SIGNING: frozenset[str] = frozenset({"status", "superseded_by"})

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self.pk is not None:
            fields = kwargs.get("update_fields")
            if fields is None or not set(fields) <= self.MUTABLE_AFTER_SIGNING:
                raise RuntimeError(f"A signed {self._meta.verbose_name} cannot be edited, only superseded")
        super().save(*args, **kwargs)

    def delete(self, *args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"A signed {self._meta.verbose_name} cannot be deleted, only superseded")


class Agreement(ImmutableAfterSigning):
    """What every party accepted. Signed once all accept; never edited, only superseded."""

    negotiation = models.OneToOneField(Negotiation, on_delete=models.PROTECT, related_name="agreement")
    proposal = models.OneToOneField(Proposal, on_delete=models.PROTECT, related_name="agreement")
    case = models.ForeignKey("cases.Case", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    option_name = models.CharField(max_length=120)
    total_cents = models.BigIntegerField()
    terms = models.JSONField(help_text="Snapshot of the parties' commitments as signed")
    signed_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.SIGNED)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        ordering = ["-signed_at", "-pk"]


class CommitmentRecord(ImmutableAfterSigning):
    """A party's commitment under an agreement, recorded on that party's own side."""

    agreement = models.ForeignKey(Agreement, on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("accounts.Organization", on_delete=models.PROTECT, related_name="+")
    patient = models.ForeignKey("patients.Patient", on_delete=models.PROTECT, related_name="+")
    amount_cents = models.BigIntegerField()
    approver = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField()
    status = models.CharField(max_length=16, choices=AgreementStatus.choices, default=AgreementStatus.SIGNED)
    superseded_by = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="+")

    class Meta:
        abstract = True
        ordering = ["-recorded_at", "-pk"]


class ExceptionAuthorization(CommitmentRecord):
    """The insurer pays beyond covered benefits, up to ``amount_cents`` (the limit), because it saves money."""

    service_description = models.CharField(max_length=300)
    avoided_days = models.PositiveIntegerField(default=0)
    per_diem_cents = models.BigIntegerField(default=0)
    expected_savings_cents = models.BigIntegerField()
    justification = models.TextField()

    class Meta(CommitmentRecord.Meta):
        pass


class PriceAgreement(CommitmentRecord):
    """A provider (the pharmacy) lowers its price by ``amount_cents``."""

    list_price_cents = models.BigIntegerField()
    agreed_price_cents = models.BigIntegerField()

    class Meta(CommitmentRecord.Meta):
        pass


class EquipmentCommitment(CommitmentRecord):
    """A party (the home health agency) pays ``amount_cents`` for an item (the infusion pumps)."""

    item = models.CharField(max_length=200)

    class Meta(CommitmentRecord.Meta):
        pass


class AgreedPayment(CommitmentRecord):
    """The patient pays ``amount_cents``; recorded by the case manager who represents the patient,
    so ``organization`` is the case's organization."""

    class Meta(CommitmentRecord.Meta):
        pass
