"""One mapper per CaseBridge record: the FHIR R4 resource (a dict) it is exported as.

Mappers read the record and the relations the caller loaded; they never query on their own beyond
those relations and never write. The callers (bundle builders, the /fhir/r4 API) validate every
resource with ``validate.validated`` before it leaves.

Vocabulary: statuses are FHIR's own codes where CaseBridge stores them (Task, Goal, CarePlan); the
case's status goes through ``cases.domain.FHIR_STATUS``; codes CaseBridge defines itself (case type,
channel, task kind) travel in ``urn:casebridge:...`` code systems next to the standard code.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from casebridge.accounts.models import Organization, User
from casebridge.careplans.models import CarePlan, Goal, Intervention, Need
from casebridge.cases.domain import FHIR_STATUS, STATUS_LABELS, CaseStatus
from casebridge.cases.models import CareTeamMember, Case, CaseStatusChange
from casebridge.communications.models import Communication, CommunicationParty
from casebridge.interop.fhir_export import ids
from casebridge.patients.models import Contact, Coverage, IdentifierKind, Patient, PatientIdentifier
from casebridge.tasks.models import Task

Resource = dict[str, Any]

V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
MBI_SYSTEM = "http://hl7.org/fhir/sid/us-mbi"
NPI_SYSTEM = "http://hl7.org/fhir/sid/us-npi"
CODE_SYSTEM_ROOT = "urn:casebridge:code:"
GOAL_ACHIEVEMENT = "http://terminology.hl7.org/CodeSystem/goal-achievement"
PARTICIPATION_MODE = "http://terminology.hl7.org/CodeSystem/v3-ParticipationMode"
SUBSCRIBER_RELATIONSHIP = "http://terminology.hl7.org/CodeSystem/subscriber-relationship"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"
EPISODE_TYPE = "http://terminology.hl7.org/CodeSystem/episodeofcare-type"
CONDITION_CATEGORY = "http://terminology.hl7.org/CodeSystem/condition-category"


def code_system(name: str) -> str:
    return CODE_SYSTEM_ROOT + name


def _instant(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def _date(value: dt.date | None) -> str | None:
    return value.isoformat() if value is not None else None


def _period(start: Any, end: Any) -> dict[str, str] | None:
    period = {k: v.isoformat() for k, v in (("start", start), ("end", end)) if v is not None}
    return period or None


def _meta(last_updated: dt.datetime | None) -> dict[str, str] | None:
    return {"lastUpdated": last_updated.isoformat()} if last_updated is not None else None


def last_updated_of(obj: Any, *fallbacks: str) -> dt.datetime | None:
    """The time annotated as ``fhir_last_updated`` (the same value ``_lastUpdated`` searches), else
    the first of the record's own time fields that is set."""
    value = getattr(obj, "fhir_last_updated", None)
    if value is not None:
        return value  # type: ignore[no-any-return]
    for name in fallbacks:
        value = getattr(obj, name, None)
        if value is not None:
            return value  # type: ignore[no-any-return]
    return None


def _clean(resource: Resource) -> Resource:
    """Drop keys whose value is None, "" or an empty list/dict (FHIR forbids empty elements)."""
    return {k: v for k, v in resource.items() if v not in (None, "", [], {})}


def _name_of_user(user: User) -> str:
    return user.get_full_name() or user.username


def organization_ref(org: Organization) -> dict[str, str]:
    return ids.reference("Organization", "organization", org.pk, org.name)


def practitioner_ref(user: User) -> dict[str, str]:
    return ids.reference("Practitioner", "user", user.pk, _name_of_user(user))


def patient_ref(patient_id: int, display: str = "") -> dict[str, str]:
    return ids.reference("Patient", "patient", patient_id, display)


def coding(system: str, code: str, display: str = "") -> dict[str, str]:
    return _clean({"system": system, "code": code, "display": display})


