"""HOSPITAL score for potentially avoidable 30-day readmission: Donzé et al., JAMA Intern Med 2013;173:632."""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal

from casebridge.hospital.rules.scoring import Component, Score, band_for, points_by_floor, require_non_negative

HEMOGLOBIN_THRESHOLD_G_DL = Decimal("12")  # < 12 g/dL at discharge: 1 point
SODIUM_THRESHOLD_MMOL_L = Decimal("135")  # < 135 mmol/L at discharge: 1 point
LOW_HEMOGLOBIN_POINTS = 1
ONCOLOGY_DISCHARGE_POINTS = 2
LOW_SODIUM_POINTS = 1
PROCEDURE_POINTS = 1
URGENT_ADMISSION_POINTS = 1
# Admissions in the previous 12 months: 0-1: 0, 2-5: 2, >5: 5.
PRIOR_ADMISSION_POINTS: tuple[tuple[int, int], ...] = ((0, 0), (2, 2), (6, 5))
LONG_STAY_DAYS = 5  # length of stay >= 5 days: 2 points
LONG_STAY_POINTS = 2
BANDS: tuple[tuple[int, str], ...] = ((0, "low"), (5, "intermediate"), (7, "high"))
# Approximate 30-day potentially avoidable readmission risk per band, as reported by Donzé 2013.
BAND_RISK: Mapping[str, Decimal] = {"low": Decimal("0.058"), "intermediate": Decimal("0.12"), "high": Decimal("0.228")}
MAX_TOTAL = 13

Number = int | float | Decimal


def _below(value: Number, threshold: Decimal) -> bool:
    return Decimal(str(value)) < threshold


def _flag(key: str, label: str, value: bool | None, points: int, source: str | None, *, argument: str) -> Component:
    if value is not None and not isinstance(value, bool):
        raise ValueError(f"{argument} must be True, False or None, got {value!r}")
    return Component(
        key=key,
        label=label,
        value=value,
        points=None if value is None else (points if value else 0),
        max_points=points,
        source=source,
    )


def hospital_score(
    *,
    hemoglobin_g_dl: Number | None,
    oncology_discharge: bool | None,
    sodium_mmol_l: Number | None,
    procedure_during_stay: bool | None,
    index_admission_urgent: bool | None,
    admissions_previous_12_months: int | None,
    length_of_stay_days: int | None,
    sources: Mapping[str, str] | None = None,
) -> Score:
    """HOSPITAL score (Donzé 2013). None means unknown: reported missing, never counted as 0.

    ``sources`` is keyed by component: H, O, S, P, I, A, L.
    """
    require_non_negative("admissions_previous_12_months", admissions_previous_12_months)
    require_non_negative("length_of_stay_days", length_of_stay_days)
    for name, lab in (("hemoglobin_g_dl", hemoglobin_g_dl), ("sodium_mmol_l", sodium_mmol_l)):
        if lab is not None and (isinstance(lab, bool) or Decimal(str(lab)) < 0):
            raise ValueError(f"{name} must be a non-negative number, got {lab!r}")
    where = dict(sources or {})
    components = (
        Component(
            key="H",
            label="Hemoglobin at discharge < 12 g/dL",
            value=hemoglobin_g_dl,
            points=None
            if hemoglobin_g_dl is None
            else (LOW_HEMOGLOBIN_POINTS if _below(hemoglobin_g_dl, HEMOGLOBIN_THRESHOLD_G_DL) else 0),
            max_points=LOW_HEMOGLOBIN_POINTS,
            source=where.get("H"),
        ),
        _flag(
            "O",
            "Discharge from an oncology service",
            oncology_discharge,
            ONCOLOGY_DISCHARGE_POINTS,
            where.get("O"),
            argument="oncology_discharge",
        ),
        Component(
            key="S",
            label="Sodium at discharge < 135 mmol/L",
            value=sodium_mmol_l,
            points=None
            if sodium_mmol_l is None
            else (LOW_SODIUM_POINTS if _below(sodium_mmol_l, SODIUM_THRESHOLD_MMOL_L) else 0),
            max_points=LOW_SODIUM_POINTS,
            source=where.get("S"),
        ),
        _flag(
            "P",
            "Procedure during the stay",
            procedure_during_stay,
            PROCEDURE_POINTS,
            where.get("P"),
            argument="procedure_during_stay",
        ),
        _flag(
            "I",
            "Index admission type urgent",
            index_admission_urgent,
            URGENT_ADMISSION_POINTS,
            where.get("I"),
            argument="index_admission_urgent",
        ),
        Component(
            key="A",
            label="Admissions in the previous 12 months",
            value=admissions_previous_12_months,
            points=None
            if admissions_previous_12_months is None
            else points_by_floor(admissions_previous_12_months, PRIOR_ADMISSION_POINTS),
            max_points=PRIOR_ADMISSION_POINTS[-1][1],
            source=where.get("A"),
        ),
        Component(
            key="L",
            label="Length of stay >= 5 days",
            value=length_of_stay_days,
            points=None
            if length_of_stay_days is None
            else (LONG_STAY_POINTS if length_of_stay_days >= LONG_STAY_DAYS else 0),
            max_points=LONG_STAY_POINTS,
            source=where.get("L"),
        ),
    )
    complete = all(c.points is not None for c in components)
    total = sum(c.points or 0 for c in components)
    return Score(name="HOSPITAL", components=components, band=band_for(total, BANDS) if complete else None)


def expected_risk(score: Score) -> Decimal | None:
    """The band's approximate readmission risk from Donzé 2013, or None when the score is incomplete."""
    return None if score.band is None else BAND_RISK[score.band]
