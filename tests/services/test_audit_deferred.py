"""audit_deferred: the events of a block are written together at its end, in the caller's transaction."""

from __future__ import annotations

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext

from casebridge.audit.models import AuditEvent
from casebridge.audit.recorder import audit_deferred, audit_event, audit_record, audit_record_all
from casebridge.interop.hl7v2.receiver import Feed
from tests.interop.hl7_support import adt

pytestmark = pytest.mark.django_db


def inserts(ctx: CaptureQueriesContext) -> int:
    return sum('INSERT INTO "audit_auditevent"' in q["sql"] for q in ctx.captured_queries)


def test_events_of_a_block_are_written_in_one_insert_at_its_end(cm, patient):
    before = AuditEvent.objects.count()
    with CaptureQueriesContext(connection) as ctx, transaction.atomic():
        with audit_deferred():
            audit_record(actor=cm, action="a.one", subject=patient, patient=patient)
            with audit_deferred():  # nested: joins the outer block
                audit_record(actor=cm, action="a.two", patient=patient.pk, detail={"k": 1})
            audit_record_all([audit_event(actor=cm, action="a.three", patient=patient)])
            assert AuditEvent.objects.count() == before  # nothing written yet
        assert AuditEvent.objects.count() == before + 3
    assert inserts(ctx) == 1
    rows = list(AuditEvent.objects.order_by("pk").values_list("action", "patient_id", "detail")[before:])
    assert rows == [("a.one", patient.pk, {}), ("a.two", patient.pk, {"k": 1}), ("a.three", patient.pk, {})]


def test_a_block_that_raises_writes_nothing_and_the_next_one_starts_clean(cm, patient):
    before = AuditEvent.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic(), audit_deferred():
        audit_record(actor=cm, action="a.lost", patient=patient)
        raise RuntimeError("boom")
    assert AuditEvent.objects.count() == before
    audit_record(actor=cm, action="a.now", patient=patient)  # outside a block: written at once
    assert AuditEvent.objects.filter(action="a.now").count() == 1
    assert not AuditEvent.objects.filter(action="a.lost").exists()


def test_the_feed_writes_an_admissions_audit_rows_in_one_insert(hospital):
    feed = Feed(hospital, channel="file")
    with CaptureQueriesContext(connection) as ctx:
        assert feed.receive(adt("A01", control="d1")).code == "AA"
    assert inserts(ctx) == 1
    actions = sorted(AuditEvent.objects.values_list("action", flat=True))
    assert actions == ["case.open", "encounter.case_open", "encounter.create", "patient.create", "task.create"]
    with CaptureQueriesContext(connection) as ctx:
        assert feed.receive(adt("A03", control="d2", discharge="20260305120000", disposition="01")).code == "AA"
    assert inserts(ctx) == 1
    assert AuditEvent.objects.filter(action="case.transition").count() == 4
    assert AuditEvent.objects.filter(action="encounter.update").count() == 1
