"""No user of another organization can read or change the hospital's records through any API operation.

Driven by the OpenAPI document. The platform's operations (auth, organizations, users, patients,
cases) are exercised here from their rows in tests/api/endpoints.py. Each business area's
operations are exercised by that area's own API test module, which builds its records in the
states its workflow needs; the completeness test below makes sure every operation in the document
is exercised by one or the other, so an endpoint added later without a cross-organization test
fails the suite.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from casebridge.api.router import api as ninja_api
from tests.api.endpoints import ENDPOINTS, fill_path, operations
from tests.conftest import api_client_for
from tests.support import db
from tests.support.world import MISSING_ID, World

SCHEMA = ninja_api.get_openapi_schema(path_prefix="/api/v1")
ALL_OPERATIONS = [(method, path) for method, path, _ in operations(SCHEMA)]
OPERATIONS = [op for op in ALL_OPERATIONS if op in ENDPOINTS]
TESTS = Path(__file__).resolve().parent.parent

# Business areas whose operations are tested for isolation in their own module (path prefix -> module).
AREA_TEST_MODULES = {
    "/api/v1/tasks": "api/test_tasks_api.py",
    "/api/v1/queues": "api/test_tasks_api.py",
    "/api/v1/assessments": "api/test_careplans_api.py",
    "/api/v1/goals": "api/test_careplans_api.py",
    "/api/v1/interventions": "api/test_careplans_api.py",
    "/api/v1/needs": "api/test_careplans_api.py",
    "/api/v1/communications": "api/test_communications_api.py",
    "/api/v1/documents": "api/test_communications_api.py",
    "/api/v1/benefit-plans": "api/test_coverage_api.py",
    "/api/v1/rates": "api/test_coverage_api.py",
    "/api/v1/costs": "api/test_coverage_api.py",
    "/api/v1/options": "api/test_coverage_api.py",
    "/api/v1/negotiations": "api/test_coverage_api.py",
    "/api/v1/agreements": "api/test_coverage_api.py",
    "/api/v1/coverage": "api/test_coverage_api.py",
    "/api/v1/savings": "api/test_coverage_api.py",
    "/api/v1/directory": "api/test_postacute_api.py",
    "/api/v1/choice-lists": "api/test_postacute_api.py",
    "/api/v1/referrals": "api/test_postacute_api.py",
    "/api/v1/utilization": "api/test_utilization_api.py",
    "/api/v1/hospital/intake": "hospital_stays/test_payer_liaison.py",
    "/api/v1/hospital": "hospital_stays/test_hospital_api.py",
}
# Case- and patient-scoped routes of those areas live under /cases/{case_id}/... and /patients/{id}/...
AREA_SUFFIX_MODULES = {
    "care-plan": "api/test_careplans_api.py",
    "assessments": "api/test_careplans_api.py",
    "communications": "api/test_communications_api.py",
    "documents": "api/test_communications_api.py",
    "coverage": "api/test_coverage_api.py",
    "negotiations": "api/test_coverage_api.py",
    "choice-lists": "api/test_postacute_api.py",
    "referrals": "api/test_postacute_api.py",
    "tasks": "api/test_tasks_api.py",
}


def _area_module(path: str) -> str | None:
    for prefix, module in AREA_TEST_MODULES.items():
        if path == prefix or path.startswith(prefix + "/"):
            return module
    parts = path.split("/")
    if len(parts) > 5 and parts[3] in ("cases", "patients"):
        return AREA_SUFFIX_MODULES.get(parts[5])
    return None


def _exercised_in(module: str, path: str) -> bool:
    """The module calls this path (ids written as literals or f-string fields, with or without its area's
    prefix, which modules often keep in a BASE constant) and asserts 404s for other organizations."""
    source = (TESTS / module).read_text()
    tails = {path.removeprefix("/api/v1")}
    tails |= {path.removeprefix(prefix) for prefix in AREA_TEST_MODULES if path.startswith(prefix + "/")}
    for tail in tails:
        pattern = re.escape(tail).replace(r"\{", "{").replace(r"\}", "}")
        pattern = re.sub(r"\{[^}]+\}", r"(\\{[^}]+\\}|[0-9]+|[a-z_]+)", pattern)
        if re.search(pattern + r"(?![\w-])", source) and "404" in source:
            return True
    return False


def test_every_api_operation_has_an_example_for_the_isolation_tests():
    missing = []
    for m, p in ALL_OPERATIONS:
        if (m, p) in ENDPOINTS:
            continue
        module = _area_module(p)
        if module is None or not _exercised_in(module, p):
            missing.append(f"{m} {p}" + (f" (not exercised in tests/{module})" if module else ""))
    stale = [f"{m} {p}" for m, p in ENDPOINTS if (m, p) not in ALL_OPERATIONS]
    assert not missing, (
        "These API operations have no row in tests/api/endpoints.py ENDPOINTS, so nothing proves another "
        "organization cannot reach them. Add a row for each:\n  " + "\n  ".join(missing)
    )
    assert not stale, "These ENDPOINTS rows name operations the API no longer has:\n  " + "\n  ".join(stale)


def call(client: Client, method: str, path: str, *, body: Any = None, query: dict[str, Any] | None = None):
    url = path
    if query:
        from urllib.parse import urlencode

        url += "?" + urlencode(query)
    kwargs: dict[str, Any] = {}
    if body is not None:
        kwargs = {"data": json.dumps(body), "content_type": "application/json"}
    return getattr(client, method.lower())(url, **kwargs)


def client_for(actor, method: str, path: str) -> Client:
    return Client() if ENDPOINTS[(method, path)].anonymous else api_client_for(actor)


def request_as(client: Client, actor, method: str, path: str, ids: dict[str, Any]):
    example = ENDPOINTS[(method, path)]
    ids = {**ids, "username": actor.user.username}
    body = example.body(ids) if example.body else None
    return call(client, method, fill_path(path, ids), body=body, query=example.query(ids))


def _leaks(world: World, text: str) -> list[str]:
    return [s for s in world.secrets if s.lower() in text.lower()]


@pytest.fixture(params=["outsider", "outsider_with_every_role"])
def intruder(request):
    return request.getfixturevalue(request.param)


@pytest.mark.parametrize(("method", "path"), OPERATIONS, ids=[f"{m} {p}" for m, p in OPERATIONS])
def test_another_organization_cannot_read_or_change_the_hospitals_records(world, intruder, method, path):
    example = ENDPOINTS.get((method, path))
    if example is None:
        pytest.fail(f"{method} {path} has no row in tests/api/endpoints.py ENDPOINTS")
    every_role = intruder.user.username == "ins-all-roles"
    client = client_for(intruder, method, path)
    hospital_rows = db.owned_by(
        db.snapshot(),
        [("accounts.organization", world.hospital.pk)]
        + [("accounts.user", a.user_id) for a in (world.cm, world.supervisor)],
    )

    if example.scope == "object":
        # First as if the id did not exist, to learn what "missing" looks like for this caller.
        missing = request_as(client, intruder, method, path, dict.fromkeys(world.ids, MISSING_ID))
        before = db.snapshot()
        response = request_as(client, intruder, method, path, world.ids)
        changes = db.diff(before, db.snapshot())
        assert response.status_code == missing.status_code, (
            f"{method} {path}: another organization's object answered {response.status_code} "
            f"but a missing one answers {missing.status_code}: {response.content[:300]!r}"
        )
        assert response.status_code in (403, 404), response.content[:300]
        if every_role:
            assert response.status_code == example.refusal, response.content[:300]
        assert not changes, f"{method} {path} by another organization changed: {changes.summary()}"
    else:
        before = db.snapshot()
        response = request_as(client, intruder, method, path, world.ids)
        problems = db.touches(db.diff(before, db.snapshot()), hospital_rows)
        assert response.status_code < 500, response.content[:300]
        assert not problems, f"{method} {path} by another organization touched the hospital's data: {problems}"

    leaked = _leaks(world, response.content.decode(errors="replace"))
    assert not leaked, f"{method} {path} showed another organization the hospital's {leaked}"


@pytest.mark.parametrize(
    ("method", "path"),
    [op for op in OPERATIONS if op in ENDPOINTS and ENDPOINTS[op].scope == "object"],
    ids=[f"{m} {p}" for m, p in OPERATIONS if (m, p) in ENDPOINTS and ENDPOINTS[(m, p)].scope == "object"],
)
def test_the_hospitals_own_staff_can_use_the_object_examples(world, method, path):
    """The examples above must be requests that work for the owner: otherwise a 404 proves nothing."""
    response = request_as(client_for(world.cm, method, path), world.cm, method, path, world.ids)
    if response.status_code == 403:  # not a case manager's job: try the supervisor and admin
        response = request_as(client_for(world.supervisor, method, path), world.supervisor, method, path, world.ids)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.content[:300]!r}"