def concept(codings: Iterable[dict[str, Any]], text: str = "") -> dict[str, Any]:
    return _clean(
        {
            "coding": [
                _clean({"system": c.get("system", ""), "code": c.get("code", ""), "display": c.get("display", "")})
                for c in codings
                if c.get("code")
            ],
            "text": text,
        }
    )


def _address(line: str, city: str, state: str, postal_code: str) -> list[dict[str, Any]]:
    address = _clean({"line": [line] if line else [], "city": city, "state": state, "postalCode": postal_code})
    return [address] if address else []


# --- directory ----------------------------------------------------------------------------------


def organization(org: Organization) -> Resource:
    identifiers = [ids.identifier("organization", org.pk)]
    if org.npi:
        identifiers.append({"system": NPI_SYSTEM, "value": org.npi})
    return _clean(
        {
            "resourceType": "Organization",
            "id": ids.fhir_id("organization", org.pk),
            "identifier": identifiers,
            "active": org.active,
            "type": [concept([coding(code_system("organization-type"), org.org_type, org.get_org_type_display())])],
            "name": org.name,
            "telecom": [{"system": "phone", "value": org.phone}] if org.phone else [],
            "address": _address(org.address_line, org.city, org.state, org.postal_code),
        }
    )


def practitioner(user: User) -> Resource:
    """A CaseBridge user (case manager, nurse, physician) as the Practitioner other resources refer to."""
    telecom = [{"system": "phone", "value": user.phone}] if user.phone else []
    if user.email:
        telecom.append({"system": "email", "value": user.email})
    name = _clean(
        {"family": user.last_name, "given": [user.first_name] if user.first_name else [], "text": _name_of_user(user)}
    )
    return _clean(
        {
            "resourceType": "Practitioner",
            "id": ids.fhir_id("user", user.pk),
            "identifier": [ids.identifier("user", user.pk)],
            "active": user.is_active,
            "name": [name],
            "telecom": telecom,
        }
    )


# --- patient ------------------------------------------------------------------------------------


def identifier_system(ident: PatientIdentifier) -> str:
    """The system an identifier is exported with: the one stored, else one derived from its issuer."""
    if ident.kind == IdentifierKind.MBI:
        return MBI_SYSTEM
    if ident.system:
        return ident.system
    if ident.kind == IdentifierKind.MRN and ident.assigner_id:
        return f"urn:casebridge:mrn:organization:{ident.assigner_id}"
    if ident.kind == IdentifierKind.MEMBER_ID and ident.assigner_id:
        return f"urn:casebridge:member-id:organization:{ident.assigner_id}"
    return ""


_IDENTIFIER_TYPE = {
    IdentifierKind.MRN: ("MR", "Medical record number"),
    IdentifierKind.MBI: ("MC", "Patient's Medicare number"),
    IdentifierKind.MEMBER_ID: ("MB", "Member Number"),
}


def patient_identifier(ident: PatientIdentifier) -> dict[str, Any]:
    type_code = _IDENTIFIER_TYPE.get(IdentifierKind(ident.kind)) if ident.kind in IdentifierKind.values else None
    return _clean(
        {
            "use": "usual" if ident.kind == IdentifierKind.MRN else "",
            "type": concept([coding(V2_0203, type_code[0], type_code[1])]) if type_code else {},
            "system": identifier_system(ident),
            "value": ident.value,
            "assigner": organization_ref(ident.assigner) if ident.assigner_id and ident.assigner else {},
        }
    )


_CONTACT_RELATIONSHIP = {
    "spouse": ("SPS", "spouse"),
    "child": ("CHILD", "child"),
    "parent": ("PRN", "parent"),
    "sibling": ("SIB", "sibling"),
    "friend": ("FRND", "unrelated friend"),
    "guardian": ("GUARD", "guardian"),
    "poa": ("POWATT", "power of attorney"),
}
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
V2_0131 = "http://terminology.hl7.org/CodeSystem/v2-0131"


