from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from casebridge.accounts.permissions import can
from casebridge.accounts.roles import ROLE_LABELS
from casebridge.accounts.selectors import organizations_of


def navigation(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {"actor": None}
    items = []
    if can(actor, "case.view"):
        items += [("worklist", "Worklist"), ("patient_search", "Patients")]
    if can(actor, "census.view"):
        items += [("census", "Census"), ("hospital_dashboard", "Dashboard")]
    if can(actor, "intake.review"):
        items.append(("hospital_intake", "Intake"))
    if can(actor, "caseload.view"):
        items.append(("caseload", "Caseload"))
    if can(actor, "audit.view"):
        items.append(("audit_log", "Audit log"))
    if can(actor, "user.manage"):
        items.append(("admin_users", "Users"))
    if can(actor, "organization.manage"):
        items.append(("admin_organization", "Organization"))
    if actor.user.is_superuser:
        items.append(("platform_organizations", "All organizations"))
    return {
        "actor": actor,
        "nav_items": items,
        "actor_roles": ", ".join(ROLE_LABELS.get(r, r) for r in sorted(actor.roles)),
        "my_organizations": organizations_of(actor.user),
    }
