"""Fixtures for the care plan tests, built through the services as users build them."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from casebridge.careplans import services
from casebridge.cases.services import case_open


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay", reason="CHF exacerbation")


@pytest.fixture
def goal(cm, case):
    return services.goal_add(
        actor=cm,
        case_id=case.pk,
        description="Walks to the mailbox without help",
        measure="distance walked unaided",
        target_value="50 m",
        target_date=dt.date(2030, 1, 31),
        lifecycle_status="active",
    )


@pytest.fixture
def intervention(cm, goal):
    return services.intervention_add(
        actor=cm,
        goal_id=goal.pk,
        description="Home physical therapy",
        discipline="PT",
        provider_name="Sunrise Home Health",
        frequency="PT 2w4",
        estimated_cost=Decimal("1200.00"),
        payer="medicare",
    )


@pytest.fixture
def assessment(cm, case):
    return services.assessment_start(actor=cm, case_id=case.pk, kind="ahc_hrsn", answers={"living_situation": "steady"})
