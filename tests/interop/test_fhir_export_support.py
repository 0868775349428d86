"""A demo-like case for the FHIR export and API tests, built through the services as users build it.

Imported by the test modules (``from test_fhir_export_support import ...``) so pytest sees the fixtures.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import pytest

from casebridge.accounts import roles
from casebridge.careplans import services as careplans
from casebridge.cases.domain import CaseStatus
from casebridge.cases.models import Case
from casebridge.cases.services import careteam_add, case_assign, case_open, case_transition
from casebridge.communications.services import communication_log
from casebridge.kernel import clock
from casebridge.patients.services import contact_add, coverage_add
from casebridge.tasks.services import task_create

# Every resource type a case exports on main; Encounter and Condition come with the clinical app.
CASE_TYPES = {
    "Patient",
    "Coverage",
    "EpisodeOfCare",
    "CareTeam",
    "CarePlan",
    "Goal",
    "ServiceRequest",
    "Task",
    "Communication",
    "Organization",
    "Practitioner",
}


@dataclass
class DemoCase:
    case: Case
    patient: Any
    coverage: Any
    plan: Any
    need: Any
    goal: Any
    intervention: Any
    task: Any
    communication: Any
    agency: Any
    nurse: Any


@pytest.fixture
def agency(make_org):
    return make_org("Sunrise Home Health", "home_health", npi="1234567893")


@pytest.fixture
def demo_case(cm, patient, insurer, agency, make_actor) -> DemoCase:
    """A hospital case in implementation: diagnoses, a care team with another organization, a care plan
    with a need, a goal and an intervention, a coverage, a task due tomorrow and a logged phone call."""
    nurse = make_actor(agency, roles.HH_CLINICIAN, username="hhnurse")
    contact_add(actor=cm, patient_id=patient.pk, name="Luis Rivera", relationship="spouse", phone="555-0101",
                is_caregiver=True, is_emergency_contact=True)  # fmt: skip
    coverage = coverage_add(
        actor=cm,
        patient_id=patient.pk,
        insurer_id=insurer.pk,
        plan_name="Acme Medicare Advantage Gold",
        member_id="ACM123456",
        subscriber_name="Ana Rivera",
        period_start=dt.date(2024, 1, 1),
    )
    case = case_open(
        actor=cm,
        patient_id=patient.pk,
        case_type="hospital_stay",
        reason="CHF exacerbation",
        diagnoses=[{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9", "display": "Heart failure"}],
        opened_at=clock.now() - dt.timedelta(days=2),
    )
    supervisor = make_actor(cm.organization, roles.SUPERVISOR, username="hsup")
    case_assign(actor=supervisor, case_id=case.pk, user_id=cm.user_id)
    for status in (CaseStatus.ASSESSMENT, CaseStatus.PLANNING, CaseStatus.IMPLEMENTATION):
        case_transition(actor=cm, case_id=case.pk, to_status=status, version=None)
    careteam_add(actor=cm, case_id=case.pk, role="Home health nurse", organization_id=agency.pk, user_id=nurse.user_id)
    careteam_add(actor=cm, case_id=case.pk, role="Cardiologist", name="Dr. Jane Heart", phone="555-0199")
    plan = careplans.careplan_create(actor=cm, case_id=case.pk, title="Safe discharge home", status="active")
    need = careplans.need_add(actor=cm, case_id=case.pk, label="Needs help with daily weights", domain="health")
    goal = careplans.goal_add(
        actor=cm,
        case_id=case.pk,
        description="Weighs self daily and calls for a 2 kg gain",
        measure="days with a recorded weight per week",
        target_value="7",
        target_date=dt.date(2031, 3, 31),
        need_id=need.pk,
        lifecycle_status="active",
    )
    intervention = careplans.intervention_add(
        actor=cm,
        goal_id=goal.pk,
        description="Home health skilled nursing for CHF teaching",
        discipline="SN",
        provider_organization_id=agency.pk,
        frequency="SN 2w3",
        start_date=dt.date(2030, 1, 6),
        end_date=dt.date(2030, 1, 27),
        estimated_cost=Decimal("900.00"),
        payer="medicare_advantage",
    )
    task = task_create(
        actor=cm,
        title="Confirm home health start of care",
        case_id=case.pk,
        kind="follow_up",
        priority="urgent",
        due_at=clock.now() + dt.timedelta(days=1),
        description="Call Sunrise to confirm the first visit date.",
    )
    communication = communication_log(
        actor=cm,
        case_id=case.pk,
        channel="phone",
        direction="outbound",
        parties=[{"kind": "provider", "name": "Intake desk", "organization": "Sunrise Home Health"}],
        occurred_at=clock.now() - dt.timedelta(hours=3),
        summary="Referred for skilled nursing; intake will call the patient.",
        outcome="Referral accepted",
        follow_up_title="Check start of care",
        follow_up_due_at=clock.now() + dt.timedelta(days=2),
    )
    case.refresh_from_db()
    return DemoCase(case, patient, coverage, plan, need, goal, intervention, task, communication, agency, nurse)
