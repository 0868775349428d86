"""A case's timeline, derived from the records themselves (nothing stored twice).

Each business area contributes entries through a provider listed in PROVIDERS:
a function ``entries_for(case) -> list[TimelineEntry]``.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

from django.utils.module_loading import import_string

from casebridge.cases.domain import STATUS_LABELS, CaseStatus
from casebridge.cases.models import Case


@dataclass(frozen=True)
class TimelineEntry:
    at: dt.datetime
    kind: str
    text: str
    who: str = ""


PROVIDERS = [
    "casebridge.cases.timeline.status_entries",
    "casebridge.careplans.timeline.entries_for",
    "casebridge.tasks.timeline.entries_for",
    "casebridge.communications.timeline.entries_for",
    "casebridge.postacute.timeline.entries_for",
    "casebridge.utilization.timeline.entries_for",
    "casebridge.hospital.timeline.entries_for",
]


def status_entries(case: Case) -> list[TimelineEntry]:
    entries = []
    for change in case.status_changes.select_related("by"):
        label = STATUS_LABELS[CaseStatus(change.to_status)]
        text = f"Case opened in {label}" if not change.from_status else f"Moved to {label}"
        if change.reason:
            text += f": {change.reason}"
        entries.append(TimelineEntry(at=change.at, kind="status", text=text, who=str(change.by or "")))
    for member in case.care_team.select_related("user", "organization"):
        entries.append(
            TimelineEntry(
                at=member.added_at, kind="care team", text=f"{member} joined the care team ({member.organization})"
            )
        )
    return entries


def _provider(path: str) -> Callable[[Case], list[TimelineEntry]] | None:
    try:
        return import_string(path)  # type: ignore[no-any-return]
    except ImportError:
        return None  # an area without a timeline yet contributes nothing


def case_timeline(case: Case, *, limit: int = 200) -> list[TimelineEntry]:
    entries: list[TimelineEntry] = []
    for path in PROVIDERS:
        provider = _provider(path)
        if provider is not None:
            entries.extend(provider(case))
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
