"""A review packet as a FHIR R4B Bundle for an insurer outside the platform.

Shaped after Da Vinci PAS (first entry a Claim with use = preauthorization, then every resource it
refers to) but not claiming PAS conformance: it carries the packet's content for a human reviewer.
Validated with fhir.resources (R4B) before it is stored.
"""

from __future__ import annotations

import uuid
from typing import Any

from fhir.resources.R4B.bundle import Bundle

from casebridge.hospital.models import ReviewPacket

ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"


def _urn() -> str:
    return f"urn:uuid:{uuid.uuid4()}"


def packet_bundle(packet: ReviewPacket, *, recipient_name: str) -> dict[str, Any]:
    content = packet.content
    stay = content.get("stay") or {}
    person = content.get("patient") or {}
    family, _, given = str(person.get("name", "")).partition(", ")
    ids = {k: _urn() for k in ("patient", "org", "insurer", "coverage", "encounter", "claim")}
    entries: list[dict[str, Any]] = []

    def add(key: str, resource: dict[str, Any]) -> None:
        entries.append({"fullUrl": ids.get(key) or _urn(), "resource": resource})

    condition_refs: list[str] = []
    extra: list[dict[str, Any]] = []
    for d in content.get("diagnoses") or []:
        url = _urn()
        condition_refs.append(url)
        extra.append(
            {
                "fullUrl": url,
                "resource": {
                    "resourceType": "Condition",
                    "subject": {"reference": ids["patient"]},
                    "code": {
                        "coding": [
                            {
                                "system": d.get("system") or ICD10CM,
                                "code": d.get("code"),
                                "display": d.get("display") or None,
                            }
                        ]
                    },
                },
            }
        )
    for kind, rows in (("vital-signs", content.get("vitals") or []), ("laboratory", content.get("labs") or [])):
        for r in rows:
            extra.append(
                {
                    "fullUrl": _urn(),
                    "resource": {
                        "resourceType": "Observation",
                        "status": "final",
                        "category": [
                            {
                                "coding": [
                                    {
                                        "system": "http://terminology.hl7.org/CodeSystem/observation-category",
                                        "code": kind,
                                    }
                                ]
                            }
                        ],
                        "code": {"coding": [{"system": "http://loinc.org", "code": r["code"]}], "text": r["name"]},
                        "subject": {"reference": ids["patient"]},
                        "encounter": {"reference": ids["encounter"]},
                        "effectiveDateTime": r.get("at"),
                        "valueString": str(r.get("value") or ""),
                    },
                }
            )
    notes = [
        text
        for text in (
            f"Documented complex medical factors: {content.get('complex_factors')}"
            if content.get("complex_factors")
            else "",
            f"Treatment plan: {content.get('plan')}" if content.get("plan") else "",
            f"Expected discharge: {stay.get('expected_discharge_on')}" if stay.get("expected_discharge_on") else "",
        )
        if text
    ]
    auth = content.get("authorization") or {}
    add(
        "claim",
        {
            "resourceType": "Claim",
            "status": "active",
            "type": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/claim-type", "code": "institutional"}]
            },
            "use": "preauthorization",
            "patient": {"reference": ids["patient"]},
            "created": content.get("built_at"),
            "insurer": {"reference": ids["insurer"]},
            "provider": {"reference": ids["org"]},
            "priority": {
                "coding": [{"system": "http://terminology.hl7.org/CodeSystem/processpriority", "code": "normal"}]
            },
            "diagnosis": [
                {"sequence": i, "diagnosisReference": {"reference": ref}}
                for i, ref in enumerate(condition_refs, start=1)
            ]
            or None,
            "insurance": [
                {
                    "sequence": 1,
                    "focal": True,
                    "coverage": {"reference": ids["coverage"]},
                    "preAuthRef": [auth["reference_number"]] if auth.get("reference_number") else None,
                }
            ],
            "item": [
                {
                    "sequence": 1,
                    "productOrService": {
                        "text": f"{stay.get('class', 'inpatient')} stay"
                        + (f", MS-DRG {stay['working_drg']}" if stay.get("working_drg") else "")
                    },
                    "encounter": [{"reference": ids["encounter"]}],
                }
            ],
            "supportingInfo": [
                {
                    "sequence": i,
                    "category": {
                        "coding": [
                            {
                                "system": "http://hl7.org/us/davinci-pas/CodeSystem/PASSupportingInfoType",
                                "code": "freeFormMessage",
                            }
                        ]
                    },
                    "valueString": text,
                }
                for i, text in enumerate(notes, start=1)
            ]
            or None,
        },
    )
    add(
        "patient",
        {
            "resourceType": "Patient",
            "name": [{"family": family or None, "given": [given] if given else None}],
            "birthDate": person.get("birth_date"),
            "gender": {"female": "female", "male": "male", "other": "other"}.get(str(person.get("sex")), "unknown"),
        },
    )
    hospital = content.get("hospital") or {}
    add(
        "org",
        {
            "resourceType": "Organization",
            "name": hospital.get("name"),
            "identifier": [{"system": "http://hl7.org/fhir/sid/us-npi", "value": hospital["npi"]}]
            if hospital.get("npi")
            else None,
        },
    )
    add("insurer", {"resourceType": "Organization", "name": recipient_name or auth.get("payer") or person.get("payer")})
    add(
        "coverage",
        {
            "resourceType": "Coverage",
            "status": "active",
            "beneficiary": {"reference": ids["patient"]},
            "subscriberId": person.get("member_id") or None,
            "payor": [{"reference": ids["insurer"]}],
        },
    )
    add(
        "encounter",
        {
            "resourceType": "Encounter",
            "status": "in-progress",
            "class": {
                "system": "http://terminology.hl7.org/CodeSystem/v3-ActCode",
                "code": "OBSENC" if stay.get("class") == "observation" else "IMP",
            },
            "subject": {"reference": ids["patient"]},
            "period": {"start": stay.get("admit_at")},
        },
    )
    entries.extend(extra)
    for m in (content.get("treatments") or {}).get("medications") or []:
        entries.append(
            {
                "fullUrl": _urn(),
                "resource": {
                    "resourceType": "MedicationRequest",
                    "status": m.get("status")
                    if m.get("status") in {"active", "completed", "stopped", "on-hold", "cancelled", "draft", "unknown"}
                    else "unknown",
                    "intent": "order",
                    "medicationCodeableConcept": {
                        "coding": [
                            {"system": "http://www.nlm.nih.gov/research/umls/rxnorm", "code": m.get("code") or None}
                        ],
                        "text": m.get("display") or None,
                    },
                    "subject": {"reference": ids["patient"]},
                    "dosageInstruction": [{"text": m["dosage"]}] if m.get("dosage") else None,
                },
            }
        )
    bundle = {
        "resourceType": "Bundle",
        "identifier": {"system": "urn:casebridge:review-packet", "value": str(packet.pk)},
        "type": "collection",
        "timestamp": content.get("built_at"),
        "entry": entries,
    }
    cleaned = _drop_empty(bundle)
    Bundle.model_validate(cleaned)  # raises pydantic.ValidationError on a bad resource
    return cleaned


def _drop_empty(value: Any) -> Any:
    """FHIR forbids empty and null elements; the builders above leave None for absent data."""
    if isinstance(value, dict):
        out = {k: _drop_empty(v) for k, v in value.items()}
        return {k: v for k, v in out.items() if v not in (None, "", [], {})}
    if isinstance(value, list):
        items = [_drop_empty(v) for v in value]
        return [v for v in items if v not in (None, "", [], {})]
    return value
