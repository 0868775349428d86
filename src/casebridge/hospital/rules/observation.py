"""Observation: MOON notice timing (NOTICE Act, 42 CFR 489.20(y)) and condition code 44 (CMS IOM 100-04 ch.1 50.3)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

MOON_REQUIRED_AFTER = dt.timedelta(hours=24)  # outpatients in observation for more than 24 hours
MOON_DUE_WITHIN = dt.timedelta(hours=36)  # no later than 36 hours after observation begins, or at release if sooner


@dataclass(frozen=True)
class MoonNotice:
    required: bool
    """True once observation has lasted more than 24 hours (as of ``as_of``, or over the whole stay if released)."""
    required_from: dt.datetime
    """When observation passes 24 hours and the notice becomes required."""
    due_at: dt.datetime
    """36 hours after observation began, or the release time if that is sooner."""
    reason: str


def moon_due_at(*, observation_started_at: dt.datetime, released_at: dt.datetime | None = None) -> dt.datetime:
    """The MOON deadline: 36 hours after observation begins, or release if sooner."""
    deadline = observation_started_at + MOON_DUE_WITHIN
    if released_at is not None and released_at < deadline:
        return released_at
    return deadline


def moon_notice(
    *,
    observation_started_at: dt.datetime,
    released_at: dt.datetime | None = None,
    as_of: dt.datetime | None = None,
) -> MoonNotice:
    """Whether the MOON notice is required and when it is due. Give ``released_at`` or, while still in, ``as_of``."""
    if released_at is None and as_of is None:
        raise ValueError("give released_at for a finished observation stay or as_of for one still under way")
    end = released_at if released_at is not None else as_of
    assert end is not None
    if end < observation_started_at:
        raise ValueError("observation cannot end before it begins")
    elapsed = end - observation_started_at
    required = elapsed > MOON_REQUIRED_AFTER
    hours = elapsed / dt.timedelta(hours=1)
    if required:
        reason = f"observation has lasted {hours:g} hours, more than 24: the MOON notice is required"
    elif released_at is not None:
        reason = f"released after {hours:g} hours of observation, not more than 24: no MOON notice required"
    else:
        reason = f"{hours:g} hours of observation so far: the MOON notice becomes required after 24 hours"
    return MoonNotice(
        required=required,
        required_from=observation_started_at + MOON_REQUIRED_AFTER,
        due_at=moon_due_at(observation_started_at=observation_started_at, released_at=released_at),
        reason=reason,
    )


CHANGE_BEFORE_DISCHARGE = "change_before_discharge"
NO_INPATIENT_CLAIM_SUBMITTED = "no_inpatient_claim_submitted"
UR_COMMITTEE_DECIDED_AND_ATTENDING_CONCURS = "ur_committee_decided_and_attending_concurs"
CONCURRENCE_DOCUMENTED = "concurrence_documented"


@dataclass(frozen=True)
class ConditionCode44Check:
    allowed: bool
    failing: tuple[str, ...]
    reasons: tuple[str, ...]


def condition_code_44_check(
    *,
    status_changed_at: dt.datetime | None,
    discharged_at: dt.datetime | None,
    inpatient_claim_submitted: bool,
    ur_committee_decided: bool,
    attending_concurs: bool,
    concurrence_documented: bool,
) -> ConditionCode44Check:
    """Condition code 44 (inpatient changed to outpatient) is allowed only if all four conditions hold.

    ``status_changed_at`` is when the change to outpatient is made (None if not yet); ``discharged_at`` is None
    while the patient is still in the hospital.
    """
    failing: list[str] = []
    reasons: list[str] = []
    if status_changed_at is None:
        failing.append(CHANGE_BEFORE_DISCHARGE)
        reasons.append("no time recorded for the change to outpatient")
    elif discharged_at is not None and status_changed_at >= discharged_at:
        failing.append(CHANGE_BEFORE_DISCHARGE)
        reasons.append("the change to outpatient was made at or after discharge")
    if inpatient_claim_submitted:
        failing.append(NO_INPATIENT_CLAIM_SUBMITTED)
        reasons.append("an inpatient claim has already been submitted")
    if not (ur_committee_decided and attending_concurs):
        failing.append(UR_COMMITTEE_DECIDED_AND_ATTENDING_CONCURS)
        missing = [
            part
            for part, held in (
                ("the UR committee has not decided", ur_committee_decided),
                ("the attending has not concurred", attending_concurs),
            )
            if not held
        ]
        reasons.append("; ".join(missing))
    if not concurrence_documented:
        failing.append(CONCURRENCE_DOCUMENTED)
        reasons.append("the attending's concurrence is not documented in the record")
    return ConditionCode44Check(allowed=not failing, failing=tuple(failing), reasons=tuple(reasons))
