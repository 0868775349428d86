from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import IntegrityError, transaction

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, ValidationFailed
from casebridge.kernel.numbers import is_us_zip
from casebridge.kernel.saving import save_object
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version
from casebridge.patients.identifiers import mbi_is_valid, normalize_mbi
from casebridge.patients.models import Contact, Coverage, IdentifierKind, Patient, PatientIdentifier
from casebridge.patients.selectors import patients_owned

PATIENT_FIELDS = (
    "family_name",
    "given_name",
    "birth_date",
    "sex",
    "address_line",
    "city",
    "state",
    "postal_code",
    "phone",
    "language",
    "interpreter_needed",
    "goals_in_own_words",
    "advance_directive_on_file",
    "consent_to_share",
    "deceased",
)


def _check_patient(patient: Patient) -> None:
    validate_model(patient, trust_loaded=True)
    if patient.birth_date and patient.birth_date > clock.today():
        raise ValidationFailed.on("birth_date", "cannot be in the future")
    if patient.birth_date and patient.birth_date < dt.date(1890, 1, 1):
        raise ValidationFailed.on("birth_date", "is before 1890")
    if patient.postal_code and not is_us_zip(patient.postal_code):
        raise ValidationFailed.on("postal_code", "must be a ZIP code like 02134 or 02134-1234")


def patient_create(
    *, actor: Actor, mrn: str = "", identifiers: list[dict[str, Any]] | None = None, **fields: Any
) -> Patient:
    """Register a patient in the actor's organization, with an MRN issued by it when given."""
    require(actor, "patient.create")
    unknown = set(fields) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a patient field")
    patient = Patient(organization=actor.organization, **fields)
    if patient.consent_to_share:
        patient.consent_recorded_at = clock.now()
    _check_patient(patient)
    wanted = list(identifiers or [])
    if mrn:
        wanted.insert(0, {"kind": IdentifierKind.MRN, "value": mrn})
    with transaction.atomic():
        save_object(patient)
        for ident in wanted:
            _identifier_add(actor=actor, patient=patient, **ident)
        audit_record(actor=actor, action="patient.create", subject=patient, patient=patient)
    return patient


