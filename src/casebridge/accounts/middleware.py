from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse

from casebridge.accounts.selectors import actor_for

ACTIVE_ORG_SESSION_KEY = "casebridge.organization_id"


def client_ip(request: HttpRequest) -> str | None:
    # Behind a proxy set USE_X_FORWARDED_FOR in the proxy config; REMOTE_ADDR is the safe default.
    return request.META.get("REMOTE_ADDR") or None


class ActorMiddleware:
    """Attaches ``request.actor``: the signed-in user acting in their chosen organization."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        request.actor = None  # type: ignore[attr-defined]
        if request.user.is_authenticated:
            org_id = request.session.get(ACTIVE_ORG_SESSION_KEY)
            request.actor = actor_for(  # type: ignore[attr-defined]
                request.user, organization_id=org_id, client_ip=client_ip(request)
            )
            if request.actor is None and org_id is not None:  # type: ignore[attr-defined]
                request.actor = actor_for(request.user, client_ip=client_ip(request))  # type: ignore[attr-defined]
        return self.get_response(request)
