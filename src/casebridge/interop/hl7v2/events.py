"""ADT events onto CaseBridge's services: patients, encounters, hospital cases.

Called inside the receiver's transaction, once per message; anything raised here rolls the whole
message back. What each trigger does:

- A01 admit, A04 register, A05 pre-admit, A08 update: find the patient by PID-3 (or register them),
  update demographics, upsert the visit (PV1-19). A01 and A04 then apply the organization's admission
  rule (``case_open_for_admission``); A05 is a planned stay and opens nothing yet.
- A02 transfer: the visit's point of care (PV1-3) and class; A12 puts back the prior location (PV1-6).
- A03 discharge: the visit is finished; its hospital case walks forward along legal moves to
  transition, recording each step. Rule: when the discharge disposition (PV1-36) says the patient
  died (20, 40, 41, 42) the case is closed instead. A case on hold, closed or cancelled is left as a
  person decided and the reason is audited.
- A06 / A07 class change: the visit's class follows PV1-2; A06 (now inpatient) applies the admission
  rule. A07 leaves an open case alone: whether an outpatient stay still needs case management is a
  case manager's call.
- A11 cancel admit: the visit becomes ``cancelled``. Its case is cancelled when nobody has worked on it
  yet (still in referral, only the untouched initial review task, no notes, assessments or plan);
  otherwise it is put on hold with the reason, or, when that is not a legal move, the reason is audited.
- A13 cancel discharge: the visit is in progress again, discharge time and disposition cleared; a case
  in transition returns to monitoring (the legal way back).
- A40 merge: see ``merge_patients``.

Patients are matched by PID-3 within the receiving organization: the identifiers typed MR (else the
first non-private one), by value and assigning authority (CX-4; an identifier recorded without one
matches any authority; one sent without an authority names the one patient holding the value, and is
refused when several do): the same value under two authorities may be two patients' numbers. Social
security, driver's licence and passport numbers are never stored. Patients unknown so far are
registered from PID by every event that carries a visit, except the cancels, which have nothing to
undo for an unknown patient.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, Subquery

from casebridge.accounts import roles
from casebridge.accounts.permissions import can
from casebridge.audit.recorder import audit_record
from casebridge.cases.domain import STATUS_LABELS, CaseStatus, allowed_moves
from casebridge.cases.models import Case
from casebridge.cases.services import case_transition, case_walk
from casebridge.clinical.coding import ICD10CM, SNOMED, encounter_class_of_v2
from casebridge.clinical.models import Encounter
from casebridge.clinical.services import INITIAL_REVIEW_KIND, case_open_for_admission, encounter_upsert
from casebridge.interop.hl7v2.parsing import Hl7Problem, Message, hl7_date, hl7_datetime, part, repetition_of
from casebridge.interop.models import Hl7PatientMerge
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import IllegalTransition, ValidationFailed
from casebridge.kernel.numbers import is_us_zip
from casebridge.kernel.prepared import PreparedQuery
from casebridge.patients.models import IdentifierKind, Patient, PatientIdentifier, Sex
from casebridge.patients.services import identifier_add, patient_create, patient_update
from casebridge.postacute.lifecycle import path_to_transition
from casebridge.tasks.domain import TaskStatus
from casebridge.tasks.services import task_transition

SUPPORTED_EVENTS = ("A01", "A02", "A03", "A04", "A05", "A06", "A07", "A08", "A11", "A12", "A13", "A40")
REGISTERING = frozenset({"A01", "A04", "A05", "A08"})
CANCELS = frozenset({"A11", "A12"})

V2_PATIENT_CLASS = "http://terminology.hl7.org/CodeSystem/v2-0004"
V2_ADMIT_SOURCE = "http://terminology.hl7.org/CodeSystem/v2-0023"
V2_DISPOSITION = "http://terminology.hl7.org/CodeSystem/v2-0112"
ICD9CM = "http://hl7.org/fhir/sid/icd-9-cm"
VISIT_SYSTEM = "urn:hl7v2:visit:"
EXPIRED_DISPOSITIONS = frozenset({"20", "40", "41", "42"})

# CX-5 identifier types never copied (minimum necessary): SSN, driver's licence, passport, etc.
PRIVATE_ID_TYPES = frozenset({"SS", "SSN", "DL", "DR", "PPN", "PN", "BA", "BC", "CC", "TAX", "NI"})
_CODE_SYSTEMS = {
    "I10": ICD10CM, "I10C": ICD10CM, "ICD10": ICD10CM, "ICD10CM": ICD10CM, "ICD-10-CM": ICD10CM, "I10CM": ICD10CM,
    "SCT": SNOMED, "SNM": SNOMED, "SNOMED": SNOMED, "SNOMEDCT": SNOMED,
    "I9": ICD9CM, "I9C": ICD9CM, "I9CDX": ICD9CM,
}  # fmt: skip
_SEX = {"M": Sex.MALE, "F": Sex.FEMALE, "O": Sex.OTHER, "A": Sex.OTHER, "N": Sex.OTHER, "U": Sex.UNKNOWN}


@dataclass(frozen=True)
class SenderId:
    value: str
    type_code: str
    authority: str


@dataclass
class Applied:
    """What one message did: for the log row and the tests."""

    patient: Patient | None = None
    encounter: Encounter | None = None
    summary: dict[str, Any] = field(default_factory=dict)


# --- reading the message -------------------------------------------------------------------------


def sender_ids(message: Message, segment: str, field_no: int) -> list[SenderId]:
    """The CX identifiers of PID-3 (or MRG-1), private types dropped."""
    out = []
    for rep in message.repetitions(segment, field_no):
        value = part(message.msg, rep, 1).strip()[:64]
        type_code = part(message.msg, rep, 5).strip().upper()
        authority = (part(message.msg, rep, 4, 1) or part(message.msg, rep, 4, 2)).strip()[:200]
        if value and type_code not in PRIVATE_ID_TYPES:
            out.append(SenderId(value, type_code, authority))
    return out


def _ordered(ids: list[SenderId]) -> list[SenderId]:
    """Medical record numbers first: they are what a hospital files a patient under."""
    return [i for i in ids if i.type_code == "MR"] + [i for i in ids if i.type_code != "MR"]


def demographics(message: Message) -> dict[str, Any]:
    """PID fields the sender filled in. An empty field means "no change" (HL7 v2), so it is left out."""
    get = message.get
    out: dict[str, Any] = {}
    family = get("PID", 5, 1, 1, 1).strip()
    given = get("PID", 5, 1, 2).strip()
    if family:
        out["family_name"] = family[:100]
    if given:
        out["given_name"] = given[:100]
    birth = hl7_date(get("PID", 7), "PID-7")
    if birth is not None:
        out["birth_date"] = birth
    sex = get("PID", 8).strip().upper()
    if sex:
        out["sex"] = _SEX.get(sex[:1], Sex.UNKNOWN)
    street_rep = message.repetitions("PID", 11)
    if street_rep:
        rep = street_rep[0]
        street_parts = [part(message.msg, rep, 1, n).strip() for n in range(1, 4)]
        street = " ".join(p for p in street_parts if p)
        other = part(message.msg, rep, 2).strip()
        line = ", ".join(p for p in (street, other) if p)
        if line:
            out["address_line"] = line[:200]
        city = part(message.msg, rep, 3).strip()
        if city:
            out["city"] = city[:100]
        state = part(message.msg, rep, 4).strip().upper()
        if len(state) == 2 and state.isalpha():
            out["state"] = state
        postal = part(message.msg, rep, 5).strip()
        if is_us_zip(postal):
            out["postal_code"] = postal
    phones = message.repetitions("PID", 13)
    if phones:
        rep = phones[0]
        phone = part(message.msg, rep, 1).strip() or (part(message.msg, rep, 6) + part(message.msg, rep, 7)).strip()
        if phone:
            out["phone"] = phone[:32]
    if get("PID", 30).strip().upper() == "Y":
        out["deceased"] = True
    return out


def visit_identifier(message: Message) -> tuple[str, str]:
    """(system, value) of the visit: PV1-19 with its assigning authority, else PID-18 (account number).
    Without an authority the sending facility names the number space."""
    for seg, fno in (("PV1", 19), ("PID", 18)):
        value = message.get(seg, fno, 1, 1).strip()
        if value:
            authority = message.get(seg, fno, 1, 4, 1) or message.get(seg, fno, 1, 4, 2)
            authority = authority.strip() or message.get("MSH", 4, 1, 1).strip()
            return (VISIT_SYSTEM + authority)[:200], value[:128]
    return "", ""


def _coding(system: str, code: str, display: str = "") -> dict[str, str]:
    return {"system": system, "code": code, "display": display}


def encounter_fields(message: Message) -> dict[str, Any]:
    """PV1/PV2 fields the sender filled in, as ``encounter_upsert`` takes them."""
    get = message.get
    out: dict[str, Any] = {}
    patient_class = get("PV1", 2).strip().upper()
    if patient_class:
        out["encounter_class"] = encounter_class_of_v2(patient_class, get("PV1", 18, 1, 1))
        out["class_system"] = V2_PATIENT_CLASS
        out["class_code"] = patient_class[:32]
    point = "^".join(get("PV1", 3, 1, n, 1).strip() for n in (1, 2, 3)).rstrip("^")
    if point:
        out["location_text"] = point[:200]
    family, given, prefix = get("PV1", 7, 1, 2).strip(), get("PV1", 7, 1, 3).strip(), get("PV1", 7, 1, 6).strip()
    attending = " ".join(p for p in (prefix, given, family) if p)
    if attending:
        out["attending_name"] = attending[:200]
    source = get("PV1", 14).strip()
    if source:
        out["admission_source"] = _coding(V2_ADMIT_SOURCE, source[:32])
    disposition = get("PV1", 36).strip()
    if disposition:
        out["discharge_disposition"] = _coding(V2_DISPOSITION, disposition[:32])
    admit = hl7_datetime(get("PV1", 44, 1, 1), "PV1-44")
    if admit is not None:
        out["admit_at"] = admit
    discharge = hl7_datetime(get("PV1", 45, 1, 1), "PV1-45")
    if discharge is not None:
        out["discharge_at"] = discharge
    reason_code, reason_text = get("PV2", 3, 1, 1).strip(), get("PV2", 3, 1, 2).strip()
    if reason_code or reason_text:
        system = _CODE_SYSTEMS.get(get("PV2", 3, 1, 3).strip().upper(), get("PV2", 3, 1, 3).strip())
        out["reasons"] = [_coding(system, reason_code[:64], reason_text[:500])]
    return out


def diagnoses(message: Message) -> list[dict[str, str]]:
    """DG1-3 codings, as coded (ICD-10-CM, SNOMED CT or ICD-9-CM by DG1-3.3, else DG1-2)."""
    out = []
    for n, _ in enumerate(message.segments("DG1"), start=1):
        dg = message.field("DG1", 3, n)
        if dg is None:
            continue
        rep = repetition_of(dg)
        code = part(message.msg, rep, 1).strip()
        if not code:
            continue
        display = part(message.msg, rep, 2).strip() or message.get_nth("DG1", 4, n)
        system_name = part(message.msg, rep, 3).strip().upper() or message.get_nth("DG1", 2, n).upper()
        out.append(_coding(_CODE_SYSTEMS.get(system_name, system_name), code[:64], display[:500]))
    return out


def event_time(message: Message) -> Any:
    """When the event happened: EVN-6 (occurred), else EVN-2 (recorded), else now."""
    return (
        hl7_datetime(message.get("EVN", 6, 1, 1), "EVN-6")
        or hl7_datetime(message.get("EVN", 2, 1, 1), "EVN-2")
        or clock.now()
    )


# --- patients ------------------------------------------------------------------------------------


def _patient_by_identifier(organization_id: int, value: str, authority: str) -> QuerySet[Patient]:
    """The patient of the first (lowest id) identifier in the organization matching ``value`` with this
    assigning authority or none recorded: one statement."""
    first = (
        PatientIdentifier.objects.filter(
            patient__organization_id=organization_id,
            kind__in=[IdentifierKind.MRN, IdentifierKind.OTHER],
            value=value,
        )
        .filter(Q(system=authority) | Q(system=""))
        .order_by("pk")
        .values("patient_id")[:1]
    )
    return Patient.objects.filter(pk=Subquery(first)).order_by("pk")


def _patients_holding(organization_id: int, value: str) -> QuerySet[Patient]:
    """The patients of the organization holding ``value`` under any assigning authority."""
    holders = PatientIdentifier.objects.filter(
        patient__organization_id=organization_id, kind__in=[IdentifierKind.MRN, IdentifierKind.OTHER], value=value
    ).values("patient_id")
    return Patient.objects.filter(pk__in=holders).order_by("pk")


# Compiled once per process (see kernel.prepared): these run for every message.
_PATIENT_LOCKED = PreparedQuery(
    Patient,
    lambda organization_id, value, authority: _patient_by_identifier(
        organization_id, value, authority
    ).select_for_update()[:1],
    organization_id=int,
    value=str,
    authority=str,
)
_PATIENT = PreparedQuery(
    Patient,
    lambda organization_id, value, authority: _patient_by_identifier(organization_id, value, authority)[:1],
    organization_id=int,
    value=str,
    authority=str,
)
# An identifier without an authority: up to two holders, to tell one from several.
_HOLDERS_LOCKED = PreparedQuery(
    Patient,
    lambda organization_id, value: _patients_holding(organization_id, value).select_for_update()[:2],
    organization_id=int,
    value=str,
)
_HOLDERS = PreparedQuery(
    Patient,
    lambda organization_id, value: _patients_holding(organization_id, value)[:2],
    organization_id=int,
    value=str,
)
_ENCOUNTER_LOCKED = PreparedQuery(
    Encounter,
    lambda organization_id, system, value: (
        Encounter.objects.select_for_update()
        .filter(organization_id=organization_id, identifier_system=system, identifier_value=value)
        .order_by("pk")[:1]
    ),
    organization_id=int,
    system=str,
    value=str,
)
_CASE_LOCKED = PreparedQuery(Case, lambda pk: Case.objects.select_for_update().filter(pk=pk).order_by("pk")[:1], pk=int)
_IDENTIFIERS = PreparedQuery(
    PatientIdentifier,
    lambda patient_id: PatientIdentifier.objects.filter(patient_id=patient_id).only("kind", "value"),
    patient_id=int,
)


def _first(rows: list[Any]) -> Any:
    return rows[0] if rows else None


def find_patient(
    actor: Actor, ids: list[SenderId], *, lock: bool = True, segment: str = "PID", field_no: int = 3
) -> Patient | None:
    """The patient the first matching identifier of ``ids`` names (the rule of ``identifier_holder``): by value and
    assigning authority, where one recorded without an authority matches any; an identifier sent without
    an authority names the one patient holding the value, and is refused when several do (two facilities'
    number spaces: guessing would put one person's stay on another's chart)."""
    for ident in _ordered(ids):
        if ident.authority:
            query = _PATIENT_LOCKED if lock else _PATIENT
            found = query(organization_id=actor.organization_id, value=ident.value, authority=ident.authority)
        else:
            found = (_HOLDERS_LOCKED if lock else _HOLDERS)(organization_id=actor.organization_id, value=ident.value)
            if len(found) > 1:
                raise Hl7Problem(
                    f"{segment}-{field_no} identifier {ident.value} has no assigning authority (CX-4), and several "
                    "patients here hold that number under different authorities: send the authority",
                    error_code="204",
                    location=f"{segment}^1^{field_no}",
                )
        if found:
            return found[0]
    return None


def _identifier_rows(actor: Actor, ids: list[SenderId]) -> list[dict[str, Any]]:
    seen: set[tuple[str, str]] = set()
    rows = []
    for ident in _ordered(ids):
        kind = IdentifierKind.MRN if ident.type_code == "MR" else IdentifierKind.OTHER
        if (kind, ident.value) in seen:
            continue
        seen.add((kind, ident.value))
        rows.append({"kind": kind, "value": ident.value, "system": ident.authority, "assigner": actor.organization})
    return rows


def _require_ids(message: Message, segment: str = "PID", field_no: int = 3) -> list[SenderId]:
    if not message.has(segment):
        raise Hl7Problem(f"the message has no {segment} segment", ack_code="AR", error_code="100", location=segment)
    ids = sender_ids(message, segment, field_no)
    if not ids:
        raise Hl7Problem(
            f"{segment}-{field_no} carries no patient identifier (MRN)",
            error_code="101",
            location=f"{segment}^1^{field_no}",
        )
    return ids


def register_or_update(actor: Actor, message: Message, *, update: bool) -> tuple[Patient, str]:
    """The patient PID-3 names in this organization, registered when new; demographics updated when
    ``update``. Returns the patient and "created", "updated" or "matched"."""
    ids = _require_ids(message)
    patient = find_patient(actor, ids)
    demo = demographics(message)
    if patient is None:
        if "family_name" not in demo:
            raise Hl7Problem(
                "PID-5 patient name is required to register a patient", error_code="101", location="PID^1^5"
            )
        if "birth_date" not in demo:
            raise Hl7Problem(
                "PID-7 date of birth is required to register a patient", error_code="101", location="PID^1^7"
            )
        demo.setdefault("given_name", "-")
        try:
            patient = patient_create(actor=actor, identifiers=_identifier_rows(actor, ids), **demo)
        except ValidationFailed:
            # Another connection registered the same patient a moment ago: take theirs.
            patient = find_patient(actor, ids)
            if patient is None:
                raise
            return patient, "matched"
        return patient, "created"
    if update:
        changes = {k: v for k, v in demo.items() if getattr(patient, k) != v}
        if changes:
            # ``find_patient`` read the row under lock in this transaction: no second read.
            patient = patient_update(actor=actor, patient_id=patient.pk, version=None, locked=patient, **changes)
        _add_missing_identifiers(actor, patient, ids)
        return patient, "updated" if changes else "matched"
    return patient, "matched"


def _add_missing_identifiers(actor: Actor, patient: Patient, ids: list[SenderId]) -> None:
    have = {(held.kind, held.value) for held in _IDENTIFIERS(patient_id=patient.pk)}
    for row in _identifier_rows(actor, ids):
        if (row["kind"], row["value"]) not in have:
            identifier_add(
                actor=actor,
                patient_id=patient.pk,
                kind=row["kind"],
                value=row["value"],
                assigner_id=actor.organization_id,
                system=row["system"],
            )


# --- cases ---------------------------------------------------------------------------------------


def case_mover(actor: Actor) -> Actor:
    """The actor that moves hospital cases on ADT events.

    Cases opened by the organization's admission rule follow the stay they were opened for: the
    organization admin chose that rule, and the feed's integration user (an intake coordinator, which
    may open cases but not change them) carries it out. So for these moves only, and only here, the
    integration user acts with the utilization review nurse's case rights; the audit rows show both
    roles. A user who already may change cases acts as themselves.
    """
    if can(actor, "case.change"):
        return actor
    return dataclasses.replace(actor, roles=actor.roles | {roles.UR_NURSE})


def _hospital_case(encounter: Encounter) -> Case | None:
    if encounter.hospital_case_id is None:
        return None
    case: Case | None = _first(_CASE_LOCKED(pk=encounter.hospital_case_id))
    return case


def _case_note(actor: Actor, case: Case, action: str, why: str) -> None:
    audit_record(actor=actor, action=action, subject=case, patient=case.patient_id, detail={"reason": why})


def case_follow_discharge(actor: Actor, encounter: Encounter, reason: str, *, expired: bool) -> list[str]:
    case = _hospital_case(encounter)
    if case is None:
        return []
    mover = case_mover(actor)
    current = CaseStatus(case.status)
    if expired and CaseStatus.CLOSED in allowed_moves(current):
        case_transition(actor=mover, case_id=case.pk, to_status=CaseStatus.CLOSED, reason=f"Patient died: {reason}")
        return [CaseStatus.CLOSED.value]
    try:
        steps = path_to_transition(current)
    except IllegalTransition as exc:
        _case_note(actor, case, "hl7.case_unchanged", f"{reason}: {exc.detail}")
        return []
    if steps:
        # One lock (the row read above), one UPDATE; a status change, history row and audit event per step.
        case_walk(actor=mover, case_id=case.pk, steps=steps, reason=reason, locked=case)
    return [s.value for s in steps]


def _case_has_work(case: Case) -> str:
    """Why the case counts as worked on, or "" when nobody has touched it since the admission opened it."""
    if case.status != CaseStatus.REFERRAL:
        return f"it is in {STATUS_LABELS[CaseStatus(case.status)].lower()}"
    untouched = {TaskStatus.DRAFT, TaskStatus.REQUESTED, TaskStatus.READY, TaskStatus.RECEIVED}
    for task in case.tasks.all():
        if task.kind != INITIAL_REVIEW_KIND or task.status not in untouched:
            return f"task {task.title!r} is {task.status}"
    for related, label in (("communications", "notes"), ("documents", "documents"), ("assessments", "assessments")):
        if getattr(case, related).exists():
            return f"it has {label}"
    if hasattr(case, "care_plan"):
        return "it has a care plan"
    return ""


def case_follow_cancel_admit(actor: Actor, encounter: Encounter, reason: str) -> str:
    case = _hospital_case(encounter)
    if case is None:
        return ""
    mover = case_mover(actor)
    work = _case_has_work(case)
    if not work:
        for task in case.tasks.all():
            task_transition(actor=mover, task_id=task.pk, to_status=TaskStatus.CANCELLED, reason=reason)
        case_transition(actor=mover, case_id=case.pk, to_status=CaseStatus.CANCELLED, reason=reason)
        return "cancelled"
    why = f"{reason}; the case was kept because {work}"
    if CaseStatus.ON_HOLD in allowed_moves(CaseStatus(case.status)):
        case_transition(actor=mover, case_id=case.pk, to_status=CaseStatus.ON_HOLD, reason=why[:300])
        return "on_hold"
    _case_note(actor, case, "hl7.case_unchanged", why)
    return "unchanged"


def case_follow_cancel_discharge(actor: Actor, encounter: Encounter, reason: str) -> str:
    case = _hospital_case(encounter)
    if case is None:
        return ""
    current = CaseStatus(case.status)
    if current == CaseStatus.TRANSITION:
        case_transition(actor=case_mover(actor), case_id=case.pk, to_status=CaseStatus.MONITORING, reason=reason)
        return CaseStatus.MONITORING.value
    if current in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
        _case_note(actor, case, "hl7.case_unchanged", f"{reason}: the case is {current.value} and cannot reopen")
    return ""


# --- events --------------------------------------------------------------------------------------


def _visit(message: Message, *, required: bool) -> tuple[str, str]:
    system, value = visit_identifier(message)
    if required and not value:
        if not message.has("PV1"):
            raise Hl7Problem("the message has no PV1 segment", ack_code="AR", error_code="100", location="PV1")
        raise Hl7Problem("PV1-19 visit number is required for this event", error_code="101", location="PV1^1^19")
    return system, value


def _existing_encounter(actor: Actor, system: str, value: str) -> Encounter:
    encounter = Encounter.objects.filter(
        organization=actor.organization, identifier_system=system, identifier_value=value
    ).first()
    if encounter is None:
        raise Hl7Problem(f"no visit {value} is known for this patient to undo", error_code="204", location="PV1^1^19")
    return encounter


def _upsert(
    actor: Actor, patient: Patient, system: str, value: str, fields: dict[str, Any], locked: Encounter | None
) -> Encounter:
    encounter, _ = encounter_upsert(
        actor=actor,
        patient_id=patient.pk,
        identifier_system=system,
        identifier_value=value,
        patient=patient,
        locked=locked,
        looked_up=True,
        **fields,
    )
    return encounter


def apply_adt(actor: Actor, message: Message) -> Applied:
    trigger = message.header.trigger
    if trigger == "A40":
        return merge_patients(actor, message)
    control = message.header.control_id
    reason = f"ADT {trigger} (message {control})"
    if trigger in CANCELS:
        patient = find_patient(actor, _require_ids(message))
        if patient is None:
            raise Hl7Problem("the patient in PID-3 is not known here: nothing to cancel", error_code="204")
        status = "matched"
    else:
        patient, status = register_or_update(actor, message, update=trigger in REGISTERING)
    applied = Applied(patient=patient, summary={"event": trigger, "patient": status})
    system, value = _visit(message, required=trigger not in {"A04", "A05", "A08"})
    if not value:
        return applied
    fields = encounter_fields(message)
    # Locked now (after the patient, as before) and handed to the services, which then need not read it.
    current: Encounter | None = _first(
        _ENCOUNTER_LOCKED(organization_id=actor.organization_id, system=system, value=value)
    )
    new = current is None
    if trigger in ("A01", "A04", "A06", "A07", "A02"):
        fields["status"] = "in-progress"
        if trigger == "A01" and "admit_at" not in fields:
            fields["admit_at"] = event_time(message)
    elif trigger == "A05":
        fields["status"] = "planned"
        expected = hl7_datetime(message.get("PV2", 8, 1, 1), "PV2-8")
        if expected is not None and "admit_at" not in fields:
            fields["admit_at"] = expected
    elif trigger == "A03":
        fields["status"] = "finished"
        fields.setdefault("discharge_at", event_time(message))
    elif trigger == "A08":
        if new:
            fields["status"] = "finished" if "discharge_at" in fields else "in-progress"
        else:
            fields.pop("discharge_at", None)  # a discharge comes with A03, not with a demographics update
    elif trigger == "A11":
        fields = {"status": "cancelled"}
    elif trigger == "A12":
        prior = "^".join(message.get("PV1", 6, 1, n, 1).strip() for n in (1, 2, 3)).rstrip("^")
        fields = {"location_text": prior[:200]} if prior else {}
    elif trigger == "A13":
        fields = {"status": "in-progress", "discharge_at": None, "discharge_disposition": {}}
    if new and trigger in ("A11", "A12", "A13"):
        _existing_encounter(actor, system, value)  # raises: nothing to undo
    if new:
        fields.setdefault("encounter_class", encounter_class_of_v2(""))
        fields.setdefault("status", "in-progress")
    stamped = None if current is None else current.updated_at
    encounter = _upsert(actor, patient, system, value, fields, current)
    applied.encounter = encounter
    # encounter_upsert writes nothing (and stamps nothing) when the message changes nothing on the visit.
    applied.summary["encounter"] = "created" if new else "updated" if encounter.updated_at != stamped else "unchanged"
    if trigger in ("A01", "A04", "A06"):
        case = case_open_for_admission(
            actor=actor, encounter_id=encounter.pk, diagnoses=diagnoses(message), locked=encounter, new_encounter=new
        )
        if case is not None:
            applied.summary["case"] = case.pk
    elif trigger == "A03":
        expired = fields.get("discharge_disposition", {}).get("code") in EXPIRED_DISPOSITIONS
        # ``encounter`` was just read under lock and saved by encounter_upsert: its case link is current.
        steps = case_follow_discharge(actor, encounter, reason, expired=expired)
        applied.summary["case_steps"] = steps
    elif trigger == "A11":
        applied.summary["case"] = case_follow_cancel_admit(actor, encounter, reason)
    elif trigger == "A13":
        applied.summary["case"] = case_follow_cancel_discharge(actor, encounter, reason)
    return applied


def merge_patients(actor: Actor, message: Message) -> Applied:
    """A40: the patient in MRG-1 (prior) is the same person as the one in PID-3 (surviving).

    CaseBridge moves what the sender owns: the prior patient's identifiers from this organization and
    its visits (encounters) go to the surviving patient, so later messages with either MRN land on one
    chart. Cases, tasks, notes, plans and documents stay on the prior patient's record (a feed never
    moves case managers' work between charts); an ``Hl7PatientMerge`` row and audit entries on both
    patients record the merge for a person to review. Nothing is deleted. When only the prior patient
    is known, it simply takes the new identifiers and demographics.
    """
    surviving_ids = _require_ids(message)
    prior_ids = _require_ids(message, "MRG", 1)
    survivor = find_patient(actor, surviving_ids)
    prior = find_patient(actor, prior_ids, segment="MRG", field_no=1)
    applied = Applied(summary={"event": "A40"})
    if prior is None:
        survivor, status = register_or_update(actor, message, update=True)
        applied.patient = survivor
        applied.summary.update(patient=status, merge="prior patient unknown: nothing to merge")
        return applied
    if survivor is None or survivor.pk == prior.pk:
        _add_missing_identifiers(actor, prior, surviving_ids)
        survivor, _ = register_or_update(actor, message, update=True)
        applied.patient = survivor
        applied.summary.update(patient="updated", merge="identifiers added to the only known patient")
        record = Hl7PatientMerge.objects.create(
            organization=actor.organization,
            surviving=survivor,
            prior=None,
            prior_identifiers=[dataclasses.asdict(i) for i in prior_ids],
            merged_at=clock.now(),
        )
        applied.summary["merge_id"] = record.pk
        return applied
    survivor, _ = register_or_update(actor, message, update=True)
    moved_ids = list(
        PatientIdentifier.objects.filter(
            patient=prior, kind__in=[IdentifierKind.MRN, IdentifierKind.OTHER], assigner=actor.organization
        ).values_list("pk", flat=True)
    )
    PatientIdentifier.objects.filter(pk__in=moved_ids).update(patient=survivor)
    moved_encounters = list(
        Encounter.objects.filter(patient=prior, organization=actor.organization).values_list("pk", flat=True)
    )
    Encounter.objects.filter(pk__in=moved_encounters).update(patient=survivor, updated_at=clock.now())
    record = Hl7PatientMerge.objects.create(
        organization=actor.organization,
        surviving=survivor,
        prior=prior,
        prior_identifiers=[dataclasses.asdict(i) for i in prior_ids],
        moved_identifier_ids=moved_ids,
        moved_encounter_ids=moved_encounters,
        merged_at=clock.now(),
    )
    detail = {"merge_id": record.pk, "surviving": survivor.pk, "prior": prior.pk, "encounters": moved_encounters}
    audit_record(actor=actor, action="patient.merge", subject=record, patient=survivor, detail=detail)
    audit_record(actor=actor, action="patient.merged_away", subject=record, patient=prior, detail=detail)
    applied.patient = survivor
    applied.summary.update(patient="merged", merge_id=record.pk, encounters_moved=len(moved_encounters))
    return applied
