"""Writes audit events. Call inside the service's transaction so the event and the change commit together."""

from __future__ import annotations

from typing import Any

from django.db import models

from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    patient: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event(actor=actor, action=action, subject=subject, patient=patient, detail=detail)
    event.save(force_insert=True)
    return event


def audit_record_all(events: list[AuditEvent]) -> list[AuditEvent]:
    """Save events built with ``audit_event`` in one INSERT (a service that makes several audited changes
    at once, e.g. a case walked through several steps). Call inside the service's transaction."""
    return AuditEvent.objects.bulk_create(events)


def audit_event(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    patient: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    """The unsaved event ``audit_record`` writes; save it with ``audit_record_all``."""
    return AuditEvent(
        at=clock.now(),
        user=actor.user,
        username=actor.user.username,
        organization=actor.organization,
        roles=",".join(sorted(actor.roles)),
        action=action,
        patient_id=getattr(patient, "pk", patient),
        object_type=subject._meta.label_lower if subject is not None else "",
        object_id=str(subject.pk) if subject is not None else "",
        client_ip=actor.client_ip,
        detail=detail or {},
    )


def audit_record_many(*, actor: Actor, action: str, patient_ids: list[int], detail: dict[str, Any]) -> None:
    """One event per patient shown in a list, so a patient's access history is complete."""
    at = clock.now()
    AuditEvent.objects.bulk_create(
        AuditEvent(
            at=at,
            user=actor.user,
            username=actor.user.username,
            organization=actor.organization,
            roles=",".join(sorted(actor.roles)),
            action=action,
            patient_id=pid,
            object_type="patients.patient",
            object_id=str(pid),
            client_ip=actor.client_ip,
            detail=detail,
        )
        for pid in patient_ids
    )
