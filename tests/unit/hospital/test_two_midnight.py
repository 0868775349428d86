"""Medicare Two-Midnight benchmark (42 CFR 412.3(d)) and midnight counting."""

from __future__ import annotations

import datetime as dt
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.hospital.rules.two_midnight import (
    UNVERIFIED_DEFAULTS,
    Basis,
    DischargeReason,
    Payer,
    TwoMidnightConfig,
    TwoMidnightDecision,
    example_inpatient_only_list,
    midnights_between,
    two_midnight_decision,
)

NEW_YORK = ZoneInfo("America/New_York")
ED_ARRIVAL = dt.datetime(2024, 3, 4, 18, 0)  # Monday evening
ORDER = dt.datetime(2024, 3, 5, 2, 0)  # after the first midnight
FACTORS = ["COPD exacerbation on home oxygen", "needs IV steroids and nebulisers every 4 hours"]


def decide(**changes: object) -> TwoMidnightDecision:
    arguments: dict[str, object] = {
        "payer": Payer.MEDICARE_FFS,
        "care_started_at": ED_ARRIVAL,
        "inpatient_order_at": ORDER,
        "expected_discharge_at": dt.datetime(2024, 3, 6, 11, 0),
        "complex_medical_factors": FACTORS,
    }
    return two_midnight_decision(**{**arguments, **changes})  # type: ignore[arg-type]


def test_midnights_are_counted_between_two_times() -> None:
    assert midnights_between(dt.datetime(2024, 3, 4, 18, 0), dt.datetime(2024, 3, 4, 23, 59)) == 0
    assert midnights_between(dt.datetime(2024, 3, 4, 23, 59), dt.datetime(2024, 3, 5, 0, 1)) == 1
    assert midnights_between(dt.datetime(2024, 3, 4, 18, 0), dt.datetime(2024, 3, 6, 11, 0)) == 2
    assert midnights_between(dt.datetime(2024, 2, 28, 12, 0), dt.datetime(2024, 3, 1, 12, 0)) == 2  # leap day


def test_a_stay_ending_exactly_at_midnight_has_crossed_it() -> None:
    assert midnights_between(dt.datetime(2024, 3, 4, 10, 0), dt.datetime(2024, 3, 5, 0, 0)) == 1


def test_midnights_are_counted_on_the_hospitals_local_clock() -> None:
    start = dt.datetime(2024, 3, 4, 22, 0, tzinfo=NEW_YORK)  # 03:00 UTC the next day
    end = dt.datetime(2024, 3, 5, 4, 0, tzinfo=NEW_YORK)
    assert midnights_between(start.astimezone(dt.UTC), end.astimezone(dt.UTC), tz=NEW_YORK) == 1
    assert midnights_between(start.astimezone(dt.UTC), end.astimezone(dt.UTC)) == 0  # UTC has no midnight between


def test_midnight_counting_refuses_reversed_or_mixed_times() -> None:
    with pytest.raises(ValueError, match="before start"):
        midnights_between(dt.datetime(2024, 3, 5), dt.datetime(2024, 3, 4))
    with pytest.raises(ValueError, match="naive"):
        midnights_between(dt.datetime(2024, 3, 4), dt.datetime(2024, 3, 5, tzinfo=dt.UTC))


@given(
    start=st.datetimes(min_value=dt.datetime(2020, 1, 1), max_value=dt.datetime(2030, 1, 1)),
    hours=st.integers(min_value=0, max_value=24 * 60),
)
def test_midnights_between_never_exceeds_whole_days_plus_one(start: dt.datetime, hours: int) -> None:
    end = start + dt.timedelta(hours=hours)
    count = midnights_between(start, end)
    assert hours // 24 <= count <= hours // 24 + 1


def test_expected_two_midnights_with_documented_factors_is_inpatient() -> None:
    decision = decide()
    assert decision.inpatient_appropriate
    assert decision.basis == (Basis.TWO_MIDNIGHT_BENCHMARK,)
    assert decision.expected_midnights == 2
    assert any("COPD exacerbation" in r for r in decision.reasons)


def test_ed_time_before_the_order_counts_by_default_and_is_flagged_unverified() -> None:
    decision = decide()
    assert decision.benchmark_start == ED_ARRIVAL
    assert any("UNVERIFIED" in r for r in decision.reasons)
    assert "count_time_before_order" in UNVERIFIED_DEFAULTS


def test_without_counting_ed_time_the_same_stay_expects_one_midnight() -> None:
    decision = decide(config=TwoMidnightConfig(count_time_before_order=False))
    assert decision.expected_midnights == 1
    assert not decision.inpatient_appropriate


def test_an_expected_single_midnight_does_not_meet_the_benchmark() -> None:
    decision = decide(expected_discharge_at=dt.datetime(2024, 3, 5, 15, 0))
    assert decision.expected_midnights == 1
    assert not decision.inpatient_appropriate
    assert decision.basis == ()


def test_an_expectation_without_documented_complex_factors_is_not_enough() -> None:
    decision = decide(complex_medical_factors=["  "])
    assert not decision.inpatient_appropriate
    assert any("no complex medical factors" in r for r in decision.reasons)


