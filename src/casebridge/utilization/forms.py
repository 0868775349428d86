"""Forms of the utilization review pages. They parse input only; the services decide."""

from __future__ import annotations

from typing import Any

from django import forms

from casebridge.hospital.rules.ur_determination import AttendingView
from casebridge.utilization.criteria import LEVEL_LABELS, LEVEL_ORDER, LevelOfCare
from casebridge.utilization.models import DeterminationScope, ResponsibleParty

LEVEL_FORM_CHOICES = [(level, LEVEL_LABELS[LevelOfCare(level)]) for level in LEVEL_ORDER]
ANSWER_CHOICES = [("unknown", "Not answered"), ("met", "Met"), ("not_met", "Not met")]


class CompleteForm(forms.Form):
    decision = forms.ChoiceField(
        choices=[("confirmed", "Confirm the recommendation"), ("overridden", "Override")],
        widget=forms.RadioSelect,
        initial="confirmed",
    )
    level = forms.ChoiceField(
        label="Level of care (for an override)", choices=[("", "—"), *LEVEL_FORM_CHOICES], required=False
    )
    reason = forms.CharField(
        label="Reason (required to override)", widget=forms.Textarea(attrs={"rows": 3}), required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EscalateForm(forms.Form):
    reason = forms.CharField(
        label="Why a physician advisor should review", widget=forms.Textarea(attrs={"rows": 3}), max_length=5000
    )
    version = forms.IntegerField(widget=forms.HiddenInput)


class EvaluateForm(forms.Form):
    """The criteria sets to evaluate, and one answer (with a note) per manual criterion."""

    def __init__(
        self,
        *args: Any,
        sets: list[tuple[str, str]],
        manual: list[tuple[str, str, str, str]],
        chosen: list[str],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["set_keys"] = forms.MultipleChoiceField(
            label="Criteria sets",
            choices=sets,
            initial=chosen,
            widget=forms.CheckboxSelectMultiple,
            required=False,
            help_text="Leave all unticked to use the sets that apply to the stay's diagnoses.",
        )
        self.manual = manual
        for key, cid, text, current in manual:
            self.fields[f"a__{key}__{cid}"] = forms.ChoiceField(
                label=text, choices=ANSWER_CHOICES, initial=current, required=False
            )
            self.fields[f"n__{key}__{cid}"] = forms.CharField(label=f"Note: {text}", required=False, max_length=1000)
        self.fields["version"] = forms.IntegerField(widget=forms.HiddenInput)

    def answers(self) -> dict[str, dict[str, dict[str, str]]]:
        out: dict[str, dict[str, dict[str, str]]] = {}
        for key, cid, _text, _current in self.manual:
            value = self.cleaned_data.get(f"a__{key}__{cid}") or "unknown"
            note = self.cleaned_data.get(f"n__{key}__{cid}") or ""
            out.setdefault(key, {})[cid] = {"value": value, "note": note}
        return out


class DeterminationForm(forms.Form):
    scope = forms.ChoiceField(choices=DeterminationScope.choices)
    rationale = forms.CharField(widget=forms.Textarea(attrs={"rows": 3}), max_length=5000)


class AttendingResponseForm(forms.Form):
    view = forms.ChoiceField(
        label="The attending",
        choices=[
            (AttendingView.CONCURS.value, "Concurs"),
            (AttendingView.DISAGREES.value, "Disagrees"),
            (AttendingView.NO_VIEW_WHEN_OFFERED.value, "Gave no view when offered"),
        ],
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class ConcurForm(forms.Form):
    professionally_involved = forms.BooleanField(
        label="I was professionally involved in this patient's care", required=False
    )
    direct_financial_interest = forms.BooleanField(
        label="I have a direct financial interest in this case", required=False
    )
    note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)


class NoticeForm(forms.Form):
    recipient = forms.ChoiceField(
        choices=[("hospital", "Hospital"), ("patient", "Patient"), ("practitioner", "Practitioner")]
    )
    method = forms.CharField(required=False, max_length=100, help_text="e.g. hand-delivered, mail, portal")


class MoonDeliveryForm(forms.Form):
    oral_explanation = forms.BooleanField(label="Oral explanation given", required=False)
    signed_by = forms.CharField(label="Signed by (patient or representative)", required=False, max_length=200)
    signature_refused = forms.BooleanField(label="Signature refused", required=False)
    witness = forms.CharField(label="Staff witness (if refused)", required=False, max_length=200)


class CC44Form(forms.Form):
    status_changed_at = forms.DateTimeField(
        label="Changed to outpatient at", required=False, widget=forms.DateTimeInput(attrs={"type": "datetime-local"})
    )
    inpatient_claim_submitted = forms.BooleanField(label="An inpatient claim has been submitted", required=False)
    ur_committee_decided = forms.BooleanField(label="UR committee decided inpatient was not necessary", required=False)
    attending_concurs = forms.BooleanField(label="The attending concurs", required=False)
    concurrence_documented = forms.BooleanField(label="Concurrence documented in the record", required=False)
    concurrence_note = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 2}), max_length=5000)
    version = forms.IntegerField(widget=forms.HiddenInput)


class AvoidableDayForm(forms.Form):
    encounter_id = forms.TypedChoiceField(label="Stay", coerce=int)
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))
    reason_code = forms.ChoiceField(label="Reason")
    responsible_party = forms.ChoiceField(choices=ResponsibleParty.choices)
    note = forms.CharField(required=False, max_length=5000)

    def __init__(
        self, *args: Any, encounters: list[tuple[int, str]], reasons: list[tuple[str, str]], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        self.fields["encounter_id"].choices = encounters  # type: ignore[attr-defined]
        self.fields["reason_code"].choices = reasons  # type: ignore[attr-defined]


class AvoidableReasonForm(forms.Form):
    label = forms.CharField(max_length=120, help_text="As the reports will show it")
    code = forms.CharField(
        required=False, max_length=40, help_text="Optional short code (lower-case letters, digits, - and _)"
    )


class CriteriaSetForm(forms.Form):
    key = forms.SlugField(max_length=64, help_text="Short name, e.g. sepsis_inpatient")
    fmt = forms.ChoiceField(label="Format", choices=[("yaml", "YAML"), ("json", "JSON")])
    text = forms.CharField(label="Criteria set", widget=forms.Textarea(attrs={"rows": 18, "spellcheck": "false"}))


class CriteriaVersionForm(forms.Form):
    fmt = forms.ChoiceField(label="Format", choices=[("yaml", "YAML"), ("json", "JSON")])
    text = forms.CharField(label="Criteria set", widget=forms.Textarea(attrs={"rows": 24, "spellcheck": "false"}))
    change_note = forms.CharField(label="What changed", max_length=300)
    expected_version = forms.IntegerField(widget=forms.HiddenInput)


class PolicyForm(forms.Form):
    payer = forms.CharField(required=False, max_length=200, help_text="As on the coverage; blank sets the default")
    initial_review_hours = forms.IntegerField(min_value=1, max_value=720, initial=24)
    continued_stay_interval_hours = forms.IntegerField(min_value=1, max_value=720, initial=24)