def _contact(contact: Contact) -> dict[str, Any]:
    relationship = []
    if contact.relationship in _CONTACT_RELATIONSHIP:
        code, display = _CONTACT_RELATIONSHIP[contact.relationship]
        relationship.append(concept([coding(ROLE_CODE, code, display)], contact.get_relationship_display()))
    else:
        relationship.append({"text": contact.get_relationship_display()})
    if contact.is_emergency_contact:
        relationship.append(concept([coding(V2_0131, "C", "Emergency Contact")]))
    if contact.is_caregiver:
        relationship.append({"text": "Caregiver"})
    return _clean(
        {
            "relationship": relationship,
            "name": {"text": contact.name},
            "telecom": [{"system": "phone", "value": contact.phone}] if contact.phone else [],
        }
    )


def patient(p: Patient, *, identifiers: Iterable[PatientIdentifier] = (), contacts: Iterable[Contact] = ()) -> Resource:
    return _clean(
        {
            "resourceType": "Patient",
            "id": ids.fhir_id("patient", p.pk),
            "meta": _meta(last_updated_of(p, "updated_at")),
            "identifier": [ids.identifier("patient", p.pk), *(patient_identifier(i) for i in identifiers)],
            "active": True,
            "name": [{"use": "official", "family": p.family_name, "given": [p.given_name]}],
            "telecom": [{"system": "phone", "value": p.phone}] if p.phone else [],
            "gender": p.sex,
            "birthDate": _date(p.birth_date),
            "deceasedBoolean": p.deceased,
            "address": _address(p.address_line, p.city, p.state, p.postal_code),
            "contact": [_contact(c) for c in contacts],
            "communication": ([{"language": {"text": p.language}, "preferred": True}] if p.language else []),
            "managingOrganization": ids.reference("Organization", "organization", p.organization_id),
        }
    )


# --- case (EpisodeOfCare) -----------------------------------------------------------------------


def _diagnosis_conditions(case: Case) -> tuple[list[Resource], list[dict[str, Any]]]:
    """The case's coded diagnoses as contained Conditions and EpisodeOfCare.diagnosis entries.

    Contained, because a case diagnosis is part of the case (a coding on it, without an identity of its
    own): it can only be read with the case. Diagnoses recorded as clinical Conditions are exported as
    resources of their own.
    """
    contained: list[Resource] = []
    entries: list[dict[str, Any]] = []
    for rank, dx in enumerate(case.diagnoses or (), start=1):
        local = f"dx{rank}"
        contained.append(
            _clean(
                {
                    "resourceType": "Condition",
                    "id": local,
                    "category": [concept([coding(CONDITION_CATEGORY, "encounter-diagnosis", "Encounter Diagnosis")])],
                    "code": concept([dx], dx.get("display", "")),
                    "subject": patient_ref(case.patient_id),
                }
            )
        )
        entries.append(
            {
                "condition": {"reference": f"#{local}", "display": dx.get("display") or dx.get("code", "")},
                "rank": rank,
            }
        )
    return contained, entries


def _status_history(case: Case, changes: Iterable[CaseStatusChange]) -> list[dict[str, Any]]:
    rows = list(changes)
    history = []
    for i, change in enumerate(rows):
        end = rows[i + 1].at if i + 1 < len(rows) else None
        if end is None:
            break  # the current status is EpisodeOfCare.status itself
        history.append({"status": FHIR_STATUS[CaseStatus(change.to_status)], "period": _period(change.at, end)})
    return history


