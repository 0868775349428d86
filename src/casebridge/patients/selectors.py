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
from casebridge.patients.models import Patient

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


def patient_search(
    *,
    actor: Actor,
    name: str = "",
    birth_date: dt.date | None = None,
    identifier: str = "",
    limit: int = SEARCH_LIMIT,
    offset: int = 0,
) -> list[Patient]:
    """Find patients by name ("family", "family, given" or "given family"), birth date or identifier.

    Every patient listed gets a ``patient.search`` audit event: a result list discloses who is a patient here.
    """
    require(actor, "patient.view")
    qs = patients_visible(actor)
    name = " ".join(name.split())
    if name:
        if "," in name:
            family, _, given = (p.strip() for p in name.partition(","))
            qs = qs.filter(family_name__istartswith=family, given_name__istartswith=given)
        elif " " in name:
            first, _, last = name.partition(" ")
            qs = qs.filter(
                Q(given_name__istartswith=first, family_name__istartswith=last)
                | Q(family_name__istartswith=first, given_name__istartswith=last)
            )
        else:
            qs = qs.filter(Q(family_name__istartswith=name) | Q(given_name__istartswith=name))
    if birth_date:
        qs = qs.filter(birth_date=birth_date)
    if identifier:
        qs = qs.filter(identifiers__value=identifier.strip())
    patients = list(qs.order_by("family_name", "given_name", "pk")[offset : offset + limit])
    if patients:
        audit_record_many(
            actor=actor,
            action="patient.search",
            patient_ids=[p.pk for p in patients],
            detail={"name": name, "birth_date": birth_date.isoformat() if birth_date else "", "identifier": identifier},
        )
    return patients
