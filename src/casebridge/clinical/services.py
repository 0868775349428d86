"""Writes of clinical records that arrive one at a time (HL7 v2 ADT, forms), and the admission rule.

Bulk FHIR import writes the same models in batches (``casebridge.interop.fhir``) with the same
field rules; an HL7 feed calls ``encounter_upsert`` then ``case_open_for_admission`` per message.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import Case, CaseType
from casebridge.cases.services import case_open
from casebridge.clinical import admissions
from casebridge.clinical.coding import ENCOUNTER_STATUSES, ICD10CM, EncounterClass
from casebridge.clinical.models import (
    AdmissionCaseMode,
    AdmissionCaseRule,
    Condition,
    Encounter,
    ExternalOrganization,
    Location,
    Practitioner,
)
from casebridge.clinical.signals import admission_case_opened
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, ValidationFailed
from casebridge.kernel.prepared import PreparedQuery
from casebridge.kernel.saving import save_object
from casebridge.patients.models import Patient
from casebridge.patients.selectors import patients_owned
from casebridge.tasks.models import WorkQueue
from casebridge.tasks.services import task_create

INITIAL_REVIEW_TITLE = "Initial utilization review"
INITIAL_REVIEW_KIND = "initial_review"

# --- admission rule -----------------------------------------------------------------------------


# Read for every admission an HL7 feed receives: compiled once (see kernel.prepared).
_SAVED_RULE = PreparedQuery(
    AdmissionCaseRule,
    lambda organization_id: AdmissionCaseRule.objects.filter(organization_id=organization_id).order_by("pk")[:1],
    organization_id=int,
)


def admission_rule_for(organization: Organization) -> AdmissionCaseRule:
    """The organization's saved rule, or the default: hospitals open a case for every inpatient and
    observation admission; other organization types open none until they choose."""
    saved = _SAVED_RULE(organization_id=organization.pk)
    if saved:
        return saved[0]
    mode = AdmissionCaseMode.EVERY_ADMISSION if organization.org_type == "hospital" else AdmissionCaseMode.OFF
    return AdmissionCaseRule(
        organization=organization,
        mode=mode,
        encounter_classes=sorted(admissions.AdmissionPolicy().encounter_classes),
    )


def policy_of(rule: AdmissionCaseRule) -> admissions.AdmissionPolicy:
    return admissions.AdmissionPolicy(
        mode=rule.mode,
        encounter_classes=frozenset(rule.encounter_classes or ()),
        condition_codes=tuple(rule.condition_codes or ()),
        review_due_hours=rule.review_due_hours,
    )


def admission_rule_set(
    *,
    actor: Actor,
    mode: str,
    encounter_classes: list[str] | None = None,
    condition_codes: list[str] | None = None,
    review_due_hours: int = admissions.DEFAULT_REVIEW_DUE_HOURS,
    review_queue_id: int | None = None,
) -> AdmissionCaseRule:
    """Set when incoming admissions open hospital cases. Organization admins decide this."""
    require(actor, "organization.manage")
    if mode not in admissions.MODES:
        raise ValidationFailed.on("mode", f"must be one of {', '.join(admissions.MODES)}")
    classes = sorted(set(encounter_classes if encounter_classes is not None else admissions.ADMISSION_CLASSES))
    unknown = [c for c in classes if c not in EncounterClass.VALUES]
    if unknown:
        raise ValidationFailed.on("encounter_classes", f"unknown class {unknown[0]!r}")
    codes = sorted({c.strip().upper() for c in condition_codes or () if c.strip()})
    if mode == admissions.LISTED_CONDITIONS and not codes:
        raise ValidationFailed.on("condition_codes", "list at least one condition code for this mode")
    if not 1 <= review_due_hours <= 24 * 14:
        raise ValidationFailed.on("review_due_hours", "must be between 1 and 336 hours")
    queue = None
    if review_queue_id is not None:
        queue = WorkQueue.objects.filter(pk=review_queue_id, organization=actor.organization).first()
        if queue is None:
            raise ValidationFailed.on("review_queue_id", f"no queue {review_queue_id} in {actor.organization.name}")
    with transaction.atomic():
        rule, _ = AdmissionCaseRule.objects.select_for_update().get_or_create(organization=actor.organization)
        rule.mode = mode
        rule.encounter_classes = classes
        rule.condition_codes = codes
        rule.review_due_hours = review_due_hours
        rule.review_queue = queue
        rule.updated_by = actor.user
        rule.save()
        audit_record(
            actor=actor,
            action="admission_rule.set",
            subject=rule,
            detail={"mode": mode, "classes": classes, "codes": codes, "hours": review_due_hours},
        )
    return rule


# --- encounters ---------------------------------------------------------------------------------

ENCOUNTER_FIELDS = (
    "status",
    "encounter_class",
    "class_system",
    "class_code",
    "types",
    "admit_at",
    "discharge_at",
    "admission_source",
    "discharge_disposition",
    "location_id",
    "location_text",
    "attending_id",
    "attending_name",
    "service_provider_id",
    "reasons",
)
_DIRECTORY_FIELDS = {
    "location_id": Location,
    "attending_id": Practitioner,
    "service_provider_id": ExternalOrganization,
}


def encounter_check(values: dict[str, Any]) -> None:
    """Field rules shared by ``encounter_upsert`` and the bulk FHIR importer."""
    if values.get("status") not in ENCOUNTER_STATUSES:
        raise ValidationFailed.on("status", f"must be a FHIR EncounterStatus ({', '.join(sorted(ENCOUNTER_STATUSES))})")
    if values.get("encounter_class") not in EncounterClass.VALUES:
        raise ValidationFailed.on("encounter_class", f"must be one of {', '.join(sorted(EncounterClass.VALUES))}")
    admit, discharge = values.get("admit_at"), values.get("discharge_at")
    if admit is not None and discharge is not None and discharge < admit:
        raise ValidationFailed.on("discharge_at", "is before the admission")


def encounter_upsert(
    *,
    actor: Actor,
    patient_id: int,
    identifier_system: str,
    identifier_value: str,
    patient: Patient | None = None,
    locked: Encounter | None = None,
    looked_up: bool = False,
    **fields: Any,
) -> tuple[Encounter, bool]:
    """Create or update the encounter the sender knows by ``identifier_system|identifier_value``
    (FHIR Encounter.identifier; HL7 v2 PV1-19 visit number with its assigning authority).

    Only the fields given change, so an ADT A08 that carries a new unit leaves the admit time alone;
    when none of them differs from what is stored (and the patient is the same), nothing is written.
    Returns ``(encounter, created)``. Call ``case_open_for_admission`` afterwards for admissions.

    A caller that already read rows in the current transaction may pass them so they are not read
    again: ``patient``, the patient's row (it must be ``patient_id`` in the actor's organization), and
    ``locked``, the encounter's row read with ``select_for_update`` (it must be this organization's
    encounter with this identifier). ``looked_up=True`` with no ``locked`` says the caller looked for the
    encounter in this transaction, after taking the lock its writers queue on (the HL7 feed: the patient's
    row), and found none, so it is created without a second look.
    """
    require(actor, "patient.change")
    unknown = set(fields) - set(ENCOUNTER_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not an encounter field")
    if not identifier_value.strip():
        raise ValidationFailed.on("identifier_value", "the visit number is required")
    for name, model in _DIRECTORY_FIELDS.items():
        pk = fields.get(name)
        if pk is not None and not model._default_manager.filter(pk=pk, organization=actor.organization).exists():
            raise ValidationFailed.on(name, f"no {model._meta.verbose_name} {pk} in {actor.organization.name}")
    with transaction.atomic():
        if patient is None or patient.pk != patient_id or patient.organization_id != actor.organization_id:
            patient = patients_owned(actor).filter(pk=patient_id).first()
        if patient is None:
            raise NotFound(f"No patient {patient_id}.")
        if (
            locked is not None
            and locked.organization_id == actor.organization_id
            and (locked.identifier_system, locked.identifier_value) == (identifier_system, identifier_value.strip())
        ):
            encounter: Encounter | None = locked
        elif locked is None and looked_up:
            encounter = None
        else:
            encounter = (
                Encounter.objects.select_for_update()
                .filter(
                    organization=actor.organization,
                    identifier_system=identifier_system,
                    identifier_value=identifier_value.strip(),
                )
                .first()
            )
        created = encounter is None
        if encounter is None:
            encounter = Encounter(
                organization=actor.organization,
                patient=patient,
                identifier_system=identifier_system,
                identifier_value=identifier_value.strip(),
            )
        else:
            same = encounter.patient_id == patient.pk and all(getattr(encounter, k) == v for k, v in fields.items())
            # A visit moved to another patient (e.g. after a merge): follow the sender. (For the same
            # patient this only keeps the row at hand for the next service.)
            encounter.patient = patient
            if same:
                # Nothing new (an A08 that only updated demographics, a message sent again): no
                # UPDATE, no history row, no audit entry for a change that did not happen.
                return encounter, False
        for name, value in fields.items():
            setattr(encounter, name, value)
        encounter_check({"status": encounter.status, "encounter_class": encounter.encounter_class, **fields})
        save_object(encounter)
        audit_record(
            actor=actor,
            action="encounter.create" if created else "encounter.update",
            subject=encounter,
            patient=patient,
            detail={"fields": sorted(fields)},
        )
    return encounter, created


def _admission_codes(encounter: Encounter, extra: list[dict[str, str]], *, conditions: bool) -> list[dict[str, str]]:
    codings = [c for c in encounter.reasons if c.get("code")]
    rows = Condition.objects.filter(encounter=encounter).values("code_system", "code", "display") if conditions else ()
    for row in rows:
        if row["code"]:
            codings.append({"system": row["code_system"], "code": row["code"], "display": row["display"]})
    codings.extend(c for c in extra if c.get("code"))
    return codings


def case_open_for_admission(
    *,
    actor: Actor,
    encounter_id: int,
    diagnoses: list[dict[str, str]] | None = None,
    locked: Encounter | None = None,
    new_encounter: bool = False,
) -> Case | None:
    """Open a hospital case for an admission when the organization's rule says so, with its first task:
    the initial utilization review, due ``review_due_hours`` (default 24) after admission.

    Idempotent: an encounter that already has its case returns that case. ``diagnoses`` adds codings
    the caller knows (e.g. HL7 DG1 segments) to the encounter's reasons and linked conditions.
    Returns None when the rule does not open a case for this admission. ``locked``: the encounter's row
    as the caller read (or wrote) it under ``select_for_update`` in the current transaction, used
    instead of locking it again (e.g. just after ``encounter_upsert``). ``new_encounter=True``: the caller
    created the encounter in this transaction, so no condition is linked to it yet and none are read.
    """
    with transaction.atomic():
        if locked is not None and locked.pk == encounter_id and locked.organization_id == actor.organization_id:
            encounter: Encounter | None = locked
        else:
            encounter = (
                Encounter.objects.select_for_update().filter(pk=encounter_id, organization=actor.organization).first()
            )
        if encounter is None:
            raise NotFound(f"No encounter {encounter_id}.")
        if encounter.hospital_case_id is not None:
            return Case.objects.get(pk=encounter.hospital_case_id)
        rule = admission_rule_for(actor.organization)
        policy = policy_of(rule)
        codings = _admission_codes(encounter, list(diagnoses or ()), conditions=not new_encounter)
        if not admissions.should_open_case(
            policy,
            encounter_class=encounter.encounter_class,
            status=encounter.status,
            discharged=encounter.discharge_at is not None,
            codes=[c["code"] for c in codings],
        ):
            return None
        admit_at = encounter.admit_at or clock.now()
        case_diagnoses = [
            {"system": c.get("system") or ICD10CM, "code": c["code"], "display": c.get("display", "")} for c in codings
        ][:10]
        label = encounter.get_encounter_class_display()
        case = case_open(
            actor=actor,
            patient_id=encounter.patient_id,
            patient=encounter.patient if Encounter.patient.is_cached(encounter) else None,
            case_type=CaseType.HOSPITAL_STAY,
            reason=f"{label} admission {admit_at:%Y-%m-%d %H:%M}"[:300],
            diagnoses=case_diagnoses,
        )
        task_create(
            actor=actor,
            case_id=case.pk,
            case=case,
            title=INITIAL_REVIEW_TITLE,
            kind=INITIAL_REVIEW_KIND,
            due_at=admissions.review_due_at(admit_at, policy),
            queue_id=rule.review_queue_id,
        )
        encounter.hospital_case = case
        save_object(encounter, update_fields=["hospital_case", "updated_at"])
        audit_record(
            actor=actor,
            action="encounter.case_open",
            subject=encounter,
            patient=encounter.patient_id,
            detail={"case_id": case.pk, "rule": rule.mode},
        )
        admission_case_opened.send(sender=Encounter, actor=actor, encounter=encounter, case=case)
    return case


def admissions_pending_case(*, organization: Organization, encounter_ids: list[int]) -> list[int]:
    """Of these encounters, the ones that may need a case: admission classes, still open, no case yet."""
    if not encounter_ids:
        return []
    rule = admission_rule_for(organization)
    if rule.mode == AdmissionCaseMode.OFF:
        return []
    return list(
        Encounter.objects.filter(
            pk__any=encounter_ids,
            organization=organization,
            hospital_case__isnull=True,
            encounter_class__in=list(rule.encounter_classes or ()),
            discharge_at__isnull=True,
        ).values_list("pk", flat=True)
    )
