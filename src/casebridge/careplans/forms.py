from __future__ import annotations

from typing import Any

from django import forms

from casebridge.careplans.instruments import KIND_LABELS
from casebridge.careplans.questions import Kind, Question
from casebridge.careplans.vocabulary import PAYER_LABELS, ActivityStatus, GoalAchievement, choices, label

DATE = forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d")
INITIAL_GOAL_STATUSES = [
    ("proposed", "Proposed"),
    ("planned", "Planned"),
    ("accepted", "Accepted"),
    ("active", "Active"),
]


class GoalForm(forms.Form):
    description = forms.CharField(label="Goal", max_length=300, help_text="Measurable, in plain words")
    measure = forms.CharField(max_length=200, required=False, help_text="What is measured")
    target_value = forms.CharField(label="Target", max_length=100, required=False)
    target_date = forms.DateField(required=False, widget=DATE)
    need_id = forms.TypedChoiceField(label="Addresses need", coerce=int, required=False, empty_value=None)
    lifecycle_status = forms.ChoiceField(label="Status", choices=INITIAL_GOAL_STATUSES, initial="active")
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, needs: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["need_id"].choices = [("", "— none —")] + [(n.pk, n.label) for n in needs]  # type: ignore[attr-defined]


class GoalEditForm(GoalForm):
    achievement_status = forms.ChoiceField(
        label="Achievement", choices=[("", "— not assessed —"), *choices(GoalAchievement)], required=False
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["lifecycle_status"]


class GoalTransitionForm(forms.Form):
    status = forms.ChoiceField(label="Change status to")
    reason = forms.CharField(max_length=300, required=False, label="Reason")
    achievement_status = forms.ChoiceField(
        label="Outcome", required=False, choices=[("", "— default —"), *choices(GoalAchievement)]
    )
    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, moves: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.fields["status"].choices = [(m.value, label(m.value)) for m in moves]  # type: ignore[attr-defined]


class InterventionForm(forms.Form):
    description = forms.CharField(label="What", max_length=300, help_text="The intervention or service")
    discipline = forms.CharField(
        label="Discipline or type", max_length=60, required=False, help_text="e.g. SN, PT, MSW, meals, transport"
    )
    provider_organization_id = forms.TypedChoiceField(
        label="Provider organization", coerce=int, required=False, empty_value=None
    )
    provider_name = forms.CharField(label="Or provider name", max_length=200, required=False)
    frequency = forms.CharField(max_length=100, required=False, help_text='e.g. "SN 2w3", weekly')
    start_date = forms.DateField(required=False, widget=DATE)
    end_date = forms.DateField(required=False, widget=DATE)
    estimated_cost = forms.DecimalField(
        label="Estimated cost (USD)", required=False, min_value=0, max_digits=10, decimal_places=2
    )
    payer = forms.ChoiceField(label="Who pays", choices=[(k.value, v) for k, v in PAYER_LABELS.items()])
    version = forms.IntegerField(widget=forms.HiddenInput, required=False)

    def __init__(self, *args: Any, organizations: Any = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        choices_ = [("", "— none —")] + [(o.pk, o.name) for o in organizations]
        self.fields["provider_organization_id"].choices = choices_  # type: ignore[attr-defined]


class InterventionStatusForm(forms.Form):
    status = forms.ChoiceField(label="Status", choices=choices(ActivityStatus))
    version = forms.IntegerField(widget=forms.HiddenInput)


class AssessmentStartForm(forms.Form):
    kind = forms.ChoiceField(label="Assessment", choices=[(k.value, v) for k, v in KIND_LABELS.items()])


class AnswersForm(forms.Form):
    """One field per question; radio buttons for single answers, checkboxes for choose-all-that-apply."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    def __init__(self, *args: Any, questions: tuple[Question, ...] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.questions = questions
        for q in questions:
            opts = [(o.value, o.label) for o in q.options]
            if q.kind == Kind.MULTI:
                self.fields[q.key] = forms.MultipleChoiceField(
                    label=q.text, choices=opts, required=False, widget=forms.CheckboxSelectMultiple
                )
            else:
                self.fields[q.key] = forms.ChoiceField(
                    label=q.text, choices=opts, required=False, widget=forms.RadioSelect
                )

    def answers(self) -> dict[str, Any]:
        return {q.key: self.cleaned_data.get(q.key) or None for q in self.questions}

    def sections(self) -> list[tuple[str, list[forms.BoundField]]]:
        out: list[tuple[str, list[forms.BoundField]]] = []
        for q in self.questions:
            if not out or out[-1][0] != q.section:
                out.append((q.section, []))
            out[-1][1].append(self[q.key])
        return out
