"""Bad input to any API operation gets a 4xx problem naming what is wrong, and changes nothing.

Driven by the OpenAPI document and the examples in tests/api/endpoints.py, so
operations added later are covered as soon as they have their row.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from django.conf import settings
from django.test import Client, override_settings

from casebridge.api.router import api as ninja_api
from tests.api.endpoints import ENDPOINTS, fill_path, operations, request_body_schema, resolve
from tests.conftest import api_client_for
from tests.support import db
from tests.support.world import World

SCHEMA = ninja_api.get_openapi_schema(path_prefix="/api/v1")
OPS = {(m, p): op for m, p, op in operations(SCHEMA) if (m, p) in ENDPOINTS}
WITH_BODY = sorted(k for k, op in OPS.items() if request_body_schema(SCHEMA, op) is not None)
WITH_PATH_IDS = sorted(k for k in OPS if "{" in k[1])
PROBLEM = "application/problem+json"


def _ids(ops):
    return [f"{m} {p}" for m, p in ops]


class Caller:
    """The hospital's staff member allowed to make a request: its case manager, else its supervisor/admin."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.clients = {"cm": api_client_for(world.cm), "supervisor": api_client_for(world.supervisor)}

    def send(
        self,
        method: str,
        path: str,
        *,
        ids: dict[str, Any] | None = None,
        raw: bytes | None = None,
        body: Any = None,
        query: str = "",
        who: str = "cm",
    ):
        example = ENDPOINTS[(method, path)]
        ids = {**self.world.ids, **(ids or {}), "username": getattr(self.world, who).user.username}
        client = Client() if example.anonymous else self.clients[who]
        url = fill_path(path, ids) + (f"?{query}" if query else "")
        if raw is None:
            payload = body if body is not None else (example.body(ids) if example.body else None)
            raw = json.dumps(payload).encode() if payload is not None else None
        kwargs = {"data": raw, "content_type": "application/json"} if raw is not None else {}
        return getattr(client, method.lower())(url, **kwargs)

    def send_as_owner(self, method: str, path: str, **kw):
        response = self.send(method, path, **kw)
        if response.status_code == 403:
            response = self.send(method, path, who="supervisor", **kw)
        return response


@pytest.fixture
def caller(world) -> Caller:
    return Caller(world)


def assert_problem(response, status: int | tuple[int, ...]) -> dict[str, Any]:
    wanted = status if isinstance(status, tuple) else (status,)
    assert response.status_code in wanted, f"{response.status_code}: {response.content[:400]!r}"
    assert response["Content-Type"].startswith(PROBLEM), response["Content-Type"]
    problem = response.json()
    assert problem["status"] == response.status_code
    assert problem["title"] and problem["detail"]
    return problem


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=_ids(WITH_BODY))
def test_malformed_json_gets_400_problem_and_changes_nothing(caller, method, path):
    before = db.snapshot()
    response = caller.send_as_owner(method, path, raw=b'{"family_name": "Lee", oops')
    assert_problem(response, 400)
    assert not db.diff(before, db.snapshot())


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=_ids(WITH_BODY))
def test_a_json_body_that_is_not_an_object_gets_4xx_problem(caller, method, path):
    before = db.snapshot()
    for raw in (b"[]", b"42", b'"text"', b"null"):
        response = caller.send_as_owner(method, path, raw=raw)
        assert_problem(response, (400, 422))
    assert not db.diff(before, db.snapshot())


def _body_fields(method: str, path: str) -> list[tuple[str, dict[str, Any]]]:
    body = request_body_schema(SCHEMA, OPS[(method, path)]) or {}
    return [(name, resolve(SCHEMA, prop)) for name, prop in body.get("properties", {}).items()]


WRONG_TYPE_CASES = [
    (m, p, name) for m, p in WITH_BODY for name, prop in _body_fields(m, p) if prop.get("type") != "object"
]


