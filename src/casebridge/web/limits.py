"""Refuses oversized request bodies before Django reads them.

Django caps form fields (DATA_UPLOAD_MAX_MEMORY_SIZE) but streams file uploads to disk
whatever their size; checking the declared length first means an oversized upload is
refused at once with 413 instead of being received in full and then thrown away.
"""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse

from casebridge.api.problems import problem_response


def body_limit() -> int:
    # Room for the multipart envelope and form fields around the largest allowed document.
    return max(settings.DATA_UPLOAD_MAX_MEMORY_SIZE, settings.DOCUMENT_MAX_BYTES + 1024 * 1024)


class RequestSizeLimitMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        limit = body_limit()
        if length > limit:
            detail = f"The request body is {length / 1048576:.1f} MB; the limit is {limit / 1048576:.1f} MB."
            if request.path.startswith("/api/") or request.path.startswith("/fhir/"):
                return problem_response(status=413, title="Request too large", detail=detail)
            return HttpResponse(detail, status=413, content_type="text/plain; charset=utf-8")
        return self.get_response(request)
