"""Shared fixtures. Data is built through the services, as users build it."""

from __future__ import annotations

import datetime as dt
import itertools
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from casebridge.accounts import roles
from casebridge.accounts.models import Organization
from casebridge.accounts.selectors import actor_for
from casebridge.accounts.services import organization_create, token_issue, user_create
from casebridge.cases.services import case_open
from casebridge.kernel.actor import Actor
from casebridge.patients.services import patient_create
from tests.support import world as world_support

# tests/ is a package (so shared helpers import as tests.support...), which takes tests/ itself off
# sys.path; keep it there for modules that import their siblings by bare name (careplans_support).
_TESTS_DIR = str(Path(__file__).resolve().parent)
if _TESTS_DIR not in sys.path:
    sys.path.insert(0, _TESTS_DIR)

PASSWORD = "correct-horse-battery-9"
_seq = itertools.count(1)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Deselect (not skip) ``postgres_only`` tests unless the suite runs on PostgreSQL.

    On PostgreSQL they run, and fail loudly if the server is unreachable: a CI run
    meant to prove row locking must never pass by skipping.
    """
    from django.db import connection

    if connection.vendor == "postgresql":
        return
    deselected = [item for item in items if item.get_closest_marker("postgres_only")]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if not item.get_closest_marker("postgres_only")]


@pytest.fixture
def make_org(db) -> Callable[..., Organization]:
    def make(name: str | None = None, org_type: str = "hospital", **fields) -> Organization:
        return organization_create(actor=None, name=name or f"Org {next(_seq)}", org_type=org_type, **fields)

    return make


@pytest.fixture
def make_actor(db) -> Callable[..., Actor]:
    def make(
        org: Organization, role: str = roles.CASE_MANAGER, discipline: str | None = None, username: str | None = None
    ) -> Actor:
        if discipline is None:
            discipline = {"case_manager": "RN", "hh_clinician": "RN", "practitioner": "MD"}.get(role, "")
        user = user_create(
            actor=None,
            organization=org,
            username=username or f"user{next(_seq)}",
            password=PASSWORD,
            role=role,
            discipline=discipline,
            first_name="Test",
            last_name=role.title(),
        )
        actor = actor_for(user, organization_id=org.pk, client_ip="127.0.0.1")
        assert actor is not None
        return actor

    return make


@pytest.fixture
def hospital(make_org) -> Organization:
    return make_org("General Hospital", "hospital", zip_codes_served=["02134"])


@pytest.fixture
def insurer(make_org) -> Organization:
    return make_org("Acme Health Plan", "insurer", payer_id="ACME1")


@pytest.fixture
def cm(make_actor, hospital) -> Actor:
    """The hospital's case manager."""
    return make_actor(hospital, roles.CASE_MANAGER, username="hcm")


@pytest.fixture
def outsider(make_actor, insurer) -> Actor:
    """A case manager at the insurer: another organization, with no link to the hospital's patients."""
    return make_actor(insurer, roles.CASE_MANAGER, username="icm")


@pytest.fixture
def make_patient(cm) -> Callable[..., object]:
    def make(actor: Actor | None = None, **fields):
        data: dict[str, Any] = {
            "family_name": "Rivera",
            "given_name": "Ana",
            "birth_date": dt.date(1950, 3, 4),
            "sex": "female",
        }
        data.update(fields)
        return patient_create(actor=actor or cm, **data)

    return make


@pytest.fixture
def patient(make_patient):
    return make_patient(mrn="MRN-1001")


def api_client_for(actor: Actor) -> Client:
    _, raw = token_issue(actor=actor, name="test")
    return Client(HTTP_AUTHORIZATION=f"Bearer {raw}")


@pytest.fixture
def api_as() -> Callable[[Actor], Client]:
    return api_client_for


@pytest.fixture
def web_as(client) -> Callable[[Actor], Client]:
    def login(actor: Actor) -> Client:
        c = Client()
        c.force_login(actor.user)
        return c

    return login


@pytest.fixture
def make_case(cm, patient) -> Callable[..., object]:
    def make(actor: Actor | None = None, patient_id: int | None = None, **fields):
        data: dict[str, Any] = {
            "case_type": "hospital_stay",
            "reason": "Discharge planning",
            "assigned_to_id": (actor or cm).user_id,
        }
        data.update(fields)
        return case_open(actor=actor or cm, patient_id=patient_id or patient.pk, **data)

    return make


@pytest.fixture
def case(make_case):
    return make_case()


@pytest.fixture
def world(hospital) -> world_support.World:
    """The hospital with one of everything (see tests/support/world.py)."""
    return world_support.build_world(hospital)


@pytest.fixture
def outsider_with_every_role(insurer) -> Actor:
    """An insurer user holding every role there is: the most any other organization's user could do."""
    return world_support.make_user(insurer, "ins-all-roles", *(code for code, _ in roles.ROLE_CHOICES))
