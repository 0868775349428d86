"""Fills the case page's communications and documents partials.

The case page view belongs to the cases package; these tags let this package
bring its own data to the page through its selectors, scoped and audited.
"""

from __future__ import annotations

from typing import Any

from django import template

from casebridge.accounts.permissions import can
from casebridge.communications import selectors
from casebridge.communications.forms import DocumentForm
from casebridge.communications.views import contact_form

register = template.Library()


@register.inclusion_tag("communications/_log.html", takes_context=True)
def case_communications(context: template.Context, case: Any) -> dict[str, Any]:
    actor = context["request"].actor
    owned = case.organization_id == actor.organization_id
    can_log = owned and can(actor, "communication.create")
    return {
        "case": case,
        "communications": list(selectors.communication_list_for_case(actor=actor, case_id=case.pk)),
        "form": contact_form(actor) if can_log else None,
        "can_log": can_log,
        "csrf_token": context.get("csrf_token"),
    }


@register.inclusion_tag("communications/_documents.html", takes_context=True)
def case_documents(context: template.Context, case: Any) -> dict[str, Any]:
    actor = context["request"].actor
    can_upload = case.organization_id == actor.organization_id and can(actor, "document.upload")
    return {
        "case": case,
        "documents": list(selectors.document_list_for_case(actor=actor, case_id=case.pk)),
        "form": DocumentForm() if can_upload else None,
        "can_upload": can_upload,
        "csrf_token": context.get("csrf_token"),
    }
