"""Who may do what: one rule per action, tested against the acting membership's roles.

Object checks (same organization, care-team links) live in the selectors that
fetch the object; these rules answer "may this role do this kind of thing".
"""

from __future__ import annotations

import rules

from casebridge.accounts import roles as r
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import PermissionDenied


def _has(*role_names: str) -> rules.Predicate:
    wanted = frozenset(role_names)

    @rules.predicate(name="has_role:" + ",".join(sorted(wanted)))
    def check(actor: Actor) -> bool:
        return bool(actor.roles & wanted)

    return check


clinical = _has(*r.CLINICAL_ROLES)
case_managing = _has(r.CASE_MANAGER, r.SUPERVISOR)
registering = _has(r.CASE_MANAGER, r.SUPERVISOR, r.INTAKE_COORDINATOR, r.UR_NURSE)
assessing = _has(r.CASE_MANAGER, r.SUPERVISOR, r.UR_NURSE, r.HH_CLINICIAN)


def _in_org_type(org_type: str) -> rules.Predicate:
    @rules.predicate(name="org_type:" + org_type)
    def check(actor: Actor) -> bool:
        return bool(actor.organization.org_type == org_type)

    return check


at_hospital = _in_org_type("hospital")
at_insurer = _in_org_type("insurer")

permissions = rules.RuleSet()
permissions.add_rule("patient.view", clinical)
permissions.add_rule("patient.create", registering)
permissions.add_rule("patient.change", registering)
permissions.add_rule("case.view", clinical)
permissions.add_rule("case.create", registering)
permissions.add_rule("case.change", _has(r.CASE_MANAGER, r.SUPERVISOR, r.UR_NURSE))
permissions.add_rule("case.assign", _has(r.SUPERVISOR, r.INTAKE_COORDINATOR))
permissions.add_rule("careteam.change", case_managing)
permissions.add_rule("careplan.change", case_managing)
permissions.add_rule("assessment.change", assessing)
permissions.add_rule("task.change", clinical)
permissions.add_rule("task.reassign", _has(r.SUPERVISOR))
permissions.add_rule("communication.create", clinical)
permissions.add_rule("document.upload", clinical)
permissions.add_rule("caseload.view", _has(r.SUPERVISOR))
permissions.add_rule("audit.view", _has(r.AUDITOR))
permissions.add_rule("organization.manage", _has(r.ORG_ADMIN))
permissions.add_rule("user.manage", _has(r.ORG_ADMIN))
# Post-acute directory and referrals. Social workers hold the case manager role (discipline SW).
permissions.add_rule("directory.view", clinical | _has(r.ORG_ADMIN))
permissions.add_rule("directory.manage", _has(r.SUPERVISOR, r.ORG_ADMIN))
permissions.add_rule("provider.status", _has(r.INTAKE_COORDINATOR, r.SUPERVISOR, r.ORG_ADMIN))
permissions.add_rule("choicelist.change", case_managing)
permissions.add_rule("referral.send", case_managing)
permissions.add_rule("referral.view", clinical)
permissions.add_rule("referral.respond", _has(r.INTAKE_COORDINATOR, r.CASE_MANAGER, r.SUPERVISOR))
# Coverage and negotiation (issue 5). Which organization may act is checked in the coverage services.
permissions.add_rule("coverage.plan", case_managing)
permissions.add_rule("benefit.manage", _has(r.ORG_ADMIN, r.MEDICAL_DIRECTOR))
permissions.add_rule("price.manage", _has(r.ORG_ADMIN, r.SUPERVISOR))
permissions.add_rule(
    "negotiation.respond",
    _has(r.CASE_MANAGER, r.SUPERVISOR, r.MEDICAL_DIRECTOR, r.ORG_ADMIN, r.UR_NURSE, r.PHYSICIAN_ADVISOR),
)
permissions.add_rule("coverage.report", _has(r.CASE_MANAGER, r.SUPERVISOR, r.MEDICAL_DIRECTOR, r.ORG_ADMIN))
# Utilization review (42 CFR 482.30): nurses and case managers review; physicians decide; leadership owns criteria.
permissions.add_rule("review.perform", _has(r.UR_NURSE, r.CASE_MANAGER, r.SUPERVISOR))
permissions.add_rule("review.decide", _has(r.PHYSICIAN_ADVISOR, r.MEDICAL_DIRECTOR))
permissions.add_rule("criteria.manage", _has(r.MEDICAL_DIRECTOR, r.ORG_ADMIN))
# Hospital case management (census, payer liaison, discharge planning) and the insurer's intake of packets.
permissions.add_rule("census.view", at_hospital & clinical)
permissions.add_rule("stay.change", at_hospital & _has(r.CASE_MANAGER, r.SUPERVISOR, r.UR_NURSE, r.PHYSICIAN_ADVISOR))
permissions.add_rule("authorization.manage", at_hospital & _has(r.CASE_MANAGER, r.SUPERVISOR, r.UR_NURSE))
permissions.add_rule("packet.send", at_hospital & _has(r.CASE_MANAGER, r.SUPERVISOR, r.UR_NURSE))
permissions.add_rule("discharge.plan", at_hospital & case_managing)
permissions.add_rule("drg.import", at_hospital & _has(r.ORG_ADMIN, r.SUPERVISOR))
permissions.add_rule(
    "intake.review",
    at_insurer & _has(r.INTAKE_COORDINATOR, r.UR_NURSE, r.CASE_MANAGER, r.MEDICAL_DIRECTOR, r.SUPERVISOR),
)

PERMISSION_NAMES = sorted(permissions.keys())


def can(actor: Actor, permission: str) -> bool:
    if permission not in permissions:
        raise KeyError(f"unknown permission {permission!r}")
    return bool(permissions.test_rule(permission, actor))


def require(actor: Actor, permission: str) -> None:
    if not can(actor, permission):
        raise PermissionDenied(f"Your role in {actor.organization.name} does not allow {permission}.")
