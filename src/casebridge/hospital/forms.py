from __future__ import annotations

from typing import Any

from django import forms

from casebridge.hospital.models import (
    AuthorizationStatus,
    LevelOfCare,
    Readiness,
    SelfCareCapacity,
    ServiceType,
)
from casebridge.hospital.services import HOME_HEALTH_DISCIPLINES

DATE = forms.DateInput(attrs={"type": "date"})
DATETIME = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class CensusFilterForm(forms.Form):
    """The census page's filters, read from its query string. The page offers them as selects of
    values on record; a hand-made URL can carry anything, and a CharField refuses NUL characters,
    which PostgreSQL cannot even compare."""

    unit = forms.CharField(required=False, max_length=200)
    case_manager = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1)
    payer = forms.CharField(required=False, max_length=200)


class StayForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    working_drg = forms.CharField(label="Working DRG", max_length=4, required=False)
    expected_discharge_on = forms.DateField(label="Expected discharge date", required=False, widget=DATE)
    readiness = forms.ChoiceField(choices=Readiness.choices)
    discharge_service = forms.CharField(max_length=40, required=False, help_text="e.g. medicine, oncology")
    complex_factors = forms.CharField(
        label="Documented complex medical factors", required=False, widget=forms.Textarea(attrs={"rows": 3})
    )
    treatment_plan = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))


class AuthorizationForm(forms.Form):
    payer_name = forms.CharField(max_length=200, required=False, help_text="Blank: the primary coverage's payer")
    reference_number = forms.CharField(max_length=64, required=False)
    status = forms.ChoiceField(choices=AuthorizationStatus.choices)
    approved_level_of_care = forms.ChoiceField(choices=[("", "—"), *LevelOfCare.choices], required=False)
    approved_days = forms.IntegerField(min_value=0, max_value=365, required=False)
    next_review_on = forms.DateField(label="Next review date", required=False, widget=DATE)
    note = forms.CharField(max_length=500, required=False)


class AuthorizationUpdateForm(forms.Form):
    """The payer's answer on an existing authorization: status, what was approved, the next review date."""

    version = forms.IntegerField(widget=forms.HiddenInput)
    status = forms.ChoiceField(choices=AuthorizationStatus.choices)
    reference_number = forms.CharField(max_length=64, required=False)
    approved_level_of_care = forms.ChoiceField(choices=[("", "—"), *LevelOfCare.choices], required=False)
    approved_days = forms.IntegerField(min_value=0, max_value=365, required=False)
    next_review_on = forms.DateField(label="Next review date", required=False, widget=DATE)
    note = forms.CharField(max_length=500, required=False)

    @classmethod
    def for_authorization(cls, authorization: Any) -> AuthorizationUpdateForm:
        """The form filled with the authorization as it stands, prefixed so several fit on one page."""
        initial = {name: getattr(authorization, name) for name in cls.base_fields}
        return cls(initial=initial, prefix=f"auth{authorization.pk}")