def episode_of_care(case: Case, *, status_changes: Iterable[CaseStatusChange] = (), has_team: bool = False) -> Resource:
    contained, diagnoses = _diagnosis_conditions(case)
    status = CaseStatus(case.status)
    return _clean(
        {
            "resourceType": "EpisodeOfCare",
            "id": ids.fhir_id("case", case.pk),
            "meta": _meta(last_updated_of(case, "updated_at")),
            "contained": contained,
            "identifier": [ids.identifier("case", case.pk)],
            "status": FHIR_STATUS[status],
            "statusHistory": _status_history(case, status_changes),
            "type": [
                concept(
                    [coding(code_system("case-type"), case.case_type, case.get_case_type_display())]
                    + (
                        [coding(EPISODE_TYPE, "cacp", "Community-based aged care")]
                        if case.case_type == "insurer_cm"
                        else []
                    ),
                    case.get_case_type_display(),
                ),
                concept([coding(code_system("case-status"), status.value, STATUS_LABELS[status])]),
            ],
            "diagnosis": diagnoses,
            "patient": patient_ref(case.patient_id),
            "managingOrganization": ids.reference("Organization", "organization", case.organization_id),
            "period": _period(case.opened_at, case.closed_at),
            "careManager": practitioner_ref(case.assigned_to) if case.assigned_to_id and case.assigned_to else {},
            "team": [ids.reference("CareTeam", "careteam", case.pk)] if has_team else [],
        }
    )


# --- care team ----------------------------------------------------------------------------------


def care_team_status(case: Case, members: list[CareTeamMember]) -> str:
    """R4 CareTeam.status: active while the case is open and someone is on the team; inactive after."""
    open_case = case.status not in (CaseStatus.CLOSED, CaseStatus.CANCELLED)
    return "active" if open_case and any(m.active for m in members) else "inactive"


def care_team(case: Case, members: Iterable[CareTeamMember]) -> Resource:
    """The case's care team, one per case. Members from other organizations say so in onBehalfOf."""
    rows = list(members)
    participants = []
    for m in rows:
        if m.user_id and m.user is not None:
            member = practitioner_ref(m.user)
        else:
            member = {"type": "Practitioner", "display": m.name}
        participants.append(
            _clean(
                {
                    "role": [{"text": m.role}],
                    "member": member,
                    "onBehalfOf": organization_ref(m.organization),
                    "period": _period(m.added_at, m.ended_at),
                }
            )
        )
    started = min((m.added_at for m in rows), default=None)
    touched = [t for m in rows for t in (m.added_at, m.ended_at) if t is not None]
    return _clean(
        {
            "resourceType": "CareTeam",
            "id": ids.fhir_id("careteam", case.pk),
            "meta": _meta(max(touched, default=None)),
            "identifier": [ids.identifier("careteam", case.pk)],
            "status": care_team_status(case, rows),
            "name": f"Care team of case {case.pk}",
            "subject": patient_ref(case.patient_id),
            "period": _period(started, case.closed_at),
            "participant": participants,
            "managingOrganization": [ids.reference("Organization", "organization", case.organization_id)],
        }
    )


# --- care plan, goals, interventions ------------------------------------------------------------


def _need_condition(need: Need, patient_id: int) -> Resource:
    return _clean(
        {
            "resourceType": "Condition",
            "id": f"need{need.pk}",
            "clinicalStatus": concept(
                [
                    coding(
                        "http://terminology.hl7.org/CodeSystem/condition-clinical",
                        "resolved" if need.status == "resolved" else "active",
                    )
                ]
            )
            if need.status != "entered-in-error"
            else {},
            "verificationStatus": concept(
                [coding("http://terminology.hl7.org/CodeSystem/condition-ver-status", "entered-in-error")]
            )
            if need.status == "entered-in-error"
            else {},
            "category": [
                concept(
                    [
                        coding(
                            "http://hl7.org/fhir/us/core/CodeSystem/condition-category",
                            "health-concern",
                            "Health Concern",
                        )
                    ]
                )
            ],
            "code": concept([coding(code_system("need"), need.code, need.label)], need.label),
            "subject": patient_ref(patient_id),
            "recordedDate": _instant(need.identified_at),
            "note": [{"text": need.evidence}] if need.evidence else [],
        }
    )


_ACTIVITY_TO_REQUEST = {
    "not-started": "draft",
    "scheduled": "active",
    "in-progress": "active",
    "on-hold": "on-hold",
    "completed": "completed",
    "cancelled": "revoked",
    "stopped": "revoked",
    "unknown": "unknown",
    "entered-in-error": "entered-in-error",
}


