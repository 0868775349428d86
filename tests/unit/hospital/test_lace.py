"""LACE index (van Walraven CMAJ 2010): every L/C/E boundary, band edges 4/5 and 9/10, missing inputs."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.hospital.rules.lace import lace_score
from casebridge.hospital.rules.scoring import length_of_stay_days


def lace(los: int | None = 0, acute: bool | None = False, cci: int | None = 0, ed: int | None = 0):  # type: ignore[no-untyped-def]
    return lace_score(
        length_of_stay_days=los, acute_admission=acute, charlson_index=cci, ed_visits_previous_6_months=ed
    )


@pytest.mark.parametrize(
    ("days", "points"),
    [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (6, 4), (7, 5), (13, 5), (14, 7), (60, 7)],
)
def test_length_of_stay_points_follow_the_table(days: int, points: int) -> None:
    assert lace(los=days).component("L").points == points


def test_acute_admission_scores_three() -> None:
    assert lace(acute=True).component("A").points == 3
    assert lace(acute=False).component("A").points == 0


@pytest.mark.parametrize(("cci", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 5), (5, 5), (12, 5)])
def test_charlson_points_jump_to_five_at_four(cci: int, points: int) -> None:
    assert lace(cci=cci).component("C").points == points


@pytest.mark.parametrize(("visits", "points"), [(0, 0), (1, 1), (2, 2), (3, 3), (4, 4), (9, 4)])
def test_ed_visits_count_up_to_four(visits: int, points: int) -> None:
    assert lace(ed=visits).component("E").points == points


@pytest.mark.parametrize(
    ("los", "acute", "cci", "ed", "total", "band"),
    [
        (0, False, 0, 0, 0, "low"),
        (4, False, 0, 0, 4, "low"),  # 4: top of low
        (1, True, 1, 0, 5, "moderate"),  # 5: bottom of moderate
        (4, True, 2, 0, 9, "moderate"),  # 9: top of moderate
        (7, True, 2, 0, 10, "high"),  # 10: bottom of high
        (14, True, 5, 6, 19, "high"),  # 19: the maximum
    ],
)
def test_worked_examples_at_every_band_edge(los: int, acute: bool, cci: int, ed: int, total: int, band: str) -> None:
    score = lace(los, acute, cci, ed)
    assert score.complete
    assert score.total == total
    assert score.band == band


def test_a_missing_input_is_reported_missing_not_counted_as_zero() -> None:
    score = lace(los=5, acute=True, cci=None, ed=None)
    assert not score.complete
    assert score.total is None
    assert score.band is None
    assert score.missing == ("C", "E")
    assert score.component("C").points is None and score.component("C").missing
    assert score.known_points == 7
    assert score.possible_range == (7, 16)


def test_each_component_reports_its_data_and_where_it_came_from() -> None:
    score = lace_score(
        length_of_stay_days=3,
        acute_admission=True,
        charlson_index=2,
        ed_visits_previous_6_months=1,
        sources={"L": "Encounter/42 period", "C": "Charlson from 3 coded conditions"},
    )
    assert score.component("L").value == 3
    assert score.component("L").source == "Encounter/42 period"
    assert score.component("C").source == "Charlson from 3 coded conditions"
    assert score.component("E").source is None


@pytest.mark.parametrize("bad", [-1, True, 1.5])
def test_negative_or_non_integer_counts_are_refused(bad: object) -> None:
    with pytest.raises(ValueError, match="whole number"):
        lace(los=bad)  # type: ignore[arg-type]


def test_length_of_stay_is_discharge_date_minus_admission_date() -> None:
    assert length_of_stay_days(dt.datetime(2024, 3, 1, 23, 0), dt.datetime(2024, 3, 2, 1, 0)) == 1
    assert length_of_stay_days(dt.date(2024, 3, 1), dt.date(2024, 3, 1)) == 0
    with pytest.raises(ValueError, match="before admission"):
        length_of_stay_days(dt.date(2024, 3, 2), dt.date(2024, 3, 1))


optional_count = st.none() | st.integers(min_value=0, max_value=400)


@given(los=optional_count, acute=st.none() | st.booleans(), cci=optional_count, ed=optional_count)
def test_total_is_within_0_to_19_and_is_the_sum_of_its_components(
    los: int | None, acute: bool | None, cci: int | None, ed: int | None
) -> None:
    score = lace(los, acute, cci, ed)
    low, high = score.possible_range
    assert 0 <= low <= high <= 19
    if score.complete:
        assert score.total == sum(c.points or 0 for c in score.components)
        assert score.total is not None and 0 <= score.total <= 19
        assert score.band == ("low" if score.total <= 4 else "moderate" if score.total <= 9 else "high")
    else:
        assert score.total is None and score.band is None
        assert set(score.missing) == {c.key for c in score.components if c.points is None}
