"""Writes audit events. Call inside the service's transaction so the event and the change commit together."""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import Any

from django.db import models

from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor

_deferred = threading.local()


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    patient: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event(actor=actor, action=action, subject=subject, patient=patient, detail=detail)
    pending = getattr(_deferred, "events", None)
    if pending is not None:
        pending.append(event)  # written when the ``audit_deferred`` block ends, in the same transaction
    else:
        event.save(force_insert=True)
    return event


@contextlib.contextmanager
def audit_deferred() -> Iterator[None]:
    """Inside one transaction: the events ``audit_record`` makes in this block (this thread) are written
    in one INSERT when the block ends, still inside the transaction, so they commit or roll back with
    the changes they record. If the block raises, they are dropped: the caller's transaction rolls back.

    Only for a transaction that is rolled back whole on any error (no savepoint that an error could
    roll back while the block carries on: the HL7 receiver's fast path, which runs without savepoints).
    The events are unsaved (no ``pk``) until the block ends. Nested blocks join the outer one."""
    if getattr(_deferred, "events", None) is not None:
        yield
        return
    events: list[AuditEvent] = []
    _deferred.events = events
    try:
        yield
    finally:
        _deferred.events = None
    if events:
        AuditEvent.objects.bulk_create(events)


def audit_record_all(events: list[AuditEvent]) -> list[AuditEvent]:
    """Save events built with ``audit_event`` in one INSERT (a service that makes several audited changes
    at once, e.g. a case walked through several steps). Call inside the service's transaction. Inside an
    ``audit_deferred`` block they join that block's INSERT."""
    pending = getattr(_deferred, "events", None)
    if pending is not None:
        pending.extend(events)
        return events
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