def _intervention_code(iv: Intervention) -> dict[str, Any]:
    codings = [coding(code_system("discipline"), iv.discipline)] if iv.discipline else []
    return concept(codings, iv.description)


def _performer(iv: Intervention) -> dict[str, str]:
    if iv.provider_organization_id and iv.provider_organization is not None:
        return organization_ref(iv.provider_organization)
    return {"type": "Organization", "display": iv.provider_name} if iv.provider_name else {}


def care_plan(
    plan: CarePlan, *, needs: Iterable[Need] = (), goals: Iterable[Goal] = (), has_team: bool = False
) -> Resource:
    """The case's plan: needs as contained health concerns it addresses, goals by reference, and each
    intervention as an activity (detail) whose order is the ServiceRequest with the same intervention id."""
    case = plan.case
    need_rows = list(needs)
    goal_rows = list(goals)
    activities = []
    for goal in goal_rows:
        for iv in goal.interventions.all():
            activities.append(
                {
                    "detail": _clean(
                        {
                            "kind": "ServiceRequest",
                            "code": _intervention_code(iv),
                            "goal": [ids.reference("Goal", "goal", goal.pk)],
                            "status": iv.status,
                            "scheduledPeriod": _period(iv.start_date, iv.end_date),
                            "scheduledString": None if (iv.start_date or iv.end_date) else (iv.frequency or None),
                            "performer": [_performer(iv)] if _performer(iv) else [],
                            "description": "; ".join(
                                p for p in (iv.description, f"frequency {iv.frequency}" if iv.frequency else "") if p
                            ),
                        }
                    ),
                }
            )
            activities[-1] = _clean(activities[-1])
    return _clean(
        {
            "resourceType": "CarePlan",
            "id": ids.fhir_id("careplan", plan.pk),
            "meta": _meta(last_updated_of(plan, "updated_at")),
            "contained": [_need_condition(n, case.patient_id) for n in need_rows],
            "identifier": [ids.identifier("careplan", plan.pk)],
            "status": plan.status,
            "intent": plan.intent,
            "category": [concept([coding("http://snomed.info/sct", "734163000", "Care plan")])],
            "title": plan.title or f"Care plan for case {case.pk}",
            "description": plan.description,
            "subject": patient_ref(case.patient_id),
            "period": _period(plan.created_at, None),
            "created": _instant(plan.created_at),
            "author": practitioner_ref(plan.created_by) if plan.created_by_id and plan.created_by else {},
            "careTeam": [ids.reference("CareTeam", "careteam", case.pk)] if has_team else [],
            "addresses": [{"reference": f"#need{n.pk}", "display": n.label} for n in need_rows],
            "supportingInfo": [ids.reference("EpisodeOfCare", "case", case.pk)],
            "goal": [ids.reference("Goal", "goal", g.pk, g.description) for g in goal_rows],
            "activity": activities,
        }
    )


def goal(g: Goal, *, patient_id: int) -> Resource:
    target: dict[str, Any] = {}
    if g.measure or g.target_value or g.target_date:
        target = _clean(
            {
                # gol-1: a target with a detail needs a measure; a bare target value measures the goal itself.
                "measure": {"text": g.measure or g.description} if (g.measure or g.target_value) else {},
                "detailString": g.target_value,
                "dueDate": _date(g.target_date),
            }
        )
    return _clean(
        {
            "resourceType": "Goal",
            "id": ids.fhir_id("goal", g.pk),
            "meta": _meta(last_updated_of(g, "created_at")),
            "identifier": [ids.identifier("goal", g.pk)],
            "lifecycleStatus": g.lifecycle_status,
            "achievementStatus": (
                concept([coding(GOAL_ACHIEVEMENT, g.achievement_status, g.get_achievement_status_display())])
                if g.achievement_status
                else {}
            ),
            "description": {"text": g.description},
            "subject": patient_ref(patient_id),
            "startDate": _date(g.created_at.date()) if g.created_at else None,
            "target": [target] if target else [],
            "statusReason": g.status_reason,
            "expressedBy": practitioner_ref(g.created_by) if g.created_by_id and g.created_by else {},
        }
    )


