"""Bulk imports validated ahead in a worker process (interop/fhir/validation.py): the same verdicts,
records and report as validating in the importer's own process, also when the worker dies mid-way."""

from __future__ import annotations

import json
import math
import os
import signal
import time

import pytest
from fhir_data import BULK
from import_support import records_held_by

from casebridge.accounts import roles
from casebridge.interop.fhir import importer, validation
from casebridge.interop.fhir.mappers import SPECS
from casebridge.interop.services import fhir_import_files
from casebridge.patients.models import Patient

VALID_PATIENT = {"resourceType": "Patient", "id": "ok", "gender": "female", "birthDate": "1950-02-03"}
BAD_ACTIVE = {"resourceType": "Patient", "id": "bad-active", "active": "maybe"}
BAD_DATE = {"resourceType": "Patient", "id": "bad-date", "birthDate": "1950-13-45"}
UNKNOWN_NESTED = {
    "resourceType": "Patient",
    "id": "nested",
    "contained": [{"resourceType": "NoSuchThing", "id": "x"}],
}


@pytest.fixture
def pool(settings):
    """The process's validation worker, running (spawned if need be) and enabled for imports."""
    settings.FHIR_VALIDATION_PROCESSES = 1
    started = validation.shared_pool(1, SPECS)
    assert started is not None
    assert started.wait_ready(timeout=120), "the validation worker did not start"
    return started


def _patients_file(tmp_path, count: int, bad: dict[int, dict]) -> str:
    """``count`` Patients, one per line; at the line numbers in ``bad``, that resource instead."""
    lines = []
    for n in range(1, count + 1):
        resource = dict(bad.get(n) or {**VALID_PATIENT, "id": f"p{n}", "name": [{"family": f"Worker{n}"}]})
        resource["id"] = f"p{n}"
        lines.append(json.dumps(resource))
    path = tmp_path / "Patient.000.ndjson"
    path.write_text("\n".join(lines) + "\n")
    return str(path)


def test_the_worker_gives_the_verdict_the_importer_gives():
    resources = [VALID_PATIENT, BAD_ACTIVE, BAD_DATE, UNKNOWN_NESTED]
    in_process = [validation.validation_error("Patient", r) for r in resources]
    assert in_process[0] is None
    assert "Patient.active" in in_process[1]
    assert "Patient.birthDate" in in_process[2]
    assert "unknown resourceType 'NoSuchThing'" in in_process[3]
    assert validation.validate_texts([("Patient", json.dumps(r)) for r in resources]) == in_process


def test_no_worker_when_turned_off():
    assert validation.shared_pool(0, SPECS) is None


@pytest.mark.django_db
def test_a_bulk_import_validated_ahead_stores_what_one_validated_in_process_stores(
    make_org, make_actor, settings, pool
):
    alone = make_actor(make_org("Alone Hospital"), roles.INTAKE_COORDINATOR)
    ahead = make_actor(make_org("Ahead Hospital"), roles.INTAKE_COORDINATOR)
    settings.FHIR_VALIDATION_PROCESSES = 0
    expected = fhir_import_files(actor=alone, paths=[str(BULK)], chunk_size=200)
    settings.FHIR_VALIDATION_PROCESSES = 1
    sent_before = pool.batches
    report = fhir_import_files(actor=ahead, paths=[str(BULK)], chunk_size=200)
    assert pool.batches - sent_before > 20  # most of the chunks went to the worker
    assert report.rejected_total == 0, report.as_text()
    assert report.counts_dict() == expected.counts_dict()
    assert records_held_by(ahead.organization) == records_held_by(alone.organization)

    # Run again: all unchanged, so after the first chunk nothing more goes to the worker.
    sent_before = pool.batches
    again = fhir_import_files(actor=ahead, paths=[str(BULK)], chunk_size=200)
    assert again.changed == 0
    assert pool.batches - sent_before <= math.ceil(200 / importer.AHEAD_PART)


@pytest.mark.django_db
def test_rejections_found_by_the_worker_are_the_ones_found_in_process(make_org, make_actor, settings, tmp_path, pool):
    bad = {7: BAD_ACTIVE, 130: BAD_DATE, 260: UNKNOWN_NESTED, 299: BAD_ACTIVE}
    path = _patients_file(tmp_path, 300, bad)
    settings.FHIR_VALIDATION_PROCESSES = 0
    expected = fhir_import_files(actor=make_actor(make_org("In Process"), roles.INTAKE_COORDINATOR), paths=[path])
    settings.FHIR_VALIDATION_PROCESSES = 1
    sent_before = pool.batches
    actor = make_actor(make_org("Validated Ahead"), roles.INTAKE_COORDINATOR)
    report = fhir_import_files(actor=actor, paths=[path], chunk_size=50)
    assert pool.batches > sent_before
    assert [(r.where, r.reason) for r in report.rejections] == [(r.where, r.reason) for r in expected.rejections]
    assert [r.where for r in report.rejections] == ["line 7", "line 130", "line 260", "line 299"]
    assert report.total("created") == 296
    assert Patient.objects.filter(organization=actor.organization).count() == 296


