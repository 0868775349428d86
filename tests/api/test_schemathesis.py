"""Property-based fuzz of the whole API from its OpenAPI document (schemathesis 4).

Authenticated as a demo-like hospital case manager with patients and a case to
find; every generated request must get a documented, schema-conforming answer
and never a 5xx.
"""

from __future__ import annotations

import datetime as dt
import os

import pytest
import schemathesis
from django.core import signals
from django.db import close_old_connections
from hypothesis import HealthCheck, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from casebridge.accounts import roles
from casebridge.accounts.services import token_issue
from casebridge.cases.services import case_open
from casebridge.config.wsgi import application
from casebridge.patients.services import patient_create
from tests.support.world import make_user

schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", application)
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]


@pytest.fixture(autouse=True)
def keep_the_test_transaction_open():
    """Requests go straight to the WSGI handler, whose request signals would close the database
    connection (and with it the test's transaction) on PostgreSQL. Django's test client unhooks them too."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture
def demo_token(hospital) -> str:
    """A hospital user holding the working roles (and admin, to reach the user endpoints), with records."""
    actor = make_user(hospital, "demo-cm", roles.CASE_MANAGER, roles.SUPERVISOR, roles.ORG_ADMIN)
    for i in range(3):
        patient = patient_create(
            actor=actor, family_name=f"Demo{i}", given_name="Pat", birth_date=dt.date(1950, 1, 1 + i), mrn=f"D{i}"
        )
        case_open(actor=actor, patient_id=patient.pk, case_type="hospital_stay", assigned_to_id=actor.user_id)
    _, raw = token_issue(actor=actor, name="fuzz")
    return raw


@schema.parametrize()
@settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "25")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.filter_too_much],
)
def test_the_api_answers_every_generated_request_as_documented(case, demo_token):
    case.call_and_validate(headers={"Authorization": f"Bearer {demo_token}"}, checks=CHECKS)
