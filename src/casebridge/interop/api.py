"""The FHIR endpoint for incoming data: ``POST /fhir/r4`` with a transaction or batch Bundle.

Authenticated with the API bearer token; data goes into the token's organization. Every answer is
``application/fhir+json``: a transaction-response or batch-response Bundle, or an OperationOutcome.
"""

from django.core.exceptions import RequestDataTooBig
from django.http import HttpRequest, HttpResponse
from django.views.decorators.csrf import csrf_exempt

from casebridge.api.base import BearerToken
from casebridge.interop.fhir.sources import InputProblem
from casebridge.interop.outcome import fhir_response, outcome_response, response_bundle, rollback_outcome
from casebridge.interop.services import fhir_import_bundle
from casebridge.kernel.errors import DomainError

ACCEPTED_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")


def _actor(request: HttpRequest):  # type: ignore[no-untyped-def]
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return BearerToken().authenticate(request, token.strip())


@csrf_exempt
def fhir_base(request: HttpRequest) -> HttpResponse:
    if request.method != "POST":
        return outcome_response(405, "POST a transaction or batch Bundle here.", code="not-supported", Allow="POST")
    actor = _actor(request)
    if actor is None:
        return outcome_response(
            401,
            "Send a valid bearer token: POST /api/v1/auth/token issues one.",
            code="login",
            WWW_Authenticate="Bearer",
        )
    content_type = request.content_type or ""
    if content_type not in ACCEPTED_TYPES:
        return outcome_response(415, f"Send application/fhir+json, not {content_type or 'no content type'}.")
    try:
        body = request.body
    except RequestDataTooBig:
        return outcome_response(413, "The request body exceeds the size limit; split the Bundle.", code="too-costly")
    try:
        report, bundle_type, items = fhir_import_bundle(
            actor=actor, body=body, channel="api", bundle_types=("transaction", "batch")
        )
    except InputProblem as exc:
        status = 413 if "larger than the import limit" in exc.reason else 400
        return outcome_response(status, f"The request body {exc.reason}.", code="structure")
    except DomainError as exc:
        code = "forbidden" if exc.status == 403 else "processing"
        return outcome_response(exc.status, exc.detail, code=code)
    if bundle_type == "transaction" and any(r.resource_type == "Bundle" for r in report.rejections):
        rolled_back = next(r for r in report.rejections if r.resource_type == "Bundle")
        return fhir_response(rollback_outcome(items, rolled_back.reason), 422)
    return fhir_response(response_bundle(bundle_type, items), 200)
