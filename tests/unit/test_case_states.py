"""The case state machine (casebridge.cases.domain): every allowed and every refused move."""

from __future__ import annotations

import itertools

import pytest

from casebridge.cases.domain import (
    ACTIVE,
    FHIR_STATUS,
    NEEDS_REASON,
    OPEN,
    TERMINAL,
    CaseStatus,
    allowed_moves,
    check_move,
)
from casebridge.kernel.errors import IllegalTransition, ValidationFailed

S = CaseStatus
# The process as the CCMC/CMSA frameworks describe it, written out independently of the code under test.
EXPECTED_MOVES: dict[CaseStatus, set[CaseStatus]] = {
    S.REFERRAL: {S.ASSESSMENT, S.ON_HOLD, S.CLOSED, S.CANCELLED},
    S.ASSESSMENT: {S.PLANNING, S.ON_HOLD, S.CLOSED, S.CANCELLED},
    S.PLANNING: {S.IMPLEMENTATION, S.ASSESSMENT, S.ON_HOLD, S.CLOSED, S.CANCELLED},
    S.IMPLEMENTATION: {S.MONITORING, S.PLANNING, S.TRANSITION, S.ON_HOLD, S.CLOSED},
    S.MONITORING: {S.IMPLEMENTATION, S.PLANNING, S.ASSESSMENT, S.TRANSITION, S.ON_HOLD, S.CLOSED},
    S.TRANSITION: {S.MONITORING, S.ON_HOLD, S.CLOSED},
    S.CLOSED: set(),
    S.CANCELLED: set(),
}
NOT_HELD = [s for s in S if s != S.ON_HOLD]
GRID = list(itertools.product(NOT_HELD, S))


def reason_for(target: CaseStatus) -> str:
    return "patient request" if target in NEEDS_REASON else ""


@pytest.mark.parametrize(("current", "target"), GRID, ids=[f"{a}->{b}" for a, b in GRID])
def test_a_move_is_allowed_exactly_when_the_process_allows_it(current, target):
    allowed = target in EXPECTED_MOVES[current]
    assert (target in allowed_moves(current)) is allowed
    if allowed:
        held = check_move(current, target, reason=reason_for(target))
        assert held == (current if target == S.ON_HOLD else None)
    else:
        with pytest.raises(IllegalTransition):
            check_move(current, target, reason="any reason")


@pytest.mark.parametrize("held_from", sorted(OPEN - {S.ON_HOLD}))
@pytest.mark.parametrize("target", list(S))
def test_a_held_case_resumes_only_where_it_was_or_ends(held_from, target):
    allowed = target in {held_from, S.CLOSED, S.CANCELLED}
    assert (target in allowed_moves(S.ON_HOLD, held_from)) is allowed
    if allowed:
        assert check_move(S.ON_HOLD, target, reason=reason_for(target), held_from=held_from) is None
    else:
        with pytest.raises(IllegalTransition):
            check_move(S.ON_HOLD, target, reason="x", held_from=held_from)


def test_a_held_case_without_a_remembered_status_can_only_end():
    assert allowed_moves(S.ON_HOLD, None) == {S.CLOSED, S.CANCELLED}


@pytest.mark.parametrize("target", sorted(NEEDS_REASON))
@pytest.mark.parametrize("reason", ["", "   ", "\n\t"])
def test_closing_cancelling_and_holding_need_a_reason(target, reason):
    assert target == S.ON_HOLD or target in TERMINAL
    with pytest.raises(ValidationFailed) as exc:
        check_move(S.REFERRAL, target, reason=reason)
    assert "reason" in exc.value.field_errors


def test_exactly_closed_cancelled_and_on_hold_need_a_reason():
    assert {S.CLOSED, S.CANCELLED, S.ON_HOLD} == NEEDS_REASON


@pytest.mark.parametrize(("current", "target"), [(S.REFERRAL, S.ASSESSMENT), (S.MONITORING, S.PLANNING)])
def test_ordinary_moves_need_no_reason(current, target):
    assert check_move(current, target) is None


def test_an_illegal_move_is_refused_before_a_missing_reason():
    with pytest.raises(IllegalTransition):
        check_move(S.CLOSED, S.CANCELLED, reason="")


def test_closed_and_cancelled_are_final():
    for status in TERMINAL:
        assert allowed_moves(status) == frozenset()


def test_no_status_moves_to_itself():
    for status in NOT_HELD:
        assert status not in allowed_moves(status)


def test_implementation_onwards_cannot_be_cancelled_only_closed():
    for status in (S.IMPLEMENTATION, S.MONITORING, S.TRANSITION):
        assert S.CANCELLED not in allowed_moves(status)
        assert S.CLOSED in allowed_moves(status)


def test_every_status_is_reachable_from_referral():
    seen, frontier = {S.REFERRAL}, [S.REFERRAL]
    while frontier:
        current = frontier.pop()
        for nxt in allowed_moves(current, held_from=current if current != S.ON_HOLD else S.REFERRAL):
            if nxt not in seen:
                seen.add(nxt)
                frontier.append(nxt)
    assert seen == set(S)


@pytest.mark.parametrize(
    ("status", "fhir"),
    [
        (S.REFERRAL, "planned"),
        (S.ASSESSMENT, "active"),
        (S.PLANNING, "active"),
        (S.IMPLEMENTATION, "active"),
        (S.MONITORING, "active"),
        (S.TRANSITION, "active"),
        (S.ON_HOLD, "onhold"),
        (S.CLOSED, "finished"),
        (S.CANCELLED, "cancelled"),
    ],
)
def test_each_status_maps_to_a_fhir_episode_of_care_status(status, fhir):
    assert FHIR_STATUS[status] == fhir


def test_every_fhir_status_used_is_in_the_r4_value_set():
    # http://hl7.org/fhir/R4/valueset-episode-of-care-status.html
    r4 = {"planned", "waitlist", "active", "onhold", "finished", "cancelled", "entered-in-error"}
    assert set(FHIR_STATUS) == set(S)
    assert set(FHIR_STATUS.values()) <= r4


def test_the_active_and_open_groups_match_the_fhir_mapping():
    assert {s for s in S if FHIR_STATUS[s] == "active"} == ACTIVE
    assert set(S) - TERMINAL == OPEN