def patient_update(
    *, actor: Actor, patient_id: int, version: int | None, locked: Patient | None = None, **changes: Any
) -> Patient:
    """``locked``: the patient's row as the caller read it with ``select_for_update`` in the current
    transaction (e.g. the HL7 feed, which matched the patient under lock); it is used instead of reading
    and locking the row again, with the same organization and version checks."""
    require(actor, "patient.change")
    unknown = set(changes) - set(PATIENT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a patient field")
    with transaction.atomic():
        patient = lock_at_version(
            lambda: patients_owned(actor),
            patient_id,
            version,
            "patient",
            held=locked,
            organization_id=actor.organization_id,
        )
        if patient.organization_id == actor.organization_id:
            patient.organization = actor.organization  # the actor's row: no existence query when validating
        consent_before = patient.consent_to_share
        for k, v in changes.items():
            setattr(patient, k, v)
        if patient.consent_to_share and not consent_before:
            patient.consent_recorded_at = clock.now()
        _check_patient(patient)
        save_object(patient)
        audit_record(
            actor=actor, action="patient.update", subject=patient, patient=patient, detail={"fields": sorted(changes)}
        )
    return patient


def _identifier_add(
    *, actor: Actor, patient: Patient, kind: str, value: str, assigner: Organization | None = None, system: str = ""
) -> PatientIdentifier:
    value = value.strip()
    if kind not in IdentifierKind.values:
        raise ValidationFailed.on("kind", f"must be one of {', '.join(IdentifierKind.values)}")
    if not value:
        raise ValidationFailed.on("value", "is required")
    if kind == IdentifierKind.MBI:
        value = normalize_mbi(value)
        if not mbi_is_valid(value):
            raise ValidationFailed.on(
                "value", "is not a valid Medicare Beneficiary Identifier (11 characters, CMS format)"
            )
        assigner = None
    elif kind == IdentifierKind.MRN and assigner is None:
        assigner = actor.organization
    ident = PatientIdentifier(patient=patient, kind=kind, value=value, assigner=assigner, system=system)
    validate_model(ident, exclude=["patient"], unique=False, trust_loaded=True)
    taken = f"{value} is already assigned to another patient"
    holders = None  # what the database constraint cannot see
    if assigner is None:
        # NULL assigners never collide: within one organization an MBI or unassigned ID names one patient;
        # across organizations it is the same person's.
        holders = PatientIdentifier.objects.filter(
            kind=kind, value=value, assigner__isnull=True, patient__organization_id=patient.organization_id
        )
    elif not system:
        # Stored without a system, the number matches the same value under any system (see
        # identifiers.identifier_holder), so it must not be another patient's number under any system.
        holders = PatientIdentifier.objects.filter(kind=kind, value=value, assigner=assigner).exclude(patient=patient)
    if holders is not None and holders.exists():
        raise ValidationFailed.on("value", taken)
    try:
        with transaction.atomic():
            save_object(ident)
    except IntegrityError as exc:
        raise ValidationFailed.on("value", taken) from exc
    return ident


def identifier_add(
    *, actor: Actor, patient_id: int, kind: str, value: str, assigner_id: int | None = None, system: str = ""
) -> PatientIdentifier:
    require(actor, "patient.change")
    assigner = Organization.objects.filter(pk=assigner_id).first() if assigner_id else None
    if assigner_id and assigner is None:
        raise ValidationFailed.on("assigner_id", f"no organization {assigner_id}")
    with transaction.atomic():
        patient = patients_owned(actor).select_for_update().filter(pk=patient_id).first()
        if patient is None:
            raise NotFound(f"No patient {patient_id}.")
        ident = _identifier_add(
            actor=actor, patient=patient, kind=kind, value=value, assigner=assigner, system=system[:200]
        )
        audit_record(actor=actor, action="patient.identifier.add", subject=ident, patient=patient)
    return ident


CONTACT_FIELDS = (
    "name",
    "relationship",
    "phone",
    "is_caregiver",
    "able_to_give_care",
    "availability",
    "lives_with_patient",
    "is_emergency_contact",
)


def contact_add(*, actor: Actor, patient_id: int, **fields: Any) -> Contact:
    require(actor, "patient.change")
    unknown = set(fields) - set(CONTACT_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a contact field")
    with transaction.atomic():
        patient = patients_owned(actor).filter(pk=patient_id).first()
        if patient is None:
            raise NotFound(f"No patient {patient_id}.")
        contact = Contact(patient=patient, **fields)
        validate_model(contact)
        contact.save()
        audit_record(actor=actor, action="patient.contact.add", subject=contact, patient=patient)
    return contact


COVERAGE_FIELDS = (
    "insurer_id",
    "payer_name",
    "plan_name",
    "member_id",
    "subscriber_name",
    "subscriber_relationship",
    "period_start",
    "period_end",
    "order",
)


def coverage_add(*, actor: Actor, patient_id: int, **fields: Any) -> Coverage:
    """Record a coverage. Only one active coverage may hold each order (primary, secondary...)."""
    require(actor, "patient.change")
    unknown = set(fields) - set(COVERAGE_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a coverage field")
    insurer_id = fields.pop("insurer_id", None)
    insurer = Organization.objects.filter(pk=insurer_id).first() if insurer_id is not None else None
    if insurer_id is not None and insurer is None:
        raise ValidationFailed.on("insurer_id", f"no organization {insurer_id}")
    if insurer is None and not fields.get("payer_name"):
        raise ValidationFailed.on("payer_name", "name the payer or choose an insurer on the platform")
    if insurer is not None and insurer.org_type != "insurer":
        raise ValidationFailed.on("insurer_id", f"{insurer.name} is not a health insurer")
    if insurer is not None and not fields.get("payer_name"):
        fields["payer_name"] = insurer.name
    with transaction.atomic():
        patient = patients_owned(actor).select_for_update().filter(pk=patient_id).first()
        if patient is None:
            raise NotFound(f"No patient {patient_id}.")
        coverage = Coverage(patient=patient, insurer=insurer, **fields)
        validate_model(coverage)
        if coverage.period_end and coverage.period_end < coverage.period_start:
            raise ValidationFailed.on("period_end", "is before the start of the period")
        if patient.coverages.filter(active=True, order=coverage.order).exists():
            raise ValidationFailed.on(
                "order", f"the patient already has an active {coverage.get_order_display().lower()} coverage"
            )
        coverage.save()
        audit_record(actor=actor, action="coverage.add", subject=coverage, patient=patient)
    return coverage


def coverage_end(*, actor: Actor, coverage_id: int, period_end: dt.date) -> Coverage:
    require(actor, "patient.change")
    with transaction.atomic():
        coverage = (
            Coverage.objects.select_for_update()
            .filter(pk=coverage_id, patient__organization_id=actor.organization_id)
            .first()
        )
        if coverage is None:
            raise NotFound(f"No coverage {coverage_id}.")
        if period_end < coverage.period_start:
            raise ValidationFailed.on("period_end", "is before the start of the period")
        coverage.period_end = period_end
        coverage.active = False
        coverage.save()
        audit_record(actor=actor, action="coverage.end", subject=coverage, patient=coverage.patient_id)
    return coverage
