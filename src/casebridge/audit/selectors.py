from __future__ import annotations

import datetime as dt

from django.db.models import QuerySet

from casebridge.accounts.permissions import require
from casebridge.audit.models import AuditEvent
from casebridge.kernel.actor import Actor


def audit_events(
    *,
    actor: Actor,
    username: str = "",
    action: str = "",
    patient_id: int | None = None,
    since: dt.date | None = None,
    until: dt.date | None = None,
) -> QuerySet[AuditEvent]:
    """Events recorded by the auditor's own organization's users. Reading the log is itself not logged
    per row; exporting it is (see audit_export)."""
    require(actor, "audit.view")
    qs = AuditEvent.objects.filter(organization_id=actor.organization_id).select_related("patient")
    if username:
        qs = qs.filter(username__iexact=username.strip())
    if action:
        qs = qs.filter(action__startswith=action.strip())
    if patient_id:
        qs = qs.filter(patient_id=patient_id)
    if since:
        qs = qs.filter(at__date__gte=since)
    if until:
        qs = qs.filter(at__date__lte=until)
    return qs.order_by("-at", "-id")
