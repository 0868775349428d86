"""Pages answer odd query strings and form input with a page or a form error, never a 500."""

from __future__ import annotations

import pytest
from django.test import Client


@pytest.fixture
def web(cm, patient) -> Client:
    client = Client(raise_request_exception=False)
    client.force_login(cm.user)
    return client


@pytest.mark.parametrize(
    "query",
    [
        "name=Rivera&page=2",
        "name=Rivera&page=0",
        "name=Rivera&page=-3",
        "name=Rivera&page=abc",
        "name=Rivera&page=²",
        "name=Rivera&page=99999999999999999999999",
        "name=a%00b",
        "birth_date=1950-02-30",
        "identifier=" + "x" * 300,
    ],
)
def test_patient_search_never_fails_on_odd_query_strings(web, query):
    assert web.get(f"/patients/?{query}").status_code == 200


@pytest.mark.parametrize(
    "query", ["patient_id=99999999999999999999999", "since=2025-13-01", "username=a%00b", "page=²", "page=-1"]
)
def test_the_audit_log_never_fails_on_odd_filters(make_actor, hospital, query):
    from casebridge.accounts import roles

    client = Client(raise_request_exception=False)
    client.force_login(make_actor(hospital, roles.AUDITOR).user)
    assert client.get(f"/audit/?{query}").status_code == 200


@pytest.mark.parametrize("patient", ["abc", "99999999999999999999999", "²", ""])
def test_opening_a_case_for_an_odd_patient_id_is_not_a_500(web, patient):
    assert web.get(f"/cases/new?patient={patient}").status_code in (302, 404)


def test_a_new_patient_form_with_errors_names_the_fields(web):
    response = web.post("/patients/new", {"family_name": "", "given_name": "A", "birth_date": "2999-01-01"})
    assert response.status_code == 200
    form = response.context["form"]
    assert "family_name" in form.errors
