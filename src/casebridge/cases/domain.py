"""Case lifecycle as a state machine. Pure Python: no Django.

Statuses follow the case management process (CCMC framework; CMSA Standards of
Practice 2022): identification/screening, assessment, planning, implementation
and coordination, monitoring, transition, closure; plus on hold and cancelled.
Each maps to a FHIR R4 EpisodeOfCare.status.
"""

from __future__ import annotations

from enum import StrEnum

from casebridge.kernel.errors import IllegalTransition, ValidationFailed


class CaseStatus(StrEnum):
    REFERRAL = "referral"
    ASSESSMENT = "assessment"
    PLANNING = "planning"
    IMPLEMENTATION = "implementation"
    MONITORING = "monitoring"
    TRANSITION = "transition"
    ON_HOLD = "on_hold"
    CLOSED = "closed"
    CANCELLED = "cancelled"


STATUS_LABELS: dict[CaseStatus, str] = {
    CaseStatus.REFERRAL: "Referral / screening",
    CaseStatus.ASSESSMENT: "Assessment",
    CaseStatus.PLANNING: "Planning",
    CaseStatus.IMPLEMENTATION: "Implementation & coordination",
    CaseStatus.MONITORING: "Monitoring",
    CaseStatus.TRANSITION: "Transition",
    CaseStatus.ON_HOLD: "On hold",
    CaseStatus.CLOSED: "Closed",
    CaseStatus.CANCELLED: "Cancelled",
}

# FHIR R4 EpisodeOfCare.status
FHIR_STATUS: dict[CaseStatus, str] = {
    CaseStatus.REFERRAL: "planned",
    CaseStatus.ASSESSMENT: "active",
    CaseStatus.PLANNING: "active",
    CaseStatus.IMPLEMENTATION: "active",
    CaseStatus.MONITORING: "active",
    CaseStatus.TRANSITION: "active",
    CaseStatus.ON_HOLD: "onhold",
    CaseStatus.CLOSED: "finished",
    CaseStatus.CANCELLED: "cancelled",
}

ACTIVE = frozenset(
    {
        CaseStatus.ASSESSMENT,
        CaseStatus.PLANNING,
        CaseStatus.IMPLEMENTATION,
        CaseStatus.MONITORING,
        CaseStatus.TRANSITION,
    }
)
OPEN = ACTIVE | {CaseStatus.REFERRAL, CaseStatus.ON_HOLD}
TERMINAL = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED})

# Forward moves follow the process; backward moves let a case manager reassess
# or revise the plan when the patient's situation changes, as the process is a cycle.
_MOVES: dict[CaseStatus, frozenset[CaseStatus]] = {
    CaseStatus.REFERRAL: frozenset({CaseStatus.ASSESSMENT, CaseStatus.CLOSED, CaseStatus.CANCELLED}),
    CaseStatus.ASSESSMENT: frozenset({CaseStatus.PLANNING, CaseStatus.CLOSED, CaseStatus.CANCELLED}),
    CaseStatus.PLANNING: frozenset(
        {CaseStatus.IMPLEMENTATION, CaseStatus.ASSESSMENT, CaseStatus.CLOSED, CaseStatus.CANCELLED}
    ),
    CaseStatus.IMPLEMENTATION: frozenset(
        {CaseStatus.MONITORING, CaseStatus.PLANNING, CaseStatus.TRANSITION, CaseStatus.CLOSED}
    ),
    CaseStatus.MONITORING: frozenset(
        {
            CaseStatus.IMPLEMENTATION,
            CaseStatus.PLANNING,
            CaseStatus.ASSESSMENT,
            CaseStatus.TRANSITION,
            CaseStatus.CLOSED,
        }
    ),
    CaseStatus.TRANSITION: frozenset({CaseStatus.MONITORING, CaseStatus.CLOSED}),
    CaseStatus.CLOSED: frozenset(),
    CaseStatus.CANCELLED: frozenset(),
}
# Every open status may be put on hold; a held case resumes where it was.
for _status in OPEN - {CaseStatus.ON_HOLD}:
    _MOVES[_status] = _MOVES[_status] | {CaseStatus.ON_HOLD}

NEEDS_REASON = frozenset({CaseStatus.CLOSED, CaseStatus.CANCELLED, CaseStatus.ON_HOLD})


def allowed_moves(current: CaseStatus, held_from: CaseStatus | None = None) -> frozenset[CaseStatus]:
    if current == CaseStatus.ON_HOLD:
        resume = {held_from} if held_from is not None else set()
        return frozenset(resume | {CaseStatus.CLOSED, CaseStatus.CANCELLED})
    return _MOVES[current]


def check_move(
    current: CaseStatus, target: CaseStatus, *, reason: str = "", held_from: CaseStatus | None = None
) -> CaseStatus | None:
    """Refuse an illegal move; return what ``held_from`` becomes after a legal one."""
    if target not in allowed_moves(current, held_from):
        raise IllegalTransition(f"A case in {STATUS_LABELS[current]} cannot move to {STATUS_LABELS[target]}.")
    if target in NEEDS_REASON and not reason.strip():
        raise ValidationFailed.on("reason", f"a reason is required to move a case to {STATUS_LABELS[target]}")
    if target == CaseStatus.ON_HOLD:
        return current
    return None
