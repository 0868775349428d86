"""Post-acute eligibility facts: SNF 3-day qualifying stay, IRF intensity, Part B home infusion (RULES.md)."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.hospital.rules.post_acute import home_infusion_coverage, irf_intensity, snf_qualifying_stay

MON = dt.date(2024, 4, 1)


@pytest.mark.parametrize(("days", "eligible"), [(2, False), (3, True), (5, True)])
def test_snf_needs_three_inpatient_days_counting_admission_day_not_discharge_day(days: int, eligible: bool) -> None:
    result = snf_qualifying_stay(inpatient_admitted_on=MON, discharged_on=MON + dt.timedelta(days=days))
    assert result.inpatient_days == days
    assert result.eligible is eligible


def test_admission_at_night_still_counts_the_admission_day() -> None:
    result = snf_qualifying_stay(
        inpatient_admitted_on=dt.datetime(2024, 4, 1, 23, 50), discharged_on=dt.datetime(2024, 4, 4, 8, 0)
    )
    assert result.inpatient_days == 3
    assert result.eligible


def test_observation_and_ed_days_before_the_inpatient_order_do_not_count() -> None:
    result = snf_qualifying_stay(
        observation_or_ed_started_on=MON,
        inpatient_admitted_on=MON + dt.timedelta(days=2),
        discharged_on=MON + dt.timedelta(days=4),
    )
    assert result.inpatient_days == 2
    assert not result.eligible
    assert any("do not count" in r for r in result.reasons)


@pytest.mark.parametrize(("gap", "eligible"), [(0, True), (30, True), (31, False)])
def test_snf_admission_must_follow_within_30_days_of_discharge(gap: int, eligible: bool) -> None:
    discharge = MON + dt.timedelta(days=4)
    result = snf_qualifying_stay(
        inpatient_admitted_on=MON, discharged_on=discharge, snf_admission_on=discharge + dt.timedelta(days=gap)
    )
    assert result.eligible is eligible


def test_snf_dates_out_of_order_are_refused() -> None:
    with pytest.raises(ValueError):
        snf_qualifying_stay(inpatient_admitted_on=MON, discharged_on=MON - dt.timedelta(days=1))
    with pytest.raises(ValueError):
        snf_qualifying_stay(inpatient_admitted_on=MON, discharged_on=MON, snf_admission_on=MON - dt.timedelta(days=1))


def test_irf_three_hours_on_five_days_with_pt_and_slp_qualifies() -> None:
    result = irf_intensity(therapy_minutes_by_day=[180, 180, 180, 180, 180, 0, 0], disciplines=["PT", "SLP"])
    assert result.eligible


def test_irf_four_full_days_and_short_days_under_fifteen_hours_do_not_qualify() -> None:
    result = irf_intensity(therapy_minutes_by_day=[180, 180, 180, 180, 179, 0, 0], disciplines=["PT", "OT"])
    assert not result.eligible


def test_irf_fifteen_hours_over_seven_days_qualifies() -> None:
    assert irf_intensity(therapy_minutes_by_day=[130] * 6 + [120], disciplines={"OT", "SLP"}).eligible
    assert not irf_intensity(therapy_minutes_by_day=[128] * 7, disciplines={"OT", "SLP"}).eligible  # 896 minutes


def test_irf_needs_more_than_one_discipline() -> None:
    result = irf_intensity(therapy_minutes_by_day=[180] * 7, disciplines=["PT"])
    assert not result.eligible
    assert any("more than one" in r for r in result.reasons)


def test_irf_needs_pt_or_ot_among_the_disciplines() -> None:
    result = irf_intensity(therapy_minutes_by_day=[180] * 7, disciplines=["SLP", "ORTHOTICS_PROSTHETICS"])
    assert not result.eligible
    assert any("PT or OT" in r for r in result.reasons)


def test_irf_input_errors_are_refused() -> None:
    with pytest.raises(ValueError, match="7"):
        irf_intensity(therapy_minutes_by_day=[180] * 5, disciplines=["PT", "OT"])
    with pytest.raises(ValueError, match="discipline"):
        irf_intensity(therapy_minutes_by_day=[180] * 7, disciplines=["PT", "yoga"])


def test_home_infusion_by_dme_pump_over_15_minutes_is_part_b_since_2021() -> None:
    result = home_infusion_coverage(
        route="intravenous", minutes_per_administration=30, through_dme_pump=True, service_date=dt.date(2024, 1, 5)
    )
    assert result.eligible
    assert result.pump_supplies_drug_under_dme


@pytest.mark.parametrize(
    "changes",
    [
        {"route": "oral"},
        {"minutes_per_administration": 14},
        {"through_dme_pump": False},
        {"service_date": dt.date(2020, 12, 31)},
    ],
)
def test_home_infusion_outside_the_benefit_points_to_part_d(changes: dict[str, object]) -> None:
    arguments: dict[str, object] = {
        "route": "subcutaneous",
        "minutes_per_administration": 15,
        "through_dme_pump": True,
        "service_date": dt.date(2021, 1, 1),
    }
    assert home_infusion_coverage(**arguments).eligible  # type: ignore[arg-type]
    result = home_infusion_coverage(**{**arguments, **changes})  # type: ignore[arg-type]
    assert not result.eligible
    assert "Part D" in result.reasons[-1]
