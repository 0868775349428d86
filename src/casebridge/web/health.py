from __future__ import annotations

from django.db import connection
from django.http import HttpRequest, JsonResponse
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
            cursor.fetchone()
        database = {"reachable": True, "vendor": connection.vendor}
    except Exception as exc:  # noqa: BLE001 - any database failure means "unreachable", reported, not raised
        database = {"reachable": False, "vendor": connection.vendor, "error": exc.__class__.__name__}
    healthy = database["reachable"]
    return JsonResponse(
        {"status": "ok" if healthy else "unavailable", "database": database}, status=200 if healthy else 503
    )
