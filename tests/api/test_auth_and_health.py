import json

import pytest
from django.test import Client, override_settings

from tests.conftest import PASSWORD, api_client_for


def post_json(client: Client, url: str, body: dict):
    return client.post(url, json.dumps(body), content_type="application/json")


def assert_unauthorized(response):
    assert response.status_code == 401, response.content
    assert response["Content-Type"].startswith("application/problem+json")
    assert response["WWW-Authenticate"] == "Bearer"
    assert response.json()["status"] == 401


def test_healthz_reports_the_database_as_reachable(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response["Content-Type"] == "application/json"
    body = response.json()
    assert body["status"] == "ok"
    assert body["database"]["reachable"] is True
    assert body["database"]["vendor"] in ("sqlite", "postgresql")


def test_healthz_needs_no_sign_in_and_refuses_writes(client, db):
    assert client.post("/healthz").status_code == 405


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer cb_not-a-real-token", "Basic dXNlcjpwYXNz", "Token abc"])
def test_requests_without_a_valid_token_get_a_401_problem_with_www_authenticate(db, header):
    client = Client(HTTP_AUTHORIZATION=header) if header else Client()
    assert_unauthorized(client.get("/api/v1/patients"))


def test_a_revoked_token_gets_401(cm):
    api = api_client_for(cm)
    assert api.get("/api/v1/me").status_code == 200
    assert api.delete("/api/v1/auth/token").status_code == 204
    assert_unauthorized(api.get("/api/v1/me"))
    assert_unauthorized(api.get("/api/v1/patients"))


def test_revoking_one_token_by_id_leaves_the_others_working(cm):
    first, second = api_client_for(cm), api_client_for(cm)
    tokens = first.get("/api/v1/auth/tokens").json()
    assert len(tokens) == 2
    newest = max(t["id"] for t in tokens)
    assert first.delete(f"/api/v1/auth/tokens/{newest}").status_code == 204
    assert_unauthorized(second.get("/api/v1/me"))
    assert first.get("/api/v1/me").status_code == 200


def test_a_token_of_a_deactivated_user_gets_401(cm):
    api = api_client_for(cm)
    cm.user.is_active = False
    cm.user.save()
    assert_unauthorized(api.get("/api/v1/me"))


def test_signing_in_returns_a_bearer_token_that_works(client, cm):
    response = post_json(client, "/api/v1/auth/token", {"username": "hcm", "password": PASSWORD, "name": "script"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["token_type"] == "Bearer" and body["organization_id"] == cm.organization_id
    me = Client(HTTP_AUTHORIZATION=f"Bearer {body['token']}").get("/api/v1/me").json()
    assert me["username"] == "hcm" and me["roles"] == ["case_manager"]


def test_a_wrong_password_gets_a_401_problem(client, cm):
    response = post_json(client, "/api/v1/auth/token", {"username": "hcm", "password": "wrong-password-1"})
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/problem+json")


@override_settings(LOGIN_FAILURE_LIMIT=3)
def test_repeated_wrong_passwords_throttle_sign_in_even_with_the_right_one(client, cm):
    for _ in range(3):
        assert (
            post_json(client, "/api/v1/auth/token", {"username": "hcm", "password": "nope-nope-1"}).status_code == 401
        )
    response = post_json(client, "/api/v1/auth/token", {"username": "HCM", "password": PASSWORD})
    assert response.status_code == 429
    assert response["Content-Type"].startswith("application/problem+json")


def test_signing_in_to_an_organization_without_a_role_there_gets_403(client, cm, insurer):
    body = {"username": "hcm", "password": PASSWORD, "organization_id": insurer.pk}
    assert post_json(client, "/api/v1/auth/token", body).status_code == 403


def test_the_token_only_stores_a_digest_of_the_secret(cm):
    from casebridge.accounts.models import ApiToken
    from casebridge.accounts.services import token_issue

    token, raw = token_issue(actor=cm, name="x")
    stored = ApiToken.objects.get(pk=token.pk)
    assert raw not in (stored.digest, stored.prefix)
    assert raw.startswith("cb_") and stored.prefix == raw[3:11]


def test_every_documented_operation_documents_its_problem_responses(client, db):
    schema = client.get("/api/v1/openapi.json").json()
    for path, item in schema["paths"].items():
        for method, op in item.items():
            for code in ("400", "404", "413", "422"):
                assert code in op["responses"], f"{method.upper()} {path} does not document {code}"
            if op.get("security"):
                assert "401" in op["responses"], f"{method.upper()} {path} does not document 401"
