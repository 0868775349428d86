"""The CapabilityStatement, built from the same registry the router serves, so it lists exactly what
answers: each served type with read and search-type and its search parameters, Patient/$everything,
and the transaction and batch interactions only when the importer's handler is installed."""

from __future__ import annotations

from typing import Any

from casebridge.interop.fhir_api.registry import bundle_handler, served_types
from casebridge.interop.fhir_api.search_params import DEFAULT_COUNT, MAX_COUNT
from casebridge.interop.fhir_export.validate import validated
from casebridge.kernel import clock

SOFTWARE = "CaseBridge"
FHIR_VERSION = "4.0.1"
TYPE_INTERACTIONS = ("read", "search-type")


def capability_statement(base_url: str) -> dict[str, Any]:
    resources = []
    for t in served_types():
        entry: dict[str, Any] = {
            "type": t.name,
            "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
            "versioning": "no-version",
            "readHistory": False,
            "updateCreate": False,
            "searchParam": [
                {
                    "name": p.name,
                    "type": p.type,
                    "documentation": p.documentation,
                    **({"definition": p.definition} if p.definition else {}),
                }
                for p in t.params.values()
            ],
        }
        if t.operations:
            entry["operation"] = [{"name": name, "definition": canonical} for name, canonical in t.operations]
        resources.append(entry)
    rest: dict[str, Any] = {
        "mode": "server",
        "documentation": (
            "Reads and searches are scoped to the organization of the bearer token. Searches are strict: an "
            "unknown parameter or modifier is refused (400) unless the request sends Prefer: handling=lenient."
        ),
        "security": {
            "cors": False,
            "description": "Send Authorization: Bearer <token>; POST /api/v1/auth/token issues one. "
            "The same tokens as the CaseBridge REST API (/api/v1).",
        },
        "resource": resources,
        "searchParam": [
            {
                "name": "_count",
                "type": "number",
                "documentation": f"Page size (default {DEFAULT_COUNT}, at most {MAX_COUNT})",
            },
            {"name": "_offset", "type": "number", "documentation": "Index of the first result; next links carry it"},
        ],
    }
    if bundle_handler() is not None:
        rest["interaction"] = [
            {"code": "transaction", "documentation": "POST a transaction Bundle to the base URL: all or nothing"},
            {"code": "batch", "documentation": "POST a batch Bundle to the base URL: each entry on its own"},
        ]
    statement = {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": clock.now().isoformat(),
        "publisher": SOFTWARE,
        "kind": "instance",
        "software": {"name": SOFTWARE},
        "implementation": {"description": "CaseBridge FHIR R4 API", "url": base_url},
        "fhirVersion": FHIR_VERSION,
        "format": ["application/fhir+json", "json"],
        "rest": [rest],
    }
    return validated(statement)
