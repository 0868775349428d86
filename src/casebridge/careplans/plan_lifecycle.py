"""FHIR R4 CarePlan.status moves. Pure Python: no Django.

FHIR names the codes; CaseBridge allows: draft -> active | revoked |
entered-in-error; active <-> on-hold; active | on-hold -> completed | revoked;
any non-final status -> entered-in-error or unknown; unknown -> any non-final
status (the status was not recorded, e.g. an imported plan). Completed,
revoked and entered-in-error are final: a new episode of planning is a new plan.
"""

from __future__ import annotations

from casebridge.careplans.vocabulary import CarePlanStatus
from casebridge.kernel.errors import IllegalTransition

P = CarePlanStatus

FINAL = frozenset({P.COMPLETED, P.REVOKED, P.ENTERED_IN_ERROR})

_MOVES: dict[CarePlanStatus, frozenset[CarePlanStatus]] = {
    P.DRAFT: frozenset({P.ACTIVE, P.REVOKED}),
    P.ACTIVE: frozenset({P.ON_HOLD, P.COMPLETED, P.REVOKED}),
    P.ON_HOLD: frozenset({P.ACTIVE, P.COMPLETED, P.REVOKED}),
    P.UNKNOWN: frozenset({P.DRAFT, P.ACTIVE, P.ON_HOLD, P.COMPLETED, P.REVOKED}),
}
MOVES: dict[CarePlanStatus, frozenset[CarePlanStatus]] = {
    s: _MOVES.get(s, frozenset())
    | (frozenset({P.ENTERED_IN_ERROR, P.UNKNOWN}) - {s} if s not in FINAL else frozenset())
    for s in CarePlanStatus
}


def check_plan_move(current: CarePlanStatus, target: CarePlanStatus) -> None:
    if current == target:
        return
    if target not in MOVES[current]:
        raise IllegalTransition(f"A care plan that is {current.value} cannot become {target.value}.")
