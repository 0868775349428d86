"""Every move of the FHIR Task status machine, allowed and refused, with no database."""

import itertools

import pytest

from casebridge.kernel.errors import IllegalTransition, ValidationFailed
from casebridge.tasks.domain import FINAL, MOVES, NEEDS_REASON, OPEN, TaskStatus, check_move, path_to_completion

S = TaskStatus

# RULES.md, written out independently so a change to domain.py's table shows up here.
RULES_MD = {
    (S.DRAFT, S.REQUESTED),
    (S.REQUESTED, S.RECEIVED),
    (S.REQUESTED, S.ACCEPTED),
    (S.REQUESTED, S.REJECTED),
    (S.REQUESTED, S.CANCELLED),
    (S.RECEIVED, S.ACCEPTED),
    (S.RECEIVED, S.REJECTED),
    (S.ACCEPTED, S.IN_PROGRESS),
    (S.READY, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.ON_HOLD),
    (S.ON_HOLD, S.IN_PROGRESS),
    (S.IN_PROGRESS, S.COMPLETED),
    (S.IN_PROGRESS, S.FAILED),
}
# domain.py's documented additions: cancel before work starts; entered-in-error from any open status.
ADDITIONS = {(s, S.CANCELLED) for s in (S.DRAFT, S.READY, S.RECEIVED, S.ACCEPTED)} | {
    (s, S.ENTERED_IN_ERROR) for s in OPEN
}
ALLOWED = RULES_MD | ADDITIONS
GRID = list(itertools.product(TaskStatus, TaskStatus))


def test_moves_table_is_rules_md_plus_the_documented_additions():
    assert {(a, b) for a, targets in MOVES.items() for b in targets} == ALLOWED


@pytest.mark.parametrize(("current", "target"), GRID, ids=[f"{a.value}->{b.value}" for a, b in GRID])
def test_each_move_is_allowed_exactly_when_the_table_says_so(current, target):
    if (current, target) in ALLOWED:
        check_move(current, target, reason="documented reason")
    else:
        with pytest.raises(IllegalTransition):
            check_move(current, target, reason="documented reason")


@pytest.mark.parametrize(
    ("current", "target"),
    sorted((m for m in ALLOWED if m[1] in NEEDS_REASON), key=str),
    ids=lambda s: s.value,
)
def test_moves_to_a_closing_or_pausing_status_need_a_reason(current, target):
    with pytest.raises(ValidationFailed) as err:
        check_move(current, target, reason="   ")
    assert "reason" in err.value.field_errors


def test_final_statuses_have_no_way_out():
    for status in FINAL:
        assert MOVES[status] == frozenset()


@pytest.mark.parametrize("start", [s for s in TaskStatus if s not in FINAL and s != S.DRAFT], ids=lambda s: s.value)
def test_path_to_completion_is_a_chain_of_legal_moves_ending_completed(start):
    path = path_to_completion(start)
    assert path[-1] == S.COMPLETED
    current = start
    for step in path:
        check_move(current, step)
        current = step


@pytest.mark.parametrize("start", [*sorted(FINAL), S.DRAFT], ids=lambda s: s.value)
def test_path_to_completion_refuses_final_and_draft_tasks(start):
    with pytest.raises(IllegalTransition):
        path_to_completion(start)


def test_ready_completes_through_in_progress():
    assert path_to_completion(S.READY) == [S.IN_PROGRESS, S.COMPLETED]
    assert path_to_completion(S.REQUESTED) == [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED]
