"""FHIR responses: resources and OperationOutcome errors as ``application/fhir+json``."""

from __future__ import annotations

import json
from typing import Any

from django.http import HttpResponse

FHIR_JSON = "application/fhir+json"

# HTTP status -> OperationOutcome.issue.code (http://hl7.org/fhir/R4/valueset-issue-type.html)
ISSUE_CODE = {
    400: "invalid",
    401: "login",
    403: "forbidden",
    404: "not-found",
    405: "not-supported",
    409: "conflict",
    413: "too-costly",
    422: "processing",
    500: "exception",
}


def fhir_response(body: dict[str, Any], status: int = 200) -> HttpResponse:
    return HttpResponse(json.dumps(body), status=status, content_type=FHIR_JSON)


def operation_outcome(status: int, diagnostics: str, *, severity: str = "error") -> dict[str, Any]:
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": severity, "code": ISSUE_CODE.get(status, "processing"), "diagnostics": diagnostics}],
    }


def outcome_response(status: int, diagnostics: str) -> HttpResponse:
    response = fhir_response(operation_outcome(status, diagnostics), status)
    if status == 401:
        response["WWW-Authenticate"] = "Bearer"
    return response
