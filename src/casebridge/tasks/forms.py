from __future__ import annotations

from django import forms

from casebridge.kernel.numbers import whole_number
from casebridge.tasks.models import Priority

# One "Owner" field for both kinds of owner: "u<id>" is a colleague, "q<id>" a team queue.
USER_PREFIX, QUEUE_PREFIX = "u", "q"


def owner_choices(users, queues) -> list[tuple[str, object]]:  # type: ignore[no-untyped-def]
    choices: list[tuple[str, object]] = [("People", [(f"{USER_PREFIX}{u.pk}", str(u)) for u in users])]
    if queues:
        choices.append(("Team queues", [(f"{QUEUE_PREFIX}{q.pk}", q.name) for q in queues]))
    return choices


def parse_owner(value: str) -> tuple[int | None, int | None]:
    """("u12") -> (12, None); ("q3") -> (None, 3)."""
    kind, number = value[:1], int(value[1:])
    return (number, None) if kind == USER_PREFIX else (None, number)


class OwnerField(forms.ChoiceField):
    def validate(self, value: str) -> None:
        super().validate(value)
        if value and (value[:1] not in (USER_PREFIX, QUEUE_PREFIX) or whole_number(value[1:]) is None):
            raise forms.ValidationError("Choose a person or a queue.")


class TaskForm(forms.Form):
    title = forms.CharField(label="Task", max_length=200)
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
    )
    priority = forms.ChoiceField(label="Priority", choices=Priority.choices, initial=Priority.ROUTINE)
    owner = OwnerField(label="Owner")

    def __init__(self, *args, users=(), queues=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices(users, queues)


class ReassignForm(forms.Form):
    owner = OwnerField(label="Reassign to")

    def __init__(self, *args, users=(), queues=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["owner"].choices = owner_choices(users, queues)


class QueueForm(forms.Form):
    name = forms.CharField(label="Queue name", max_length=100)


class QueueMemberForm(forms.Form):
    user_id = forms.TypedChoiceField(label="Member", coerce=int)

    def __init__(self, *args, users=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["user_id"].choices = [(u.pk, str(u)) for u in users]
