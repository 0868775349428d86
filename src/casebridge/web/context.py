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
    if can(actor, "referral.respond") and actor.organization.org_type not in ("hospital", "insurer"):
        items.append(("referral_queue", "Referrals"))
    if can(actor, "directory.view"):
        items.append(("directory", "Directory"))
    if can(actor, "negotiation.respond") or can(actor, "benefit.manage"):
        items.append(("coverage_home", "Coverage"))
    if can(actor, "review.perform") or can(actor, "review.decide"):
        items.append(("ur_reviews", "Reviews"))
    if can(actor, "review.decide"):
        items.append(("ur_advisor_queue", "Physician advisor queue"))
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
        items.append(("fhir_import", "Import"))
        items.append(("hl7_log", "ADT feed"))
    if actor.user.is_superuser:
        items.append(("platform_organizations", "All organizations"))
    return {
        "actor": actor,
        "nav_items": items,
        "actor_roles": ", ".join(ROLE_LABELS.get(r, r) for r in sorted(actor.roles)),
        "my_organizations": organizations_of(actor.user),
    }
