"""/fhir/r4 views: parse the request, call one query, render FHIR JSON. Errors become OperationOutcomes
here, in one place."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import urlencode

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.csrf import csrf_exempt

from casebridge.api.base import BearerToken
from casebridge.interop.fhir_api import queries
from casebridge.interop.fhir_api.capability import capability_statement
from casebridge.interop.fhir_api.outcomes import fhir_response, outcome_response
from casebridge.interop.fhir_api.registry import ApiType, api_type, bundle_handler
from casebridge.interop.fhir_api.search_params import ParsedSearch, SearchError, parse_search
from casebridge.interop.fhir_export.bundles import entry
from casebridge.interop.fhir_export.validate import InvalidExport
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError

logger = logging.getLogger(__name__)
_bearer = BearerToken()

View = Callable[..., HttpResponse]


def base_url(request: HttpRequest) -> str:
    return request.build_absolute_uri(reverse("fhir:base"))


def fhir_view(*methods: str, authenticated: bool = True) -> Callable[[View], View]:
    """Method check (405), bearer-token authentication (401) as /api/v1 does it, and errors as
    OperationOutcome. The view gets the actor after the request."""

    def decorate(view: View) -> View:
        @wraps(view)
        def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
            if request.method not in methods:
                response = outcome_response(
                    405, f"{request.method} is not supported here; allowed: {', '.join(methods)}"
                )
                response["Allow"] = ", ".join(methods)
                return response
            actor: Actor | None = None
            if authenticated:
                actor = _bearer(request)
                if actor is None:
                    return outcome_response(401, "Send a valid bearer token: POST /api/v1/auth/token issues one.")
            try:
                return view(request, actor, *args, **kwargs)
            except SearchError as exc:
                return outcome_response(400, str(exc))
            except DomainError as exc:
                return outcome_response(exc.status, exc.detail)
            except InvalidExport:
                logger.exception("FHIR export produced an invalid resource")
                return outcome_response(500, "The server built an invalid resource; the error was logged.")

        # Bearer tokens, not cookies, authenticate these requests: there is no session to forge.
        return csrf_exempt(wrapper)

    return decorate


def _type_or_404(resource_type: str) -> ApiType | HttpResponse:
    spec = api_type(resource_type)
    if spec is None:
        return outcome_response(404, f"Unknown or unsupported resource type {resource_type!r}; see /fhir/r4/metadata")
    return spec


@csrf_exempt
def base(request: HttpRequest) -> HttpResponse:
    """GET: the CapabilityStatement is at metadata. POST: a transaction or batch Bundle, handed to the
    importer's view (``registry.BUNDLE_HANDLER``), which authenticates the bearer token and answers
    with a transaction-response or batch-response Bundle or an OperationOutcome."""
    if request.method == "GET":
        return HttpResponseRedirect(reverse("fhir:metadata"))
    handler = bundle_handler()
    if request.method != "POST" or handler is None:
        allowed = "GET, POST" if handler is not None else "GET"
        response = outcome_response(405, f"{request.method} is not supported at the base URL; allowed: {allowed}")
        response["Allow"] = allowed
        return response
    handled: HttpResponse = handler(request)
    return handled


@fhir_view("GET", authenticated=False)
def metadata(request: HttpRequest, actor: None) -> HttpResponse:
    """Public, as FHIR expects: a client reads it to learn how to authenticate."""
    return fhir_response(capability_statement(base_url(request)))


@fhir_view("GET")
def read(request: HttpRequest, actor: Actor, resource_type: str, fhir_id: str) -> HttpResponse:
    spec = _type_or_404(resource_type)
    if isinstance(spec, HttpResponse):
        return spec
    return fhir_response(queries.resource_read(actor=actor, spec=spec, fhir_id=fhir_id))


def _links(request: HttpRequest, spec: ApiType, search: ParsedSearch, total: int) -> list[dict[str, str]]:
    url = f"{base_url(request)}/{spec.name}"

    def page(offset: int) -> str:
        return f"{url}?{urlencode([*search.echo, ('_count', search.count), ('_offset', offset)])}"

    links = [{"relation": "self", "url": page(search.offset)}]
    if search.offset + search.count < total:
        links.append({"relation": "next", "url": page(search.offset + search.count)})
    if search.offset > 0:
        links.append({"relation": "previous", "url": page(max(search.offset - search.count, 0))})
    return links


def _search(request: HttpRequest, actor: Actor, resource_type: str, pairs: list[tuple[str, str]]) -> HttpResponse:
    spec = _type_or_404(resource_type)
    if isinstance(spec, HttpResponse):
        return spec
    lenient = "handling=lenient" in request.headers.get("Prefer", "").replace(" ", "")
    search = parse_search(
        pairs,
        {name: p.spec for name, p in spec.params.items()},
        lenient=lenient,
        default_tz=timezone.get_default_timezone(),
    )
    page = queries.resource_search(actor=actor, spec=spec, search=search, query=urlencode(search.echo))
    now = clock.now().isoformat()
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now},
        "type": "searchset",
        "total": page.total,
        "link": _links(request, spec, search, page.total),
    }
    if page.resources:  # FHIR JSON has no empty arrays
        bundle["entry"] = [entry(r, base_url(request), "match") for r in page.resources]
    return fhir_response(bundle)


@fhir_view("GET")
def search_type(request: HttpRequest, actor: Actor, resource_type: str) -> HttpResponse:
    return _search(request, actor, resource_type, _pairs(request.GET))


@fhir_view("POST")
def search_post(request: HttpRequest, actor: Actor, resource_type: str) -> HttpResponse:
    """POST [type]/_search with form-encoded parameters (R4 3.1.1.3.3): the same search as GET."""
    return _search(request, actor, resource_type, _pairs(request.GET) + _pairs(request.POST))


def _pairs(query: Any) -> list[tuple[str, str]]:
    return [(name, value) for name in query for value in query.getlist(name)]


@fhir_view("GET")
def everything(request: HttpRequest, actor: Actor, fhir_id: str) -> HttpResponse:
    resources = queries.patient_everything(actor=actor, fhir_id=fhir_id)
    now = clock.now().isoformat()
    bundle = {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now},
        "type": "searchset",
        "total": len(resources),
        "link": [{"relation": "self", "url": f"{base_url(request)}/Patient/{fhir_id}/$everything"}],
        "entry": [entry(r, base_url(request), "match") for r in resources],
    }
    return fhir_response(bundle)


@fhir_view("GET", "POST", "PUT", "PATCH", "DELETE", authenticated=False)
def unknown(request: HttpRequest, actor: None, rest: str = "") -> HttpResponse:
    return outcome_response(404, f"No FHIR endpoint at /fhir/r4/{rest}; see /fhir/r4/metadata")
