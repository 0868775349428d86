"""The patient's clinical records as FHIR R4 resources, for the criteria engine.

A record imported from FHIR keeps the resource as received (``interop.SourceRecord``): that is what
the criteria see, so an expression reads the sender's data, not CaseBridge's digest of it. Records
that arrived another way (HL7 v2, forms) are mapped from their fields. Which records belong to the
reviewed stay is CaseBridge's own link (``encounter_id``), not the sender's reference.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from typing import Any

from django.db import models
from django.utils import timezone

from casebridge.clinical.models import (
    AllergyIntolerance,
    Condition,
    Encounter,
    MedicationRequest,
    Observation,
    Procedure,
)
from casebridge.hospital.rules.two_midnight import midnights_between
from casebridge.interop.models import SourceRecord
from casebridge.utilization.criteria import MIDNIGHTS_EXTENSION, PreparedRecord, Record

ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
_CLASS_CODES = {"inpatient": "IMP", "emergency": "EMER", "observation": "OBSENC", "ambulatory": "AMB"}


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat() if value else None


def _concept(row: Any) -> dict[str, Any]:
    codings = list(row.codings or [])
    if not codings and row.code:
        codings = [{"system": row.code_system, "code": row.code, "display": row.display}]
    return {"coding": codings, "text": row.display} if row.display else {"coding": codings}


def _status_concept(system: str, code: str) -> dict[str, Any] | None:
    return {"coding": [{"system": system, "code": code}]} if code else None


def _map(row: Any) -> dict[str, Any]:
    """A FHIR resource from a record's fields, for records with no source resource."""
    if isinstance(row, Condition):
        res: dict[str, Any] = {"resourceType": "Condition", "code": _concept(row), "onsetDateTime": _iso(row.onset_at)}
        res["clinicalStatus"] = _status_concept(
            "http://terminology.hl7.org/CodeSystem/condition-clinical", row.clinical_status
        )
        res["verificationStatus"] = _status_concept(
            "http://terminology.hl7.org/CodeSystem/condition-ver-status", row.verification_status
        )
    elif isinstance(row, Procedure):
        res = {
            "resourceType": "Procedure",
            "status": row.status or "unknown",
            "code": _concept(row),
            "performedPeriod": {"start": _iso(row.performed_start), "end": _iso(row.performed_end)},
        }
    elif isinstance(row, MedicationRequest):
        res = {
            "resourceType": "MedicationRequest",
            "status": row.status or "unknown",
            "intent": row.intent or "order",
            "medicationCodeableConcept": _concept(row),
            "authoredOn": _iso(row.authored_at),
        }
        if row.dosage_text:
            res["dosageInstruction"] = [{"text": row.dosage_text}]
    elif isinstance(row, Observation):
        res = {
            "resourceType": "Observation",
            "status": row.status or "unknown",
            "code": _concept(row),
            "effectiveDateTime": _iso(row.effective_at),
        }
        if row.value_quantity is not None:
            res["valueQuantity"] = {"value": row.value_quantity, "unit": row.value_unit}
        elif row.value_codings:
            res["valueCodeableConcept"] = {"coding": row.value_codings}
        elif row.value_text:
            res["valueString"] = row.value_text
        if row.components:
            res["component"] = row.components
    else:
        res = {"resourceType": "AllergyIntolerance", "code": _concept(row)}
    res["id"] = f"casebridge-{row.pk}"
    return {k: v for k, v in res.items() if v is not None}


def encounter_resource(
    encounter: Encounter, *, as_of: dt.datetime, source: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The reviewed Encounter, with the midnights crossed so far (to discharge or ``as_of``) as an extension."""
    if source is not None:
        res = dict(source)
    else:
        res = {
            "resourceType": "Encounter",
            "id": f"casebridge-{encounter.pk}",
            "status": encounter.status,
            "class": {"system": ACT_CODE, "code": _CLASS_CODES.get(encounter.encounter_class, encounter.class_code)},
            "type": [{"coding": list(t.get("coding", [t]))} if isinstance(t, dict) else t for t in encounter.types],
            "period": {"start": _iso(encounter.admit_at), "end": _iso(encounter.discharge_at)},
            "reasonCode": [{"coding": [c]} for c in encounter.reasons if isinstance(c, dict)],
        }
    extensions = [e for e in res.get("extension", []) if e.get("url") != MIDNIGHTS_EXTENSION]
    if encounter.admit_at is not None:
        end = encounter.discharge_at or as_of
        if end >= encounter.admit_at:
            crossed = midnights_between(encounter.admit_at, end, tz=timezone.get_current_timezone())
            extensions.append({"url": MIDNIGHTS_EXTENSION, "valueInteger": crossed})
    res["extension"] = extensions
    return res


_MODELS: tuple[type[models.Model], ...] = (Condition, Procedure, MedicationRequest, Observation, AllergyIntolerance)


def _sources(organization_id: int, label: str, ids: Iterable[int]) -> dict[int, dict[str, Any]]:
    wanted = list(ids)
    if not wanted:
        return {}
    rows = SourceRecord.objects.filter(
        organization_id=organization_id, target_model=label, target_id__in=wanted
    ).values_list("target_id", "resource")
    return {int(target): resource for target, resource in rows if isinstance(resource, dict)}


def patient_records(*, encounter: Encounter, as_of: dt.datetime) -> PreparedRecord:
    """Everything the criteria may look at for one review: the patient's records in the encounter's organization.

    Two queries per resource type (records, then their source resources), whatever the number of records.
    """
    org_id = encounter.organization_id
    records: list[Record] = []
    for model in _MODELS:
        # Ids first: most records keep the resource they were imported from, so only the others are
        # loaded whole and mapped (building 2,000 model instances cost more than evaluating the criteria).
        of_patient = model.objects.filter(organization_id=org_id, patient_id=encounter.patient_id)  # type: ignore[attr-defined]
        has_encounter = any(f.name == "encounter" for f in model._meta.fields)
        keys = (
            list(of_patient.values_list("pk", "encounter_id"))
            if has_encounter
            else [(pk, None) for pk in of_patient.values_list("pk", flat=True)]
        )
        sources = _sources(org_id, model._meta.label_lower, (pk for pk, _ in keys))
        unmapped = [pk for pk, _ in keys if pk not in sources]
        mapped = {row.pk: _map(row) for row in model.objects.filter(pk__in=unmapped)} if unmapped else {}  # type: ignore[attr-defined]
        rtype = model.__name__
        for pk, encounter_id in keys:
            resource = sources.get(pk) or mapped[pk]
            records.append(Record(rtype, pk, resource, in_encounter=encounter_id == encounter.pk))
    enc_source = _sources(org_id, "clinical.encounter", [encounter.pk]).get(encounter.pk)
    return PreparedRecord(encounter_resource(encounter, as_of=as_of, source=enc_source), records)
