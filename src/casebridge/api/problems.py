"""RFC 9457 problem details: every API error is ``application/problem+json`` naming the field and reason."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpRequest, HttpResponse

PROBLEM_CONTENT_TYPE = "application/problem+json"


def problem_response(
    *, status: int, title: str, detail: str, errors: list[dict[str, str]] | None = None, **extra: Any
) -> HttpResponse:
    body: dict[str, Any] = {"type": "about:blank", "title": title, "status": status, "detail": detail}
    if errors:
        body["errors"] = errors
    body.update(extra)
    return HttpResponse(json.dumps(body), status=status, content_type=PROBLEM_CONTENT_TYPE)


def field_errors_to_list(field_errors: dict[str, list[str]]) -> list[dict[str, str]]:
    return [{"field": field, "message": msg} for field, msgs in field_errors.items() for msg in msgs]


def pydantic_errors_to_list(errors: list[dict[str, Any]]) -> list[dict[str, str]]:
    """Ninja's validation errors carry a location like ("body", "payload", "birth_date") or ("file", "file")."""
    out = []
    for e in errors:
        loc = [str(p) for p in e.get("loc", ())]
        if loc and loc[0] in ("body", "query", "path", "form", "file", "header", "cookie"):
            source, loc = loc[0], loc[1:]
            if source != "file" and loc and loc[0] in ("payload", "filters", "data"):
                loc = loc[1:]
        out.append({"field": ".".join(loc) or "body", "message": str(e.get("msg", "is invalid"))})
    return out


def not_found_view(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    return problem_response(status=404, title="Not found", detail="No such API endpoint.")


PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "detail": {"type": "string"},
        "errors": {
            "type": "array",
            "items": {
                "type": "object",
                "required": ["field", "message"],
                "properties": {"field": {"type": "string"}, "message": {"type": "string"}},
            },
        },
    },
}
