"""The NinjaAPI with bearer-token auth and RFC 9457 errors, built once for every router."""

from __future__ import annotations

from typing import Any

from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404, HttpRequest, HttpResponse
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, HttpError, ValidationError
from ninja.parser import Parser
from ninja.security import HttpBearer

from casebridge.accounts.middleware import client_ip
from casebridge.accounts.models import ApiToken
from casebridge.accounts.selectors import actor_for
from casebridge.accounts.services import token_digest
from casebridge.api.problems import (
    PROBLEM_CONTENT_TYPE,
    PROBLEM_SCHEMA,
    field_errors_to_list,
    problem_response,
    pydantic_errors_to_list,
)
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError
from casebridge.kernel.nesting import TooDeep, parse_within

DOCUMENTED_ERRORS = {
    "400": "Malformed request",
    "401": "Missing, invalid or revoked token",
    "403": "Your role does not allow this",
    "404": "Not found (or not visible to your organization)",
    "409": "Edit conflict or illegal status change",
    "413": "Request body too large",
    "415": "Unsupported media type (e.g. a document type not accepted)",
    "422": "Invalid input: each error names its field",
}


class BearerToken(HttpBearer):
    def authenticate(self, request: HttpRequest, token: str) -> Actor | None:
        row = (
            ApiToken.objects.select_related("user")
            .filter(digest=token_digest(token), revoked_at__isnull=True, user__is_active=True)
            .first()
        )
        if row is None:
            return None
        actor = actor_for(row.user, organization_id=row.organization_id, client_ip=client_ip(request))
        if actor is None:
            return None
        # Touch at most once a minute: a write per request would serialize reads on SQLite.
        now = clock.now()
        if row.last_used_at is None or (now - row.last_used_at).total_seconds() > 60:
            ApiToken.objects.filter(pk=row.pk).update(last_used_at=now)
        request.token_id = row.pk  # type: ignore[attr-defined]
        return actor


def _nul_paths(value: Any, path: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Where a NUL character hides in parsed input. PostgreSQL refuses to store or even compare
    text containing NUL, so such input would fail inside the database as a 500."""
    if isinstance(value, str):
        return [path] if "\x00" in value else []
    if isinstance(value, dict):
        found = [(*path, str(k)) for k in value if isinstance(k, str) and "\x00" in k]
        return found + [p for k, v in value.items() for p in _nul_paths(v, (*path, str(k)))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _nul_paths(v, (*path, str(i)))]
    return []


def _refuse_nul(data: Any, where: str) -> None:
    paths = _nul_paths(data)
    if paths:
        raise ValidationError(
            [{"loc": (where, *p), "msg": "must not contain NUL characters", "type": "string_nul"} for p in paths]
        )


class JsonObjectParser(Parser):
    """Request bodies are JSON objects. Ninja would otherwise read ``42`` or ``[]`` as an object with
    no fields, so a PATCH with such a body succeeded as an empty change; now it is a 400."""

    def parse_body(self, request: HttpRequest) -> dict[str, Any]:
        # Ninja's handler names the reason of a ValueError only (TooDeep is one): deep nesting ran
        # json.loads, and after it the NUL walk and pydantic, out of stack.
        try:
            data = parse_within(super().parse_body, request)
        except TooDeep as exc:
            raise ValueError(f"the request body {exc}") from exc
        if not isinstance(data, dict):
            raise ValueError("the request body must be a JSON object")
        _refuse_nul(data, "body")
        return data

    def parse_querydict(self, data: Any, list_fields: list[str], request: HttpRequest) -> dict[str, Any]:
        parsed = super().parse_querydict(data, list_fields, request)
        _refuse_nul(parsed, "query")
        return parsed


class CaseBridgeAPI(NinjaAPI):
    def get_openapi_schema(self, *, path_prefix: str | None = None, path_params: Any = None) -> Any:
        schema = super().get_openapi_schema(path_prefix=path_prefix, path_params=path_params)
        schema.setdefault("components", {}).setdefault("schemas", {})["Problem"] = PROBLEM_SCHEMA
        problem = {PROBLEM_CONTENT_TYPE: {"schema": {"$ref": "#/components/schemas/Problem"}}}
        for path_item in schema["paths"].values():
            for operation in path_item.values():
                responses = operation.setdefault("responses", {})
                for code, description in DOCUMENTED_ERRORS.items():
                    if code == "401" and not operation.get("security"):
                        continue
                    responses.setdefault(code, {"description": description, "content": problem})
        return schema


def actor_of(request: HttpRequest) -> Actor:
    actor = request.auth  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def build_api() -> CaseBridgeAPI:
    api = CaseBridgeAPI(
        title="CaseBridge API",
        version="1",
        description="Case management records. Authenticate with `POST /api/v1/auth/token`, then send "
        "`Authorization: Bearer <token>`. Errors are RFC 9457 problem details.",
        auth=BearerToken(),
        parser=JsonObjectParser(),
        urls_namespace="api",
        openapi_url="/openapi.json",
        docs_url="/docs",
    )

    @api.exception_handler(DomainError)
    def domain_error(request: HttpRequest, exc: DomainError) -> HttpResponse:
        return problem_response(
            status=exc.status, title=exc.title, detail=exc.detail, errors=field_errors_to_list(exc.field_errors)
        )

    @api.exception_handler(ValidationError)
    def validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
        errors = pydantic_errors_to_list(exc.errors)
        detail = "; ".join(f"{e['field']}: {e['message']}" for e in errors) or "Invalid request"
        # A body that is not JSON at all is malformed (400); JSON with bad values is invalid (422).
        status = 400 if any(e.get("type") in ("json_invalid", "model_attributes_type") for e in exc.errors) else 422
        return problem_response(status=status, title="Invalid input", detail=detail, errors=errors)

    @api.exception_handler(AuthenticationError)
    def unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
        response = problem_response(
            status=401, title="Unauthorized", detail="Send a valid bearer token: POST /api/v1/auth/token issues one."
        )
        response["WWW-Authenticate"] = "Bearer"
        return response

    @api.exception_handler(HttpError)
    def http_error(request: HttpRequest, exc: HttpError) -> HttpResponse:
        # Ninja wraps whatever the body parser raised in a bare "Cannot parse request body" 400.
        cause = exc.__cause__
        if isinstance(cause, ValidationError):
            return validation_error(request, cause)
        detail = f"{exc}: {cause}" if isinstance(cause, ValueError) else str(exc)
        return problem_response(status=exc.status_code, title="Request refused", detail=detail)

    @api.exception_handler(Http404)
    def not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
        return problem_response(status=404, title="Not found", detail=str(exc) or "Not found.")

    @api.exception_handler(SuspiciousOperation)
    def suspicious(request: HttpRequest, exc: SuspiciousOperation) -> HttpResponse:
        # e.g. more form or query fields than DATA_UPLOAD_MAX_NUMBER_FIELDS: malformed, never a 500.
        return problem_response(status=400, title="Malformed request", detail=str(exc) or "Malformed request.")

    @api.exception_handler(RequestDataTooBig)
    def too_big(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
        return problem_response(
            status=413, title="Request too large", detail="The request body exceeds the size limit."
        )

    from casebridge.api.routes import register

    register(api)
    return api
