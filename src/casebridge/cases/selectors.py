"""Reads of cases, always scoped to what the actor's organization may see."""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import CareTeamMember, Case
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound


def linked_case_ids(actor: Actor) -> QuerySet[CareTeamMember, Any]:
    """Cases of other organizations that the actor's organization is on the care team of."""
    return CareTeamMember.objects.filter(
        organization_id=actor.organization_id, links_organization=True, active=True
    ).values("case_id")


def cases_visible(actor: Actor) -> QuerySet[Case]:
    return Case.objects.filter(Q(organization_id=actor.organization_id) | Q(pk__in=linked_case_ids(actor)))


def cases_owned(actor: Actor) -> QuerySet[Case]:
    """Cases the actor's organization runs; writes go through these."""
    return Case.objects.filter(organization_id=actor.organization_id)


def case_get(*, actor: Actor, case_id: int, audit: bool = True) -> Case:
    require(actor, "case.view")
    case = cases_visible(actor).select_related("patient", "assigned_to", "organization").filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"No case {case_id}.")
    if audit:
        audit_record(actor=actor, action="case.read", subject=case, patient=case.patient_id)
    return case


def case_owned_get(*, actor: Actor, case_id: int) -> Case:
    case = cases_owned(actor).select_related("patient").filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


def case_list(
    *,
    actor: Actor,
    status: str | None = None,
    case_type: str | None = None,
    assigned_to_id: int | None = None,
    patient_id: int | None = None,
) -> QuerySet[Case]:
    require(actor, "case.view")
    qs = cases_visible(actor).select_related("patient", "assigned_to")
    if status:
        qs = qs.filter(status=status)
    if case_type:
        qs = qs.filter(case_type=case_type)
    if assigned_to_id:
        qs = qs.filter(assigned_to_id=assigned_to_id)
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    return qs.order_by("-opened_at", "-pk")


def care_team_of(case: Case) -> QuerySet[CareTeamMember]:
    return case.care_team.filter(active=True).select_related("organization", "user").order_by("added_at")
