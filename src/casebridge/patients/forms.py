from __future__ import annotations

from django import forms

from casebridge.patients.models import Contact, Coverage, Patient


class DateInput(forms.DateInput):
    input_type = "date"


class PatientForm(forms.ModelForm):
    mrn = forms.CharField(
        label="MRN", max_length=64, required=False, help_text="Your organization's medical record number"
    )
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    class Meta:
        model = Patient
        fields = [
            "family_name",
            "given_name",
            "birth_date",
            "sex",
            "phone",
            "address_line",
            "city",
            "state",
            "postal_code",
            "language",
            "interpreter_needed",
            "advance_directive_on_file",
            "consent_to_share",
            "goals_in_own_words",
        ]
        widgets = {"birth_date": DateInput, "goals_in_own_words": forms.Textarea(attrs={"rows": 3})}


class ContactForm(forms.ModelForm):
    class Meta:
        model = Contact
        fields = [
            "name",
            "relationship",
            "phone",
            "availability",
            "is_caregiver",
            "able_to_give_care",
            "lives_with_patient",
            "is_emergency_contact",
        ]


class CoverageForm(forms.ModelForm):
    insurer_id = forms.TypedChoiceField(label="Insurer on CaseBridge", coerce=int, required=False, empty_value=None)

    class Meta:
        model = Coverage
        fields = [
            "payer_name",
            "plan_name",
            "member_id",
            "subscriber_name",
            "subscriber_relationship",
            "period_start",
            "period_end",
            "order",
        ]
        widgets = {"period_start": DateInput, "period_end": DateInput}

    def __init__(self, *args, insurers=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["payer_name"].required = False
        self.fields["payer_name"].help_text = "For an insurer not on CaseBridge"
        self.fields["insurer_id"].choices = [("", "—")] + [(o.pk, o.name) for o in insurers]


class SearchForm(forms.Form):
    name = forms.CharField(
        required=False,
        max_length=200,
        label="Name",
        widget=forms.TextInput(attrs={"data-search-box": "", "placeholder": "Last, First", "autofocus": True}),
    )
    birth_date = forms.DateField(required=False, widget=DateInput, label="Date of birth")
    identifier = forms.CharField(required=False, max_length=64, label="MRN, member ID or MBI")
