"""MOON notice timing (> 24 h in observation, due by 36 h or release) and condition code 44's four conditions."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.hospital.rules.observation import (
    CHANGE_BEFORE_DISCHARGE,
    CONCURRENCE_DOCUMENTED,
    NO_INPATIENT_CLAIM_SUBMITTED,
    UR_COMMITTEE_DECIDED_AND_ATTENDING_CONCURS,
    condition_code_44_check,
    moon_due_at,
    moon_notice,
)

START = dt.datetime(2024, 5, 1, 9, 0)
HOUR = dt.timedelta(hours=1)


def test_moon_is_due_36_hours_after_observation_begins() -> None:
    assert moon_due_at(observation_started_at=START) == START + 36 * HOUR


def test_moon_is_due_at_release_when_that_comes_sooner() -> None:
    assert moon_due_at(observation_started_at=START, released_at=START + 30 * HOUR) == START + 30 * HOUR
    assert moon_due_at(observation_started_at=START, released_at=START + 40 * HOUR) == START + 36 * HOUR


def test_moon_is_not_required_for_exactly_24_hours_of_observation() -> None:
    notice = moon_notice(observation_started_at=START, released_at=START + 24 * HOUR)
    assert not notice.required


def test_moon_is_required_once_observation_passes_24_hours() -> None:
    notice = moon_notice(observation_started_at=START, released_at=START + 24 * HOUR + dt.timedelta(minutes=1))
    assert notice.required
    assert notice.due_at == START + 24 * HOUR + dt.timedelta(minutes=1)


def test_an_ongoing_observation_stay_reports_when_moon_becomes_required_and_its_deadline() -> None:
    early = moon_notice(observation_started_at=START, as_of=START + 10 * HOUR)
    assert not early.required
    assert early.required_from == START + 24 * HOUR
    assert early.due_at == START + 36 * HOUR
    later = moon_notice(observation_started_at=START, as_of=START + 25 * HOUR)
    assert later.required
    assert later.due_at == START + 36 * HOUR


def test_moon_needs_a_release_time_or_an_as_of_time() -> None:
    with pytest.raises(ValueError, match="released_at"):
        moon_notice(observation_started_at=START)
    with pytest.raises(ValueError, match="before it begins"):
        moon_notice(observation_started_at=START, as_of=START - HOUR)


ALL_HOLD: dict[str, object] = {
    "status_changed_at": START + 20 * HOUR,
    "discharged_at": START + 26 * HOUR,
    "inpatient_claim_submitted": False,
    "ur_committee_decided": True,
    "attending_concurs": True,
    "concurrence_documented": True,
}


def cc44(**changes: object):  # type: ignore[no-untyped-def]
    return condition_code_44_check(**{**ALL_HOLD, **changes})  # type: ignore[arg-type]


def test_condition_code_44_is_allowed_when_all_four_conditions_hold() -> None:
    check = cc44()
    assert check.allowed
    assert check.failing == ()


def test_condition_code_44_is_allowed_while_the_patient_is_still_in() -> None:
    assert cc44(discharged_at=None).allowed


@pytest.mark.parametrize(
    ("changes", "failing"),
    [
        ({"status_changed_at": START + 26 * HOUR}, CHANGE_BEFORE_DISCHARGE),
        ({"status_changed_at": START + 27 * HOUR}, CHANGE_BEFORE_DISCHARGE),
        ({"status_changed_at": None}, CHANGE_BEFORE_DISCHARGE),
        ({"inpatient_claim_submitted": True}, NO_INPATIENT_CLAIM_SUBMITTED),
        ({"ur_committee_decided": False}, UR_COMMITTEE_DECIDED_AND_ATTENDING_CONCURS),
        ({"attending_concurs": False}, UR_COMMITTEE_DECIDED_AND_ATTENDING_CONCURS),
        ({"concurrence_documented": False}, CONCURRENCE_DOCUMENTED),
    ],
)
def test_condition_code_44_is_refused_naming_the_failing_condition(changes: dict[str, object], failing: str) -> None:
    check = cc44(**changes)
    assert not check.allowed
    assert check.failing == (failing,)
    assert len(check.reasons) == 1


def test_every_failing_condition_is_named_at_once() -> None:
    check = condition_code_44_check(
        status_changed_at=None,
        discharged_at=START,
        inpatient_claim_submitted=True,
        ur_committee_decided=False,
        attending_concurs=False,
        concurrence_documented=False,
    )
    assert check.failing == (
        "change_before_discharge",
        "no_inpatient_claim_submitted",
        "ur_committee_decided_and_attending_concurs",
        "concurrence_documented",
    )
