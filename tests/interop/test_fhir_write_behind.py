"""NDJSON chunks written behind on PostgreSQL: a chunk's writes run on their own thread and session
while the next chunk is validated, and the result is the one a chunk-after-chunk import gives.

These tests commit for real (``transaction=True``): the writer's session cannot see a test's open
transaction, and an import inside one is written in sequence instead.
"""

from __future__ import annotations

import json
import sys
import threading

import pytest
from django.db import transaction
from fhir_data import BULK
from import_support import records_held_by

from casebridge.accounts import roles
from casebridge.interop.fhir import importer
from casebridge.interop.models import ImportRun, SourceRecord
from casebridge.interop.services import fhir_import_files
from casebridge.patients.models import Patient

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


class _Submitted(list):
    switch_intervals: list[float]

    def __init__(self, *args) -> None:
        super().__init__(*args)
        self.switch_intervals = []


@pytest.fixture
def submitted(monkeypatch):
    """How many chunk writes went to the write-behind thread, and the GIL switch interval at each."""
    count = _Submitted([0])
    original = importer._WriteBehind.submit

    def spy(self, write, *args):
        count[0] += 1
        count.switch_intervals.append(sys.getswitchinterval())
        return original(self, write, *args)

    monkeypatch.setattr(importer._WriteBehind, "submit", spy)
    return count


def _writers_alive() -> list[str]:
    return [t.name for t in threading.enumerate() if t.name.startswith("fhir-write")]


def test_a_bulk_import_written_behind_stores_what_one_written_in_sequence_stores(make_org, make_actor, submitted):
    before = sys.getswitchinterval()
    in_sequence = make_actor(make_org("Sequence Hospital"), roles.INTAKE_COORDINATOR)
    behind = make_actor(make_org("Behind Hospital"), roles.INTAKE_COORDINATOR)
    with transaction.atomic():  # inside a transaction: written chunk after chunk, on this session
        expected = fhir_import_files(actor=in_sequence, paths=[str(BULK)], chunk_size=200)
    assert submitted[0] == 0
    report = fhir_import_files(actor=behind, paths=[str(BULK)], chunk_size=200)
    assert submitted[0] > 20  # most chunks went behind
    assert report.rejected_total == 0, report.as_text()
    assert report.counts_dict() == expected.counts_dict()
    assert records_held_by(behind.organization) == records_held_by(in_sequence.organization)
    assert _writers_alive() == []  # the thread and its session ended with the import
    assert submitted.switch_intervals and set(submitted.switch_intervals) == {importer.WRITER_SWITCH_INTERVAL}
    assert sys.getswitchinterval() == before  # the shorter hand-over lasted only as long as the writer

    again = fhir_import_files(actor=behind, paths=[str(BULK)], chunk_size=200)
    assert again.changed == 0 and again.rejected_total == 0
    assert records_held_by(behind.organization) == records_held_by(in_sequence.organization)


def test_a_resource_sent_again_in_a_later_chunk_updates_the_one_record(make_org, make_actor, tmp_path, submitted):
    actor = make_actor(make_org(), roles.INTAKE_COORDINATOR)
    lines = (BULK / "Patient.000.ndjson").read_text().splitlines()[:2]
    changed = json.loads(lines[0])
    changed["gender"] = "other" if changed.get("gender") != "other" else "unknown"
    path = tmp_path / "Patient.ndjson"
    path.write_text("\n".join([*lines, json.dumps(changed)]) + "\n")
    report = fhir_import_files(actor=actor, paths=[str(path)], chunk_size=1)  # one resource per chunk
    assert submitted[0] == 3
    assert report.counts_dict()["Patient"]["created"] == 2 and report.counts_dict()["Patient"]["updated"] == 1
    assert Patient.objects.filter(organization=actor.organization).count() == 2
    assert SourceRecord.objects.filter(organization=actor.organization).count() == 2
    record = SourceRecord.objects.get(organization=actor.organization, source_id=changed["id"])
    assert record.resource["gender"] == changed["gender"]


def test_an_import_failing_midway_keeps_the_chunks_written_and_a_rerun_completes_it(make_org, make_actor, monkeypatch):
    actor = make_actor(make_org(), roles.INTAKE_COORDINATOR)
    path = str(BULK / "Patient.000.ndjson")  # 13 patients: five chunks of three
    original = importer.FhirImporter._process_chunk
    calls = [0]

    def fail_third(self, chunk, writer, *sent):
        calls[0] += 1
        if calls[0] == 3:  # while chunk 2 is (or was just) written behind
            raise RuntimeError("disk on fire")
        return original(self, chunk, writer, *sent)

    monkeypatch.setattr(importer.FhirImporter, "_process_chunk", fail_third)
    with pytest.raises(RuntimeError, match="disk on fire"):
        fhir_import_files(actor=actor, paths=[path], chunk_size=3)
    assert _writers_alive() == []
    assert sys.getswitchinterval() == 0.005  # Python's default, put back although the import failed
    run = ImportRun.objects.filter(organization=actor.organization).latest("pk")
    assert "disk on fire" in run.error
    # The first two chunks were committed, each whole with its provenance; nothing of the third.
    assert Patient.objects.filter(organization=actor.organization).count() == 6
    assert SourceRecord.objects.filter(organization=actor.organization).count() == 6

    monkeypatch.setattr(importer.FhirImporter, "_process_chunk", original)
    rerun = fhir_import_files(actor=actor, paths=[path], chunk_size=3)
    assert rerun.rejected_total == 0
    assert rerun.counts_dict()["Patient"] == {**rerun.counts_dict()["Patient"], "unchanged": 6, "created": 7}
    assert Patient.objects.filter(organization=actor.organization).count() == 13
    assert SourceRecord.objects.filter(organization=actor.organization).count() == 13
