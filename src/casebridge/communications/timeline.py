"""The case timeline's entries for contacts logged and documents filed."""

from __future__ import annotations

from casebridge.cases.models import Case
from casebridge.cases.timeline import TimelineEntry
from casebridge.communications.models import Communication, Document


def entries_for(case: Case) -> list[TimelineEntry]:
    entries = []
    for c in Communication.objects.filter(case=case).select_related("logged_by").prefetch_related("parties"):
        text = f"{c.get_direction_display()} {c.get_channel_display().lower()} contact"
        if c.parties_text:
            text += f" with {c.parties_text}"
        text += f": {c.summary[:120]}{'…' if len(c.summary) > 120 else ''}"
        entries.append(TimelineEntry(at=c.occurred_at, kind="contact", text=text, who=str(c.logged_by or "")))
    for d in Document.objects.filter(case=case).select_related("uploaded_by"):
        entries.append(
            TimelineEntry(
                at=d.uploaded_at,
                kind="document",
                text=f"{d.get_document_type_display()} added: {d.title}",
                who=str(d.uploaded_by or ""),
            )
        )
    return entries
