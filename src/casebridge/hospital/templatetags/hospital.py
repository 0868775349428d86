"""Brings the hospital stay summary to the case page (which belongs to the cases package)."""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.hospital.selectors import stay_for_case

register = template.Library()


@register.inclusion_tag("hospital/_stay_summary.html", takes_context=True)
def case_hospital_stay(context: template.Context, case: Any) -> dict[str, Any]:
    actor = context["request"].actor
    show = (
        case.case_type == "hospital_stay"
        and case.organization_id == actor.organization_id
        and can(actor, "census.view")
    )
    return {"stay": stay_for_case(actor=actor, case_id=case.pk) if show else None, "show": show}


@register.filter
def get_item(mapping: Any, key: str) -> Any:
    return mapping.get(key) if hasattr(mapping, "get") else None
