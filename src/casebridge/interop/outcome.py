"""FHIR responses: OperationOutcome for errors, transaction-response / batch-response Bundles."""

from __future__ import annotations

import json
import uuid
from typing import Any

from django.http import HttpResponse

from casebridge.interop.fhir.importer import Item
from casebridge.kernel import clock

FHIR_JSON = "application/fhir+json"


def operation_outcome(issues: list[dict[str, str]]) -> dict[str, Any]:
    return {"resourceType": "OperationOutcome", "issue": issues}


def issue(diagnostics: str, *, severity: str = "error", code: str = "invalid", expression: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {"severity": severity, "code": code, "diagnostics": diagnostics}
    if expression:
        out["expression"] = [expression]
    return out


def fhir_response(body: dict[str, Any], status: int = 200, **headers: str) -> HttpResponse:
    response = HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)
    for name, value in headers.items():
        response[name.replace("_", "-")] = value
    return response


def outcome_response(status: int, diagnostics: str, *, code: str = "invalid", **headers: str) -> HttpResponse:
    return fhir_response(operation_outcome([issue(diagnostics, code=code)]), status, **headers)


_STATUS = {"created": "201 Created", "updated": "200 OK", "unchanged": "200 OK", "skipped": "200 OK"}


def _entry(item: Item) -> dict[str, Any]:
    if item.outcome == "rejected" or not item.outcome:
        reason = item.reason or "not saved: the transaction was rolled back"
        code = "not-found" if "unresolvable reference" in reason else "invalid"
        return {
            "response": {
                "status": "422 Unprocessable Entity",
                "outcome": operation_outcome([issue(reason, code=code, expression=item.where)]),
            }
        }
    response: dict[str, Any] = {"status": _STATUS[item.outcome]}
    if item.target_id is not None:
        response["location"] = f"{item.rtype}/{item.target_id}"
    if item.outcome == "skipped":
        response["outcome"] = operation_outcome(
            [issue(f"{item.reason}; it was not stored", severity="warning", code="not-supported")]
        )
    elif item.outcome == "unchanged":
        response["outcome"] = operation_outcome(
            [
                issue(
                    "unchanged: identical to the version already imported", severity="information", code="informational"
                )
            ]
        )
    return {"response": response}


def response_bundle(bundle_type: str, items: list[Item]) -> dict[str, Any]:
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "type": f"{bundle_type}-response",
        "timestamp": clock.now().isoformat(),
        "entry": [_entry(i) for i in items],
    }


def rollback_outcome(items: list[Item], summary: str) -> dict[str, Any]:
    failed = [i for i in items if i.outcome == "rejected"]
    issues = [issue(f"{i.where} ({i.rtype or 'entry'}): {i.reason}", expression=i.where) for i in failed]
    return operation_outcome([issue(summary, code="processing"), *issues])
