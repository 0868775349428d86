"""Reads of patients, scoped to the actor's organization plus explicit care-team links."""

from __future__ import annotations

import datetime as dt

from django.db.models import Q, QuerySet

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record, audit_record_many
from casebridge.cases.models import Case
from casebridge.cases.selectors import linked_case_ids
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.patients.models import Patient, PatientIdentifier

SEARCH_LIMIT = 50


def patients_visible(actor: Actor) -> QuerySet[Patient]:
    linked_patients = Case.objects.filter(pk__in=linked_case_ids(actor)).values("patient_id")
    return Patient.objects.filter(Q(organization_id=actor.organization_id) | Q(pk__in=linked_patients))


def patients_owned(actor: Actor) -> QuerySet[Patient]:
    return Patient.objects.filter(organization_id=actor.organization_id)


def patient_get(*, actor: Actor, patient_id: int, audit: bool = True) -> Patient:
    require(actor, "patient.view")
    patient = patients_visible(actor).filter(pk=patient_id).first()
    if patient is None:
        raise NotFound(f"No patient {patient_id}.")
    if audit:
        audit_record(actor=actor, action="patient.read", subject=patient, patient=patient)
    return patient


def patient_owned_get(*, actor: Actor, patient_id: int) -> Patient:
    patient = patients_owned(actor).filter(pk=patient_id).first()
    if patient is None:
        raise NotFound(f"No patient {patient_id}.")
    return patient


def _prefix_range(field: str, prefix: str) -> Q:
    """``field`` starts with ``prefix`` (lower-case), as a range both databases answer from an index."""
    upper = prefix[:-1] + chr(ord(prefix[-1]) + 1)
    return Q(**{f"{field}__gte": prefix, f"{field}__lt": upper})


def _name_filter(name: str) -> Q:
    name = name.lower()
    if "," in name:
        family, _, given = (p.strip() for p in name.partition(","))
        q = _prefix_range("family_key", family) if family else Q()
        return q & _prefix_range("given_key", given) if given else q
    if " " in name:
        first, _, last = name.partition(" ")
        return (_prefix_range("given_key", first) & _prefix_range("family_key", last)) | (
            _prefix_range("family_key", first) & _prefix_range("given_key", last)
        )
    return _prefix_range("family_key", name)


def patient_search(
    *,
    actor: Actor,
    name: str = "",
    birth_date: dt.date | None = None,
    identifier: str = "",
    limit: int = SEARCH_LIMIT,
    offset: int = 0,
) -> list[Patient]:
    """Find patients by last name, "Last, First" or "First Last" (prefixes), birth date or identifier.

    Own-organization patients and care-team-linked ones are fetched by two indexed queries and
    merged, because one query with an OR across both sets cannot use the name index.
    Every patient listed gets a ``patient.search`` audit event: a result list discloses who is a patient here.
    """
    require(actor, "patient.view")
    name = " ".join(name.replace(",", ", ").split()).replace(" ,", ",")
    criteria = Q()
    if name.strip(", "):
        criteria &= _name_filter(name.strip(", "))
    if birth_date:
        criteria &= Q(birth_date=birth_date)
    if identifier:
        criteria &= Q(pk__in=PatientIdentifier.objects.filter(value=identifier.strip()).values("patient_id"))
    order = ("family_key", "given_key", "pk")
    window = offset + limit
    owned = list(patients_owned(actor).filter(criteria).order_by(*order)[:window])
    linked_ids = Case.objects.filter(pk__in=linked_case_ids(actor)).values("patient_id")
    linked = list(
        Patient.objects.filter(criteria, pk__in=linked_ids)
        .exclude(organization_id=actor.organization_id)
        .order_by(*order)[:window]
    )
    merged = sorted(owned + linked, key=lambda p: (p.family_key, p.given_key, p.pk))
    patients = merged[offset:window]
    if patients:
        audit_record_many(
            actor=actor,
            action="patient.search",
            patient_ids=[p.pk for p in patients],
            detail={"name": name, "birth_date": birth_date.isoformat() if birth_date else "", "identifier": identifier},
        )
    return patients
