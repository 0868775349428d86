from __future__ import annotations

from django import forms

from casebridge.cases.domain import STATUS_LABELS, CaseStatus
from casebridge.cases.models import CaseType


class CaseOpenForm(forms.Form):
    patient_id = forms.IntegerField(widget=forms.HiddenInput)
    case_type = forms.ChoiceField(label="Type", choices=CaseType.choices)
    reason = forms.CharField(max_length=300, required=False, label="Reason for case management")
    diagnosis_code = forms.CharField(max_length=32, required=False, label="Principal diagnosis (ICD-10-CM)")
    diagnosis_display = forms.CharField(max_length=300, required=False, label="Diagnosis description")
    assigned_to_id = forms.TypedChoiceField(label="Case manager", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, staff=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["assigned_to_id"].choices = [("", "— unassigned —")] + [(u.pk, str(u)) for u in staff]


class TransitionForm(forms.Form):
    status = forms.ChoiceField(label="Move to")
    reason = forms.CharField(max_length=300, required=False, label="Reason or note")
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args, moves=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [("", "Choose…")] + [(s.value, STATUS_LABELS[CaseStatus(s)]) for s in moves]


class CareTeamForm(forms.Form):
    role = forms.CharField(max_length=100, help_text="e.g. Insurer case manager, Attending physician")
    organization_id = forms.TypedChoiceField(label="Organization", coerce=int, required=False, empty_value=None)
    name = forms.CharField(max_length=200, required=False, help_text="Name of the person")
    phone = forms.CharField(max_length=32, required=False)

    def __init__(self, *args, organizations=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["organization_id"].choices = [("", "Our organization")] + [(o.pk, o.name) for o in organizations]


class AssignForm(forms.Form):
    user_id = forms.TypedChoiceField(label="Case manager", coerce=int)

    def __init__(self, *args, staff=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [(u.pk, str(u)) for u in staff]