@pytest.mark.parametrize(
    ("method", "path", "field"), WRONG_TYPE_CASES, ids=[f"{m} {p} {f}" for m, p, f in WRONG_TYPE_CASES]
)
def test_a_wrongly_typed_field_gets_422_naming_the_field_and_changes_nothing(caller, world, method, path, field):
    example = ENDPOINTS[(method, path)]
    body = example.body({**world.ids, "username": world.cm.user.username}) if example.body else {}
    body[field] = {"not": ["the", "right", "type"]}
    before = db.snapshot()
    response = caller.send_as_owner(method, path, body=body)
    problem = assert_problem(response, 422)
    named = [e["field"] for e in problem.get("errors", [])]
    assert any(n == field or n.startswith(field + ".") for n in named), f"errors name {named}, not {field!r}"
    assert not db.diff(before, db.snapshot())


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=_ids(WITH_BODY))
def test_a_body_over_the_upload_limit_gets_413_and_changes_nothing(caller, world, method, path):
    example = ENDPOINTS[(method, path)]
    body = example.body({**world.ids, "username": world.cm.user.username}) if example.body else {}
    raw = json.dumps({**body, "padding": "x" * 5000}).encode()
    before = db.snapshot()
    with override_settings(DATA_UPLOAD_MAX_MEMORY_SIZE=4096):
        response = caller.send_as_owner(method, path, raw=raw)
    assert_problem(response, 413)
    assert not db.diff(before, db.snapshot())


def test_a_body_over_the_configured_limit_gets_413(caller):
    raw = json.dumps(
        {
            "family_name": "Big",
            "given_name": "Body",
            "birth_date": "1950-01-01",
            "goals_in_own_words": "x" * (settings.DATA_UPLOAD_MAX_MEMORY_SIZE + 1),
        }
    ).encode()
    before = db.counts()
    assert_problem(caller.send("POST", "/api/v1/patients", raw=raw), 413)
    assert db.counts() == before


UNKNOWN_ID_CASES = sorted(k for k in OPS if "{" in k[1] or ENDPOINTS[k].scope == "object")


@pytest.mark.parametrize(("method", "path"), UNKNOWN_ID_CASES, ids=_ids(UNKNOWN_ID_CASES))
def test_unknown_ids_get_404_and_change_nothing(caller, world, method, path):
    before = db.snapshot()
    response = caller.send_as_owner(method, path, ids=world.missing_ids())
    assert_problem(response, ENDPOINTS[(method, path)].refusal)
    assert not db.diff(before, db.snapshot())


HUGE = [2**63, 2**63 + 1, 2**64, 10**30, -1, 0]


@pytest.mark.parametrize(("method", "path"), WITH_PATH_IDS, ids=_ids(WITH_PATH_IDS))
@pytest.mark.parametrize("bad_id", HUGE)
def test_out_of_range_path_ids_get_4xx_not_500(caller, world, method, path, bad_id):
    before = db.snapshot()
    response = caller.send_as_owner(method, path, ids=dict.fromkeys(world.ids, bad_id))
    assert 400 <= response.status_code < 500, f"{response.status_code}: {response.content[:300]!r}"
    assert not db.diff(before, db.snapshot())


ID_FIELD_CASES = [
    (m, p, name)
    for m, p in WITH_BODY
    for name, prop in _body_fields(m, p)
    if name.endswith("_id") and "integer" in json.dumps(prop)
]


@pytest.mark.parametrize(
    ("method", "path", "field"), ID_FIELD_CASES, ids=[f"{m} {p} {f}" for m, p, f in ID_FIELD_CASES]
)
@pytest.mark.parametrize("bad_id", HUGE)
def test_out_of_range_ids_in_bodies_get_4xx_naming_the_field(caller, world, method, path, field, bad_id):
    example = ENDPOINTS[(method, path)]
    body = example.body({**world.ids, "username": world.cm.user.username}) if example.body else {}
    body[field] = bad_id
    before = db.snapshot()
    response = caller.send_as_owner(method, path, body=body)
    problem = assert_problem(response, (400, 404, 422))
    if response.status_code == 422:
        assert field in [e["field"] for e in problem.get("errors", [])], problem
    assert not db.diff(before, db.snapshot())


@pytest.mark.parametrize(
    "query",
    [
        "patient_id=18446744073709551616",
        "assigned_to_id=-5",
        "status=nonsense",
        "limit=100000",
        "offset=-1",
        "patient_id=abc",
    ],
)
def test_bad_case_list_filters_get_422(caller, query):
    assert_problem(caller.send("GET", "/api/v1/cases", query=query), 422)


@pytest.mark.parametrize(
    "query", ["birth_date=1950-13-45", "limit=0", "limit=100000", "offset=-1", "name=" + "x" * 500]
)
def test_bad_patient_search_parameters_get_422(caller, query):
    assert_problem(caller.send("GET", "/api/v1/patients", query=query), 422)


def test_an_invalid_date_is_named_in_the_problem(caller):
    before = db.counts()
    response = caller.send(
        "POST", "/api/v1/patients", body={"family_name": "Lee", "given_name": "Min", "birth_date": "1960-02-30"}
    )
    problem = assert_problem(response, 422)
    assert [e["field"] for e in problem["errors"]] == ["birth_date"]
    assert db.counts() == before


