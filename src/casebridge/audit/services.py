from __future__ import annotations

from typing import Any

from django.db import transaction

from casebridge.audit.fhir import bundle_of
from casebridge.audit.models import AuditEvent
from casebridge.audit.recorder import audit_record
from casebridge.kernel.actor import Actor

EXPORT_LIMIT = 10000


def audit_export(*, actor: Actor, events: list[AuditEvent], filters: dict[str, Any]) -> dict[str, Any]:
    """Export audit events as a FHIR Bundle; the export itself is audited."""
    bundle = bundle_of(events[:EXPORT_LIMIT])
    with transaction.atomic():
        audit_record(actor=actor, action="audit.export", detail={"filters": filters, "count": len(bundle["entry"])})
    return bundle
