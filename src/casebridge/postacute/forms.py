from __future__ import annotations

from typing import Any

from django import forms

from casebridge.postacute.models import PresentedTo
from casebridge.postacute.vocabulary import (
    DECLINE_REASONS,
    DEFAULT_PRIORITIES,
    PRIORITIES,
    PROVIDER_TYPE_LABELS,
    SECTION_LABELS,
    SERVICES,
)

TYPE_CHOICES = list(PROVIDER_TYPE_LABELS.items())
SERVICE_CHOICES = sorted(SERVICES.items(), key=lambda kv: kv[1])
STAR_CHOICES = [("", "Not rated")] + [(str(n), "★" * n) for n in range(1, 6)]
PRIORITY_CHOICES = [("", "—")] + list(PRIORITIES.items())
PRIORITY_LABELS = ["First priority", "Second priority", "Third priority", "Fourth priority", "Fifth priority"]


def zip_list(raw: str) -> list[str]:
    return [z for z in raw.replace(",", " ").split() if z]


class ProviderForm(forms.Form):
    name = forms.CharField(max_length=200, required=False, help_text="Leave blank to use the organization's name")
    provider_type = forms.ChoiceField(label="Type", choices=TYPE_CHOICES)
    organization_id = forms.TypedChoiceField(
        label="On CaseBridge as",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="Referrals then reach its queue",
    )
    services = forms.MultipleChoiceField(choices=SERVICE_CHOICES, required=False, widget=forms.CheckboxSelectMultiple)
    zip_codes_served = forms.CharField(
        label="ZIP codes served", required=False, help_text="5-digit ZIP codes, separated by spaces or commas"
    )
    address_line = forms.CharField(label="Address", max_length=200, required=False)
    city = forms.CharField(max_length=100, required=False)
    state = forms.CharField(max_length=2, required=False)
    postal_code = forms.CharField(label="ZIP code", max_length=10, required=False)
    phone = forms.CharField(max_length=32, required=False)
    fax = forms.CharField(max_length=32, required=False)
    ccn = forms.CharField(label="Medicare CCN", max_length=10, required=False)
    medicare_participating = forms.BooleanField(label="Medicare participating", required=False, initial=True)
    star_rating = forms.TypedChoiceField(
        label="Quality star rating", choices=STAR_CHOICES, coerce=int, required=False, empty_value=None
    )
    capacity = forms.IntegerField(min_value=0, required=False, help_text="Open beds or new-patient slots")
    accepting = forms.BooleanField(label="Accepting new patients", required=False, initial=True)

    def __init__(self, *args: Any, organizations: Any = (), editing: bool = False, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        if editing:
            del self.fields["organization_id"]
            del self.fields["provider_type"]
        else:
            field = self.fields["organization_id"]
            assert isinstance(field, forms.ChoiceField)
            field.choices = [("", "Not on CaseBridge (external)")] + [
                (o.pk, f"{o.name} ({o.get_org_type_display()})") for o in organizations
            ]

    def clean_zip_codes_served(self) -> list[str]:
        return zip_list(self.cleaned_data.get("zip_codes_served", ""))


class StatusForm(forms.Form):
    accepting = forms.BooleanField(label="Accepting new patients", required=False)
    capacity = forms.IntegerField(min_value=0, required=False, help_text="Open beds or new-patient slots")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)


