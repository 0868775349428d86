"""Fills the case page's post-acute panel: this package brings its own data through its scoped selectors."""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.kernel import clock
from casebridge.postacute import selectors

register = template.Library()


@register.inclusion_tag("postacute/_case_panel.html", takes_context=True)
def case_postacute(context: template.Context, case: Any) -> dict[str, Any]:
    actor = context["request"].actor
    owned = case.organization_id == actor.organization_id
    return {
        "case": case,
        "owned": owned,
        "choice_lists": list(selectors.choice_lists_for_case(actor=actor, case_id=case.pk)) if owned else [],
        "referrals": list(selectors.referrals_for_case(actor=actor, case_id=case.pk)) if owned else [],
        "opened_by": list(selectors.referrals_that_opened(actor=actor, case_id=case.pk)),
        "can_plan": owned and can(actor, "choicelist.change"),
        "can_refer": owned and can(actor, "referral.send"),
        "now": clock.now(),
    }
