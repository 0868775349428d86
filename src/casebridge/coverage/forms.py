"""Forms for the coverage pages. Amounts are entered in dollars and handed to services in cents."""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Any

from django import forms

from casebridge.accounts.models import Organization
from casebridge.coverage.models import CATEGORY_CHOICES, BenefitPlan, NegotiationParty, Network, RateBasis
from casebridge.coverage.money import Cents, to_cents
from casebridge.coverage.negotiation import RULES, PartyKind

RULE_LABELS = {
    "patient_protecting": "Patient-protecting (patient pays least, the rest by gain)",
    "proportional_to_gain": "Proportional to gain",
    "nash": "Nash bargaining solution",
    "manual": "Manual amounts with locks",
}


def dollars(required: bool = True, label: str | None = None, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(
        label=label, required=required, min_value=Decimal(0), max_digits=12, decimal_places=2, help_text=help_text
    )


def cents(value: Decimal | None) -> Cents | None:
    return None if value is None else to_cents(value)


class BenefitImportForm(forms.Form):
    file = forms.FileField(required=False, label="Plan file (YAML or JSON)")
    text = forms.CharField(
        required=False,
        label="…or paste the document",
        widget=forms.Textarea(attrs={"rows": 12, "spellcheck": "false"}),
    )

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        upload = data.get("file")
        if upload is not None:
            try:
                data["document_text"] = upload.read().decode("utf-8")
            except UnicodeDecodeError:
                self.add_error("file", "must be a UTF-8 text file")
        else:
            data["document_text"] = data.get("text") or ""
        if not data.get("document_text", "").strip() and not self.errors:
            raise forms.ValidationError("Choose a file or paste the plan document.")
        return data


class BenefitTermsForm(forms.Form):
    """One service category, both networks."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for prefix, label in (("in", "In network"), ("out", "Out of network")):
            self.fields[f"{prefix}_covered"] = forms.BooleanField(required=False, label=f"{label}: covered")
            self.fields[f"{prefix}_deductible_applies"] = forms.BooleanField(
                required=False, label=f"{label}: deductible applies"
            )
            self.fields[f"{prefix}_coinsurance"] = forms.DecimalField(
                label=f"{label}: coinsurance (0-1)", min_value=Decimal(0), max_value=Decimal(1), decimal_places=4
            )
            self.fields[f"{prefix}_copay"] = dollars(label=f"{label}: copay per unit ($)")
            self.fields[f"{prefix}_unit_limit"] = forms.IntegerField(
                required=False, min_value=0, label=f"{label}: visit/day limit"
            )
            self.fields[f"{prefix}_prior_auth_required"] = forms.BooleanField(
                required=False, label=f"{label}: prior authorization"
            )


class PlanForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput)
    name = forms.CharField(max_length=200)
    deductible = dollars(label="Deductible ($)")
    oop_max = dollars(label="Out-of-pocket maximum ($)")


class RateForm(forms.Form):
    category = forms.ChoiceField(choices=CATEGORY_CHOICES)
    basis = forms.ChoiceField(choices=RateBasis.choices)
    amount = dollars(label="Amount ($)", help_text="Per unit; for percent of charges, the charge")
    percent = forms.DecimalField(
        required=False, min_value=Decimal(0), max_value=Decimal(1), decimal_places=4, label="Percent (0-1)"
    )
    payer_id = forms.TypedChoiceField(label="Payer", coerce=int, required=False, empty_value=None)
    code = forms.CharField(max_length=32, required=False, label="DRG or fee schedule code")

    def __init__(self, *args: Any, payers: Iterable[Organization] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["payer_id"].choices = [("", "Own price (no payer)")] + [(p.pk, p.name) for p in payers]  # type: ignore[attr-defined]


class CostForm(forms.Form):
    category = forms.ChoiceField(choices=CATEGORY_CHOICES)
    unit_cost = dollars(label="Cost to deliver one unit ($)")
    note = forms.CharField(max_length=200, required=False)


class WorkspaceForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    plan_id = forms.TypedChoiceField(label="Benefit plan", coerce=int, required=False, empty_value=None)
    member_id = forms.CharField(max_length=64, required=False, label="Member ID")
    patient_oop_limit = dollars(required=False, label="Patient's out-of-pocket limit ($)")
    caregiver_available = forms.BooleanField(required=False, label="Caregiver available at home")
    hospital_paid_per_case = forms.BooleanField(required=False, label="Hospital paid per case (DRG)")
    hospital_daily_cost = dollars(required=False, label="Hospital's own daily cost ($)")

    def __init__(self, *args: Any, plans: Iterable[BenefitPlan] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["plan_id"].choices = [("", "No plan on file")] + [  # type: ignore[attr-defined]
            (p.pk, f"{p.organization.name}: {p.name}") for p in plans
        ]


class NeedForm(forms.Form):
    description = forms.CharField(max_length=300, label="Need")
    category = forms.ChoiceField(choices=CATEGORY_CHOICES, label="Service category")


LINE_COUNT = 3


class OptionForm(forms.Form):
    name = forms.CharField(max_length=120)
    description = forms.CharField(max_length=300, required=False)
    requires_caregiver = forms.BooleanField(required=False)

    def __init__(self, *args: Any, providers: Iterable[Organization] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices = [("", "—")] + [(o.pk, f"{o.name} ({o.get_org_type_display()})") for o in providers]
        for i in range(1, LINE_COUNT + 1):
            required = i == 1
            self.fields[f"line{i}_provider_id"] = forms.TypedChoiceField(
                label=f"Service {i}: provider", choices=choices, coerce=int, required=required, empty_value=None
            )
            self.fields[f"line{i}_category"] = forms.ChoiceField(
                label=f"Service {i}: category", choices=[("", "—"), *CATEGORY_CHOICES], required=required
            )
            self.fields[f"line{i}_units"] = forms.IntegerField(
                label=f"Service {i}: units", min_value=1, required=required
            )
            self.fields[f"line{i}_unit_price"] = dollars(
                required=False, label=f"Service {i}: unit price ($)", help_text="Blank: the contracted rate"
            )
            self.fields[f"line{i}_unit_cost"] = dollars(required=False, label=f"Service {i}: est. cost to deliver ($)")
            self.fields[f"line{i}_end_day"] = forms.IntegerField(
                label=f"Service {i}: through day", min_value=1, required=False
            )

    def lines(self) -> list[dict[str, Any]]:
        data = self.cleaned_data
        out = []
        for i in range(1, LINE_COUNT + 1):
            if not data.get(f"line{i}_category"):
                continue
            out.append(
                {
                    "category": data[f"line{i}_category"],
                    "units": data.get(f"line{i}_units") or 1,
                    "provider_id": data.get(f"line{i}_provider_id"),
                    "unit_price_cents": cents(data.get(f"line{i}_unit_price")),
                    "unit_cost_cents": cents(data.get(f"line{i}_unit_cost")),
                    "end_day": data.get(f"line{i}_end_day"),
                }
            )
        return out


class FlagsForm(forms.Form):
    clinically_eligible = forms.BooleanField(required=False)
    provider_accepts = forms.BooleanField(required=False)
    requires_caregiver = forms.BooleanField(required=False)
    excluded_by_patient = forms.BooleanField(required=False, label="Patient declines")
    eligibility_waiver = forms.CharField(
        required=False,
        max_length=300,
        label="Waive failed eligibility rules because",
        help_text="e.g. the plan waives the SNF 3-day qualifying stay; leave empty to apply the rules",
    )


class NegotiationOpenForm(forms.Form):
    ability_to_pay = dollars(label="Patient can pay ($)")
    hardship = forms.BooleanField(required=False, label="Financial hardship")
    item = forms.CharField(max_length=200, initial="infusion pumps", label="Item the home health agency pays for")
    avoided_days = forms.IntegerField(required=False, min_value=0, label="Inpatient days avoided")
    inpatient_per_diem = dollars(required=False, label="Inpatient per diem ($)")


class ProposalForm(forms.Form):
    rule = forms.ChoiceField(choices=list(RULE_LABELS.items()))
    complete_with = forms.ChoiceField(
        choices=[(k, RULE_LABELS[k]) for k in RULES], label="Manual: complete the unlocked parties by"
    )
    patient_agrees = forms.BooleanField(required=False, label="The patient agrees to the patient's share")
    note = forms.CharField(max_length=500, required=False, label="Note to the parties")

    def __init__(self, *args: Any, parties: Iterable[NegotiationParty] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.party_keys: list[tuple[str, str]] = []
        for party in parties:
            self.party_keys.append((party.key, party.name))
            self.fields[f"lock_{party.key}"] = dollars(required=False, label=f"Lock {party.name} at ($)")
            self.fields[f"disclose_{party.key}"] = forms.BooleanField(
                required=False,
                label=f"Show {party.name}'s line to the others",
                initial=party.kind == PartyKind.PATIENT,
            )

    def locks(self) -> dict[str, Cents]:
        out: dict[str, Cents] = {}
        for key, _ in self.party_keys:
            value = cents(self.cleaned_data.get(f"lock_{key}"))
            if value is not None:
                out[key] = value
        return out

    def disclosed(self) -> list[str]:
        return [key for key, _ in self.party_keys if self.cleaned_data.get(f"disclose_{key}")]


class RespondForm(forms.Form):
    action = forms.ChoiceField(
        choices=[("accept", "Accept"), ("counter", "Counter with an amount"), ("decline", "Decline")],
        widget=forms.RadioSelect,
        initial="accept",
    )
    amount = dollars(required=False, label="Counter amount ($)")
    reason = forms.CharField(max_length=500, required=False, label="Reason or note")
    version = forms.IntegerField(widget=forms.HiddenInput)
    party_key = forms.CharField(widget=forms.HiddenInput, required=False)


class WalkawayForm(forms.Form):
    amount = dollars(label="Our walk-away ($)")
    reason = forms.CharField(max_length=300, label="Where the figure comes from")
    party_key = forms.CharField(widget=forms.HiddenInput, required=False)


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=300)


NETWORK_CHOICES = Network.choices
