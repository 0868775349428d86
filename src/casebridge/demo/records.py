"""Demo enrichers for care plans, assessments, communications and finished work.

They act through the owning packages' services as the case's own case manager, at
demo times in the past, so the records carry real history, audit rows and versions.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

from casebridge.careplans import services as careplans
from casebridge.cases.domain import CaseStatus
from casebridge.cases.models import Case
from casebridge.communications.services import communication_log
from casebridge.demo.context import DemoContext, recorded_at
from casebridge.kernel.actor import Actor
from casebridge.tasks.domain import OPEN
from casebridge.tasks.models import Task
from casebridge.tasks.services import task_complete

# The case manager who works each kind of case in the demo.
CASE_MANAGER_BY_TYPE = {"hospital_stay": "cm.hospital", "home_health": "cm.homehealth", "insurer_cm": "cm.insurer"}

PLANNED = {CaseStatus.PLANNING, CaseStatus.IMPLEMENTATION, CaseStatus.MONITORING, CaseStatus.TRANSITION}
ASSESSED = PLANNED | {CaseStatus.ASSESSMENT, CaseStatus.ON_HOLD, CaseStatus.CLOSED}

# (goal, measure, target, [(intervention, discipline, frequency, cost, payer)])
GOALS: dict[str, list[tuple[str, str, str, list[tuple[str, str, str, str, str]]]]] = {
    "hospital_stay": [
        (
            "Go home safely with services in place",
            "Discharge disposition",
            "Home with home health",
            [
                ("Skilled nursing visits for IV antibiotics and line care", "SN", "SN 3w1, 2w2", "1450.00", "medicare"),
                ("Home infusion pump, supplies and drug", "Home infusion", "Daily for 21 days", "5000.00", "other"),
            ],
        ),
        (
            "Understand new medications before discharge",
            "Teach-back on each medication",
            "All medications correct",
            [("Medication teaching with the patient and spouse", "RN", "Daily until discharge", "0", "commercial")],
        ),
    ],
    "home_health": [
        (
            "Walk 150 feet with a walker without rest",
            "Distance walked",
            "150 ft",
            [("Physical therapy: gait and balance training", "PT", "PT 2w4", "1280.00", "medicare")],
        ),
        (
            "Take all medications as prescribed",
            "Pill organizer checks",
            "No missed doses in 2 weeks",
            [("Skilled nursing medication management", "SN", "SN 1w4", "620.00", "medicare")],
        ),
    ],
    "insurer_cm": [
        (
            "HbA1c below 8%",
            "HbA1c",
            "< 8%",
            [("Diabetes education program, 6 sessions", "Diabetes educator", "Every 2 weeks", "540.00", "commercial")],
        ),
        (
            "No emergency visits for heart failure in 90 days",
            "ED visits",
            "0 in 90 days",
            [("Daily weights with telemonitoring", "Telehealth RN", "Daily", "300.00", "commercial")],
        ),
    ],
}

CONTACTS = [
    (
        "phone",
        "outbound",
        "insurer_cm",
        "Dana Price",
        "Clinical update for continued stay; reviewer asked for the discharge plan.",
    ),
    (
        "phone",
        "inbound",
        "family",
        "Family caregiver",
        "Spouse can stay with the patient evenings and weekends; asked about equipment.",
    ),
    (
        "secure_message",
        "outbound",
        "physician",
        "Attending physician",
        "Asked for the home infusion orders and the PICC line plan.",
    ),
    ("in_person", "outbound", "patient", "Patient", "Reviewed goals in the patient's own words; wants to go home."),
    ("fax", "outbound", "provider", "Post-acute provider", "Sent clinical records for acceptance review."),
]

SAFE_SCREEN = {
    "living_situation": "steady",
    "housing_problems": ["none"],
    "food_worry": "never",
    "food_didnt_last": "never",
    "transportation": "no",
    "utilities": "no",
    "safety_hurt": "never",
    "safety_insult": "never",
    "safety_threaten": "never",
    "safety_scream": "never",
}


def _actor_for(ctx: DemoContext, case: Case) -> Actor | None:
    actor = ctx.actor(CASE_MANAGER_BY_TYPE[case.case_type])
    return actor if actor.organization_id == case.organization_id else None


def add_assessments_and_care_plans(ctx: DemoContext) -> None:
    rng = ctx.rng("careplans")
    for index, case in enumerate(ctx.cases):
        actor = _actor_for(ctx, case)
        status = CaseStatus(case.status)
        if actor is None or status not in ASSESSED:
            continue
        with recorded_at(ctx.at(-6, 10, index % 60)):
            screen = dict(SAFE_SCREEN)
            # About a third screen positive for food or transportation: social needs the plan must address.
            if rng.random() < 0.35:
                screen["food_worry"] = "sometimes"
            if rng.random() < 0.25:
                screen["transportation"] = "yes"
            assessment = careplans.assessment_start(actor=actor, case_id=case.pk, kind="ahc_hrsn")
            careplans.assessment_complete(actor=actor, assessment_id=assessment.pk, answers=screen)
        if status not in PLANNED:
            continue
        for number, (text, measure, target, services) in enumerate(GOALS[case.case_type]):
            with recorded_at(ctx.at(-5 + number, 11, index % 60)):
                goal = careplans.goal_add(
                    actor=actor,
                    case_id=case.pk,
                    description=text,
                    measure=measure,
                    target_value=target,
                    target_date=ctx.today + dt.timedelta(days=rng.randint(7, 45)),
                    lifecycle_status="active",
                )
                for description, discipline, frequency, cost, payer in services:
                    careplans.intervention_add(
                        actor=actor,
                        goal_id=goal.pk,
                        description=description,
                        discipline=discipline,
                        frequency=frequency,
                        start_date=ctx.today,
                        end_date=ctx.today + dt.timedelta(days=21),
                        estimated_cost=Decimal(cost),
                        payer=payer,
                        status="scheduled",
                    )


def add_communications(ctx: DemoContext) -> None:
    rng = ctx.rng("communications")
    for index, case in enumerate(ctx.cases):
        actor = _actor_for(ctx, case)
        if actor is None or CaseStatus(case.status) not in ASSESSED:
            continue
        for n, (channel, direction, kind, name, summary) in enumerate(rng.sample(CONTACTS, k=rng.randint(1, 3))):
            moment = ctx.at(-4 + n, 14, index % 60)
            with recorded_at(moment):
                communication_log(
                    actor=actor,
                    case_id=case.pk,
                    channel=channel,
                    direction=direction,
                    parties=[{"kind": kind, "name": name}],
                    occurred_at=moment,
                    summary=summary,
                )


def complete_some_past_work(ctx: DemoContext) -> None:
    """Finish about a quarter of the tasks that fell due more than two days ago, as people would have."""
    rng = ctx.rng("finished-work")
    cutoff = ctx.at(-2, 0)
    old = Task.objects.filter(case__in=ctx.cases, status__in=[s.value for s in OPEN], due_at__lt=cutoff)
    for task in old.select_related("case").order_by("pk"):
        if rng.random() >= 0.25 or task.case is None:
            continue
        actor = _actor_for(ctx, task.case)
        if actor is None or task.owner_id != actor.user_id:
            continue
        with recorded_at(task.due_at or cutoff):
            task_complete(actor=actor, task_id=task.pk)
