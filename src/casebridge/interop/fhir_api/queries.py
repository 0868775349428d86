"""Reads behind /fhir/r4: read, search and $everything, scoped to the actor and audited.

Every read of patient data writes audit events with the patient, as the REST API does: a read one event,
a search one per patient on the page returned (``fhir.search``; a search that finds nobody still leaves
one event without a patient), and $everything a ``patient.export``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record, audit_record_many
from casebridge.interop.fhir_api.registry import ApiType
from casebridge.interop.fhir_api.search_params import ParsedSearch
from casebridge.interop.fhir_export import bundles, ids
from casebridge.interop.fhir_export.validate import validated
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.patients.selectors import patient_get


def _require_clinical_view(actor: Actor) -> None:
    require(actor, "patient.view")
    require(actor, "case.view")


def resource_read(*, actor: Actor, spec: ApiType, fhir_id: str) -> dict[str, Any]:
    _require_clinical_view(actor)
    pk = ids.pk_of(spec.export.kind, fhir_id)
    row = spec.export.visible(actor).filter(pk=pk).first() if pk is not None else None
    if row is None:
        raise NotFound(f"{spec.name}/{fhir_id} is not known")
    resource = validated(spec.export.render(row))
    audit_record(
        actor=actor,
        action="fhir.read",
        subject=row,
        patient=spec.export.patient_id_of(row),
        detail={"resourceType": spec.name, "id": fhir_id},
    )
    return resource


@dataclass
class SearchPage:
    total: int
    resources: list[dict[str, Any]]


def resource_search(*, actor: Actor, spec: ApiType, search: ParsedSearch, query: str) -> SearchPage:
    _require_clinical_view(actor)
    qs = spec.export.visible(actor)
    for name, occurrences in search.criteria.items():
        param = spec.params[name]
        for alternatives in occurrences:
            qs = qs.filter(param.to_q(alternatives))
    qs = qs.order_by("pk")
    total = qs.count()
    rows = list(qs[search.offset : search.offset + search.count]) if search.offset < total else []
    resources = [validated(spec.export.render(row)) for row in rows]
    patient_ids = sorted({pid for pid in (spec.export.patient_id_of(r) for r in rows) if pid is not None})
    detail = {"resourceType": spec.name, "query": query, "total": total}
    if patient_ids:
        audit_record_many(actor=actor, action="fhir.search", patient_ids=patient_ids, detail=detail)
    else:
        audit_record(actor=actor, action="fhir.search", detail=detail)
    return SearchPage(total=total, resources=resources)


def patient_everything(*, actor: Actor, fhir_id: str) -> list[dict[str, Any]]:
    """Patient/$everything: the patient bundle's content, audited as an export of the patient."""
    _require_clinical_view(actor)
    pk = ids.pk_of("patient", fhir_id)
    if pk is None:
        raise NotFound(f"Patient/{fhir_id} is not known")
    patient = patient_get(actor=actor, patient_id=pk, audit=False)
    resources = bundles.patient_resources(actor, patient.pk)
    audit_record(
        actor=actor,
        action="patient.export",
        subject=patient,
        patient=patient,
        detail={"format": "fhir-r4-bundle", "operation": "$everything", "resources": len(resources)},
    )
    return resources
