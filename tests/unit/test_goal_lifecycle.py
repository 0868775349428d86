"""FHIR Goal.lifecycleStatus machine: every allowed move and every refused one."""

from __future__ import annotations

import itertools

import pytest

from casebridge.careplans.goal_lifecycle import MOVES, NEEDS_REASON, allowed_moves, check_move
from casebridge.careplans.plan_lifecycle import MOVES as PLAN_MOVES
from casebridge.careplans.plan_lifecycle import check_plan_move
from casebridge.careplans.vocabulary import CarePlanStatus, GoalAchievement, GoalLifecycle
from casebridge.kernel.errors import IllegalTransition, ValidationFailed

G = GoalLifecycle

EXPECTED_ALLOWED = {
    (G.PROPOSED, G.PLANNED),
    (G.PROPOSED, G.ACCEPTED),
    (G.PROPOSED, G.ACTIVE),
    (G.PROPOSED, G.REJECTED),
    (G.PLANNED, G.ACCEPTED),
    (G.PLANNED, G.ACTIVE),
    (G.PLANNED, G.ON_HOLD),
    (G.PLANNED, G.CANCELLED),
    (G.ACCEPTED, G.ACTIVE),
    (G.ACCEPTED, G.ON_HOLD),
    (G.ACCEPTED, G.CANCELLED),
    (G.ACTIVE, G.ON_HOLD),
    (G.ACTIVE, G.COMPLETED),
    (G.ACTIVE, G.CANCELLED),
    (G.ON_HOLD, G.ACTIVE),
    (G.ON_HOLD, G.CANCELLED),
    *((s, G.ENTERED_IN_ERROR) for s in (G.PROPOSED, G.PLANNED, G.ACCEPTED, G.ACTIVE, G.ON_HOLD)),
}
ALL_PAIRS = list(itertools.product(GoalLifecycle, GoalLifecycle))


def test_the_table_is_exactly_the_documented_moves():
    assert {(a, b) for a in GoalLifecycle for b in MOVES[a]} == EXPECTED_ALLOWED


@pytest.mark.parametrize(("current", "target"), sorted(EXPECTED_ALLOWED), ids=lambda s: s.value)
def test_allowed_move_is_accepted(current, target):
    reason = "patient readmitted" if target in NEEDS_REASON else ""
    check_move(current, target, reason=reason)
    assert target in allowed_moves(current)


REFUSED = [p for p in ALL_PAIRS if p not in EXPECTED_ALLOWED]


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=lambda s: s.value)
def test_refused_move_raises_illegal_transition(current, target):
    with pytest.raises(IllegalTransition):
        check_move(current, target, reason="any reason")


@pytest.mark.parametrize("target", sorted(NEEDS_REASON))
def test_hold_cancel_reject_and_error_need_a_reason(target):
    source = next(s for s in GoalLifecycle if target in MOVES[s])
    with pytest.raises(ValidationFailed) as err:
        check_move(source, target, reason="  ")
    assert "reason" in err.value.field_errors


@pytest.mark.parametrize("final", [G.COMPLETED, G.CANCELLED, G.REJECTED, G.ENTERED_IN_ERROR])
def test_final_statuses_go_nowhere(final):
    assert allowed_moves(final) == frozenset()


def test_completing_a_goal_records_achieved_unless_told_otherwise():
    assert check_move(G.ACTIVE, G.COMPLETED) == GoalAchievement.ACHIEVED
    assert check_move(G.ACTIVE, G.COMPLETED, achievement=GoalAchievement.NOT_ACHIEVED) == GoalAchievement.NOT_ACHIEVED


def test_completing_a_goal_refuses_a_progress_code_as_its_outcome():
    with pytest.raises(ValidationFailed) as err:
        check_move(G.ACTIVE, G.COMPLETED, achievement=GoalAchievement.IMPROVING)
    assert "achievement_status" in err.value.field_errors


def test_activating_a_goal_starts_it_in_progress():
    assert check_move(G.ACCEPTED, G.ACTIVE) == GoalAchievement.IN_PROGRESS
    assert check_move(G.ON_HOLD, G.ACTIVE) is None  # resuming keeps the achievement it had


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a in CarePlanStatus for b in PLAN_MOVES[a]],
    ids=lambda s: s.value,
)
def test_care_plan_allowed_status_moves(current, target):
    check_plan_move(current, target)


@pytest.mark.parametrize(
    ("current", "target"),
    [(a, b) for a in CarePlanStatus for b in CarePlanStatus if a != b and b not in PLAN_MOVES[a]],
    ids=lambda s: s.value,
)
def test_care_plan_refused_status_moves(current, target):
    with pytest.raises(IllegalTransition):
        check_plan_move(current, target)
