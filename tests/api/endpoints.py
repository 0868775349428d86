"""Every API operation, with an example request, for the generic isolation and bad-input tests.

The tests walk ``/api/v1/openapi.json``: an operation without a row here fails
them with a list of what is missing. Adding an endpoint? Add its row:

- ``scope="object"``: the request names one of the hospital's objects (in its
  path or body). Another organization must get exactly what a missing id gets
  (404), and nothing may change.
- ``scope="own"``: the request acts on the caller's own things (a search, a
  create in their own organization, their tokens). Another organization may
  succeed, but must see none of the hospital's data and change none of it.

``body`` and ``query`` take the world's ids (``patient_id``, ``case_id``,
``organization_id``...; see tests/support/world.py; plus ``username``, the
caller's) and return the example. Path parameters are filled from the same ids
by name.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Literal

Ids = dict[str, Any]


@dataclass(frozen=True)
class Example:
    scope: Literal["object", "own"]
    body: Callable[[Ids], dict[str, Any]] | None = None
    query: Callable[[Ids], dict[str, Any]] = field(default=lambda ids: {})
    # Operations whose request authenticates itself (sign-in) rather than with a bearer token.
    anonymous: bool = False
    # What a user holding every role gets for another organization's object (and for a missing one).
    refusal: int = 404


ENDPOINTS: dict[tuple[str, str], Example] = {
    # --- auth and directory ---
    # Signing in to act in the hospital, with a password that is valid, but for another organization.
    ("POST", "/api/v1/auth/token"): Example(
        "object",
        anonymous=True,
        refusal=403,
        body=lambda ids: {
            "username": ids["username"],
            "password": "correct-horse-battery-9",
            "organization_id": ids["organization_id"],
        },
    ),
    ("GET", "/api/v1/auth/tokens"): Example("own"),
    ("DELETE", "/api/v1/auth/token"): Example("own"),
    ("DELETE", "/api/v1/auth/tokens/{token_id}"): Example("object"),
    ("GET", "/api/v1/me"): Example("own"),
    ("GET", "/api/v1/organizations"): Example("own"),
    ("PATCH", "/api/v1/organizations/current"): Example("own", body=lambda ids: {"phone": "555-0100"}),
    ("GET", "/api/v1/users"): Example("own"),
    ("POST", "/api/v1/users"): Example(
        "own",
        body=lambda ids: {
            "username": "new-colleague",
            "password": "a-long-enough-passphrase-7",
            "role": "scheduler",
        },
    ),
    ("GET", "/api/v1/users/{user_id}"): Example("object"),
    # --- patients ---
    ("GET", "/api/v1/patients"): Example("own", query=lambda ids: {"name": "Quillfeather"}),
    ("POST", "/api/v1/patients"): Example(
        "own",
        body=lambda ids: {"family_name": "Newcomb", "given_name": "Ira", "birth_date": "1955-05-05", "mrn": "X-1"},
    ),
    ("GET", "/api/v1/patients/{patient_id}"): Example("object"),
    ("PATCH", "/api/v1/patients/{patient_id}"): Example("object", body=lambda ids: {"version": 1, "phone": "1"}),
    ("POST", "/api/v1/patients/{patient_id}/identifiers"): Example(
        "object", body=lambda ids: {"kind": "other", "value": "SNEAKY-1"}
    ),
    ("POST", "/api/v1/patients/{patient_id}/contacts"): Example(
        "object", body=lambda ids: {"name": "Mallory", "relationship": "friend"}
    ),
    ("POST", "/api/v1/patients/{patient_id}/coverages"): Example(
        "object",
        body=lambda ids: {"payer_name": "Sneaky Health", "member_id": "S-1", "period_start": "2025-01-01", "order": 2},
    ),
    # --- cases ---
    ("GET", "/api/v1/cases"): Example("own", query=lambda ids: {"patient_id": ids["patient_id"]}),
    ("POST", "/api/v1/cases"): Example(
        "object", body=lambda ids: {"patient_id": ids["patient_id"], "case_type": "insurer_cm"}
    ),
    ("GET", "/api/v1/cases/{case_id}"): Example("object"),
    ("PATCH", "/api/v1/cases/{case_id}"): Example("object", body=lambda ids: {"version": 1, "reason": "Hijacked"}),
    ("POST", "/api/v1/cases/{case_id}/transition"): Example(
        "object", body=lambda ids: {"status": "cancelled", "reason": "Hijacked"}
    ),
    ("POST", "/api/v1/cases/{case_id}/assign"): Example("object", body=lambda ids: {"user_id": ids["user_id"]}),
    ("POST", "/api/v1/cases/{case_id}/care-team"): Example(
        "object", body=lambda ids: {"role": "Insurer case manager", "name": "Mallory"}
    ),
    ("DELETE", "/api/v1/cases/{case_id}/care-team/{member_id}"): Example("object"),
}


def operations(schema: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    """(METHOD, path, operation object) for every operation in the OpenAPI document."""
    out = []
    for path, item in schema["paths"].items():
        for method, op in item.items():
            if method in {"get", "post", "put", "patch", "delete"}:
                out.append((method.upper(), path, op))
    return sorted(out, key=lambda t: (t[1], t[0]))


def request_body_schema(schema: dict[str, Any], op: dict[str, Any]) -> dict[str, Any] | None:
    """The JSON request body schema of an operation, with its top-level $ref resolved."""
    content = op.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema")
    if body is None:
        return None
    return resolve(schema, body)


def resolve(schema: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = schema
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node


def fill_path(path: str, ids: Ids) -> str:
    import re

    def value(match: re.Match[str]) -> str:
        name = match.group(1)
        if name not in ids:
            raise AssertionError(
                f"{path}: the world has no id named {name!r}; register a world builder that sets it "
                "(tests/support/world.py)"
            )
        return str(ids[name])

    return re.sub(r"\{(\w+)\}", value, path)
