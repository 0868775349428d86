from __future__ import annotations

from django import forms

from casebridge.communications import filetypes
from casebridge.communications.models import Channel, Direction, DocumentType, PartyKind
from casebridge.communications.services import SUMMARY_MAX

DATETIME_LOCAL = ["%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M"]


def _when(**attrs: str) -> forms.DateTimeInput:
    return forms.DateTimeInput(attrs={"type": "datetime-local", **attrs}, format="%Y-%m-%dT%H:%M")


class CommunicationForm(forms.Form):
    prefix = "contact"

    channel = forms.ChoiceField(choices=Channel.choices)
    direction = forms.ChoiceField(choices=Direction.choices)
    occurred_at = forms.DateTimeField(label="When", input_formats=DATETIME_LOCAL, widget=_when())
    party_kind = forms.ChoiceField(label="With (role)", choices=PartyKind.choices)
    party_name = forms.CharField(label="With (name)", max_length=200)
    party_organization = forms.CharField(label="Their organization", max_length=200, required=False)
    summary = forms.CharField(max_length=SUMMARY_MAX, widget=forms.Textarea(attrs={"rows": 3}))
    outcome = forms.CharField(max_length=300, required=False)
    follow_up_title = forms.CharField(
        label="Follow-up task", max_length=200, required=False, help_text="Leave empty for no follow-up"
    )
    follow_up_due_at = forms.DateTimeField(
        label="Follow-up due", input_formats=DATETIME_LOCAL, widget=_when(), required=False
    )
    follow_up_owner_id = forms.TypedChoiceField(label="Follow-up owner", coerce=int, required=False, empty_value=None)

    def __init__(self, *args, staff=(), **kwargs):  # type: ignore[no-untyped-def]
        super().__init__(*args, **kwargs)
        self.fields["follow_up_owner_id"].choices = [("", "Me")] + [(u.pk, str(u)) for u in staff]

    def service_arguments(self) -> dict:
        d = self.cleaned_data
        return {
            "channel": d["channel"],
            "direction": d["direction"],
            "occurred_at": d["occurred_at"],
            "parties": [{"kind": d["party_kind"], "name": d["party_name"], "organization": d["party_organization"]}],
            "summary": d["summary"],
            "outcome": d["outcome"],
            "follow_up_title": d["follow_up_title"],
            "follow_up_due_at": d["follow_up_due_at"],
            "follow_up_owner_id": d["follow_up_owner_id"],
        }


# The web form has one party; the service names parties by position.
FIELD_FOR = {
    "parties": "party_name",
    "parties[0].kind": "party_kind",
    "parties[0].name": "party_name",
    "parties[0].organization": "party_organization",
}


class DocumentForm(forms.Form):
    prefix = "doc"

    document_type = forms.ChoiceField(label="Type", choices=DocumentType.choices)
    title = forms.CharField(max_length=200, required=False, help_text="Defaults to the file name")
    file = forms.FileField(
        help_text=f"{filetypes.allowed_list()}",
        widget=forms.ClearableFileInput(attrs={"accept": ",".join([*filetypes.ALLOWED, *filetypes.EXTENSIONS])}),
    )
