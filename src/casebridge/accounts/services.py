from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from typing import Any

from django.conf import settings
from django.contrib.auth import password_validation
from django.core.exceptions import ValidationError
from django.db import transaction

from casebridge.accounts import roles as r
from casebridge.accounts.models import (
    ApiToken,
    Credential,
    LoginFailure,
    Membership,
    Organization,
    User,
)
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.kernel.validation import validate_model

ORGANIZATION_FIELDS = (
    "name",
    "org_type",
    "npi",
    "payer_id",
    "address_line",
    "city",
    "state",
    "postal_code",
    "phone",
    "zip_codes_served",
)


def _check_zip_codes(zips: Any) -> list[str]:
    if not isinstance(zips, list) or not all(isinstance(z, str) for z in zips):
        raise ValidationFailed.on("zip_codes_served", "must be a list of 5-digit ZIP codes")
    bad = [z for z in zips if not (len(z) == 5 and z.isdigit())]
    if bad:
        raise ValidationFailed.on("zip_codes_served", f"not 5-digit ZIP codes: {', '.join(bad[:5])}")
    return sorted(set(zips))


def _check_npi(npi: str) -> None:
    # NPI is 10 digits with a Luhn check digit over the prefix 80840 (CMS NPI standard).
    if not npi:
        return
    if len(npi) != 10 or not npi.isdigit():
        raise ValidationFailed.on("npi", "must be 10 digits")
    digits = [int(c) for c in "80840" + npi]
    total = 0
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 1:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    if total % 10 != 0:
        raise ValidationFailed.on("npi", "check digit does not match (not a valid NPI)")


def organization_create(*, actor: Actor | None, **fields: Any) -> Organization:
    """Platform-level: only the CLI/demo (no actor) or a superuser creates organizations."""
    if actor is not None and not actor.user.is_superuser:
        raise PermissionDenied("Only platform administrators create organizations.")
    unknown = set(fields) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not an organization field")
    fields["zip_codes_served"] = _check_zip_codes(fields.get("zip_codes_served", []))
    _check_npi(fields.get("npi", ""))
    org = Organization(**fields)
    validate_model(org)
    with transaction.atomic():
        org.save()
        if actor is not None:
            audit_record(actor=actor, action="organization.create", subject=org)
    return org


