"""A hospital with one of everything, built through the services, for isolation and bad-input tests.

``World.ids`` names the hospital's objects the way the API's path parameters name
them (``patient_id``, ``case_id``...), so an endpoint's path can be filled in from
it. Packages that add records register a builder with ``@world_builder``: it gets
the world, creates its records through its services as the hospital's case
manager, and adds their ids (and any text that must never leak) to the world.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from casebridge.accounts import roles
from casebridge.accounts.models import Organization
from casebridge.accounts.selectors import actor_for
from casebridge.accounts.services import membership_grant, organization_create, token_issue, user_create
from casebridge.cases.services import careteam_add, case_open
from casebridge.kernel.actor import Actor
from casebridge.patients.services import contact_add, coverage_add, patient_create

PASSWORD = "correct-horse-battery-9"
# Beyond every id the API accepts, and never issued by the test database.
MISSING_ID = 2**62 - 7


@dataclass
class World:
    hospital: Organization
    cm: Actor
    supervisor: Actor
    ids: dict[str, int] = field(default_factory=dict)
    # Text that only the hospital's records contain: none of it may appear in another organization's responses.
    secrets: list[str] = field(default_factory=list)
    objects: dict[str, Any] = field(default_factory=dict)

    def missing_ids(self) -> dict[str, int]:
        return dict.fromkeys(self.ids, MISSING_ID)


WorldBuilder = Callable[[World], None]
WORLD_BUILDERS: list[WorldBuilder] = []


def world_builder(fn: WorldBuilder) -> WorldBuilder:
    WORLD_BUILDERS.append(fn)
    return fn


def make_user(org: Organization, username: str, *role_list: str) -> Actor:
    """A user holding every role in ``role_list`` in ``org`` (disciplines where the role needs one)."""
    disciplines = {roles.CASE_MANAGER: "RN", roles.HH_CLINICIAN: "RN", roles.PRACTITIONER: "MD"}
    first, *rest = role_list
    user = user_create(
        actor=None,
        organization=org,
        username=username,
        password=PASSWORD,
        role=first,
        discipline=disciplines.get(first, ""),
        first_name=username.title(),
        last_name="Tester",
    )
    for role in rest:
        membership_grant(actor=None, user=user, organization=org, role=role, discipline=disciplines.get(role, ""))
    actor = actor_for(user, organization_id=org.pk, client_ip="127.0.0.1")
    assert actor is not None
    return actor


@world_builder
def _platform_records(w: World) -> None:
    """Patients, identifiers, contacts, coverage, a case with a care team, tokens."""
    patient = patient_create(
        actor=w.cm,
        family_name="Quillfeather",
        given_name="Ottoline",
        birth_date=dt.date(1941, 7, 9),
        sex="female",
        phone="617-555-0142",
        mrn="HOSP-MRN-7731",
        identifiers=[{"kind": "mbi", "value": "1EG4-TE5-MK73"}],
    )
    contact = contact_add(actor=w.cm, patient_id=patient.pk, name="Bartholomew Quillfeather", relationship="child")
    coverage = coverage_add(
        actor=w.cm,
        patient_id=patient.pk,
        payer_name="Obscura Mutual",
        member_id="OBSC-55521",
        period_start=dt.date(2024, 1, 1),
    )
    case = case_open(
        actor=w.cm,
        patient_id=patient.pk,
        case_type="hospital_stay",
        reason="Zephyrine discharge planning",
        assigned_to_id=w.cm.user_id,
    )
    third_party = organization_create(actor=None, name="Riverside Home Health", org_type="home_health")
    member = careteam_add(
        actor=w.cm, case_id=case.pk, role="Home health liaison", organization_id=third_party.pk, name="Wendeline"
    )
    token, raw = token_issue(actor=w.cm, name="hospital script")
    w.ids.update(
        patient_id=patient.pk,
        case_id=case.pk,
        member_id=member.pk,
        token_id=token.pk,
        user_id=w.cm.user_id,
        organization_id=w.hospital.pk,
        contact_id=contact.pk,
        coverage_id=coverage.pk,
    )
    w.objects.update(patient=patient, case=case, token=token, raw_token=raw, third_party=third_party)
    w.secrets += [
        "Quillfeather",
        "Ottoline",
        "HOSP-MRN-7731",
        "1EG4TE5MK73",
        "617-555-0142",
        "OBSC-55521",
        "Zephyrine",
        "Wendeline",
        w.cm.user.username,
        token.prefix,
    ]


def build_world(hospital: Organization) -> World:
    w = World(
        hospital=hospital,
        cm=make_user(hospital, "hosp-cm-zq", roles.CASE_MANAGER),
        supervisor=make_user(hospital, "hosp-sup-zq", roles.SUPERVISOR, roles.ORG_ADMIN, roles.AUDITOR),
    )
    for build in WORLD_BUILDERS:
        build(w)
    return w
