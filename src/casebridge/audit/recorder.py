"""Writes audit events. Call inside the service's transaction so the event and the change commit together."""

from __future__ import annotations

import json
from collections.abc import Iterable
from contextlib import AbstractContextManager
from typing import Any

from django.db import connections, models, router

from casebridge.audit.models import AuditEvent
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.rows import insert_objects_later, inserts_at_end

# The columns of a list read, in the order the INSERT ... SELECT below fills them.
_LIST_COLUMNS = (
    "at",
    "user",
    "username",
    "organization",
    "roles",
    "action",
    "patient",
    "object_type",
    "object_id",
    "client_ip",
    "detail",
)
# Per database, the row source: one row per patient id, with the id as `listed.id` and as text for
# object_id. The constants are parameters, so the database builds the 500 rows, not Python.
_LISTED_ROWS = {
    "postgresql": (
        "%s, %s, %s, %s, %s, %s, listed.id, %s, CAST(listed.id AS text), CAST(%s AS inet), CAST(%s AS jsonb) "
        "FROM unnest(CAST(%s AS bigint[])) AS listed(id)"
    ),
    "sqlite": (
        "%s, %s, %s, %s, %s, %s, listed.value, %s, CAST(listed.value AS TEXT), %s, %s FROM json_each(%s) AS listed"
    ),
}


def audit_record(
    *,
    actor: Actor,
    action: str,
    subject: models.Model | None = None,
    patient: Any = None,
    detail: dict[str, Any] | None = None,
) -> AuditEvent:
    event = audit_event(actor=actor, action=action, subject=subject, patient=patient, detail=detail)
    insert_objects_later([event])  # now, or when an ``audit_deferred`` block ends
    return event


def audit_deferred() -> AbstractContextManager[None]:
    """Inside one transaction: the events ``audit_record`` makes in this block (this thread) are written
    in one INSERT when the block ends, still inside the transaction, so they commit or roll back with
    the changes they record. If the block raises, they are dropped: the caller's transaction rolls back.

    Only for a transaction that is rolled back whole on any error (no savepoint that an error could
    roll back while the block carries on: the HL7 receiver's fast path, which runs without savepoints).
    The events are unsaved (no ``pk``) until the block ends. Nested blocks join the outer one. It is
    ``kernel.rows.inserts_at_end``: other append-only rows of the block go in the same statement."""
    return inserts_at_end()


def audit_record_all(events: list[AuditEvent]) -> list[AuditEvent]:
    """Save events built with ``audit_event`` in one INSERT (a service that makes several audited changes
    at once, e.g. a case walked through several steps). Call inside the service's transaction. Inside an
    ``audit_deferred`` block they join that block's INSERT."""
    insert_objects_later(events)
    return events


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
    """One event per patient shown in a list, so a patient's access history is complete.

    A census or a search lists hundreds of patients per request; building and serialising one model
    instance per row cost more than the page's own queries. On PostgreSQL and SQLite the rows are
    therefore written by one INSERT ... SELECT over the id list (the values shared by every row are
    prepared once); elsewhere, and for ids that are not plain integers, by ``bulk_create``. The rows
    are the same either way.
    """
    if not patient_ids:
        return
    at = clock.now()
    roles = ",".join(sorted(actor.roles))
    connection = connections[router.db_for_write(AuditEvent)]
    template = _LISTED_ROWS.get(connection.vendor)
    if template is not None and all(type(pid) is int for pid in patient_ids):
        meta = AuditEvent._meta
        by_name = {f.name: f for f in meta.concrete_fields}
        columns = ", ".join(connection.ops.quote_name(str(by_name[name].column)) for name in _LIST_COLUMNS)
        ids: Any = list(patient_ids) if connection.vendor == "postgresql" else json.dumps(patient_ids)
        params = [
            by_name["at"].get_db_prep_save(at, connection),
            actor.user.pk,
            actor.user.username,
            actor.organization_id,
            roles,
            action,
            "patients.patient",
            actor.client_ip,
            by_name["detail"].get_db_prep_save(detail, connection),
            ids,
        ]
        with connection.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {connection.ops.quote_name(meta.db_table)} ({columns}) SELECT {template}",  # noqa: S608 - names from the model, values are parameters
                params,
            )
        return
    events = [audit_event(actor=actor, action=action, patient=pid, detail=detail) for pid in patient_ids]
    for event in events:  # the same row the INSERT ... SELECT above writes
        event.at, event.object_type, event.object_id = at, "patients.patient", str(event.patient_id)
    AuditEvent.objects.bulk_create(events)


def audit_listed(*, actor: Actor, action: str, rows: Iterable[Any], detail: dict[str, Any]) -> None:
    """A list page or API list was read: one event per distinct patient among the rows' ``patient_id``
    (rows without a patient name nobody and add nothing)."""
    patient_ids = sorted({pid for row in rows if (pid := getattr(row, "patient_id", None)) is not None})
    audit_record_many(actor=actor, action=action, patient_ids=patient_ids, detail=detail)