def test_an_unknown_expected_discharge_is_not_enough() -> None:
    decision = decide(expected_discharge_at=None)
    assert not decision.inpatient_appropriate
    assert decision.expected_midnights is None


@pytest.mark.parametrize(
    "reason",
    [
        DischargeReason.DEATH,
        DischargeReason.TRANSFER,
        DischargeReason.LEFT_AGAINST_MEDICAL_ADVICE,
        DischargeReason.RAPID_RECOVERY,
    ],
)
def test_an_unforeseen_short_stay_still_counts_when_two_midnights_were_expected(reason: DischargeReason) -> None:
    decision = decide(discharged_at=dt.datetime(2024, 3, 5, 10, 0), discharge_reason=reason)
    assert decision.midnights_so_far == 1
    assert decision.inpatient_appropriate
    assert any("unforeseen" in r for r in decision.reasons)


def test_a_short_stay_without_an_unforeseen_circumstance_loses_the_benchmark() -> None:
    decision = decide(discharged_at=dt.datetime(2024, 3, 5, 12, 0), discharge_reason=DischargeReason.ROUTINE)
    assert not decision.inpatient_appropriate


def test_a_procedure_on_the_inpatient_only_list_is_inpatient_whatever_the_expectation() -> None:
    decision = decide(expected_discharge_at=None, complex_medical_factors=[], planned_procedures=["33533"])
    assert decision.inpatient_appropriate
    assert decision.basis == (Basis.INPATIENT_ONLY_PROCEDURE,)
    assert any("EXAMPLE list" in r for r in decision.reasons)


def test_the_inpatient_only_list_can_be_replaced_by_the_cms_list() -> None:
    decision = decide(expected_discharge_at=None, planned_procedures=["99999"], inpatient_only_codes={"99999"})
    assert decision.basis == (Basis.INPATIENT_ONLY_PROCEDURE,)
    assert not any("EXAMPLE" in r for r in decision.reasons)


def test_the_shipped_inpatient_only_list_is_labelled_an_example() -> None:
    from casebridge.hospital.rules._data import read_json

    data = read_json("inpatient_only_procedures_EXAMPLE.json")
    assert data["status"].startswith("EXAMPLE ONLY")
    assert "33533" in {p.code for p in example_inpatient_only_list()}


def test_a_documented_case_by_case_exception_supports_a_short_inpatient_stay() -> None:
    decision = decide(
        expected_discharge_at=dt.datetime(2024, 3, 5, 12, 0),
        case_by_case_rationale="new-onset atrial fibrillation needing monitored rate control; high stroke risk",
    )
    assert decision.inpatient_appropriate
    assert decision.basis == (Basis.CASE_BY_CASE_EXCEPTION,)


def test_the_presumption_applies_to_medicare_ffs_after_two_midnights_past_the_order() -> None:
    decision = decide(discharged_at=dt.datetime(2024, 3, 7, 10, 0), discharge_reason=DischargeReason.ROUTINE)
    assert decision.presumption_applies
    one_midnight_after_order = decide(
        discharged_at=dt.datetime(2024, 3, 6, 10, 0), discharge_reason=DischargeReason.ROUTINE
    )
    assert one_midnight_after_order.inpatient_appropriate  # benchmark met counting the ED time
    assert not one_midnight_after_order.presumption_applies


def test_medicare_advantage_applies_412_3_but_not_the_presumption_since_2024() -> None:
    decision = decide(
        payer=Payer.MEDICARE_ADVANTAGE,
        discharged_at=dt.datetime(2024, 3, 8, 10, 0),
        discharge_reason=DischargeReason.ROUTINE,
    )
    assert decision.regulation_applies
    assert decision.inpatient_appropriate
    assert not decision.presumption_applies
    assert any("CMS-4201-F" in r for r in decision.reasons)


def test_medicare_advantage_before_2024_is_not_bound_by_412_3() -> None:
    decision = decide(
        payer=Payer.MEDICARE_ADVANTAGE,
        care_started_at=dt.datetime(2023, 12, 30, 18, 0),
        inpatient_order_at=dt.datetime(2023, 12, 31, 2, 0),
        expected_discharge_at=dt.datetime(2024, 1, 2, 11, 0),
    )
    assert not decision.regulation_applies
    assert decide(
        payer=Payer.MEDICARE_ADVANTAGE,
        care_started_at=dt.datetime(2023, 12, 31, 18, 0),
        inpatient_order_at=dt.datetime(2024, 1, 1, 2, 0),
        expected_discharge_at=dt.datetime(2024, 1, 3, 11, 0),
    ).regulation_applies


def test_other_payers_get_an_informational_result() -> None:
    decision = decide(payer=Payer.OTHER)
    assert not decision.regulation_applies
    assert not decision.presumption_applies


def test_an_order_before_care_began_or_a_discharge_before_the_order_is_refused() -> None:
    with pytest.raises(ValueError, match="precede"):
        decide(inpatient_order_at=dt.datetime(2024, 3, 4, 17, 0))
    with pytest.raises(ValueError, match="discharge"):
        decide(discharged_at=dt.datetime(2024, 3, 4, 23, 0))
