from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.db import transaction

from casebridge.accounts.models import Organization, User
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_event, audit_record, audit_record_all
from casebridge.cases.domain import CaseStatus, check_move
from casebridge.cases.models import CareTeamMember, Case, CaseStatusChange, CaseType
from casebridge.cases.selectors import cases_owned
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, ValidationFailed
from casebridge.kernel.rows import insert_objects_later
from casebridge.kernel.saving import history_objects, save_object
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version
from casebridge.patients.models import Patient
from casebridge.patients.selectors import patients_owned


def _check_diagnoses(diagnoses: Any) -> list[dict[str, str]]:
    if not isinstance(diagnoses, list):
        raise ValidationFailed.on("diagnoses", "must be a list of codings")
    out = []
    for i, d in enumerate(diagnoses):
        if not isinstance(d, dict) or not str(d.get("code", "")).strip():
            raise ValidationFailed.on(f"diagnoses[{i}]", "needs a code")
        out.append(
            {
                "system": str(d.get("system") or "http://hl7.org/fhir/sid/icd-10-cm"),
                "code": str(d["code"]).strip(),
                "display": str(d.get("display", "")).strip(),
            }
        )
    return out


def _staff_member(actor: Actor, user_id: int | None, field: str) -> User | None:
    if user_id is None:
        return None
    user = User.objects.filter(
        pk=user_id, memberships__organization=actor.organization, memberships__active=True
    ).first()
    if user is None:
        raise ValidationFailed.on(field, f"user {user_id} is not staff of {actor.organization.name}")
    return user


def case_open(
    *,
    actor: Actor,
    patient_id: int,
    case_type: str,
    reason: str = "",
    diagnoses: list[dict[str, str]] | None = None,
    assigned_to_id: int | None = None,
    opened_at: dt.datetime | None = None,
    status: CaseStatus = CaseStatus.REFERRAL,
    patient: Patient | None = None,
) -> Case:
    """``patient``: the patient's row when the caller read it in the current transaction (it must be
    ``patient_id`` in the actor's organization); it is not read again."""
    require(actor, "case.create")
    if case_type not in CaseType.values:
        raise ValidationFailed.on("case_type", f"must be one of {', '.join(CaseType.values)}")
    if status not in (CaseStatus.REFERRAL, CaseStatus.ASSESSMENT):
        raise ValidationFailed.on("status", "a new case starts in referral or assessment")
    with transaction.atomic():
        if patient is None or patient.pk != patient_id or patient.organization_id != actor.organization_id:
            patient = patients_owned(actor).filter(pk=patient_id).first()
        if patient is None:
            raise NotFound(f"No patient {patient_id}.")
        case = Case(
            organization=actor.organization,
            patient=patient,
            case_type=case_type,
            status=status,
            reason=reason.strip(),
            diagnoses=_check_diagnoses(diagnoses or []),
            assigned_to=_staff_member(actor, assigned_to_id, "assigned_to_id"),
            opened_at=opened_at or clock.now(),
        )
        validate_model(case, trust_loaded=True)
        save_object(case)
        insert_objects_later(
            [CaseStatusChange(case=case, from_status="", to_status=status, at=case.opened_at, by=actor.user)]
        )
        if case.assigned_to is not None:
            CareTeamMember.objects.create(
                case=case,
                organization=actor.organization,
                user=case.assigned_to,
                role="Case manager",
                added_at=case.opened_at,
            )
        audit_record(actor=actor, action="case.open", subject=case, patient=patient)
    return case


CASE_EDITABLE = ("reason", "diagnoses")


def case_update(*, actor: Actor, case_id: int, version: int | None, **changes: Any) -> Case:
    require(actor, "case.change")
    unknown = set(changes) - set(CASE_EDITABLE)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    if "diagnoses" in changes:
        changes["diagnoses"] = _check_diagnoses(changes["diagnoses"])
    with transaction.atomic():
        case = lock_at_version(cases_owned(actor), case_id, version, "case")
        for k, v in changes.items():
            setattr(case, k, v)
        validate_model(case)
        case.save()
        audit_record(
            actor=actor, action="case.update", subject=case, patient=case.patient_id, detail={"fields": sorted(changes)}
        )
    return case


def case_transition(
    *, actor: Actor, case_id: int, to_status: str, reason: str = "", version: int | None = None
) -> Case:
    """Move a case along its process; the state machine refuses illegal moves."""
    require(actor, "case.change")
    try:
        target = CaseStatus(to_status)
    except ValueError as exc:
        raise ValidationFailed.on("status", f"unknown status {to_status!r}") from exc
    with transaction.atomic():
        case = lock_at_version(cases_owned(actor), case_id, version, "case")
        current, now = _apply_move(case, target, reason)
        case.save()
        change = CaseStatusChange(
            case=case, from_status=current, to_status=target, at=now, by=actor.user, reason=reason.strip()
        )
        insert_objects_later([change])
        audit_record(
            actor=actor,
            action="case.transition",
            subject=case,
            patient=case.patient_id,
            detail={"from": current.value, "to": target.value},
        )
    return case


