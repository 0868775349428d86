import datetime as dt

from django.contrib.auth import authenticate
from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status
from ninja.errors import HttpError

from casebridge.accounts import services
from casebridge.accounts.middleware import client_ip
from casebridge.accounts.models import ApiToken, Organization
from casebridge.accounts.permissions import require
from casebridge.accounts.roles import ROLE_CHOICES
from casebridge.accounts.selectors import actor_for, organization_list, organization_user_get, organization_users
from casebridge.api.base import actor_of
from casebridge.api.problems import PROBLEM_CONTENT_TYPE
from casebridge.api.types import MAX_ID

auth_router = Router(tags=["auth"])
router = Router(tags=["organizations and users"])


class TokenRequest(Schema):
    username: str = Field(min_length=1, max_length=150)
    password: str = Field(min_length=1, max_length=256)
    organization_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="Act in this organization (default: your first)"
    )
    name: str = Field("", max_length=100, description="A label for the token, e.g. the script using it")


class TokenOut(Schema):
    id: int
    token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    organization_id: int


class TokenInfo(Schema):
    id: int
    name: str
    prefix: str
    organization_id: int
    created_at: dt.datetime
    last_used_at: dt.datetime | None
    revoked_at: dt.datetime | None


_PROBLEM = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}


@auth_router.post(
    "/token",
    auth=None,
    response={201: TokenOut},
    openapi_extra={
        "responses": {
            "401": {"description": "Wrong username or password", "content": _PROBLEM},
            "429": {"description": "Too many failed sign-ins; wait and try again", "content": _PROBLEM},
        }
    },
)
def token_create(request: HttpRequest, payload: TokenRequest) -> Status[TokenOut]:
    ip = client_ip(request)
    if services.login_is_throttled(username=payload.username, client_ip=ip):
        raise HttpError(429, "Too many failed sign-ins. Wait 15 minutes and try again.")
    user = authenticate(request, username=payload.username, password=payload.password)
    if user is None:
        services.login_failure_record(username=payload.username, client_ip=ip)
        raise HttpError(401, "Wrong username or password.")
    actor = actor_for(user, organization_id=payload.organization_id, client_ip=ip)  # type: ignore[arg-type]
    if actor is None:
        raise HttpError(403, "You have no active role in that organization.")
    services.login_failures_clear(username=payload.username)
    token, raw = services.token_issue(actor=actor, name=payload.name)
    return Status(201, TokenOut(id=token.pk, token=raw, organization_id=actor.organization_id))


@auth_router.get("/tokens", response=list[TokenInfo])
def token_list(request: HttpRequest) -> list[ApiToken]:
    actor = actor_of(request)
    return list(ApiToken.objects.filter(user=actor.user, organization=actor.organization).order_by("-created_at"))


@auth_router.delete("/token", response={204: None})
def token_revoke_current(request: HttpRequest) -> Status[None]:
    services.token_revoke(actor=actor_of(request), token_id=request.token_id)  # type: ignore[attr-defined]
    return Status(204, None)


@auth_router.delete("/tokens/{token_id}", response={204: None})
def token_revoke(request: HttpRequest, token_id: int = Path(..., ge=1, le=MAX_ID)) -> Status[None]:
    services.token_revoke(actor=actor_of(request), token_id=token_id)
    return Status(204, None)


class MembershipOut(Schema):
    role: str
    discipline: str


class MeOut(Schema):
    id: int
    username: str
    full_name: str
    organization_id: int
    organization_name: str
    roles: list[str]


@router.get("/me", response=MeOut, tags=["auth"])
def me(request: HttpRequest) -> MeOut:
    actor = actor_of(request)
    return MeOut(
        id=actor.user_id,
        username=actor.user.username,
        full_name=actor.user.get_full_name(),
        organization_id=actor.organization_id,
        organization_name=actor.organization.name,
        roles=sorted(actor.roles),
    )


class OrganizationOut(Schema):
    id: int
    name: str
    org_type: str
    npi: str
    payer_id: str
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    zip_codes_served: list[str]


class OrganizationPatch(Schema):
    name: str | None = Field(None, min_length=1, max_length=200)
    npi: str | None = Field(None, max_length=10)
    payer_id: str | None = Field(None, max_length=32)
    address_line: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=2)
    postal_code: str | None = Field(None, max_length=10)
    phone: str | None = Field(None, max_length=32)
    zip_codes_served: list[str] | None = Field(None, max_length=2000)


@router.get("/organizations", response=list[OrganizationOut])
def organizations(request: HttpRequest) -> list[Organization]:
    return list(organization_list(actor=actor_of(request)))


@router.patch("/organizations/current", response=OrganizationOut)
def organization_update(request: HttpRequest, payload: OrganizationPatch) -> Organization:
    return services.organization_update(actor=actor_of(request), **payload.dict(exclude_unset=True, exclude_none=True))


class UserOut(Schema):
    id: int
    username: str
    first_name: str
    last_name: str
    email: str
    memberships: list[MembershipOut]


class UserIn(Schema):
    username: str = Field(min_length=1, max_length=150, pattern=r"^[\w.@+-]+$")
    password: str = Field(min_length=1, max_length=256)
    first_name: str = Field("", max_length=150)
    last_name: str = Field("", max_length=150)
    email: str = Field("", max_length=254)
    role: str = Field(description="One of: " + ", ".join(code for code, _ in ROLE_CHOICES))
    discipline: str = Field("", max_length=8)


def _user_out(user, organization_id: int) -> UserOut:  # type: ignore[no-untyped-def]
    return UserOut(
        id=user.pk,
        username=user.username,
        first_name=user.first_name,
        last_name=user.last_name,
        email=user.email,
        memberships=[
            MembershipOut(role=m.role, discipline=m.discipline)
            for m in user.memberships.filter(organization_id=organization_id, active=True)
        ],
    )


@router.get("/users", response=list[UserOut])
def users(request: HttpRequest) -> list[UserOut]:
    actor = actor_of(request)
    require(actor, "user.manage")
    return [
        _user_out(u, actor.organization_id) for u in organization_users(actor=actor).prefetch_related("memberships")
    ]


@router.post("/users", response={201: UserOut})
def user_create(request: HttpRequest, payload: UserIn) -> Status[UserOut]:
    actor = actor_of(request)
    user = services.user_create(actor=actor, organization=actor.organization, **payload.dict())
    return Status(201, _user_out(user, actor.organization_id))


@router.get("/users/{user_id}", response=UserOut)
def user_get(request: HttpRequest, user_id: int = Path(..., ge=1, le=MAX_ID)) -> UserOut:
    actor = actor_of(request)
    require(actor, "user.manage")
    return _user_out(organization_user_get(actor=actor, user_id=user_id), actor.organization_id)
