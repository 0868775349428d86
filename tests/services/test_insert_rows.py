"""kernel.rows.insert_rows: the row it stores is the one ``Model.objects.create`` stores."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import IntegrityError, connection, transaction
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from casebridge.audit.models import AuditEvent
from casebridge.interop.models import Hl7Message
from casebridge.kernel.rows import (
    insert_objects,
    insert_objects_later,
    insert_rows,
    insert_rows_later,
    inserts_at_end,
)

pytestmark = pytest.mark.django_db

AT = dt.datetime(2026, 3, 1, 9, 30, 15, 123456, tzinfo=dt.UTC)


def _stored(model, pk):
    row = model_to_dict(model.objects.get(pk=pk))
    row.pop("id")
    return row


def test_rows_match_what_create_stores_with_defaults_json_times_and_relations(hospital, patient, cm):
    values = {
        "control_id": "c-1",
        "ack_code": "AA",
        "ack": "MSH|...\rMSA|AA|c-1\r",
        "received_at": AT,
        "summary": {"event": "A01", "steps": ["a", "b"], "n": 2, "none": None},
    }
    by_orm = Hl7Message.objects.create(organization=hospital, patient=patient, **values)
    # The relation given by attname in one row and by instance in the other; left-out fields get defaults.
    ids = insert_rows(
        Hl7Message,
        [
            {"organization_id": hospital.pk, "patient_id": patient.pk, **values, "control_id": "c-2"},
            {"organization": hospital, "patient": patient, **values, "control_id": "c-3"},
        ],
    )
    assert len(ids) == 2 and ids[0] < ids[1]
    expected = _stored(Hl7Message, by_orm.pk)
    for pk, control in zip(ids, ("c-2", "c-3"), strict=True):
        assert _stored(Hl7Message, pk) == {**expected, "control_id": control}
    assert Hl7Message.objects.get(pk=ids[0]).channel == "mllp"  # the model's default
    assert Hl7Message.objects.get(pk=ids[0]).received_at == AT


def test_many_rows_go_in_one_statement_and_ids_come_back_in_row_order(hospital, cm):
    rows = [
        {"at": AT, "user_id": cm.user.pk, "username": "hcm", "organization_id": hospital.pk, "action": f"a.{n}",
         "client_ip": "10.0.0.7" if n % 2 else None, "detail": {"n": n}}
        for n in range(5)
    ]  # fmt: skip
    with CaptureQueriesContext(connection) as ctx:
        ids = insert_rows(AuditEvent, rows)
    assert sum("INSERT" in q["sql"] for q in ctx.captured_queries) == 1
    stored = {e.pk: e for e in AuditEvent.objects.filter(pk__in=ids)}
    assert [stored[pk].action for pk in ids] == [f"a.{n}" for n in range(5)]
    assert [stored[pk].detail for pk in ids] == [{"n": n} for n in range(5)]
    assert [stored[pk].client_ip for pk in ids] == [None, "10.0.0.7", None, "10.0.0.7", None]


def test_an_unknown_field_is_refused_before_anything_is_written(hospital):
    with pytest.raises(TypeError, match="no field 'colour'"):
        insert_rows(Hl7Message, [{"organization_id": hospital.pk, "control_id": "x", "colour": "red"}])
    assert not Hl7Message.objects.exists()
    assert insert_rows(Hl7Message, []) == []


def test_insert_objects_saves_instances_like_bulk_create(hospital, patient, cm):
    events = [
        AuditEvent(at=AT, user=cm.user, username="hcm", organization=hospital, action=f"o.{n}", patient=patient)
        for n in range(3)
    ]
    assert insert_objects(events) is events
    assert all(e.pk is not None and not e._state.adding and e._state.db == "default" for e in events)
    assert [AuditEvent.objects.get(pk=e.pk).action for e in events] == ["o.0", "o.1", "o.2"]
    assert AuditEvent.objects.get(pk=events[0].pk).patient_id == patient.pk
    assert insert_objects([]) == []


@pytest.mark.postgres_only
def test_on_postgresql_several_rows_share_one_statement_text_whatever_their_number(hospital, cm):
    def insert(n):
        rows = [
            {"at": AT, "user_id": cm.user.pk, "organization_id": hospital.pk, "action": f"u.{k}", "detail": {"k": k}}
            for k in range(n)
        ]
        sent = []

        def record(execute, sql, params, many, context):
            sent.append((sql, params))
            return execute(sql, params, many, context)

        with connection.execute_wrapper(record):
            ids = insert_rows(AuditEvent, rows)
        ((sql, params),) = sent
        return ids, sql, params

    (ids_3, sql_3, params_3), (ids_60, sql_60, params_60) = insert(3), insert(60)
    # The values go as one array per column, so the statement is the same for 3 rows and for 60 (psycopg
    # parses it once, the server prepares it once).
    assert "UNNEST" in sql_3 and sql_3 == sql_60
    assert len(params_3) == len(params_60) == 11 and len(params_60[5]) == 60
    assert [e.action for e in AuditEvent.objects.filter(pk__in=ids_60).order_by("pk")] == [f"u.{k}" for k in range(60)]
    assert [AuditEvent.objects.get(pk=pk).detail for pk in ids_3] == [{"k": 0}, {"k": 1}, {"k": 2}]


def _log_row(hospital, control_id, **more):
    return {"organization_id": hospital.pk, "control_id": control_id, "ack_code": "AA", "received_at": AT, **more}


def _statements(run):
    sent = []

    def record(execute, sql, params, many, context):
        sent.append(sql)
        return execute(sql, params, many, context)

    with connection.execute_wrapper(record):
        run()
    return sent


def test_rows_given_later_are_written_when_the_block_ends_on_postgresql_in_one_statement(hospital, patient, cm):
    events = [
        AuditEvent(at=AT, user=cm.user, organization=hospital, action=f"l.{n}", patient=patient) for n in range(2)
    ]

    def block():
        with transaction.atomic(), inserts_at_end():
            insert_objects_later(events[:1])
            insert_rows_later(
                Hl7Message,
                [_log_row(hospital, "later-1")],
            )
            with inserts_at_end():  # nested: joins the outer block
                insert_objects_later(events[1:])
            assert events[0].pk is None and not Hl7Message.objects.filter(control_id="later-1").exists()

    sent = [sql for sql in _statements(block) if "INSERT" in sql]
    assert len(sent) == (1 if connection.vendor == "postgresql" else 2)  # else one INSERT per table
    assert all(e.pk is not None and not e._state.adding for e in events)
    assert [AuditEvent.objects.get(pk=e.pk).action for e in events] == ["l.0", "l.1"]
    assert Hl7Message.objects.filter(control_id="later-1", organization=hospital).count() == 1


@pytest.mark.postgres_only
def test_the_chain_goes_with_numbered_placeholders_and_is_logged_rendered_where_queries_are_logged(hospital, cm):
    def block(tag):  # type: ignore[no-untyped-def]
        def run():  # type: ignore[no-untyped-def]
            with transaction.atomic(), inserts_at_end():
                insert_objects_later([AuditEvent(at=AT, user=cm.user, organization=hospital, action=f"{tag}.a")])
                insert_rows_later(Hl7Message, [_log_row(hospital, f"{tag}-1")])

        return run

    (chain,) = [sql for sql in _statements(block("plain")) if sql.startswith("WITH")]
    assert "$1" in chain and "%s" not in chain  # psycopg sends it as it is, no rewrite per call
    with CaptureQueriesContext(connection) as ctx:
        block("logged")()
    (logged,) = [q["sql"] for q in ctx.captured_queries if q["sql"].startswith("WITH")]
    assert "'logged-1'" in logged and "$1" not in logged  # rendered with its values, for reading
    assert Hl7Message.objects.filter(control_id__in=["plain-1", "logged-1"]).count() == 2


def test_a_block_that_raises_writes_none_of_its_later_rows(hospital):
    with pytest.raises(RuntimeError), transaction.atomic(), inserts_at_end():
        insert_rows_later(Hl7Message, [_log_row(hospital, "lost")])
        raise RuntimeError("boom")
    assert not Hl7Message.objects.filter(control_id="lost").exists()
    insert_rows_later(Hl7Message, [_log_row(hospital, "now")])
    assert Hl7Message.objects.filter(control_id="now").exists()  # outside a block: written at once


def test_a_constraint_broken_by_later_rows_is_raised_as_the_block_ends(hospital, cm):
    row = {
        "organization_id": hospital.pk,
        "sending_facility": "F",
        "control_id": "twice",
        "ack_code": "AA",
        "received_at": AT,
    }
    insert_rows(Hl7Message, [row])
    with pytest.raises(IntegrityError), transaction.atomic(), inserts_at_end():
        insert_objects_later([AuditEvent(at=AT, user=cm.user, organization=hospital, action="with.dup")])
        insert_rows_later(Hl7Message, [row])  # accepted once per control id
    assert not AuditEvent.objects.filter(action="with.dup").exists()
    assert Hl7Message.objects.filter(control_id="twice").count() == 1
