"""The upload page's import runs on after the upload; its page shows the progress, then the report."""

from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from fhir_data import BULK

from casebridge.accounts import roles
from casebridge.interop import services
from casebridge.interop.models import ImportRun
from casebridge.interop.services import fhir_import_files
from casebridge.kernel import clock
from casebridge.patients.models import Patient

pytestmark = pytest.mark.django_db


def _run(actor, **fields) -> ImportRun:
    values = {"status": ImportRun.Status.RUNNING, "started_at": clock.now(), "channel": "upload"}
    values.update(fields)
    return ImportRun.objects.create(organization=actor.organization, started_by=actor.user, **values)


def _upload(name: str) -> SimpleUploadedFile:
    return SimpleUploadedFile(name, (BULK / name).read_bytes())


def test_a_running_import_shows_its_progress_and_the_page_polls_itself(admin, web_as):
    run = _run(admin, total=1000, processed=250, progress_at=clock.now())
    page = web_as(admin).get(f"/admin/import/{run.pk}").content.decode()
    assert '<progress class="import-progress" max="1000" value="250"' in page
    assert "250 of 1000 resources (25%)" in page
    assert 'hx-trigger="every 1s"' in page and 'hx-select="#import-run"' in page
    assert "Running (25%)" in web_as(admin).get("/admin/import").content.decode()


def test_an_import_that_has_not_counted_its_files_yet_says_it_is_starting(admin, web_as):
    run = _run(admin, progress_at=clock.now())
    page = web_as(admin).get(f"/admin/import/{run.pk}").content.decode()
    assert "Starting the import" in page and 'hx-trigger="every 1s"' in page and "<progress" not in page


def test_a_finished_import_shows_its_report_and_stops_polling(admin, web_as):
    counts = {"Patient": {"created": 13}}
    run = _run(admin, status=ImportRun.Status.COMPLETED, finished_at=clock.now(), counts=counts, total=13, processed=13)
    page = web_as(admin).get(f"/admin/import/{run.pk}").content.decode()
    assert "hx-trigger" not in page and "<progress" not in page
    assert "<td>Patient</td><td>13</td>" in page


def test_an_import_silent_for_five_minutes_shows_as_stopped_with_what_to_do(admin, web_as):
    silent_since = clock.now() - dt.timedelta(seconds=ImportRun.STALLED_AFTER_SECONDS + 60)
    run = _run(admin, started_at=silent_since, progress_at=silent_since, total=100, processed=40)
    assert run.stalled
    page = web_as(admin).get(f"/admin/import/{run.pk}").content.decode()
    assert "stopped recording progress" in page and "import the same files again" in page
    assert "hx-trigger" not in page, "a dead import is not polled for ever"
    assert ">Stopped<" in web_as(admin).get("/admin/import").content.decode()


def test_another_organizations_admin_cannot_see_an_import(admin, insurer, make_actor, web_as):
    run = _run(admin, total=10, processed=5, progress_at=clock.now())
    other = make_actor(insurer, roles.ORG_ADMIN)
    assert web_as(other).get(f"/admin/import/{run.pk}").status_code == 404
    assert f"#{run.pk}<" not in web_as(other).get("/admin/import").content.decode()


def test_an_import_records_its_total_at_once_and_its_progress_as_it_goes(admin, monkeypatch):
    monkeypatch.setattr(services, "PROGRESS_SECONDS", 0.0)
    seen: list[tuple[int, int]] = []

    def watch(_: int) -> None:  # what someone polling the run would read, while it runs
        run = ImportRun.objects.order_by("-pk").first()
        assert run is not None
        seen.append((run.total, run.processed))

    paths = [str(BULK / "Patient.000.ndjson"), str(BULK / "Encounter.000.ndjson")]
    report = fhir_import_files(actor=admin, paths=paths, on_progress=watch, chunk_size=200, count_total=True)
    run = ImportRun.objects.get(pk=report.run_id)
    assert run.total == run.processed == 13 + 1215
    assert {total for total, _ in seen} == {1228}, "the total is known before the first resource"
    progress = [processed for _, processed in seen]
    assert progress == sorted(progress) and 0 < progress[-1] < 1228, progress
    assert run.progress_at is not None and run.progress_at >= run.started_at
    # Nobody watching (no count_total, no on_total): no pass over the files to count them.
    quiet = ImportRun.objects.get(pk=fhir_import_files(actor=admin, paths=paths[:1]).run_id)
    assert (quiet.total, quiet.processed) == (0, 13)


@pytest.mark.postgres_only  # SQLite's in-memory test database: a reader fails on the writer's table lock
@pytest.mark.django_db(transaction=True)
def test_an_upload_imports_in_the_background_and_its_folder_is_removed(admin, web_as, tmp_path, monkeypatch):
    folder = tmp_path / "upload"
    monkeypatch.setattr(services.tempfile, "mkdtemp", lambda prefix: str(folder.mkdir() or folder))
    with override_settings(FHIR_UPLOAD_IN_BACKGROUND=True):
        r = web_as(admin).post("/admin/import", {"files": [_upload("Patient.000.ndjson")]})
    assert r.status_code == 302
    run = ImportRun.objects.get()
    assert r["Location"] == f"/admin/import/{run.pk}"
    deadline = time.monotonic() + 60
    while run.status == ImportRun.Status.RUNNING and time.monotonic() < deadline:
        time.sleep(0.1)
        run.refresh_from_db()
    assert run.status == ImportRun.Status.COMPLETED, run.error
    assert run.counts["Patient"]["created"] == 13 and run.total == run.processed == 13
    assert Patient.objects.filter(organization=admin.organization).count() == 13
    deadline = time.monotonic() + 10
    while folder.exists() and time.monotonic() < deadline:  # removed just after the run is finished
        time.sleep(0.05)
    assert not Path(folder).exists()


def test_an_upload_keeps_only_the_file_name_the_client_sent(admin, monkeypatch, tmp_path):
    folder = tmp_path / "upload"
    monkeypatch.setattr(services.tempfile, "mkdtemp", lambda prefix: str(folder.mkdir() or folder))
    written: list[str] = []
    real = services.fhir_import_files

    def spy(**kwargs):  # type: ignore[no-untyped-def]
        written.extend(kwargs["paths"])
        return real(**kwargs)

    monkeypatch.setattr(services, "fhir_import_files", spy)
    body = (BULK / "Patient.000.ndjson").read_bytes()
    run = services.fhir_import_upload(actor=admin, uploads=[("../../etc/Patient.000.ndjson", [body])], background=False)
    assert run.status == ImportRun.Status.COMPLETED and run.sources == ["Patient.000.ndjson"]
    assert [Path(p).relative_to(folder).as_posix() for p in written] == ["000/Patient.000.ndjson"]
