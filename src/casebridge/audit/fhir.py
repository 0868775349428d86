"""AuditEvent records as FHIR R4 AuditEvent resources (validated with fhir.resources' R4B models)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B.auditevent import AuditEvent as FhirAuditEvent

from casebridge.audit.models import AuditEvent

# DICOM audit event action codes used by FHIR AuditEvent.action: C create, R read, U update, D delete, E execute.
_ACTION_CODES = {
    "create": "C",
    "open": "C",
    "add": "C",
    "issue": "C",
    "read": "R",
    "search": "R",
    "export": "R",
    "view": "R",
    "update": "U",
    "transition": "U",
    "assign": "U",
    "end": "U",
    "revoke": "U",
    "grant": "U",
    "decide": "U",
    "complete": "U",
}


def _action_code(action: str) -> str:
    verb = action.rsplit(".", 1)[-1]
    return _ACTION_CODES.get(verb, "E")


def to_fhir(event: AuditEvent) -> dict[str, Any]:
    data: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "id": str(event.pk),
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
            "display": "RESTful Operation",
        },
        "subtype": [{"system": "urn:casebridge:audit-action", "code": event.action}],
        "action": _action_code(event.action),
        "recorded": event.at.isoformat(),
        "outcome": "0",
        "agent": [
            {
                "who": {
                    "identifier": {"system": "urn:casebridge:username", "value": event.username},
                    "display": event.username,
                },
                "requestor": True,
                "role": [{"text": role} for role in event.roles.split(",") if role],
                **({"network": {"address": event.client_ip, "type": "2"}} if event.client_ip else {}),
            }
        ],
        "source": {
            "site": str(event.organization_id or ""),
            "observer": {"display": "CaseBridge"},
        },
    }
    entities: list[dict[str, Any]] = []
    if event.patient_id:
        entities.append(
            {
                "what": {"reference": f"Patient/{event.patient_id}"},
                "type": {"system": "http://terminology.hl7.org/CodeSystem/audit-entity-type", "code": "1"},
            }
        )
    if event.object_type and event.object_id:
        entities.append(
            {"what": {"identifier": {"system": f"urn:casebridge:{event.object_type}", "value": event.object_id}}}
        )
    if entities:
        data["entity"] = entities
    # Round-trip through the model so every exported resource is valid FHIR.
    return FhirAuditEvent.model_validate(data).model_dump(mode="json", exclude_none=True)


def bundle_of(events: list[AuditEvent]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "total": len(events),
        "entry": [{"resource": to_fhir(e)} for e in events],
    }
