"""FHIR R4 Goal.lifecycleStatus as a state machine. Pure Python: no Django.

FHIR defines the codes (proposed, planned, accepted, active, on-hold,
completed, cancelled, entered-in-error, rejected) and their meaning, not the
moves between them. The moves below follow those meanings:

- proposed -> planned | accepted | active | rejected   (a proposal is taken up or turned down)
- planned  -> accepted | active | on-hold | cancelled
- accepted -> active | on-hold | cancelled
- active   -> on-hold | completed | cancelled
- on-hold  -> active | cancelled
- completed, cancelled, rejected: final (a renewed goal is a new goal, so the record stays honest)
- any non-final status -> entered-in-error; entered-in-error is final.

Putting a goal on hold, cancelling, rejecting or marking it entered-in-error
needs a reason. Completing a goal sets its achievementStatus: "achieved"
unless the caller says otherwise, and only an outcome code (achieved,
sustaining, not-achieved, not-attainable) may go with completion.
"""

from __future__ import annotations

from casebridge.careplans.vocabulary import GoalAchievement, GoalLifecycle
from casebridge.kernel.errors import IllegalTransition, ValidationFailed

G = GoalLifecycle

FINAL = frozenset({G.COMPLETED, G.CANCELLED, G.REJECTED, G.ENTERED_IN_ERROR})
OPEN = frozenset(GoalLifecycle) - FINAL
INITIAL = frozenset({G.PROPOSED, G.PLANNED, G.ACCEPTED, G.ACTIVE})

_MOVES: dict[GoalLifecycle, frozenset[GoalLifecycle]] = {
    G.PROPOSED: frozenset({G.PLANNED, G.ACCEPTED, G.ACTIVE, G.REJECTED}),
    G.PLANNED: frozenset({G.ACCEPTED, G.ACTIVE, G.ON_HOLD, G.CANCELLED}),
    G.ACCEPTED: frozenset({G.ACTIVE, G.ON_HOLD, G.CANCELLED}),
    G.ACTIVE: frozenset({G.ON_HOLD, G.COMPLETED, G.CANCELLED}),
    G.ON_HOLD: frozenset({G.ACTIVE, G.CANCELLED}),
}
MOVES: dict[GoalLifecycle, frozenset[GoalLifecycle]] = {
    status: _MOVES.get(status, frozenset()) | (frozenset({G.ENTERED_IN_ERROR}) if status in OPEN else frozenset())
    for status in GoalLifecycle
}

NEEDS_REASON = frozenset({G.ON_HOLD, G.CANCELLED, G.REJECTED, G.ENTERED_IN_ERROR})
OUTCOMES = frozenset(
    {GoalAchievement.ACHIEVED, GoalAchievement.SUSTAINING, GoalAchievement.NOT_ACHIEVED, GoalAchievement.NOT_ATTAINABLE}
)


def allowed_moves(current: GoalLifecycle) -> frozenset[GoalLifecycle]:
    return MOVES[current]


def check_move(
    current: GoalLifecycle,
    target: GoalLifecycle,
    *,
    reason: str = "",
    achievement: GoalAchievement | None = None,
) -> GoalAchievement | None:
    """Refuse an illegal move; return the achievementStatus the goal has after a legal one (None: unchanged)."""
    if target not in MOVES[current]:
        raise IllegalTransition(f"A goal that is {current.value} cannot become {target.value}.")
    if target in NEEDS_REASON and not reason.strip():
        raise ValidationFailed.on("reason", f"a reason is required to make a goal {target.value}")
    if target == G.COMPLETED:
        outcome = achievement or GoalAchievement.ACHIEVED
        if outcome not in OUTCOMES:
            raise ValidationFailed.on(
                "achievement_status",
                f"a completed goal needs an outcome: one of {', '.join(sorted(o.value for o in OUTCOMES))}",
            )
        return outcome
    if target == G.ACTIVE and current in (G.PROPOSED, G.PLANNED, G.ACCEPTED):
        return achievement or GoalAchievement.IN_PROGRESS
    return achievement
