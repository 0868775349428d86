"""LACE index for death or unplanned readmission within 30 days: van Walraven et al., CMAJ 2010;182:551."""

from __future__ import annotations

from collections.abc import Mapping

from casebridge.hospital.rules.scoring import Component, Score, band_for, points_by_floor, require_non_negative

# (lowest value, points), from RULES.md's LACE table.
LENGTH_OF_STAY_POINTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (7, 5), (14, 7))
ACUTE_ADMISSION_POINTS = 3
CHARLSON_POINTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 5))
ED_VISIT_POINTS: tuple[tuple[int, int], ...] = ((0, 0), (1, 1), (2, 2), (3, 3), (4, 4))
# Common bands from later literature: 0-4 low, 5-9 moderate, >=10 high.
BANDS: tuple[tuple[int, str], ...] = ((0, "low"), (5, "moderate"), (10, "high"))
MAX_TOTAL = 19


def lace_score(
    *,
    length_of_stay_days: int | None,
    acute_admission: bool | None,
    charlson_index: int | None,
    ed_visits_previous_6_months: int | None,
    sources: Mapping[str, str] | None = None,
) -> Score:
    """LACE (van Walraven CMAJ 2010). None for an input means unknown: it is reported missing, never counted as 0.

    ``sources`` names where each input came from, keyed "L", "A", "C", "E" (e.g. "Encounter/12 period").
    """
    require_non_negative("length_of_stay_days", length_of_stay_days)
    require_non_negative("charlson_index", charlson_index)
    require_non_negative("ed_visits_previous_6_months", ed_visits_previous_6_months)
    if acute_admission is not None and not isinstance(acute_admission, bool):
        raise ValueError(f"acute_admission must be True, False or None, got {acute_admission!r}")
    where = dict(sources or {})
    components = (
        Component(
            key="L",
            label="Length of stay (days)",
            value=length_of_stay_days,
            points=None if length_of_stay_days is None else points_by_floor(length_of_stay_days, LENGTH_OF_STAY_POINTS),
            max_points=LENGTH_OF_STAY_POINTS[-1][1],
            source=where.get("L"),
        ),
        Component(
            key="A",
            label="Acute (emergent) admission",
            value=acute_admission,
            points=None if acute_admission is None else (ACUTE_ADMISSION_POINTS if acute_admission else 0),
            max_points=ACUTE_ADMISSION_POINTS,
            source=where.get("A"),
        ),
        Component(
            key="C",
            label="Charlson comorbidity index",
            value=charlson_index,
            points=None if charlson_index is None else points_by_floor(charlson_index, CHARLSON_POINTS),
            max_points=CHARLSON_POINTS[-1][1],
            source=where.get("C"),
        ),
        Component(
            key="E",
            label="ED visits in the previous 6 months",
            value=ed_visits_previous_6_months,
            points=None
            if ed_visits_previous_6_months is None
            else points_by_floor(ed_visits_previous_6_months, ED_VISIT_POINTS),
            max_points=ED_VISIT_POINTS[-1][1],
            source=where.get("E"),
        ),
    )
    complete = all(c.points is not None for c in components)
    total = sum(c.points or 0 for c in components)
    return Score(name="LACE", components=components, band=band_for(total, BANDS) if complete else None)
