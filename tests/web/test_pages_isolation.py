"""No web page lets another organization's user see or change the hospital's patients and cases."""

from __future__ import annotations

import pytest
from django.test import Client

from tests.support import db

PAGES = [
    ("get", "/patients/{patient_id}/", None),
    ("get", "/patients/{patient_id}/edit", None),
    (
        "post",
        "/patients/{patient_id}/edit",
        {
            "family_name": "Hijacked",
            "given_name": "X",
            "birth_date": "1950-01-01",
            "sex": "male",
            "language": "English",
            "version": 1,
        },
    ),
    ("post", "/patients/{patient_id}/", {"contact-name": "Mallory", "contact-relationship": "friend"}),
    ("get", "/cases/{case_id}/", None),
    ("get", "/cases/new?patient={patient_id}", None),
    ("post", "/cases/new", {"patient_id": "{patient_id}", "case_type": "insurer_cm"}),
    ("post", "/cases/{case_id}/transition", {"status": "cancelled", "reason": "x", "version": 1}),
    ("post", "/cases/{case_id}/care-team", {"role": "Spy", "name": "Mallory"}),
    ("post", "/cases/{case_id}/assign", {"user_id": "{user_id}"}),
]


@pytest.fixture(params=["outsider", "outsider_with_every_role"])
def intruder_web(request):
    actor = request.getfixturevalue(request.param)
    client = Client()
    client.force_login(actor.user)
    return client


@pytest.mark.parametrize(("method", "url", "data"), PAGES, ids=[f"{m.upper()} {u}" for m, u, _ in PAGES])
def test_another_organization_cannot_reach_the_hospitals_pages(world, intruder_web, method, url, data):
    ids = world.ids
    url = url.format(**ids)
    data = {k: str(v).format(**ids) for k, v in (data or {}).items()} if data else None
    before = db.snapshot()
    response = getattr(intruder_web, method)(url, data) if data else getattr(intruder_web, method)(url)
    changes = db.diff(before, db.snapshot())
    body = response.content.decode()
    leaked = [s for s in world.secrets if s.lower() in body.lower()]
    assert not leaked, f"{url} showed {leaked}"
    assert not changes, f"{method.upper()} {url} changed {changes.summary()}"
    # Pages answer 404 like a missing record; form posts that redirect back show no data and change nothing.
    assert response.status_code in (302, 403, 404), response.status_code
    if method == "get":
        assert response.status_code == 404


def test_patient_search_page_lists_none_of_the_hospitals_patients(world, intruder_web):
    response = intruder_web.get("/patients/?name=Quillfeather")
    assert response.status_code == 200
    assert b"Quillfeather" not in response.content.replace(b'value="Quillfeather"', b"")


def test_the_worklist_shows_another_organization_nothing_of_the_hospital(world, intruder_web):
    response = intruder_web.get("/")
    assert response.status_code == 200
    assert not [s for s in world.secrets if s.encode() in response.content]


@pytest.mark.parametrize("url", ["/patients/{patient_id}/", "/cases/{case_id}/"])
def test_the_hospitals_own_staff_see_the_pages(world, url):
    client = Client()
    client.force_login(world.cm.user)
    assert client.get(url.format(**world.ids)).status_code == 200


@pytest.mark.parametrize("url", ["/patients/99999999/", "/cases/99999999/", "/patients/99999999999999999999/"])
def test_unknown_records_are_404_pages_not_errors(cm, url):
    client = Client()
    client.force_login(cm.user)
    assert client.get(url).status_code == 404


def test_pages_need_sign_in(db):
    assert Client().get("/patients/").status_code == 302
