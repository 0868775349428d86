"""Clinical eligibility of care options: the RULES.md post-acute facts applied per service category."""

from __future__ import annotations

import datetime as dt
from typing import Any

from casebridge.coverage.eligibility import (
    HOME_INFUSION_RULE,
    IRF_RULE,
    SNF_RULE,
    InfusionPlan,
    StayFacts,
    option_eligibility,
)

TODAY = dt.date(2026, 3, 12)
ADMITTED = dt.date(2026, 3, 10)


def facts(**kw) -> StayFacts:
    base: dict[str, Any] = {
        "inpatient_admitted_on": ADMITTED,
        "observation": False,
        "discharge_on": dt.date(2026, 3, 13),
    }
    base.update(kw)
    return StayFacts(**base)


def test_an_option_without_governed_services_has_no_checks_and_is_eligible():
    result = option_eligibility(["home_health_visit_nursing", "dme"], facts(), today=TODAY)
    assert result.checks == ()
    assert result.eligible
    assert result.ineligible_reasons == ()


def test_snf_with_three_inpatient_days_meets_the_qualifying_stay():
    result = option_eligibility(["snf_day"], facts(discharge_on=dt.date(2026, 3, 13)), today=TODAY)
    (check,) = result.checks
    assert (check.rule, check.eligible, check.blocking) == (SNF_RULE, True, True)
    assert "3 inpatient day(s) counted" in check.reasons[0]
    assert result.eligible


def test_snf_with_two_inpatient_days_fails_and_says_why():
    result = option_eligibility(["snf_day"], facts(discharge_on=dt.date(2026, 3, 12)), today=TODAY)
    assert not result.eligible
    (reason,) = result.ineligible_reasons
    assert reason.startswith(SNF_RULE + ": 2 inpatient day(s) counted")
    assert "short of the 3-day qualifying stay" in reason


def test_a_stay_without_an_expected_discharge_date_is_counted_to_today_and_says_so():
    result = option_eligibility(["snf_day"], facts(discharge_on=TODAY, discharge_on_is_today=True), today=TODAY)
    (check,) = result.checks
    assert check.eligible is False
    assert check.reasons[-1] == "no expected discharge date on the stay: inpatient days counted to today"


def test_snf_admission_beyond_thirty_days_of_discharge_fails():
    late = facts(discharge_on=dt.date(2026, 3, 20), snf_admission_on=dt.date(2026, 4, 20))
    result = option_eligibility(["snf_day"], late, today=TODAY)
    assert not result.eligible
    assert "beyond 30 days" in result.ineligible_reasons[0]


def test_an_observation_stay_never_qualifies_for_snf():
    result = option_eligibility(["snf_day"], facts(inpatient_admitted_on=None, observation=True), today=TODAY)
    assert not result.eligible
    assert "observation stay has no inpatient days" in result.ineligible_reasons[0]


def test_without_a_stay_the_snf_rule_is_unknown_and_does_not_block():
    result = option_eligibility(["snf_day"], None, today=TODAY)
    (check,) = result.checks
    assert check.eligible is None
    assert "no hospital stay" in check.reasons[0]
    assert result.eligible


def test_irf_without_a_recorded_schedule_is_unknown_never_counted_as_met():
    result = option_eligibility(["irf_day"], facts(), today=TODAY)
    (check,) = result.checks
    assert (check.rule, check.eligible) == (IRF_RULE, None)
    assert result.eligible


def test_irf_intensity_met_and_not_met():
    met = facts(irf_minutes_by_day=[180, 180, 180, 180, 180, 0, 0], irf_disciplines=("PT", "OT"))
    assert option_eligibility(["irf_day"], met, today=TODAY).eligible
    short = facts(irf_minutes_by_day=[120, 120, 120, 120, 120, 0, 0], irf_disciplines=("PT", "OT"))
    result = option_eligibility(["irf_day"], short, today=TODAY)
    assert not result.eligible
    assert "needs 3 hours on 5 days or 15 hours over 7 days" in result.ineligible_reasons[0]
    one_discipline = facts(irf_minutes_by_day=[180] * 7, irf_disciplines=("PT",))
    assert (
        "more than one therapy discipline"
        in option_eligibility(["irf_day"], one_discipline, today=TODAY).ineligible_reasons[0]
    )


def test_home_infusion_coverage_informs_but_never_blocks():
    oral = facts(infusion=InfusionPlan("oral", 30, through_dme_pump=False))
    result = option_eligibility(["home_infusion_drug", "home_infusion_equipment"], oral, today=TODAY)
    (check,) = result.checks
    assert (check.rule, check.eligible, check.blocking) == (HOME_INFUSION_RULE, False, False)
    assert not check.fails
    assert result.eligible
    assert any("Part D" in r for r in check.reasons)
    iv = facts(infusion=InfusionPlan("intravenous", 60, through_dme_pump=True))
    (check,) = option_eligibility(["home_infusion_drug"], iv, today=TODAY).checks
    assert check.eligible is True


def test_a_waiver_keeps_the_failed_check_but_lets_the_option_through():
    short = facts(discharge_on=dt.date(2026, 3, 11))
    result = option_eligibility(["snf_day"], short, today=TODAY, waiver="  MA plan waives the 3-day stay ")
    assert result.eligible
    assert result.ineligible_reasons == ()
    assert [c.fails for c in result.checks] == [True]
    assert result.waiver == "MA plan waives the 3-day stay"


def test_checks_come_in_a_fixed_order_whatever_the_line_order():
    result = option_eligibility(["home_infusion_nursing", "irf_day", "snf_day"], facts(), today=TODAY)
    assert [c.rule for c in result.checks] == [SNF_RULE, IRF_RULE, HOME_INFUSION_RULE]
