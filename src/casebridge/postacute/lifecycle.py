"""Referral status machine and the hospital case's path to transition. Pure Python: no Django.

Referral statuses use FHIR R4 Task.status words: requested -> accepted | rejected | cancelled;
accepted -> completed (the patient agreed and the start of service is scheduled) | cancelled.
"""

from __future__ import annotations

from enum import StrEnum

from casebridge.cases.domain import STATUS_LABELS, CaseStatus, allowed_moves
from casebridge.kernel.errors import IllegalTransition


class ReferralStatus(StrEnum):
    REQUESTED = "requested"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    CANCELLED = "cancelled"
    COMPLETED = "completed"


REFERRAL_LABELS: dict[str, str] = {
    ReferralStatus.REQUESTED: "Awaiting answer",
    ReferralStatus.ACCEPTED: "Accepted",
    ReferralStatus.REJECTED: "Declined",
    ReferralStatus.CANCELLED: "Withdrawn",
    ReferralStatus.COMPLETED: "Patient agreed · service scheduled",
}

_MOVES: dict[ReferralStatus, frozenset[ReferralStatus]] = {
    ReferralStatus.REQUESTED: frozenset({ReferralStatus.ACCEPTED, ReferralStatus.REJECTED, ReferralStatus.CANCELLED}),
    ReferralStatus.ACCEPTED: frozenset({ReferralStatus.COMPLETED, ReferralStatus.CANCELLED}),
    ReferralStatus.REJECTED: frozenset(),
    ReferralStatus.CANCELLED: frozenset(),
    ReferralStatus.COMPLETED: frozenset(),
}

OPEN = frozenset({ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED})
# The receiving organization sees a referral while it is open, and once it has taken the patient on.
# A declined or withdrawn referral is no business of the receiver any more.
RECEIVER_VISIBLE = frozenset({ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED})


def check_referral_move(current: ReferralStatus, target: ReferralStatus) -> None:
    if target not in _MOVES[current]:
        raise IllegalTransition(
            f"A referral that is {REFERRAL_LABELS[current].lower()} cannot become {REFERRAL_LABELS[target].lower()}."
        )


# The forward process, in order; the walk to transition only moves forward along it.
_FORWARD = [
    CaseStatus.REFERRAL,
    CaseStatus.ASSESSMENT,
    CaseStatus.PLANNING,
    CaseStatus.IMPLEMENTATION,
    CaseStatus.TRANSITION,
]


def path_to_transition(current: CaseStatus) -> list[CaseStatus]:
    """The legal forward steps from ``current`` to TRANSITION (empty when already there).

    Arranging post-acute care is implementation and coordination of the discharge plan, so a case
    still in referral, assessment or planning is walked forward one legal move at a time, each step
    recorded. A case on hold, closed or cancelled is refused: someone decided to stop it, and a
    referral answer must not silently undo that decision.
    """
    if current == CaseStatus.TRANSITION:
        return []
    if current == CaseStatus.MONITORING:
        return [CaseStatus.TRANSITION]
    if current not in _FORWARD:
        raise IllegalTransition(
            f"The hospital case is {STATUS_LABELS[current].lower()}: resume or reopen it before recording "
            "the patient's agreement, so it can move to transition."
        )
    steps = _FORWARD[_FORWARD.index(current) + 1 :]
    previous: CaseStatus = current
    for step in steps:
        if step not in allowed_moves(previous):  # the case machine is the authority; fail loudly if it changes
            raise IllegalTransition(f"A case in {STATUS_LABELS[previous]} cannot move to {STATUS_LABELS[step]}.")
        previous = step
    return steps
