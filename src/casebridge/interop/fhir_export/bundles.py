"""A patient or a case as a FHIR R4 Bundle, audited and scoped to the actor.

The bundle holds the patient's (or the case's) records and every Organization and Practitioner they
refer to, so each reference in it resolves inside it (a receiver, or CaseBridge's own importer, needs
nothing else). Each resource is validated with fhir.resources as it is built.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from typing import Any

from django.db.models import Q

from casebridge.accounts.models import Organization, User
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import Case
from casebridge.cases.selectors import case_get
from casebridge.interop.fhir_export import clinical, ids, mappers
from casebridge.interop.fhir_export.resources import EXPORT_TYPES
from casebridge.interop.fhir_export.validate import validated
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.patients.models import Patient
from casebridge.patients.selectors import patient_get

Resource = dict[str, Any]

# What belongs to a case, per resource type. Coverage is the patient's: it pays for the case.
CASE_FILTERS: dict[str, Callable[[Case], Q]] = {
    "Patient": lambda c: Q(pk=c.patient_id),
    "Coverage": lambda c: Q(patient_id=c.patient_id),
    "EpisodeOfCare": lambda c: Q(pk=c.pk),
    "CareTeam": lambda c: Q(pk=c.pk),
    "CarePlan": lambda c: Q(case_id=c.pk),
    "Goal": lambda c: Q(care_plan__case_id=c.pk),
    "ServiceRequest": lambda c: Q(goal__care_plan__case_id=c.pk),
    "Task": lambda c: Q(case_id=c.pk),
    "Communication": lambda c: Q(case_id=c.pk),
    "Encounter": lambda c: Q(hospital_case_id=c.pk),
    "Condition": lambda c: Q(encounter__hospital_case_id=c.pk),
}


def _rendered(actor: Actor, criteria: Callable[[str], Q]) -> list[Resource]:
    out: list[Resource] = []
    for rtype, spec in EXPORT_TYPES.items():
        if not spec.available():
            continue
        for row in spec.visible(actor).filter(criteria(rtype)).order_by("pk"):
            out.append(validated(spec.render(row)))
    return out


def patient_resources(actor: Actor, patient_id: int) -> list[Resource]:
    """Everything about the patient the actor may see, with the directory entries it refers to.
    The caller has checked the patient is visible and audits the disclosure."""

    def criteria(rtype: str) -> Q:
        return Q(**{EXPORT_TYPES[rtype].patient_field: patient_id})

    resources = _rendered(actor, criteria)
    return resources + directory_resources(resources)


def case_resources(actor: Actor, case: Case) -> list[Resource]:
    resources = _rendered(actor, lambda rtype: CASE_FILTERS[rtype](case))
    return resources + directory_resources(resources)


def _references(node: Any) -> Iterator[str]:
    if isinstance(node, dict):
        ref = node.get("reference")
        if isinstance(ref, str):
            yield ref
        for value in node.values():
            yield from _references(value)
    elif isinstance(node, list):
        for value in node:
            yield from _references(value)


def directory_resources(resources: list[Resource]) -> list[Resource]:
    """The Organizations and Practitioners the resources refer to. Names and addresses of organizations
    and staff are directory data: the records that refer to them were already scoped."""
    wanted: dict[str, set[int]] = {"organization": set(), "user": set(), "extorg": set(), "practitioner": set()}
    for ref in _references(resources):
        rtype, _, fid = ref.partition("/")
        if rtype not in ("Organization", "Practitioner"):
            continue
        for kind, ids_wanted in wanted.items():
            pk = ids.pk_of(kind, fid)
            if pk is not None:
                ids_wanted.add(pk)
    out = [mappers.organization(o) for o in Organization.objects.filter(pk__in=wanted["organization"]).order_by("pk")]
    out += [mappers.practitioner(u) for u in User.objects.filter(pk__in=wanted["user"]).order_by("pk")]
    external = clinical.clinical_model("ExternalOrganization")
    if external is not None and wanted["extorg"]:
        out += [
            clinical.external_organization(o) for o in external.objects.filter(pk__in=wanted["extorg"]).order_by("pk")
        ]
    practitioners = clinical.clinical_model("Practitioner")
    if practitioners is not None and wanted["practitioner"]:
        out += [
            clinical.clinical_practitioner(p)
            for p in practitioners.objects.filter(pk__in=wanted["practitioner"]).order_by("pk")
        ]
    return [validated(r) for r in out]


def entry(resource: Resource, base_url: str = "", search_mode: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    if base_url:
        out["fullUrl"] = f"{base_url.rstrip('/')}/{resource['resourceType']}/{resource['id']}"
    out["resource"] = resource
    if search_mode:
        out["search"] = {"mode": search_mode}
    return out


def collection(resources: list[Resource], *, base_url: str = "") -> dict[str, Any]:
    now = clock.now().isoformat()
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "meta": {"lastUpdated": now},
        "type": "collection",
        "timestamp": now,
        "entry": [entry(r, base_url) for r in resources],
    }


def patient_export(*, actor: Actor, patient_id: int, base_url: str = "") -> dict[str, Any]:
    """The patient's records as a collection Bundle. Audited as ``patient.export``; a patient outside the
    actor's reach is not found."""
    patient: Patient = patient_get(actor=actor, patient_id=patient_id, audit=False)
    require(actor, "case.view")
    resources = patient_resources(actor, patient.pk)
    audit_record(
        actor=actor,
        action="patient.export",
        subject=patient,
        patient=patient,
        detail={"format": "fhir-r4-bundle", "resources": len(resources)},
    )
    return collection(resources, base_url=base_url)


def case_export(*, actor: Actor, case_id: int, base_url: str = "") -> dict[str, Any]:
    """The case's content as a collection Bundle. Audited as ``case.export`` with the case's patient."""
    case = case_get(actor=actor, case_id=case_id, audit=False)
    require(actor, "patient.view")
    resources = case_resources(actor, case)
    audit_record(
        actor=actor,
        action="case.export",
        subject=case,
        patient=case.patient_id,
        detail={"format": "fhir-r4-bundle", "resources": len(resources)},
    )
    return collection(resources, base_url=base_url)