def test_a_rule_violation_from_a_service_is_422_naming_the_field(caller):
    before = db.counts()
    response = caller.send(
        "POST", "/api/v1/patients", body={"family_name": "Lee", "given_name": "Min", "birth_date": "2999-01-01"}
    )
    problem = assert_problem(response, 422)
    assert problem["errors"] == [{"field": "birth_date", "message": "cannot be in the future"}]
    assert db.counts() == before


def test_a_duplicate_mrn_is_refused_and_the_patient_is_not_partly_saved(caller):
    before = db.counts()
    response = caller.send(
        "POST",
        "/api/v1/patients",
        body={"family_name": "Twin", "given_name": "Other", "birth_date": "1970-01-01", "mrn": "HOSP-MRN-7731"},
    )
    problem = assert_problem(response, 422)
    assert problem["errors"][0]["field"] == "value"
    assert db.counts() == before


def test_a_stale_version_gets_409_and_keeps_the_first_save(caller, world):
    pid = world.ids["patient_id"]
    first = caller.send("PATCH", "/api/v1/patients/{patient_id}", body={"version": 1, "phone": "617-555-0100"})
    assert first.status_code == 200, first.content
    before = db.snapshot()
    stale = caller.send("PATCH", "/api/v1/patients/{patient_id}", body={"version": 1, "phone": "000"})
    assert_problem(stale, 409)
    assert not db.diff(before, db.snapshot())
    assert caller.send("GET", "/api/v1/patients/{patient_id}").json()["phone"] == "617-555-0100"
    assert pid == first.json()["id"]


def test_an_illegal_case_transition_gets_409(caller):
    before = db.snapshot()
    response = caller.send("POST", "/api/v1/cases/{case_id}/transition", body={"status": "monitoring"})
    assert_problem(response, 409)
    assert not db.diff(before, db.snapshot())


def test_an_unknown_api_path_gets_a_404_problem(caller):
    response = caller.clients["cm"].get("/api/v1/no-such-thing")
    assert response.status_code == 404


NUL_CASES = [(m, p, name) for m, p in WITH_BODY for name, prop in _body_fields(m, p) if "string" in json.dumps(prop)]


@pytest.mark.parametrize(("method", "path", "field"), NUL_CASES, ids=[f"{m} {p} {f}" for m, p, f in NUL_CASES])
def test_a_nul_character_in_a_text_field_gets_422_naming_the_field(caller, world, method, path, field):
    """PostgreSQL cannot store NUL in text: without this check such input failed inside the database as a 500."""
    example = ENDPOINTS[(method, path)]
    body = example.body({**world.ids, "username": world.cm.user.username}) if example.body else {}
    body[field] = "a\x00b"
    before = db.snapshot()
    problem = assert_problem(caller.send_as_owner(method, path, body=body), 422)
    assert field in [e["field"] for e in problem["errors"]], problem
    assert not db.diff(before, db.snapshot())


@pytest.mark.parametrize(
    ("path", "param"), [("/api/v1/patients", "name"), ("/api/v1/patients", "identifier"), ("/api/v1/cases", "status")]
)
def test_a_nul_character_in_a_query_parameter_gets_422_naming_it(caller, path, param):
    problem = assert_problem(caller.send("GET", path, query=f"{param}=a%00b"), 422)
    assert param in [e["field"] for e in problem["errors"]], problem


def test_a_malformed_body_says_what_could_not_be_parsed(caller):
    problem = assert_problem(caller.send("POST", "/api/v1/patients", raw=b"[1, 2]"), 400)
    assert "JSON object" in problem["detail"]


# 5000 levels: past what json.loads can read at all; 200: readable, but past the body's nesting limit.
DEEP_BODIES = {depth: b'{"notes": ' + b"[" * depth + b"]" * depth + b"}" for depth in (5000, 200)}


@pytest.mark.parametrize(("method", "path"), WITH_BODY, ids=_ids(WITH_BODY))
def test_a_body_nested_too_deeply_gets_400_saying_so_and_changes_nothing(caller, method, path):
    """Parsing and checking a body recurse once per level: 5000 levels ran json.loads out of stack, which
    Ninja answered with a bare "Cannot parse request body"."""
    before = db.snapshot()
    for depth, raw in DEEP_BODIES.items():
        problem = assert_problem(caller.send_as_owner(method, path, raw=raw), 400)
        assert "nests lists and objects more than 64 levels deep" in problem["detail"], (depth, problem)
    assert not db.diff(before, db.snapshot())
