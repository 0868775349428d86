from __future__ import annotations

from django.db.models import QuerySet

from casebridge.accounts.models import Membership, Organization, OrganizationType, User
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound


def memberships_of(user: User) -> QuerySet[Membership]:
    return Membership.objects.filter(user=user, active=True, organization__active=True).select_related("organization")


def organizations_of(user: User) -> list[Organization]:
    seen: dict[int, Organization] = {}
    for m in memberships_of(user):
        seen.setdefault(m.organization_id, m.organization)
    return sorted(seen.values(), key=lambda o: o.name)


def actor_for(user: User, *, organization_id: int | None = None, client_ip: str | None = None) -> Actor | None:
    """The actor for ``user`` in one organization: the one asked for, else their first."""
    members = list(memberships_of(user))
    if organization_id is not None:
        members_here = [m for m in members if m.organization_id == organization_id]
    else:
        first = min((m.organization for m in members), key=lambda o: o.name, default=None)
        members_here = [m for m in members if first is not None and m.organization_id == first.pk]
    if not members_here:
        return None
    return Actor(
        user=user,
        organization=members_here[0].organization,
        roles=frozenset(m.role for m in members_here),
        disciplines=frozenset(m.discipline for m in members_here if m.discipline),
        client_ip=client_ip,
    )


def organization_users(*, actor: Actor) -> QuerySet[User]:
    return (
        User.objects.filter(memberships__organization=actor.organization, memberships__active=True)
        .distinct()
        .order_by("last_name", "first_name")
    )


def organization_user_get(*, actor: Actor, user_id: int) -> User:
    user = organization_users(actor=actor).filter(pk=user_id).first()
    if user is None:
        raise NotFound(f"No user {user_id} in {actor.organization.name}.")
    return user


def staff_with_role(*, actor: Actor, roles: tuple[str, ...]) -> QuerySet[User]:
    return (
        User.objects.filter(
            memberships__organization=actor.organization, memberships__active=True, memberships__role__in=roles
        )
        .distinct()
        .order_by("last_name", "first_name")
    )


def organization_list(*, actor: Actor) -> QuerySet[Organization]:
    """Organizations on the platform: names and types are directory data, not patient data."""
    return Organization.objects.filter(active=True).order_by("name")


def insurers_on_platform() -> QuerySet[Organization]:
    """Active health insurers, for payer pickers (directory data, not patient data)."""
    return Organization.objects.filter(active=True, org_type=OrganizationType.INSURER).order_by("name")


def organizations_except_insurers() -> QuerySet[Organization]:
    """Active organizations that deliver care (hospitals, agencies, pharmacies...), for provider pickers."""
    return Organization.objects.filter(active=True).exclude(org_type=OrganizationType.INSURER).order_by("name")