def service_request(iv: Intervention, *, plan: CarePlan) -> Resource:
    """An intervention as the order for the service: what, who provides it, how often, who pays."""
    case = plan.case
    notes = []
    if iv.payer and iv.payer != "unknown":
        notes.append({"text": f"Paid by: {iv.get_payer_display()}"})
    if iv.estimated_cost is not None:
        notes.append({"text": f"Estimated cost: {iv.estimated_cost} USD"})
    return _clean(
        {
            "resourceType": "ServiceRequest",
            "id": ids.fhir_id("intervention", iv.pk),
            "meta": _meta(last_updated_of(iv, "created_at")),
            "identifier": [ids.identifier("intervention", iv.pk)],
            "basedOn": [ids.reference("CarePlan", "careplan", plan.pk)],
            "status": _ACTIVITY_TO_REQUEST.get(iv.status, "unknown"),
            "intent": "order" if plan.intent == "order" else "plan",
            "code": _intervention_code(iv),
            "subject": patient_ref(case.patient_id),
            "occurrencePeriod": _period(iv.start_date, iv.end_date),
            "authoredOn": _instant(iv.created_at),
            "requester": practitioner_ref(iv.created_by) if iv.created_by_id and iv.created_by else {},
            "performer": [_performer(iv)] if _performer(iv) else [],
            "supportingInfo": [
                ids.reference("EpisodeOfCare", "case", case.pk),
                ids.reference("Goal", "goal", iv.goal_id),
            ],
            "patientInstruction": f"Frequency: {iv.frequency}" if iv.frequency else "",
            "note": notes,
        }
    )


# --- tasks --------------------------------------------------------------------------------------


def task(t: Task) -> Resource:
    owner: dict[str, Any] = {}
    if t.owner_id and t.owner is not None:
        owner = practitioner_ref(t.owner)
    elif t.queue_id and t.queue is not None:
        owner = {"identifier": {"system": ids.system("workqueue"), "value": str(t.queue_id)}, "display": t.queue.name}
    restriction = {"period": {"end": t.due_at.isoformat()}} if t.due_at else {}
    return _clean(
        {
            "resourceType": "Task",
            "id": ids.fhir_id("task", t.pk),
            "meta": _meta(last_updated_of(t, "completed_at", "created_at")),
            "identifier": [ids.identifier("task", t.pk)],
            "status": t.status,
            "statusReason": {"text": t.status_reason} if t.status_reason else {},
            "intent": "order",
            "priority": t.priority,
            "code": concept([coding(code_system("task-kind"), t.kind)], t.kind.replace("_", " ")) if t.kind else {},
            "description": t.title,
            "focus": ids.reference("EpisodeOfCare", "case", t.case_id) if t.case_id else {},
            "for": patient_ref(t.patient_id) if t.patient_id else {},
            "executionPeriod": _period(t.created_at, t.completed_at),
            "authoredOn": _instant(t.created_at),
            "lastModified": _instant(last_updated_of(t, "completed_at", "created_at")),
            "requester": practitioner_ref(t.created_by) if t.created_by_id and t.created_by else {},
            "owner": owner,
            "note": [{"text": t.description}] if t.description else [],
            "restriction": restriction,
        }
    )


# --- coverage -----------------------------------------------------------------------------------


