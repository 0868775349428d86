"""What an applied ADT message did, in words for the ADT feed page.

``events.apply_adt`` stores a small machine-readable summary with each accepted message
(``Hl7Message.summary``: ``{"event": "A03", "patient": "matched", "encounter": "updated",
"case_steps": ["assessment", ...]}``); an interface analyst reading the log wants "visit updated;
hospital case: Assessment → Planning → ..." instead of the keys and a Python list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from casebridge.cases.domain import STATUS_LABELS, CaseStatus

_PATIENT = {
    "created": "patient registered",
    "matched": "patient matched",
    "updated": "patient details updated",
    "merged": "patients merged",
}
_ENCOUNTER = {"created": "visit opened", "updated": "visit updated", "unchanged": "visit unchanged"}
# What a cancel did to the visit's hospital case (events.case_follow_cancel_admit / _discharge).
_CASE_AFTER_CANCEL = {
    CaseStatus.CANCELLED.value: "hospital case cancelled",
    CaseStatus.ON_HOLD.value: "hospital case put on hold (it already has work)",
    "unchanged": "hospital case kept as it was (it already has work)",
    CaseStatus.MONITORING.value: f"hospital case back to {STATUS_LABELS[CaseStatus.MONITORING]}",
}
# The order a message applies them in. The stored summary's own key order is not kept: PostgreSQL's
# jsonb orders keys by length.
_ORDER = ("patient", "merge", "encounters_moved", "encounter", "case", "case_steps")
# Shown by other columns (the message type) or only an internal link.
_NOT_SHOWN = {"event", "merge_id"}


def _status(value: Any) -> str:
    try:
        return STATUS_LABELS[CaseStatus(value)]
    except ValueError:
        return str(value)


def _phrase(key: str, value: Any) -> str | None:
    if key == "patient":
        return _PATIENT.get(value, f"patient {value}")
    if key == "encounter":
        return _ENCOUNTER.get(value, f"visit {value}")
    if key == "case":
        if isinstance(value, int) and not isinstance(value, bool):
            return f"hospital case #{value} opened"
        return _CASE_AFTER_CANCEL.get(value) if value else None
    if key == "case_steps":
        steps = [_status(s) for s in value or []]
        return "hospital case: " + " → ".join(steps) if steps else None
    if key == "encounters_moved":
        return f"{value} visit{'' if value == 1 else 's'} moved to the surviving patient"
    if key == "merge":
        return str(value)
    return f"{key.replace('_', ' ')}: {value}"


def describe(summary: Mapping[str, Any] | None) -> list[str]:
    """The summary's phrases in the order the message applied them; keys nobody maps are shown (after
    those, alphabetically) as ``key: value`` rather than hidden."""
    summary = summary or {}
    known = [key for key in _ORDER if key in summary]
    others = sorted(key for key in summary if key not in _ORDER and key not in _NOT_SHOWN)
    phrases = []
    for key in known + others:
        phrase = _phrase(key, summary[key])
        if phrase:
            phrases.append(phrase)
    return phrases