@pytest.mark.django_db
def test_an_import_finishes_in_process_when_the_worker_dies(make_org, make_actor, tmp_path, pool, caplog):
    for pid in list(pool._executor._processes):
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 30
    while not pool._executor._broken and time.monotonic() < deadline:
        time.sleep(0.05)
    assert pool._executor._broken, "the executor did not notice its worker died"
    path = _patients_file(tmp_path, 250, {40: BAD_DATE, 210: BAD_ACTIVE})
    actor = make_actor(make_org("Worker Died"), roles.INTAKE_COORDINATOR)
    with caplog.at_level("WARNING", logger="casebridge.interop.fhir.validation"):
        report = fhir_import_files(actor=actor, paths=[path], chunk_size=100)
    assert [r.where for r in report.rejections] == ["line 40", "line 210"]
    assert report.total("created") == 248
    assert not pool.ready
    assert "validation worker unavailable" in caplog.text
    # The next bulk chunk starts a new worker in the background.
    restarted = validation.shared_pool(1, SPECS, start=False)
    assert restarted is not None and restarted is not pool
    assert restarted.wait_ready(timeout=120)


@pytest.mark.postgres_only
@pytest.mark.django_db(transaction=True)
def test_validated_ahead_and_written_behind_together_store_what_an_import_in_sequence_stores(
    make_org, make_actor, settings, pool
):
    """On PostgreSQL outside a transaction the importer maps chunk k while chunk k-1 is written on
    the writer thread and chunk k+1 is validated in the worker: all three at once."""
    from django.db import transaction

    in_sequence = make_actor(make_org("Sequence Hospital"), roles.INTAKE_COORDINATOR)
    overlapped = make_actor(make_org("Overlapped Hospital"), roles.INTAKE_COORDINATOR)
    settings.FHIR_VALIDATION_PROCESSES = 0
    with transaction.atomic():  # inside a transaction: written chunk after chunk, on this session
        expected = fhir_import_files(actor=in_sequence, paths=[str(BULK)], chunk_size=200)
    settings.FHIR_VALIDATION_PROCESSES = 1
    sent_before = pool.batches
    report = fhir_import_files(actor=overlapped, paths=[str(BULK)], chunk_size=200)
    assert pool.batches - sent_before > 20
    assert report.rejected_total == 0, report.as_text()
    assert report.counts_dict() == expected.counts_dict()
    assert records_held_by(overlapped.organization) == records_held_by(in_sequence.organization)


@pytest.mark.django_db
def test_an_import_failing_midway_leaves_the_worker_nothing_to_do_and_a_rerun_completes_it(
    make_org, make_actor, tmp_path, pool, monkeypatch
):
    path = _patients_file(tmp_path, 2000, {})
    actor = make_actor(make_org("Fails Midway"), roles.INTAKE_COORDINATOR)
    original_send, original_process = importer.FhirImporter._send_ahead, importer.FhirImporter._process_chunk
    sent: list[importer._SentAhead] = []
    calls = [0]

    def recording_send(self, pool, chunk):
        result = original_send(self, pool, chunk)
        if result is not None:
            sent.append(result)
        return result

    def fail_third(self, chunk, writer, *ahead):
        calls[0] += 1
        if calls[0] == 2:  # chunk 3, five parts, has just been sent: the worker has at most two of them
            raise RuntimeError("disk on fire")
        return original_process(self, chunk, writer, *ahead)

    monkeypatch.setattr(importer.FhirImporter, "_send_ahead", recording_send)
    monkeypatch.setattr(importer.FhirImporter, "_process_chunk", fail_third)
    with pytest.raises(RuntimeError, match="disk on fire"):
        fhir_import_files(actor=actor, paths=[path], chunk_size=500)
    assert len(sent) == 3  # chunks 1 to 3 had gone to the worker
    futures = [future for ahead in sent for _, future in ahead.parts]
    deadline = time.monotonic() + 30
    while not all(f.done() for f in futures) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert all(f.done() for f in futures)  # nothing left queued for the worker
    assert sum(f.cancelled() for _, f in sent[2].parts) >= 3  # what nobody would read was not validated
    assert Patient.objects.filter(organization=actor.organization).count() == 500  # chunk 1

    monkeypatch.setattr(importer.FhirImporter, "_process_chunk", original_process)
    rerun = fhir_import_files(actor=actor, paths=[path], chunk_size=500)
    assert rerun.rejected_total == 0
    assert rerun.counts_dict()["Patient"] == {**rerun.counts_dict()["Patient"], "unchanged": 500, "created": 1500}
    assert Patient.objects.filter(organization=actor.organization).count() == 2000
