"""The reference coverage case (SCENARIOS.md) built through the services, for coverage tests.

Organizations: the hospital and insurer of tests/conftest.py, plus a home infusion
pharmacy and a home health agency; one user for each; the patient Ana Rivera with
Acme coverage; her hospital case; Acme's plan imported from YAML.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from casebridge.accounts import roles
from casebridge.cases.services import case_open
from casebridge.coverage import services as cov
from casebridge.kernel.actor import Actor
from casebridge.patients.services import coverage_add

DATA = Path(__file__).resolve().parent / "data" / "coverage"
BENEFITS = DATA / "acme_benefits.yaml"

# The split the case manager reached in SCENARIOS.md.
REFERENCE_LOCKS_KEYS = ("patient", "pharmacy", "home_health", "insurer")


@dataclass
class World:
    hospital: Any
    insurer: Any
    pharmacy: Any
    agency: Any
    cm: Actor
    insurer_admin: Actor
    insurer_cm: Actor
    pharmacist: Actor
    nurse_manager: Actor
    stranger: Actor
    patient: Any
    case: Any
    plan: Any

    def party_key(self, org: Any) -> str:
        return "insurer" if org.pk == self.insurer.pk else f"org{org.pk}"

    def reference_locks(self) -> dict[str, int]:
        return {
            "patient": 100_000,
            self.party_key(self.pharmacy): 100_000,
            self.party_key(self.agency): 50_000,
            "insurer": 250_000,
        }


def build_world(make_org, make_actor, cm, hospital, insurer, patient) -> World:  # type: ignore[no-untyped-def]
    pharmacy = make_org("Riverside Home Infusion", "home_infusion")
    agency = make_org("Visiting Nurses of the Valley", "home_health")
    unrelated = make_org("Unrelated Physician Practice", "physician_practice")
    insurer_admin = make_actor(insurer, roles.ORG_ADMIN, username="acme-admin")
    insurer_cm = make_actor(insurer, roles.CASE_MANAGER, username="acme-cm")
    pharmacist = make_actor(pharmacy, roles.CASE_MANAGER, username="riverside")
    nurse_manager = make_actor(agency, roles.CASE_MANAGER, username="valley")
    stranger = make_actor(unrelated, roles.CASE_MANAGER, username="stranger")
    plans = cov.benefit_plans_import(actor=insurer_admin, document=yaml.safe_load(BENEFITS.read_text()))
    coverage_add(
        actor=cm,
        patient_id=patient.pk,
        insurer_id=insurer.pk,
        plan_name="Acme Gold PPO",
        member_id="ACME-1001",
        period_start=dt.date(2025, 1, 1),
    )
    case = case_open(
        actor=cm,
        patient_id=patient.pk,
        case_type="hospital_stay",
        reason="Chronic osteomyelitis: three more weeks of IV antibiotics",
        assigned_to_id=cm.user_id,
    )
    return World(
        hospital,
        insurer,
        pharmacy,
        agency,
        cm,
        insurer_admin,
        insurer_cm,
        pharmacist,
        nurse_manager,
        stranger,
        patient,
        case,
        plans[0],
    )


def option_named(case: Any, name: str) -> Any:
    from casebridge.coverage.models import CareOption

    return CareOption.objects.get(case=case, name=name)


HOME = "Home infusion with home health nursing"


def open_reference_negotiation(world: World) -> Any:
    """Options proposed, home infusion chosen, negotiation opened with the patient able to pay $1,000."""
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    cov.option_choose(actor=world.cm, case_id=world.case.pk, option_id=option_named(world.case, HOME).pk)
    return cov.negotiation_open(actor=world.cm, case_id=world.case.pk, ability_to_pay_cents=100_000)
