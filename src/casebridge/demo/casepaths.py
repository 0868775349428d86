"""Legal routes from a new case (referral) to each status, so demo history passes the state machine. Pure."""

from __future__ import annotations

import random

from casebridge.cases.domain import CaseStatus

S = CaseStatus
Move = tuple[CaseStatus, str]  # (to status, reason; required for on hold, closed, cancelled)

_FORWARD = [S.ASSESSMENT, S.PLANNING, S.IMPLEMENTATION, S.MONITORING, S.TRANSITION]

HOLD_REASONS = (
    "Readmitted to the hospital",
    "Patient traveling to family out of state; resume on return",
    "Awaiting authorization from the health plan",
    "Patient asked to pause services for two weeks",
)
CLOSE_REASONS = (
    "Goals met; discharged home",
    "Discharged home with home health services",
    "Transferred to skilled nursing facility",
    "Transferred to inpatient rehabilitation",
    "Episode complete; goals met",
    "Patient moved out of the service area",
)
CANCEL_REASONS = (
    "Referral declined by the patient",
    "Duplicate referral",
    "Not eligible: coverage not active on the referral date",
)


def _plain(statuses: list[CaseStatus]) -> list[Move]:
    return [(s, "") for s in statuses]


def canonical_path(target: CaseStatus) -> list[Move]:
    """The shortest ordinary route from referral to ``target``."""
    if target == S.REFERRAL:
        return []
    if target in _FORWARD:
        return _plain(_FORWARD[: _FORWARD.index(target) + 1])
    if target == S.ON_HOLD:
        return [*_plain(_FORWARD[:3]), (S.ON_HOLD, HOLD_REASONS[0])]
    if target == S.CLOSED:
        return [*_plain(_FORWARD), (S.CLOSED, CLOSE_REASONS[0])]
    return [(S.CANCELLED, CANCEL_REASONS[0])]


def varied_path(target: CaseStatus, rng: random.Random) -> list[Move]:
    """A route to ``target`` with the detours real cases take: a reassessment, a hold and resume."""
    path = canonical_path(target)
    roll = rng.random()
    if target == S.MONITORING and roll < 0.3:
        # The patient's situation changed: back to planning, then on again.
        path = [*path, (S.PLANNING, ""), (S.IMPLEMENTATION, ""), (S.MONITORING, "")]
    elif target in (S.MONITORING, S.TRANSITION) and roll < 0.5:
        # Put on hold during implementation and resumed where it was.
        i = [s for s, _ in path].index(S.IMPLEMENTATION) + 1
        path = [*path[:i], (S.ON_HOLD, rng.choice(HOLD_REASONS)), (S.IMPLEMENTATION, ""), *path[i:]]
    elif target == S.ON_HOLD:
        path = [*path[:-1], (S.ON_HOLD, rng.choice(HOLD_REASONS))]
    elif target == S.CLOSED:
        if roll < 0.2:
            path = [(S.ASSESSMENT, ""), (S.CLOSED, "Assessment found no case management need")]
        else:
            path = [*path[:-1], (S.CLOSED, rng.choice(CLOSE_REASONS))]
    elif target == S.CANCELLED:
        path = [(S.CANCELLED, rng.choice(CANCEL_REASONS))]
    return path
