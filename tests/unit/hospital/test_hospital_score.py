"""HOSPITAL score (Donzé JAMA Intern Med 2013): each boundary, band edges 4/5 and 6/7, missing inputs."""

from __future__ import annotations

from decimal import Decimal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.hospital.rules.hospital_score import expected_risk, hospital_score
from casebridge.hospital.rules.scoring import Score

BASE: dict[str, object] = {
    "hemoglobin_g_dl": 13.5,
    "oncology_discharge": False,
    "sodium_mmol_l": 140,
    "procedure_during_stay": False,
    "index_admission_urgent": False,
    "admissions_previous_12_months": 0,
    "length_of_stay_days": 2,
}


def score(**changes: object) -> Score:
    return hospital_score(**{**BASE, **changes})  # type: ignore[arg-type]


def test_a_patient_with_no_risk_factors_scores_zero_and_low() -> None:
    result = score()
    assert result.total == 0
    assert result.band == "low"


@pytest.mark.parametrize(
    ("hemoglobin", "points"), [(11.9, 1), (12.0, 0), (Decimal("11.99"), 1), (Decimal("12"), 0), (8, 1)]
)
def test_hemoglobin_below_12_scores_one(hemoglobin: object, points: int) -> None:
    assert score(hemoglobin_g_dl=hemoglobin).component("H").points == points


def test_discharge_from_oncology_scores_two() -> None:
    assert score(oncology_discharge=True).component("O").points == 2


@pytest.mark.parametrize(("sodium", "points"), [(134, 1), (134.9, 1), (135, 0), (135.0, 0)])
def test_sodium_below_135_scores_one(sodium: object, points: int) -> None:
    assert score(sodium_mmol_l=sodium).component("S").points == points


def test_a_procedure_and_an_urgent_admission_score_one_each() -> None:
    assert score(procedure_during_stay=True).component("P").points == 1
    assert score(index_admission_urgent=True).component("I").points == 1


@pytest.mark.parametrize(("admissions", "points"), [(0, 0), (1, 0), (2, 2), (5, 2), (6, 5), (20, 5)])
def test_prior_admissions_score_0_2_or_5(admissions: int, points: int) -> None:
    assert score(admissions_previous_12_months=admissions).component("A").points == points


@pytest.mark.parametrize(("days", "points"), [(4, 0), (5, 2), (30, 2)])
def test_a_stay_of_five_days_or_more_scores_two(days: int, points: int) -> None:
    assert score(length_of_stay_days=days).component("L").points == points


@pytest.mark.parametrize(
    ("changes", "total", "band", "risk"),
    [
        ({"admissions_previous_12_months": 2, "length_of_stay_days": 5}, 4, "low", Decimal("0.058")),
        (
            {"admissions_previous_12_months": 2, "length_of_stay_days": 5, "hemoglobin_g_dl": 11.9},
            5,
            "intermediate",
            None,
        ),
        (
            {"oncology_discharge": True, "admissions_previous_12_months": 2, "length_of_stay_days": 5},
            6,
            "intermediate",
            Decimal("0.12"),
        ),
        ({"admissions_previous_12_months": 6, "length_of_stay_days": 5}, 7, "high", Decimal("0.228")),
    ],
)
def test_worked_examples_at_band_edges(changes: dict[str, object], total: int, band: str, risk: Decimal | None) -> None:
    result = score(**changes)
    assert result.total == total
    assert result.band == band
    if risk is not None:
        assert expected_risk(result) == risk


def test_the_maximum_is_13() -> None:
    result = hospital_score(
        hemoglobin_g_dl=9,
        oncology_discharge=True,
        sodium_mmol_l=128,
        procedure_during_stay=True,
        index_admission_urgent=True,
        admissions_previous_12_months=8,
        length_of_stay_days=9,
    )
    assert result.total == 13
    assert result.band == "high"


def test_a_missing_lab_is_reported_missing_not_counted_as_normal() -> None:
    result = score(hemoglobin_g_dl=None, sodium_mmol_l=None)
    assert result.total is None
    assert result.band is None
    assert expected_risk(result) is None
    assert result.missing == ("H", "S")
    assert result.possible_range == (0, 2)


def test_sources_travel_with_their_components() -> None:
    result = hospital_score(**BASE, sources={"H": "Observation/hb-1 (718-7) 2024-03-02"})  # type: ignore[arg-type]
    assert result.component("H").source == "Observation/hb-1 (718-7) 2024-03-02"
    assert result.component("H").value == 13.5


def test_bad_inputs_are_refused() -> None:
    with pytest.raises(ValueError, match="admissions_previous_12_months"):
        score(admissions_previous_12_months=-1)
    with pytest.raises(ValueError, match="hemoglobin_g_dl"):
        score(hemoglobin_g_dl=-3)
    with pytest.raises(ValueError, match="oncology_discharge"):
        score(oncology_discharge="yes")


@given(
    hb=st.none() | st.decimals(min_value=0, max_value=25, places=1),
    onc=st.none() | st.booleans(),
    na=st.none() | st.integers(min_value=100, max_value=170),
    proc=st.none() | st.booleans(),
    urgent=st.none() | st.booleans(),
    admissions=st.none() | st.integers(min_value=0, max_value=50),
    los=st.none() | st.integers(min_value=0, max_value=200),
)
def test_total_stays_within_0_to_13_and_equals_the_component_sum(
    hb: Decimal | None,
    onc: bool | None,
    na: int | None,
    proc: bool | None,
    urgent: bool | None,
    admissions: int | None,
    los: int | None,
) -> None:
    result = hospital_score(
        hemoglobin_g_dl=hb,
        oncology_discharge=onc,
        sodium_mmol_l=na,
        procedure_during_stay=proc,
        index_admission_urgent=urgent,
        admissions_previous_12_months=admissions,
        length_of_stay_days=los,
    )
    low, high = result.possible_range
    assert 0 <= low <= high <= 13
    if result.complete:
        assert result.total == sum(c.points or 0 for c in result.components)
        assert result.band == ("low" if low <= 4 else "intermediate" if low <= 6 else "high")
    else:
        assert result.total is None
