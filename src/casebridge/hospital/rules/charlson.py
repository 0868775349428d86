"""Charlson comorbidity index: Charlson et al., J Chronic Dis 1987 weights; Quan et al., Med Care 2005 ICD-10 map.

The weights and the ICD-10 map are data (``data/charlson_conditions.csv``,
``data/charlson_icd10_quan2005.csv``), transcribed from RULES.md. SNOMED CT
codes, as Synthea writes them, go through ``data/snomed_charlson_map.csv``, a
CaseBridge mapping awaiting review by clinical leadership.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import cache
from typing import NamedTuple

from casebridge.hospital.rules._data import read_csv

SNOMED_CT = "http://snomed.info/sct"

# Systems read as ICD-10 (WHO) or its US clinical modification; Quan's prefixes apply to both.
ICD10_SYSTEMS = frozenset(
    {
        "http://hl7.org/fhir/sid/icd-10",
        "http://hl7.org/fhir/sid/icd-10-cm",
        "urn:oid:2.16.840.1.113883.6.3",
        "urn:oid:2.16.840.1.113883.6.90",
        "icd-10",
        "icd-10-cm",
        "icd10",
        "icd10cm",
    }
)


class Coding(NamedTuple):
    system: str
    code: str


@dataclass(frozen=True)
class CharlsonCondition:
    key: str
    label: str
    weight: int
    hierarchy_group: str | None


@dataclass(frozen=True)
class ConditionMatch:
    """One Charlson condition found in the codes. ``counted`` is False when the hierarchy rule drops it."""

    condition: str
    label: str
    weight: int
    codes: tuple[Coding, ...]
    counted: bool
    superseded_by: str | None


@dataclass(frozen=True)
class CharlsonResult:
    conditions: tuple[ConditionMatch, ...]
    total: int
    not_charlson: tuple[Coding, ...]
    """Codes read and found to belong to no Charlson condition."""
    unreviewed: tuple[Coding, ...]
    """SNOMED CT codes absent from the map: the index may understate the comorbidity burden."""
    unsupported: tuple[Coding, ...]
    """Codes in a system the index does not read."""

    def condition(self, key: str) -> ConditionMatch | None:
        return next((m for m in self.conditions if m.condition == key), None)


@dataclass(frozen=True)
class SnomedMapping:
    snomed_code: str
    display: str
    charlson_condition: str | None
    source: str


@dataclass(frozen=True)
class _Pattern:
    text: str
    low: str
    high: str

    def matches(self, code: str) -> bool:
        width = len(self.low)
        if len(code) < width:
            return False
        head = code[:width]
        # WHO ICD-10 has digits after the chapter letter; ICD-10-CM codes such as C4A or C7A are outside Quan's ranges.
        if not head[1:].isdigit():
            return False
        return self.low <= head <= self.high


def normalize_icd10(code: str) -> str:
    """Upper case, no dot, no spaces: ``i50.9`` and ``I509`` are the same code."""
    return code.strip().upper().replace(".", "").replace(" ", "")


def _pattern(text: str) -> _Pattern:
    low, _, high = text.partition("-")
    low, high = normalize_icd10(low), normalize_icd10(high or low)
    if len(low) != len(high):
        raise ValueError(f"ICD-10 range {text!r} has ends of different length")
    return _Pattern(text=text, low=low, high=high)


@cache
def conditions() -> tuple[CharlsonCondition, ...]:
    """The 17 Charlson conditions with their original 1987 weights, in table order."""
    return tuple(
        CharlsonCondition(
            key=row["condition"],
            label=row["label"],
            weight=int(row["weight"]),
            hierarchy_group=row["hierarchy_group"] or None,
        )
        for row in read_csv("charlson_conditions.csv")
    )


@cache
def _icd10_patterns() -> dict[str, tuple[_Pattern, ...]]:
    keys = {c.key for c in conditions()}
    patterns: dict[str, list[_Pattern]] = {key: [] for key in keys}
    for row in read_csv("charlson_icd10_quan2005.csv"):
        if row["condition"] not in keys:
            raise ValueError(f"unknown Charlson condition {row['condition']!r} in ICD-10 map")
        patterns[row["condition"]].append(_pattern(row["icd10"]))
    return {key: tuple(found) for key, found in patterns.items()}


@cache
def snomed_map() -> Mapping[str, SnomedMapping]:
    """The SNOMED CT → Charlson map; an empty condition means reviewed and not a Charlson condition."""
    keys = {c.key for c in conditions()}
    result: dict[str, SnomedMapping] = {}
    for row in read_csv("snomed_charlson_map.csv"):
        condition = row["charlson_condition"] or None
        if condition is not None and condition not in keys:
            raise ValueError(f"unknown Charlson condition {condition!r} in SNOMED map")
        result[row["snomed_code"]] = SnomedMapping(
            snomed_code=row["snomed_code"], display=row["display"], charlson_condition=condition, source=row["source"]
        )
    return result


def icd10_conditions(code: str) -> tuple[str, ...]:
    """The Charlson conditions an ICD-10 code belongs to under Quan 2005 (usually none or one)."""
    normalized = normalize_icd10(code)
    return tuple(c.key for c in conditions() if any(p.matches(normalized) for p in _icd10_patterns()[c.key]))


def _is_icd10(system: str) -> bool:
    return system.strip().lower() in ICD10_SYSTEMS


def charlson_index(codings: Iterable[tuple[str, str]]) -> CharlsonResult:
    """Charlson index of a patient's coded diagnoses (1987 weights, Quan 2005 ICD-10 map, hierarchy rule)."""
    found: dict[str, list[Coding]] = {}
    not_charlson: list[Coding] = []
    unreviewed: list[Coding] = []
    unsupported: list[Coding] = []
    for system, code in codings:
        coding = Coding(system, code)
        if _is_icd10(system):
            keys = icd10_conditions(code)
        elif system == SNOMED_CT:
            mapping = snomed_map().get(code.strip())
            if mapping is None:
                unreviewed.append(coding)
                continue
            keys = (mapping.charlson_condition,) if mapping.charlson_condition else ()
        else:
            unsupported.append(coding)
            continue
        if not keys:
            not_charlson.append(coding)
        for key in keys:
            found.setdefault(key, []).append(coding)

    by_key = {c.key: c for c in conditions()}
    top_of_group: dict[str, CharlsonCondition] = {}
    for key in found:
        condition = by_key[key]
        group = condition.hierarchy_group
        if group is not None and (group not in top_of_group or condition.weight > top_of_group[group].weight):
            top_of_group[group] = condition

    matches: list[ConditionMatch] = []
    for condition in conditions():
        if condition.key not in found:
            continue
        top = top_of_group.get(condition.hierarchy_group) if condition.hierarchy_group else None
        superseded_by = top.key if top is not None and top.key != condition.key else None
        matches.append(
            ConditionMatch(
                condition=condition.key,
                label=condition.label,
                weight=condition.weight,
                codes=tuple(dict.fromkeys(found[condition.key])),
                counted=superseded_by is None,
                superseded_by=superseded_by,
            )
        )
    return CharlsonResult(
        conditions=tuple(matches),
        total=sum(m.weight for m in matches if m.counted),
        not_charlson=tuple(not_charlson),
        unreviewed=tuple(unreviewed),
        unsupported=tuple(unsupported),
    )
