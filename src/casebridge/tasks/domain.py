"""FHIR R4 Task status machine. Pure Python: no Django.

Transitions from RULES.md (FHIR R4 Task state diagram): draft -> requested;
requested -> received | accepted | rejected | cancelled; received -> accepted |
rejected; accepted | ready -> in-progress; in-progress <-> on-hold;
in-progress -> completed | failed.

Two documented additions, both from the FHIR R4 Task state diagram's notes, so
that work never gets stuck in a queue: a task that is not yet in progress
(draft, ready, received, accepted) may be cancelled, and any non-final task may
be marked entered-in-error.
"""

from __future__ import annotations

from enum import StrEnum

from casebridge.kernel.errors import IllegalTransition, ValidationFailed


class TaskStatus(StrEnum):
    DRAFT = "draft"
    REQUESTED = "requested"
    RECEIVED = "received"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    READY = "ready"
    CANCELLED = "cancelled"
    IN_PROGRESS = "in-progress"
    ON_HOLD = "on-hold"
    FAILED = "failed"
    COMPLETED = "completed"
    ENTERED_IN_ERROR = "entered-in-error"


S = TaskStatus

RULES_MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    S.DRAFT: frozenset({S.REQUESTED}),
    S.REQUESTED: frozenset({S.RECEIVED, S.ACCEPTED, S.REJECTED, S.CANCELLED}),
    S.RECEIVED: frozenset({S.ACCEPTED, S.REJECTED}),
    S.ACCEPTED: frozenset({S.IN_PROGRESS}),
    S.READY: frozenset({S.IN_PROGRESS}),
    S.IN_PROGRESS: frozenset({S.ON_HOLD, S.COMPLETED, S.FAILED}),
    S.ON_HOLD: frozenset({S.IN_PROGRESS}),
}

FINAL = frozenset({S.REJECTED, S.CANCELLED, S.FAILED, S.COMPLETED, S.ENTERED_IN_ERROR})
OPEN = frozenset(TaskStatus) - FINAL

_CANCELLABLE = frozenset({S.DRAFT, S.READY, S.RECEIVED, S.ACCEPTED})

MOVES: dict[TaskStatus, frozenset[TaskStatus]] = {
    status: RULES_MOVES.get(status, frozenset())
    | (frozenset({S.CANCELLED}) if status in _CANCELLABLE else frozenset())
    | (frozenset({S.ENTERED_IN_ERROR}) if status in OPEN else frozenset())
    for status in TaskStatus
}

NEEDS_REASON = frozenset({S.REJECTED, S.CANCELLED, S.FAILED, S.ENTERED_IN_ERROR, S.ON_HOLD})


def allowed_moves(current: TaskStatus) -> frozenset[TaskStatus]:
    return MOVES[current]


def check_move(current: TaskStatus, target: TaskStatus, *, reason: str = "") -> None:
    if target not in MOVES[current]:
        raise IllegalTransition(f"A task that is {current.value} cannot become {target.value}.")
    if target in NEEDS_REASON and not reason.strip():
        raise ValidationFailed.on("reason", f"a reason is required to make a task {target.value}")


def path_to_completion(current: TaskStatus) -> list[TaskStatus]:
    """The legal moves that take an open task to completed, e.g. ready -> in-progress -> completed.

    Lets "Mark done" record each real step instead of jumping over the machine.
    """
    paths = {
        S.IN_PROGRESS: [S.COMPLETED],
        S.READY: [S.IN_PROGRESS, S.COMPLETED],
        S.ACCEPTED: [S.IN_PROGRESS, S.COMPLETED],
        S.ON_HOLD: [S.IN_PROGRESS, S.COMPLETED],
        S.RECEIVED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
        S.REQUESTED: [S.ACCEPTED, S.IN_PROGRESS, S.COMPLETED],
    }
    if current not in paths:
        raise IllegalTransition(f"A task that is {current.value} cannot be completed.")
    return paths[current]
