"""Imports of FHIR data into an organization, and the organization's integration user.

Audit: an import writes one ``fhir.import`` audit event per patient per committed chunk (in that
chunk's transaction, so no change is ever committed unaudited), plus one ``fhir.import.finish``
event per import with its counts. Not one event per resource: a bulk export holds hundreds of
records per patient, and per-resource rows would double the writes of an import while saying no
more than the provenance table already does (``SourceRecord.last_run`` names the import that wrote
each record, and ``ImportRun`` who ran it). A patient's audit trail still shows every import that
changed their record.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from pathlib import Path

from django.conf import settings
from django.db import connections, transaction

from casebridge.accounts import roles
from casebridge.accounts.models import Membership, Organization, User
from casebridge.accounts.permissions import can
from casebridge.accounts.selectors import actor_for
from casebridge.accounts.services import membership_grant, user_create
from casebridge.audit.recorder import audit_record
from casebridge.clinical.services import admissions_pending_case, case_open_for_admission
from casebridge.interop.fhir import sources
from casebridge.interop.fhir.importer import FhirImporter, Item, frozen_heap, relaxed_commits
from casebridge.interop.fhir.mappers import TYPE_ORDER
from casebridge.interop.fhir.report import ImportReport
from casebridge.interop.models import ImportRun
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError, PermissionDenied

log = logging.getLogger(__name__)

INTEGRATION_USERNAME = "integration-{org_id}"
PROGRESS_SECONDS = 1.0  # how often a file import records how far it got (ImportRun.processed)


def require_import(actor: Actor) -> None:
    """Imports are run by organization admins (uploads) and by registering roles or the integration user."""
    if not (can(actor, "organization.manage") or can(actor, "patient.create")):
        raise PermissionDenied(
            f"Your role in {actor.organization.name} does not allow importing data: ask an organization admin."
        )


def integration_actor(organization: Organization) -> Actor:
    """The organization's system user, ``integration-<org id>``, that imports and interface feeds act as
    when no person does (the CLI without --as, HL7 feeds) and that opens cases from admission rules.

    It holds the intake coordinator role: it may register patients, open cases and create tasks, and
    nothing else. It has an unusable password, so nobody can sign in as it.
    """
    username = INTEGRATION_USERNAME.format(org_id=organization.pk)
    user = User.objects.filter(username=username).first()
    if user is None:
        with transaction.atomic():
            user = user_create(
                actor=None,
                organization=organization,
                username=username,
                password=None,  # unusable: nobody signs in as it
                role=roles.INTAKE_COORDINATOR,
                first_name="Integration",
                last_name=organization.name[:150],
            )
    elif not Membership.objects.filter(
        user=user, organization=organization, role=roles.INTAKE_COORDINATOR, active=True
    ).exists():
        membership_grant(actor=None, user=user, organization=organization, role=roles.INTAKE_COORDINATOR)
    actor = actor_for(user, organization_id=organization.pk)
    assert actor is not None
    return actor


def _case_actor(actor: Actor) -> Actor:
    """Cases from admission rules follow the organization's rule, not the uploader's clinical role: the
    importer opens them itself when it may, else the integration user does."""
    if can(actor, "case.create") and can(actor, "task.change"):
        return actor
    return integration_actor(actor.organization)


def _start_run(actor: Actor, channel: str, sources_: list[str]) -> ImportRun:
    return ImportRun.objects.create(
        organization=actor.organization,
        started_by=actor.user,
        channel=channel,
        sources=sources_[:200],
        started_at=clock.now(),
    )


def _open_cases(importer: FhirImporter, actor: Actor) -> None:
    candidates = admissions_pending_case(
        organization=actor.organization, encounter_ids=sorted(set(importer.encounters_touched))
    )
    if not candidates:
        return
    case_actor = _case_actor(actor)
    for encounter_id in candidates:
        try:
            if case_open_for_admission(actor=case_actor, encounter_id=encounter_id) is not None:
                importer.report.cases_opened += 1
        except DomainError as exc:
            importer.report.reject(
                file="",
                where="",
                resource_type="",
                source_id=str(encounter_id),
                reason=f"admission saved, but no case was opened for encounter {encounter_id}: {exc.detail}",
            )


def _finish_run(run: ImportRun, importer: FhirImporter, actor: Actor, *, error: str = "") -> ImportReport:
    report = importer.report
    run.status = ImportRun.Status.FAILED if error else ImportRun.Status.COMPLETED
    run.processed = report.resources
    run.finished_at = run.progress_at = clock.now()
    run.counts = report.counts_dict()
    run.rejections = [r.as_dict() for r in report.rejections]
    run.rejected_total = report.rejected_total
    run.cases_opened = report.cases_opened
    run.error = error
    with transaction.atomic():
        run.save()
        audit_record(
            actor=actor,
            action="fhir.import.finish",
            subject=run,
            detail={
                "totals": {o: report.total(o) for o in ("created", "updated", "unchanged", "rejected", "skipped")},
                "files": len(report.files),
                "error": error,
            },
        )
    return report


def _file_order(path: Path) -> tuple[int, int, str]:
    """NDJSON in dependency order (references point backwards), then Bundles by name."""
    if sources.is_ndjson(path):
        rtype = sources.type_from_name(path) or ""
        rank = TYPE_ORDER.index(rtype) if rtype in TYPE_ORDER else len(TYPE_ORDER)
        return 0, rank, path.name
    return 1, 0, path.name


def fhir_import_files(
    *,
    actor: Actor,
    paths: list[str],
    source: str = "fhir",
    channel: str = "cli",
    max_bytes: int | None = None,
    chunk_size: int = 1000,
    on_total: Callable[[int], None] | None = None,
    on_progress: Callable[[int], None] | None = None,
    run: ImportRun | None = None,
    name_of: Callable[[Path], str] = str,
    count_total: bool = False,
) -> ImportReport:
    """Import FHIR files and folders (bulk NDJSON and JSON Bundles) into the actor's organization.

    A problem with a whole file (missing, too large, binary, not JSON, unsupported Bundle type) is
    reported as that file's rejection and the other files still import.

    Progress: the run records how many resources were processed about once a second. With
    ``count_total`` or ``on_total`` the NDJSON lines are counted first, so the run also knows how many
    to expect (``on_total`` is called with that number).
    """
    require_import(actor)
    limit = max_bytes or sources.max_import_bytes()
    started = time.perf_counter()
    files = sources.expand(paths)
    files.sort(key=_file_order)
    run = run or _start_run(actor, channel, [name_of(f) for f in files])
    importer = FhirImporter(actor=actor, run=run, source=source, chunk_size=chunk_size, name_of=name_of)
    report = importer.report
    report.files = [name_of(f) for f in files]
    checked: list[Path] = []
    for path in files:
        try:
            sources.check_file(path, limit)
            checked.append(path)
        except sources.InputProblem as exc:
            report.reject(file=name_of(path), where="", resource_type="", source_id="", reason=exc.reason)
    run.progress_at = clock.now()  # the instance too: _finish_run saves it whole
    if count_total or on_total is not None:
        # A pass over the files before the import (about 2 ms a megabyte), for a progress bar only.
        run.total = sum(sources.count_lines(p) if sources.is_ndjson(p) else 0 for p in checked)
        if on_total is not None:
            on_total(run.total)
    ImportRun.objects.filter(pk=run.pk).update(total=run.total, progress_at=run.progress_at)
    error = ""
    progress_saved = time.perf_counter()

    def progressed(n: int) -> None:
        nonlocal progress_saved
        if on_progress is not None:
            on_progress(n)
        if time.perf_counter() - progress_saved >= PROGRESS_SECONDS:
            # For someone watching the import (the upload page polls it); a write of its own, so only
            # about once a second. Inside a transaction Bundle it waits for the Bundle's commit.
            ImportRun.objects.filter(pk=run.pk).update(processed=report.resources, progress_at=clock.now())
            progress_saved = time.perf_counter()

    importer.progress = progressed
    try:
        with frozen_heap(), relaxed_commits():
            for path in checked:
                try:
                    if sources.is_ndjson(path):
                        importer.import_ndjson(path)
                    else:
                        document = sources.parse_json_document(path.read_bytes(), name_of(path))
                        _, items = importer.import_document(document, file=name_of(path))
                        progressed(sum(1 for i in items if i.outcome in ("skipped", "rejected")))
                except sources.InputProblem as exc:
                    report.reject(file=exc.file, where="", resource_type="", source_id="", reason=exc.reason)
                importer.settle()
            importer.flush()  # the last chunk written behind, before the cases read what was imported
        _open_cases(importer, actor)
    except BaseException as exc:  # interrupted (Ctrl+C) or crashed: record it, keep what committed
        importer.close()  # a chunk still being written behind finishes first, and is counted
        error = f"{type(exc).__name__}: {exc}".rstrip(": ")
        report.seconds = time.perf_counter() - started
        _finish_run(run, importer, actor, error=error)
        raise
    finally:
        importer.close()
    report.seconds = time.perf_counter() - started
    return _finish_run(run, importer, actor)


def fhir_import_upload(
    *, actor: Actor, uploads: Sequence[tuple[str, Iterable[bytes]]], background: bool | None = None
) -> ImportRun:
    """Import files uploaded through the web page: each ``(name, chunks)`` is saved in a folder of the
    upload's own, then imported as ``fhir_import_files`` would, and the folder removed.

    ``background`` (default ``settings.FHIR_UPLOAD_IN_BACKGROUND``): the import runs on a thread of
    this process and the run comes back at once, still running, so the page can show its progress.
    A request held for the whole import would show nothing for as long as it takes (a file at the
    256 MiB limit takes about a minute) and would be cut off by the web server's worker timeout. If
    the process dies meanwhile, the run stops recording progress and shows as stalled; the same files
    imported again finish the work without duplicates.
    """
    require_import(actor)
    folder = Path(tempfile.mkdtemp(prefix="casebridge-upload-"))
    try:
        paths = []
        for i, (name, chunks) in enumerate(uploads):
            # Keep the name (bulk files are typed by it), but never a path from the client.
            safe = Path(name or "").name or f"upload-{i}.json"
            target = folder / f"{i:03d}" / safe
            target.parent.mkdir()
            with target.open("wb") as fh:
                for chunk in chunks:
                    fh.write(chunk)
            paths.append(str(target))
        run = _start_run(actor, "upload", [Path(p).name for p in paths])
    except BaseException:
        shutil.rmtree(folder, ignore_errors=True)
        raise
    if background is None:
        background = settings.FHIR_UPLOAD_IN_BACKGROUND
    if not background:
        _import_upload(actor, run, paths, folder, own_thread=False)
        run.refresh_from_db()
        return run
    threading.Thread(
        target=_import_upload, args=(actor, run, paths, folder), name=f"fhir-upload-{run.pk}", daemon=True
    ).start()
    return run


def _import_upload(actor: Actor, run: ImportRun, paths: list[str], folder: Path, *, own_thread: bool = True) -> None:
    try:
        fhir_import_files(
            actor=actor, paths=paths, channel="upload", run=run, name_of=lambda p: p.name, count_total=True
        )
    except Exception:
        # The run is already marked failed, with the error, for the page; this thread has no caller.
        if not own_thread:
            raise
        log.exception("FHIR upload import %s failed", run.pk)
    finally:
        shutil.rmtree(folder, ignore_errors=True)
        if own_thread:
            connections.close_all()  # this thread's sessions (the import's, and its write-behind's)


def fhir_import_bundle(
    *,
    actor: Actor,
    body: bytes,
    source: str = "fhir",
    channel: str = "api",
    name: str = "request body",
    bundle_types: tuple[str, ...] | None = None,
) -> tuple[ImportReport, str, list[Item]]:
    """Import one posted Bundle (transaction, batch, collection or searchset) or single resource.

    Returns the report, the bundle type and one item per entry (for the response Bundle).
    Raises ``sources.InputProblem`` when the body is not a FHIR JSON document at all.
    """
    require_import(actor)
    limit = sources.max_import_bytes()
    if len(body) > limit:
        raise sources.InputProblem(
            name, f"is {sources.human_bytes(len(body))}, larger than the import limit of {sources.human_bytes(limit)}"
        )
    document = sources.parse_json_document(body, name)
    if bundle_types is not None and (
        document.get("resourceType") != "Bundle" or document.get("type") not in bundle_types
    ):
        what = (
            f"a Bundle of type {document.get('type')!r}"
            if document["resourceType"] == "Bundle"
            else (f"a {document['resourceType']}")
        )
        raise sources.InputProblem(name, f"is {what}; send a Bundle of type {' or '.join(bundle_types)}")
    run = _start_run(actor, channel, [name])
    importer = FhirImporter(actor=actor, run=run, source=source)
    importer.report.files = [name]
    started = time.perf_counter()
    try:
        with frozen_heap(), relaxed_commits():
            btype, items = importer.import_document(document, file=name)
        _open_cases(importer, actor)
    except sources.InputProblem as exc:
        importer.report.seconds = time.perf_counter() - started
        _finish_run(run, importer, actor, error=exc.reason)
        raise
    importer.report.seconds = time.perf_counter() - started
    return _finish_run(run, importer, actor), btype, items
