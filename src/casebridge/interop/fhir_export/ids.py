"""Stable FHIR ids and identifiers for CaseBridge records. Pure Python.

A record's FHIR id is ``casebridge-<kind>-<primary key>`` (e.g. ``casebridge-case-12``): stable for the
life of the record, unique across kinds, and a valid FHIR id (``[A-Za-z0-9\\-\\.]{1,64}``). Every exported
resource also carries an identifier in the CaseBridge system for its kind, so a receiver that re-keys
resources can still match them on a later export.
"""

from __future__ import annotations

import re

PREFIX = "casebridge"
# Identifier systems: one URN per kind of record (urn:casebridge:... as the audit export already uses).
SYSTEM_ROOT = "urn:casebridge:id:"

# FHIR resource type -> CaseBridge kind, for the types whose ids map one-to-one onto a table.
KIND_OF_TYPE = {
    "Patient": "patient",
    "EpisodeOfCare": "case",
    "CareTeam": "careteam",
    "CarePlan": "careplan",
    "Goal": "goal",
    "ServiceRequest": "intervention",
    "Task": "task",
    "Coverage": "coverage",
    "Communication": "communication",
    "Encounter": "encounter",
    "Condition": "condition",
}

_ID = re.compile(r"^casebridge-([a-z]+)-([1-9][0-9]{0,17})$")


def fhir_id(kind: str, pk: int) -> str:
    return f"{PREFIX}-{kind}-{pk}"


def system(kind: str) -> str:
    return SYSTEM_ROOT + kind


def identifier(kind: str, pk: int) -> dict[str, str]:
    return {"use": "secondary", "system": system(kind), "value": str(pk)}


def reference(resource_type: str, kind: str, pk: int, display: str = "") -> dict[str, str]:
    ref = {"reference": f"{resource_type}/{fhir_id(kind, pk)}"}
    if display:
        ref["display"] = display
    return ref


def pk_of(kind: str, value: str) -> int | None:
    """The primary key in ``casebridge-<kind>-<pk>``; None when ``value`` is not an id of that kind."""
    match = _ID.match(value)
    if match is None or match.group(1) != kind:
        return None
    return int(match.group(2))
