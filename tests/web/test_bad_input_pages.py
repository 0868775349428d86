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
        "name=Rivera&page=" + "9" * 5000,  # past the digits int() reads from text: it was a 500
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


# Every query parameter name a page of the app reads, and a few it does not: a page must ignore or
# refuse what it does not understand, never fail on it.
_PARAMETER_NAMES = [
    "unit", "payer", "case_manager", "status", "q", "name", "page", "manager", "direction", "type", "category",
    "since", "choice_list", "patient", "patient_id", "version", "encounter", "next", "ack", "outcome", "control_id",
    "before", "identifier", "birth_date", "username", "user", "action", "kind", "queue", "owner", "date", "from", "to",
]  # fmt: skip
_HOSTILE_VALUES = ["a\x00b", "99999999999999999999999", "-1", "²", "x" * 3000, "2025-13-45"]


def _pages_without_arguments() -> list[str]:
    from django.urls import URLPattern, URLResolver, get_resolver

    def walk(resolver: URLResolver, prefix: str) -> list[str]:
        found = []
        for entry in resolver.url_patterns:
            if isinstance(entry, URLResolver):
                found += walk(entry, prefix + str(entry.pattern))
            elif isinstance(entry, URLPattern) and "<" not in str(entry.pattern):
                found.append("/" + prefix + str(entry.pattern))
        return found

    skipped = ("/api/", "/fhir/", "/static/", "/logout")  # the APIs have their own tests; logout ends the session
    return sorted({path for path in walk(get_resolver(), "") if not path.startswith(skipped)})


@pytest.mark.parametrize(
    ("org_type", "role"),
    [
        ("hospital", "case_manager"),
        ("hospital", "supervisor"),
        ("hospital", "ur_nurse"),
        ("hospital", "org_admin"),
        ("hospital", "auditor"),
        ("home_health", "case_manager"),
        ("insurer", "case_manager"),
    ],
)
def test_no_page_fails_on_hostile_query_strings(make_org, make_actor, org_type, role):
    # A NUL character reached the census query before it had a form, which PostgreSQL answers with an error.
    pages = _pages_without_arguments()
    assert len(pages) > 25, pages  # the walk found the app's pages, not an empty list
    actor = make_actor(make_org(org_type=org_type, zip_codes_served=["02134"]), role)
    client = Client(raise_request_exception=False)
    client.force_login(actor.user)
    failed = []
    for path in pages:
        for value in _HOSTILE_VALUES:
            status = client.get(path, dict.fromkeys(_PARAMETER_NAMES, value)).status_code
            if status >= 500:
                failed.append((path, value[:12], status))
    assert not failed
