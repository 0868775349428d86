"""kernel.rows.insert_rows: the row it stores is the one ``Model.objects.create`` stores."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.forms.models import model_to_dict
from django.test.utils import CaptureQueriesContext

from casebridge.audit.models import AuditEvent
from casebridge.interop.models import Hl7Message
from casebridge.kernel.rows import insert_objects, insert_rows

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