def organization_update(*, actor: Actor, **changes: Any) -> Organization:
    require(actor, "organization.manage")
    unknown = set(changes) - set(ORGANIZATION_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not an organization field")
    if "zip_codes_served" in changes:
        changes["zip_codes_served"] = _check_zip_codes(changes["zip_codes_served"])
    if "npi" in changes:
        _check_npi(changes["npi"])
    with transaction.atomic():
        org = Organization.objects.select_for_update().get(pk=actor.organization_id)
        for k, v in changes.items():
            setattr(org, k, v)
        validate_model(org)
        org.save()
        audit_record(actor=actor, action="organization.update", subject=org, detail={"fields": sorted(changes)})
    return org


def _validated_membership(organization: Organization, role: str, discipline: str) -> None:
    if role not in r.ROLE_LABELS:
        raise ValidationFailed.on("role", f"unknown role {role!r}")
    problem = r.discipline_error(role, discipline)
    if problem:
        raise ValidationFailed.on("discipline", problem)


def user_create(
    *,
    actor: Actor | None,
    organization: Organization,
    username: str,
    password: str | None,
    role: str,
    discipline: str = "",
    first_name: str = "",
    last_name: str = "",
    email: str = "",
    check_password_strength: bool = True,
) -> User:
    """Create a user with one membership. ``actor`` None means the CLI or the demo builder.
    ``password`` None: a system user nobody signs in as (an unusable password, and no hashing work:
    PBKDF2 at Django's iteration count costs a tenth of a second or more)."""
    if actor is not None:
        require(actor, "user.manage")
        if organization.pk != actor.organization_id:
            raise PermissionDenied("You can add users only to your own organization.")
    _validated_membership(organization, role, discipline)
    user = User(username=username, first_name=first_name, last_name=last_name, email=email)
    if password is None:
        user.set_unusable_password()
    else:
        if check_password_strength:
            try:
                password_validation.validate_password(password, user)
            except ValidationError as exc:
                raise ValidationFailed(
                    "password: " + " ".join(exc.messages), field_errors={"password": exc.messages}
                ) from exc
        user.set_password(password)
    validate_model(user, exclude=["password"])
    with transaction.atomic():
        user.save()
        Membership.objects.create(user=user, organization=organization, role=role, discipline=discipline)
        if actor is not None:
            audit_record(actor=actor, action="user.create", subject=user, detail={"role": role})
    return user


def membership_grant(
    *, actor: Actor | None, user: User, organization: Organization, role: str, discipline: str = ""
) -> Membership:
    if actor is not None:
        require(actor, "user.manage")
        if organization.pk != actor.organization_id:
            raise PermissionDenied("You can grant roles only in your own organization.")
    _validated_membership(organization, role, discipline)
    with transaction.atomic():
        membership, created = Membership.objects.get_or_create(
            user=user, organization=organization, role=role, defaults={"discipline": discipline}
        )
        if not created:
            membership.active = True
            membership.discipline = discipline
            membership.save(update_fields=["active", "discipline"])
        if actor is not None:
            audit_record(actor=actor, action="membership.grant", subject=membership, detail={"role": role})
    return membership


def membership_revoke(*, actor: Actor, membership_id: int) -> Membership:
    require(actor, "user.manage")
    with transaction.atomic():
        membership = Membership.objects.filter(pk=membership_id, organization=actor.organization).first()
        if membership is None:
            raise NotFound(f"No membership {membership_id} in your organization.")
        if membership.user_id == actor.user_id and membership.role == r.ORG_ADMIN:
            raise ValidationFailed.on("membership", "you cannot remove your own admin role")
        membership.active = False
        membership.save(update_fields=["active"])
        audit_record(actor=actor, action="membership.revoke", subject=membership)
    return membership


def credential_add(
    *, actor: Actor | None, user: User, kind: str, number: str, state: str = "", expires_on: dt.date
) -> Credential:
    if actor is not None:
        require(actor, "user.manage")
        if not user.memberships.filter(organization=actor.organization).exists():
            raise NotFound("No such user in your organization.")
    credential = Credential(user=user, kind=kind, number=number, state=state.upper(), expires_on=expires_on)
    validate_model(credential)
    if kind == "license" and not credential.state:
        raise ValidationFailed.on("state", "a license needs its issuing state")
    with transaction.atomic():
        credential.save()
        if actor is not None:
            audit_record(actor=actor, action="credential.add", subject=credential)
    return credential


# --- sign-in throttling -------------------------------------------------------------------------


def login_is_throttled(*, username: str, client_ip: str | None) -> bool:
    since = clock.now() - dt.timedelta(seconds=settings.LOGIN_FAILURE_WINDOW_SECONDS)
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = LoginFailure.objects.filter(at__gte=since)
    if recent.filter(username=username.lower()).count() >= limit:
        return True
    # A single address guessing many usernames gets a looser, but real, limit.
    return bool(client_ip) and recent.filter(client_ip=client_ip).count() >= limit * 4


def login_failure_record(*, username: str, client_ip: str | None) -> None:
    LoginFailure.objects.create(username=username.lower(), client_ip=client_ip, at=clock.now())


def login_failures_clear(*, username: str) -> None:
    LoginFailure.objects.filter(username=username.lower()).delete()


# --- API tokens ----------------------------------------------------------------------------------


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def token_issue(*, actor: Actor, name: str = "") -> tuple[ApiToken, str]:
    raw = "cb_" + secrets.token_urlsafe(32)
    with transaction.atomic():
        token = ApiToken.objects.create(
            user=actor.user,
            organization=actor.organization,
            name=name[:100],
            prefix=raw[3:11],
            digest=token_digest(raw),
        )
        audit_record(actor=actor, action="token.issue", subject=token)
    return token, raw


def token_revoke(*, actor: Actor, token_id: int) -> ApiToken:
    """A user revokes their own tokens; an organization admin revokes any token in the organization."""
    tokens = ApiToken.objects.filter(pk=token_id, organization=actor.organization)
    if r.ORG_ADMIN not in actor.roles:
        tokens = tokens.filter(user=actor.user)
    with transaction.atomic():
        token = tokens.select_for_update().first()
        if token is None:
            raise NotFound(f"No token {token_id}.")
        if token.revoked_at is None:
            token.revoked_at = clock.now()
            token.save(update_fields=["revoked_at"])
            audit_record(actor=actor, action="token.revoke", subject=token)
    return token