class SendForm(forms.Form):
    insurer = forms.ChoiceField(label="Insurer on CaseBridge", required=False)
    recipient_name = forms.CharField(label="…or insurer outside (name)", max_length=200, required=False)
    channel = forms.ChoiceField(
        choices=[
            ("", "Default"),
            ("portal", "Portal"),
            ("fax", "Fax"),
            ("secure_message", "Secure message"),
            ("email", "Email"),
        ],
        required=False,
    )
    acknowledge_missing = forms.BooleanField(label="Send although items are missing", required=False)

    def __init__(self, *args: Any, insurers: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["insurer"].choices = [("", "—"), *[(str(pk), name) for pk, name in insurers]]  # type: ignore[attr-defined]


class ContactForm(forms.Form):
    contact_name = forms.CharField(label="Insurer case manager", max_length=200)
    summary = forms.CharField(widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    outcome = forms.CharField(max_length=300, required=False)


class DenialForm(forms.Form):
    authorization_id = forms.IntegerField(widget=forms.HiddenInput)
    reason = forms.CharField(label="Payer's specific reason", max_length=500)
    denied_from = forms.DateField(required=False, widget=DATE)
    denied_days = forms.IntegerField(min_value=1, max_value=365, required=False)
    level_of_care_offered = forms.ChoiceField(choices=[("", "—"), *LevelOfCare.choices], required=False)


class PeerToPeerForm(forms.Form):
    result = forms.CharField(label="Peer-to-peer result", max_length=500)


class AppealForm(forms.Form):
    appeal_deadline = forms.DateField(widget=DATE)


class OutcomeForm(forms.Form):
    outcome = forms.ChoiceField(
        choices=[
            ("overturned", "Overturned"),
            ("partially_overturned", "Partially overturned"),
            ("upheld", "Upheld"),
            ("accepted", "Accepted without appeal"),
        ]
    )


class ScreenForm(forms.Form):
    new_functional_deficit = forms.NullBooleanField(required=False, widget=forms.NullBooleanSelect)
    high_cost_needs = forms.NullBooleanField(required=False, widget=forms.NullBooleanSelect)
    requested_by = forms.CharField(
        max_length=100, required=False, help_text="Evaluation requested by the patient, representative or physician"
    )


class EvaluationForm(forms.Form):
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)
    likely_needs = forms.CharField(
        label="Likely post-discharge needs", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    needs_availability = forms.CharField(
        label="Availability and accessibility", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    self_care_capacity = forms.ChoiceField(choices=SelfCareCapacity.choices, required=False)
    self_care_notes = forms.CharField(
        label="Capacity for self-care / prior setting", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    patient_goals = forms.CharField(
        label="Patient's goals and preferences", required=False, widget=forms.Textarea(attrs={"rows": 2})
    )
    caregiver = forms.CharField(max_length=200, required=False)
    caregiver_involved = forms.NullBooleanField(
        label="Caregiver an active partner", required=False, widget=forms.NullBooleanSelect
    )
    discussed_with_patient_at = forms.DateTimeField(label="Discussed with the patient", required=False, widget=DATETIME)
    complete = forms.BooleanField(label="Mark the evaluation complete", required=False)


class BarrierForm(forms.Form):
    description = forms.CharField(max_length=300)
    owner = forms.ChoiceField(required=False)
    owner_name = forms.CharField(label="…or owner (name)", max_length=200, required=False)
    due_on = forms.DateField(required=False, widget=DATE)

    def __init__(self, *args: Any, staff: list[tuple[int, str]] = (), **kwargs: Any) -> None:  # type: ignore[assignment]
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = [("", "—"), *[(str(pk), name) for pk, name in staff]]  # type: ignore[attr-defined]


class NeedForm(forms.Form):
    service_type = forms.ChoiceField(choices=ServiceType.choices)
    disciplines = forms.MultipleChoiceField(
        choices=[(d, d) for d in HOME_HEALTH_DISCIPLINES],
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="Home health only",
    )
    therapy_minutes = forms.CharField(
        label="IRF: planned therapy minutes, 7 days", required=False, help_text="e.g. 180,180,180,180,180,0,0"
    )
    therapy_disciplines = forms.CharField(label="IRF: therapy disciplines", required=False, help_text="e.g. PT, OT")
    route = forms.CharField(label="Infusion: route", required=False, help_text="intravenous, subcutaneous…")
    minutes_per_administration = forms.IntegerField(label="Infusion: minutes per dose", required=False, min_value=0)
    through_dme_pump = forms.BooleanField(label="Infusion: through a DME pump", required=False)
    note = forms.CharField(max_length=500, required=False)

    def clean_therapy_minutes(self) -> list[int] | None:
        text = self.cleaned_data.get("therapy_minutes") or ""
        if not text.strip():
            return None
        try:
            return [int(p) for p in text.replace(" ", "").split(",")]
        except ValueError:
            raise forms.ValidationError("Give 7 whole numbers separated by commas.") from None

    def service_arguments(self) -> dict[str, Any]:
        data = self.cleaned_data
        details: dict[str, Any] = {}
        if data["service_type"] == ServiceType.IRF:
            details["therapy_minutes_by_day"] = data.get("therapy_minutes")
            details["therapy_disciplines"] = [
                d.strip().upper() for d in (data.get("therapy_disciplines") or "").split(",") if d.strip()
            ]
        if data["service_type"] == ServiceType.HOME_INFUSION:
            details.update(
                route=data.get("route") or "",
                minutes_per_administration=data.get("minutes_per_administration"),
                through_dme_pump=bool(data.get("through_dme_pump")),
            )
        return {
            "service_type": data["service_type"],
            "disciplines": list(data.get("disciplines") or [])
            if data["service_type"] == ServiceType.HOME_HEALTH
            else [],
            "details": details,
            "note": data.get("note") or "",
        }


class DrgUploadForm(forms.Form):
    file = forms.FileField(help_text="CSV with columns drg, title, gmlos (and optional weight, amlos)")
    source = forms.CharField(max_length=200, help_text="Which table, e.g. 'CMS FY2026 Table 5'")


FIELD_FOR = {
    "details.therapy_minutes_by_day": "therapy_minutes",
    "details.therapy_disciplines": "therapy_disciplines",
    "details.route": "route",
    "details.minutes_per_administration": "minutes_per_administration",
    "insurer_id": "insurer",
    "owner_id": "owner",
}
