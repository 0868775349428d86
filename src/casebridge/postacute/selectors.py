"""Reads of the directory, choice lists and referrals, each scoped to what the actor's organization may see.

The directory is shared reference data (names, services, areas): any clinical user may read it.
Choice lists belong to the hospital that built them. A referral is seen by the hospital that sent
it and, only while it is open or once it took the patient on, by the organization it was sent to;
that organization sees the packet, never the hospital's case or patient record.
"""

from __future__ import annotations

import datetime as dt
from statistics import median

from django.db.models import Q, QuerySet

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_listed, audit_record
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.postacute.lifecycle import RECEIVER_VISIBLE
from casebridge.postacute.models import ChoiceList, FinancialInterest, Provider, Referral


def provider_list(
    *, actor: Actor, provider_type: str = "", service: str = "", zip_code: str = "", include_inactive: bool = False
) -> QuerySet[Provider]:
    require(actor, "directory.view")
    qs = Provider.objects.select_related("organization").prefetch_related("networks")
    if not include_inactive:
        qs = qs.filter(active=True)
    if provider_type:
        qs = qs.filter(provider_type=provider_type)
    if service or zip_code:
        # Lists in JSON: filtered in Python, which both SQLite and PostgreSQL support; the directory is small.
        qs = qs.filter(
            pk__in=[
                p.pk
                for p in qs
                if (not service or service in p.services)
                and (not zip_code or zip_code in p.zip_codes_served or p.postal_code[:5] == zip_code)
            ]
        )
    return qs.order_by("name", "pk")


def provider_get(*, actor: Actor, provider_id: int) -> Provider:
    require(actor, "directory.view")
    provider = Provider.objects.select_related("organization", "maintained_by").filter(pk=provider_id).first()
    if provider is None:
        raise NotFound(f"No provider {provider_id}.")
    return provider


def provider_of_organization(*, actor: Actor) -> Provider | None:
    """The actor's own organization's directory entry, when it has one."""
    return Provider.objects.filter(organization_id=actor.organization_id).first()


#: Organization types that are post-acute providers and so may have a directory entry.
PROVIDER_ORG_TYPES = ("home_health", "home_infusion", "irf", "snf")


def provider_organizations_unlisted() -> QuerySet[Organization]:
    """Active provider organizations on the platform that have no directory entry yet: the choices
    for linking a new entry. The directory is shared by every organization, so this is not scoped."""
    return Organization.objects.filter(active=True, org_type__in=PROVIDER_ORG_TYPES, provider_entry__isnull=True)


def financial_interests_of(*, actor: Actor) -> dict[int, FinancialInterest]:
    """The actor's organization's financial interests, by provider id. Other hospitals' interests stay private."""
    return {fi.provider_id: fi for fi in FinancialInterest.objects.filter(hospital_id=actor.organization_id)}


def choice_lists_owned(actor: Actor) -> QuerySet[ChoiceList]:
    return ChoiceList.objects.filter(organization_id=actor.organization_id)


def choice_list_get(*, actor: Actor, choice_list_id: int, audit: bool = True) -> ChoiceList:
    require(actor, "case.view")
    cl = (
        choice_lists_owned(actor)
        .select_related("case", "patient", "created_by", "presented_by")
        .filter(pk=choice_list_id)
        .first()
    )
    if cl is None:
        raise NotFound(f"No choice list {choice_list_id}.")
    if audit:
        audit_record(actor=actor, action="choicelist.read", subject=cl, patient=cl.patient_id)
    return cl


def choice_lists_for_case(*, actor: Actor, case_id: int) -> QuerySet[ChoiceList]:
    return choice_lists_owned(actor).filter(case_id=case_id).select_related("presented_by")


def referrals_outgoing(actor: Actor) -> QuerySet[Referral]:
    return Referral.objects.filter(organization_id=actor.organization_id)


def referrals_incoming(actor: Actor) -> QuerySet[Referral]:
    return Referral.objects.filter(receiving_organization_id=actor.organization_id, status__in=list(RECEIVER_VISIBLE))


def referrals_visible(actor: Actor) -> QuerySet[Referral]:
    return Referral.objects.filter(
        Q(organization_id=actor.organization_id)
        | Q(receiving_organization_id=actor.organization_id, status__in=list(RECEIVER_VISIBLE))
    )


def referral_get(*, actor: Actor, referral_id: int, audit: bool = True) -> Referral:
    require(actor, "referral.view")
    referral = (
        referrals_visible(actor)
        .select_related("provider", "organization", "receiving_organization", "sent_by", "responded_by")
        .filter(pk=referral_id)
        .first()
    )
    if referral is None:
        raise NotFound(f"No referral {referral_id}.")
    if audit:
        audit_record(actor=actor, action="referral.read", subject=referral, patient=referral.patient_id)
    return referral


def referral_list(
    *, actor: Actor, direction: str = "outgoing", status: str = "", case_id: int | None = None
) -> QuerySet[Referral]:
    require(actor, "referral.view")
    qs = referrals_incoming(actor) if direction == "incoming" else referrals_outgoing(actor)
    if status:
        qs = qs.filter(status=status)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    return qs.select_related("provider", "organization", "receiving_organization", "home_health_case").order_by(
        "-sent_at", "-pk"
    )


QUEUE_LIMIT = 200


def referral_queue(*, actor: Actor, direction: str, status: str = "") -> list[Referral]:
    """The referral queue page: the newest referrals of one direction, each patient's read recorded."""
    referrals = list(referral_list(actor=actor, direction=direction, status=status)[:QUEUE_LIMIT])
    audit_listed(
        actor=actor, action="referral.queue.view", rows=referrals, detail={"direction": direction, "status": status}
    )
    return referrals


def referrals_for_case(*, actor: Actor, case_id: int) -> QuerySet[Referral]:
    return referral_list(actor=actor, direction="outgoing", case_id=case_id)


def referrals_that_opened(*, actor: Actor, case_id: int) -> QuerySet[Referral]:
    """Referrals that opened this (agency) case: the agency's side of the link."""
    return Referral.objects.filter(
        home_health_case_id=case_id, receiving_organization_id=actor.organization_id
    ).select_related("organization")


def referral_response_hours(*, actor: Actor, since: dt.datetime) -> list[tuple[str, float, int]]:
    """Median hours from sending a referral to the provider's answer, by service type: [(type, hours, count)]."""
    require(actor, "case.view")
    rows = (
        referrals_outgoing(actor)
        .filter(sent_at__gte=since, responded_at__isnull=False)
        .values_list("provider_type", "sent_at", "responded_at")
    )
    by_type: dict[str, list[float]] = {}
    for provider_type, sent_at, responded_at in rows:
        if responded_at is None:  # excluded by the filter; narrows the type
            continue
        by_type.setdefault(str(provider_type), []).append((responded_at - sent_at).total_seconds() / 3600)
    return [(t, round(median(hours), 1), len(hours)) for t, hours in sorted(by_type.items())]
