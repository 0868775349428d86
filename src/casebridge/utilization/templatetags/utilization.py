"""The utilization review panel of the case page, rendered from the case in the page's context."""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.kernel import clock
from casebridge.utilization import selectors

register = template.Library()


@register.inclusion_tag("utilization/_case_panel.html", takes_context=True)
def ur_panel(context: template.Context) -> dict[str, Any]:
    actor = getattr(context["request"], "actor", None)
    case = context["case"]
    if actor is None or case.organization_id != actor.organization_id or not can(actor, "case.view"):
        return {"show": False}
    panel = selectors.ur_panel(actor=actor, case_id=case.pk)
    return {
        "show": True,
        "case": case,
        "now": clock.now(),
        "can_review": can(actor, "review.perform"),
        "request": context["request"],
        "stays": [(e, panel["moons"].get(e.pk), panel["cc44"].get(e.pk)) for e in panel["encounters"]],
        "reviews": panel["reviews"],
    }