class NetworkForm(forms.Form):
    insurer_id = forms.TypedChoiceField(label="Insurer on CaseBridge", coerce=int, required=False, empty_value=None)
    payer_name = forms.CharField(max_length=200, required=False, help_text="For a payer not on CaseBridge")
    plan_name = forms.CharField(max_length=200, required=False, help_text="Blank: every plan of this payer")

    def __init__(self, *args: Any, insurers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["insurer_id"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [("", "—")] + [(o.pk, o.name) for o in insurers]


class InterestForm(forms.Form):
    description = forms.CharField(
        label="Our financial interest", max_length=300, required=False, help_text="Blank removes the disclosure"
    )


class DirectoryFilterForm(forms.Form):
    provider_type = forms.ChoiceField(label="Type", choices=[("", "Any")] + TYPE_CHOICES, required=False)
    service = forms.ChoiceField(choices=[("", "Any")] + SERVICE_CHOICES, required=False)
    zip_code = forms.CharField(label="Serves ZIP", max_length=5, required=False)


class ChoiceListForm(forms.Form):
    provider_type = forms.ChoiceField(label="Service type needed", choices=TYPE_CHOICES)
    service = forms.ChoiceField(label="Service needed", choices=[("", "Any")] + SERVICE_CHOICES, required=False)
    area_zips = forms.CharField(
        label="Area (ZIP codes)",
        required=False,
        help_text="Home health: the patient's home ZIP by default. Facilities: the area the patient asks for.",
    )
    managed_care = forms.ChoiceField(
        label="Managed-care plan",
        choices=[("", "Decide from the coverage"), ("yes", "Yes"), ("no", "No")],
        required=False,
    )
    inpatient_admitted_on = forms.DateField(
        label="SNF check: inpatient admission date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    discharge_on = forms.DateField(
        label="SNF check: expected discharge date", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    therapy_minutes = forms.CharField(
        label="IRF check: planned therapy minutes, 7 days", required=False, help_text="e.g. 180 180 180 180 180 0 0"
    )
    therapy_disciplines = forms.MultipleChoiceField(
        label="IRF check: therapy disciplines",
        choices=[("PT", "PT"), ("OT", "OT"), ("SLP", "SLP"), ("ORTHOTICS_PROSTHETICS", "Orthotics/prosthetics")],
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        for i, label in enumerate(PRIORITY_LABELS):
            initial = DEFAULT_PRIORITIES[i] if i < len(DEFAULT_PRIORITIES) else ""
            self.fields[f"priority_{i + 1}"] = forms.ChoiceField(
                label=label, choices=PRIORITY_CHOICES, required=False, initial=initial
            )

    def priorities(self) -> list[str]:
        return [
            self.cleaned_data[f"priority_{i + 1}"]
            for i in range(len(PRIORITY_LABELS))
            if self.cleaned_data.get(f"priority_{i + 1}")
        ]

    def clean_therapy_minutes(self) -> list[int] | None:
        raw = self.cleaned_data.get("therapy_minutes", "").replace(",", " ").split()
        if not raw:
            return None
        try:
            return [int(x) for x in raw]
        except ValueError as exc:
            raise forms.ValidationError("Enter whole minutes, one number per day.") from exc


class PresentForm(forms.Form):
    presented_to = forms.ChoiceField(label="Presented to", choices=PresentedTo.choices)
    representative_name = forms.CharField(max_length=200, required=False, help_text="When given to a representative")
    note = forms.CharField(max_length=500, required=False, widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args: Any, entries: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.entries = list(entries)
        for e in self.entries:
            self.fields[f"rank_{e.provider_id}"] = forms.IntegerField(
                label=f"Rank for {e.name}", min_value=1, max_value=max(len(self.entries), 1), required=False
            )

    def ranked_provider_ids(self) -> list[int]:
        ranks = [(self.cleaned_data.get(f"rank_{e.provider_id}"), e.provider_id) for e in self.entries]
        return [pid for rank, pid in sorted((r, p) for r, p in ranks if r is not None)]

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        given = [data.get(f"rank_{e.provider_id}") for e in self.entries]
        given = [r for r in given if r is not None]
        if len(set(given)) != len(given):
            raise forms.ValidationError("Each rank may be given to one provider only.")
        return data


class ReferralForm(forms.Form):
    provider_ids = forms.TypedMultipleChoiceField(
        label="Send to", coerce=int, widget=forms.CheckboxSelectMultiple, help_text="One or several providers"
    )
    sections = forms.MultipleChoiceField(
        label="Share", choices=list(SECTION_LABELS.items()), widget=forms.CheckboxSelectMultiple, required=False
    )
    note = forms.CharField(label="Note to the provider", required=False, widget=forms.Textarea(attrs={"rows": 3}))
    requested_start_on = forms.DateField(
        label="Requested start of service", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    response_hours = forms.IntegerField(label="Answer needed within (hours)", min_value=1, max_value=24 * 14)
    provider_type = forms.CharField(widget=forms.HiddenInput)
    service = forms.CharField(widget=forms.HiddenInput, required=False)
    choice_list_id = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, providers: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["provider_ids"]
        assert isinstance(field, forms.ChoiceField)
        field.choices = [(p.pk, label) for p, label in providers]


class AcceptForm(forms.Form):
    proposed_start_on = forms.DateField(
        label="We can start on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )
    note = forms.CharField(max_length=500, required=False)


class DeclineForm(forms.Form):
    reason_code = forms.ChoiceField(label="Reason", choices=[("", "Choose…")] + list(DECLINE_REASONS.items()))
    note = forms.CharField(max_length=500, required=False)


class ResponseForm(forms.Form):
    decision = forms.ChoiceField(choices=[("accept", "Accepted"), ("decline", "Declined")])
    contact_name = forms.CharField(label="Who answered", max_length=200)
    reason_code = forms.ChoiceField(
        label="Reason (if declined)", choices=[("", "—")] + list(DECLINE_REASONS.items()), required=False
    )
    note = forms.CharField(max_length=500, required=False)
    proposed_start_on = forms.DateField(
        label="They can start on", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )


class AgreementForm(forms.Form):
    start_of_service_on = forms.DateField(label="Start of service", widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(max_length=300, required=False)


class WithdrawForm(forms.Form):
    reason = forms.CharField(max_length=300)