def _apply_move(case: Case, target: CaseStatus, reason: str) -> tuple[CaseStatus, dt.datetime]:
    """Check one move with the state machine and set it on the (unsaved) case; returns the status it
    left and the time of the move."""
    current = case.status_enum
    held_from = CaseStatus(case.held_from) if case.held_from else None
    new_held_from = check_move(current, target, reason=reason, held_from=held_from)
    now = clock.now()
    case.status = target
    case.held_from = new_held_from or ""
    if target in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        case.closed_at = now
        case.closure_reason = reason.strip()
    return current, now


def case_walk(
    *,
    actor: Actor,
    case_id: int,
    steps: list[CaseStatus],
    reason: str = "",
    version: int | None = None,
    locked: Case | None = None,
) -> Case:
    """Move a case through several moves in a row, each checked by the state machine, as calling
    ``case_transition`` once per step does: per step one status change, one history row (with that
    step's status and version) and one audit event. Written with one row lock, one UPDATE and one
    INSERT per table, for a feed that walks a case forward (an HL7 discharge to transition).

    ``locked``: the case's row as the caller read it with ``select_for_update`` in the current
    transaction; used instead of locking it again, with the same organization and version checks."""
    require(actor, "case.change")
    if not steps:
        raise ValidationFailed.on("status", "name at least one step")
    try:
        targets = [CaseStatus(s) for s in steps]
    except ValueError as exc:
        raise ValidationFailed.on("status", f"unknown status in {[str(s) for s in steps]!r}") from exc
    why = reason.strip()
    with transaction.atomic():
        case = lock_at_version(
            lambda: cases_owned(actor), case_id, version, "case", held=locked, organization_id=actor.organization_id
        )
        snapshots: list[Case] = []
        changes: list[CaseStatusChange] = []
        events = []
        for n, target in enumerate(targets):
            if n:
                case.version += 1  # as a separate case_transition per step would
            current, now = _apply_move(case, target, reason)
            snapshot = copy.copy(case)
            snapshot._history_date = now  # type: ignore[attr-defined]
            snapshots.append(snapshot)
            changes.append(
                CaseStatusChange(case=case, from_status=current, to_status=target, at=now, by=actor.user, reason=why)
            )
            events.append(
                audit_event(
                    actor=actor,
                    action="case.transition",
                    subject=case,
                    patient=case.patient_id,
                    detail={"from": current.value, "to": target.value},
                )
            )
        save_object(case, history=False)
        history_objects(snapshots, update=True)
        insert_objects_later(changes)
        audit_record_all(events)
    return case


def case_assign(*, actor: Actor, case_id: int, user_id: int) -> Case:
    """Assign (or reassign) the case manager. Supervisors and intake coordinators do this."""
    require(actor, "case.assign")
    with transaction.atomic():
        case = lock_at_version(cases_owned(actor), case_id, None, "case")
        user = _staff_member(actor, user_id, "user_id")
        previous = case.assigned_to_id
        case.assigned_to = user
        case.save()
        now = clock.now()
        if previous is not None:
            CareTeamMember.objects.filter(case=case, user_id=previous, role="Case manager", active=True).update(
                active=False, ended_at=now
            )
        CareTeamMember.objects.create(
            case=case, organization=actor.organization, user=user, role="Case manager", added_at=now
        )
        audit_record(
            actor=actor,
            action="case.assign",
            subject=case,
            patient=case.patient_id,
            detail={"from_user": previous, "to_user": user_id},
        )
    return case


def careteam_add(
    *,
    actor: Actor,
    case_id: int,
    role: str,
    organization_id: int | None = None,
    user_id: int | None = None,
    name: str = "",
    phone: str = "",
) -> CareTeamMember:
    """Add a care-team member. A member from another organization opens read access for it: the
    explicit cross-organization link the platform shares data through."""
    require(actor, "careteam.change")
    if not role.strip():
        raise ValidationFailed.on("role", "is required")
    organization = actor.organization
    if organization_id is not None:
        found = Organization.objects.filter(pk=organization_id, active=True).first()
        if found is None:
            raise ValidationFailed.on("organization_id", f"no organization {organization_id}")
        organization = found
    user = None
    if user_id is not None:
        user = User.objects.filter(pk=user_id, memberships__organization=organization, memberships__active=True).first()
        if user is None:
            raise ValidationFailed.on("user_id", f"user {user_id} is not staff of {organization.name}")
    elif not name.strip():
        raise ValidationFailed.on("name", "name the member or choose a user")
    with transaction.atomic():
        case = cases_owned(actor).select_for_update().filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"No case {case_id}.")
        member = CareTeamMember.objects.create(
            case=case,
            links_organization=organization.pk != case.organization_id,
            organization=organization,
            user=user,
            name=name.strip(),
            role=role.strip(),
            phone=phone,
            added_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="careteam.add",
            subject=member,
            patient=case.patient_id,
            detail={"organization_id": organization.pk},
        )
    return member


def careteam_end(*, actor: Actor, case_id: int, member_id: int) -> CareTeamMember:
    require(actor, "careteam.change")
    with transaction.atomic():
        member = (
            CareTeamMember.objects.select_for_update(of=("self",))
            .filter(pk=member_id, case_id=case_id, case__organization_id=actor.organization_id, active=True)
            .select_related("case")
            .first()
        )
        if member is None:
            raise NotFound(f"No active care-team member {member_id}.")
        member.active = False
        member.ended_at = clock.now()
        member.save()
        audit_record(actor=actor, action="careteam.end", subject=member, patient=member.case.patient_id)
    return member