def coverage(c: Coverage) -> Resource:
    payor = organization_ref(c.insurer) if c.insurer_id and c.insurer is not None else {"display": c.payer_name}
    payor["display"] = c.payer_name
    relationship = c.subscriber_relationship or "self"
    subscriber: dict[str, Any] = {}
    if relationship == "self":
        subscriber = patient_ref(c.patient_id, c.subscriber_name)
    elif c.subscriber_name:
        subscriber = {"type": "RelatedPerson", "display": c.subscriber_name}
    member_system = f"urn:casebridge:member-id:organization:{c.insurer_id}" if c.insurer_id else ""
    return _clean(
        {
            "resourceType": "Coverage",
            "id": ids.fhir_id("coverage", c.pk),
            "meta": _meta(last_updated_of(c)),
            "identifier": [
                ids.identifier("coverage", c.pk),
                _clean(
                    {
                        "type": concept([coding(V2_0203, "MB", "Member Number")]),
                        "system": member_system,
                        "value": c.member_id,
                    }
                ),
            ],
            "status": "active" if c.active else "cancelled",
            "subscriber": subscriber,
            "subscriberId": c.member_id,
            "beneficiary": patient_ref(c.patient_id),
            "relationship": concept([coding(SUBSCRIBER_RELATIONSHIP, relationship)]),
            "period": _period(c.period_start, c.period_end),
            "payor": [payor],
            "class": (
                [
                    {
                        "type": concept([coding(COVERAGE_CLASS, "plan", "Plan")]),
                        "value": c.plan_name,
                        "name": c.plan_name,
                    }
                ]
                if c.plan_name
                else []
            ),
            "order": c.order,
        }
    )


# --- communications -----------------------------------------------------------------------------

# v3 ParticipationMode for each channel (the standard code); CaseBridge's own code goes alongside.
CHANNEL_MODE = {
    "phone": ("PHONE", "telephone"),
    "fax": ("FAXWRIT", "telefax"),
    "secure_message": ("ONLINEWRIT", "online written"),
    "in_person": ("FACE", "face-to-face"),
    "portal": ("ONLINEWRIT", "online written"),
    "email": ("EMAILWRIT", "email"),
    "video": ("VIDEOCONF", "videoconferencing"),
}
_PARTY_TYPE = {
    "insurer_cm": "Practitioner",
    "physician": "Practitioner",
    "provider": "Organization",
    "family": "RelatedPerson",
    "other": "",
}


def _party_ref(party: CommunicationParty, patient_id: int) -> dict[str, str]:
    if party.kind == "patient":
        return patient_ref(patient_id, party.name)
    return _clean({"type": _PARTY_TYPE.get(party.kind, ""), "display": str(party)})


def communication(c: Communication, *, parties: Iterable[CommunicationParty] = ()) -> Resource:
    """A logged contact. Outbound: our organization sent it to the parties; inbound: the first party sent
    it to us. The summary is the payload; the outcome is a note."""
    rows = list(parties)
    us = ids.reference("Organization", "organization", c.organization_id)
    if c.direction == "outbound":
        sender, recipients = us, [_party_ref(p, c.patient_id) for p in rows]
    else:
        sender = _party_ref(rows[0], c.patient_id) if rows else {}
        recipients = [us] + [_party_ref(p, c.patient_id) for p in rows[1:]]
    mode, mode_display = CHANNEL_MODE.get(c.channel, ("", ""))
    return _clean(
        {
            "resourceType": "Communication",
            "id": ids.fhir_id("communication", c.pk),
            "meta": _meta(last_updated_of(c, "logged_at")),
            "identifier": [ids.identifier("communication", c.pk)],
            "status": "completed",
            "medium": [
                concept(
                    [
                        coding(PARTICIPATION_MODE, mode, mode_display),
                        coding(code_system("channel"), c.channel, c.get_channel_display()),
                    ],
                    c.get_channel_display(),
                )
            ],
            "subject": patient_ref(c.patient_id),
            "about": [ids.reference("EpisodeOfCare", "case", c.case_id)],
            "sent": _instant(c.occurred_at) if c.direction == "outbound" else None,
            "received": _instant(c.occurred_at) if c.direction == "inbound" else None,
            "recipient": recipients,
            "sender": sender,
            "payload": [{"contentString": c.summary}],
            "note": [{"text": f"Outcome: {c.outcome}"}] if c.outcome else [],
        }
    )
