"""The FHIR import engine: validate, match, map and write resources in batches.

Speed comes from doing per chunk (default 1,000 resources of one type) what a naive importer does
per resource: one query fetches the provenance rows of the whole chunk (so an unchanged resource
costs a hash comparison), one query per referenced type resolves the chunk's references, and the
records and their provenance rows are written with ``bulk_create`` / ``bulk_update`` in one
transaction. Only when that batch write fails does the chunk fall back to one savepoint per
resource, so one bad resource is rejected and the others are kept.

Atomicity: NDJSON, batch and collection input commit per chunk (each resource is all-or-nothing);
a transaction Bundle commits all its entries or none. An interrupted import leaves whole chunks,
each with its provenance, so running it again finds them unchanged and carries on.

On PostgreSQL an NDJSON file's chunk is written behind (``_WriteBehind``): while its writes and commit
run on a thread with a session of its own, the importer validates the next chunk.
"""

from __future__ import annotations

import gc
import hashlib
import json
import sys
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import DatabaseError, IntegrityError, connection, connections, transaction
from fhir.resources.R4B import get_fhir_model_class
from simple_history.utils import bulk_create_with_history, bulk_update_with_history

from casebridge.audit.recorder import audit_record_many
from casebridge.interop.fhir import sources, validation
from casebridge.interop.fhir.mappers import SPECS, TYPE_ORDER, Mapped, Rejected, TypeSpec
from casebridge.interop.fhir.references import (
    DIRECTORY_TYPES,
    Resolver,
    collect_references_in_text,
    source_records,
)
from casebridge.interop.fhir.report import ImportReport
from casebridge.interop.models import ImportRun, SourceRecord
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError
from casebridge.kernel.nesting import nested_deeper_than, text_nests_within
from casebridge.kernel.rows import RawJSON, bulk_insert_rows
from casebridge.patients.identifiers import AmbiguousIdentifier, identifier_holder
from casebridge.patients.models import IdentifierKind, PatientIdentifier

BUNDLE_TYPES = ("transaction", "batch", "collection", "searchset")
WRITE_BATCH = 500
#: Resources per part sent to the validation worker (about 15 ms of its work each).
AHEAD_PART = 100
#: Seconds between GIL hand-overs while a chunk is written behind (see _WriteBehind).
WRITER_SWITCH_INTERVAL = 0.0005


@dataclass(slots=True)
class Item:
    """One resource on its way in, with where it came from (for the report and the response)."""

    resource: dict[str, Any] | None
    rtype: str
    file: str
    where: str
    source_id: str = ""
    text: str = ""
    digest: str = ""
    full_url: str = ""
    outcome: str = ""  # created, updated, unchanged, rejected, skipped
    reason: str = ""
    target_id: int | None = None


@dataclass
class _Pending:
    item: Item
    mapped: Mapped
    record_id: int | None = None  # provenance row to update
    target_id: int | None = None  # existing record to update


class _SentAhead(Mapping[int, "str | None"]):
    """A chunk's resources sent to the validation worker, in parts: their verdicts (None: valid) by
    ``id(item)``, collected when the first one is asked for. A chunk whose resources all turn out
    unchanged asks for none, and what the worker has not started is cancelled."""

    def __init__(
        self,
        pool: validation.ValidationPool,
        parts: list[tuple[list[Item], Future[list[str | None]]]],
        validate: Callable[[Item], str | None],
    ) -> None:
        self.pool = pool
        self.parts = parts
        self.validate = validate
        self._known: dict[int, str | None] | None = None

    @property
    def known(self) -> dict[int, str | None]:
        """A part the worker has not started yet is taken back, the last one first, and validated
        here (the same function), one at a time: the worker goes on from the front of the chunk while
        this process works from the back, so the importer never waits for a whole chunk. A part the
        worker failed is left out; its items are validated in-process when they are met."""
        if self._known is not None:
            return self._known
        known: dict[int, str | None] = {}
        waiting = list(self.parts)
        while waiting and waiting[-1][1].cancel():
            for item in waiting.pop()[0]:
                known[id(item)] = self.validate(item)
        for items, future in waiting:
            results = self.pool.results(future)
            if results is not None:
                known.update(zip(map(id, items), results, strict=True))
        self._known = known
        return known

    def __getitem__(self, key: int) -> str | None:
        return self.known[key]

    def __iter__(self) -> Iterator[int]:
        return iter(self.known)

    def __len__(self) -> int:
        return len(self.known)

    def cancel(self) -> None:
        for _, future in self.parts:
            future.cancel()


class TransactionFailed(Exception):
    def __init__(self, items: list[Item]) -> None:
        super().__init__("transaction rolled back")
        self.items = items


_frozen_lock = threading.Lock()
_frozen_imports = 0


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Keep the garbage collector's full collections to the objects this import creates.

    An import holds a chunk of parsed resources (tens of thousands of dicts and lists) long enough
    for them to reach the oldest generation, so the collector runs full collections during the
    import; each one walks the whole process heap (Django, every fhir.resources model class: about
    180,000 objects, some 0.1 s a walk) to find garbage that is almost all the import's own.
    ``gc.freeze()`` sets the objects that existed before the import aside for its duration
    (nothing is freed or leaked; ``gc.unfreeze()`` hands them back at the end). Imports running at
    the same time share one freeze, lifted when the last one ends.
    """
    global _frozen_imports
    with _frozen_lock:
        _frozen_imports += 1
        if _frozen_imports == 1:
            gc.freeze()
    try:
        yield
    finally:
        with _frozen_lock:
            _frozen_imports -= 1
            if _frozen_imports == 0:
                gc.unfreeze()


def _relax_commits() -> None:
    with connection.cursor() as cursor:
        cursor.execute("SET synchronous_commit TO OFF")


class _WriteBehind:
    """Write a chunk on a thread of its own while the importer validates the next one.

    A chunk's write keeps the database busy while the importer waits: PostgreSQL takes the COPY of the
    records and their provenance, then at the commit checks every deferred foreign key of every row
    (about a fifth of an import's time). fhir.resources validation, the import's largest CPU cost,
    needs no database; run meanwhile, the two overlap on two cores.

    One write at a time, on the thread's own session (commits relaxed as ``relaxed_commits`` does).
    The importer waits for it before it reads the database again (provenance lookups, references,
    matches), so every lookup sees the chunks before it exactly as one after another would. Only for a
    caller outside a transaction: another session could not see the caller's uncommitted rows.
    """

    def __init__(self) -> None:
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="fhir-write")
        self._pending: Future[None] | None = None
        self._pool.submit(_relax_commits).result()
        # The writer thread blocks on the database many times per chunk, and each time it wants the GIL
        # back it waits for the validating thread to give it up: Python's default switch interval, 5 ms,
        # left PostgreSQL idle for much of each write. At 0.5 ms a synthea-10-bulk import's writes took
        # 0.73 s instead of 1.06 s and the import ran about 30% faster (bench_fhir_import, PostgreSQL);
        # 0.2 ms was slower again, the switches costing more than they saved. The setting is
        # process-wide, so it lasts only while a writer runs (see _writer_ended).
        _writer_started()

    @property
    def busy(self) -> bool:
        return self._pending is not None

    def submit(self, write: Callable[..., None], *args: Any) -> None:
        self.wait()
        self._pending = self._pool.submit(write, *args)

    def wait(self) -> None:
        """Until the pending write has committed (or failed: its error is raised here)."""
        pending, self._pending = self._pending, None
        if pending is not None:
            pending.result()

    def drain(self) -> None:
        """Let a write still running finish without raising its error (the import is already failing
        with another)."""
        with suppress(Exception):
            self.wait()

    def close(self) -> None:
        """Drain, then end the thread and its session."""
        try:
            self.drain()
            self._pool.submit(connections.close_all).result()  # the writer thread's own session
            self._pool.shutdown()
        finally:
            _writer_ended()


_hand_overs_lock = threading.Lock()
_writers_running = 0
_switch_interval_before = 0.0


def _writer_started() -> None:
    """The first writer running lowers the GIL switch interval; see _writer_ended."""
    global _writers_running, _switch_interval_before
    with _hand_overs_lock:
        if _writers_running == 0:
            _switch_interval_before = sys.getswitchinterval()
            sys.setswitchinterval(WRITER_SWITCH_INTERVAL)
        _writers_running += 1


def _writer_ended() -> None:
    """The last writer to end puts the previous switch interval back: imports may overlap (two
    uploads), and they may end in any order."""
    global _writers_running
    with _hand_overs_lock:
        _writers_running -= 1
        if _writers_running == 0:
            sys.setswitchinterval(_switch_interval_before)


@contextmanager
def relaxed_commits() -> Iterator[None]:
    """On PostgreSQL, let the import's commits return before their WAL reaches disk.

    Safe for imports alone: a crash can lose only the last few chunks acknowledged, and an import run
    again finds what survived unchanged and writes the rest (idempotent, per-chunk atomic). The
    database stays consistent either way; only durability of the newest chunks is deferred. Set once
    for the import's session (not per chunk: a round trip each) and reset when it ends.
    """
    if connection.vendor != "postgresql":
        yield
        return
    _relax_commits()
    try:
        yield
    finally:
        # Inside a transaction being rolled back the SET was part of it and goes with it; on a broken
        # connection it goes with the session.
        if connection.connection is not None and not connection.needs_rollback:
            try:
                with connection.cursor() as cursor:
                    cursor.execute("RESET synchronous_commit")
            except DatabaseError:
                pass


def _known_fhir_type(rtype: str) -> bool:
    try:
        get_fhir_model_class(rtype)
    except (ValueError, KeyError, AttributeError, ImportError):
        return False
    return True


class FhirImporter:
    def __init__(
        self,
        *,
        actor: Actor,
        run: ImportRun,
        source: str = "fhir",
        chunk_size: int = 1000,
        progress: Callable[[int], None] | None = None,
        name_of: Callable[[Path], str] = str,
    ) -> None:
        self.actor = actor
        self.name_of = name_of
        self.org_id = actor.organization_id
        self.run = run
        self.source = source
        self.chunk_size = chunk_size
        self.progress = progress or (lambda n: None)
        self.report = ImportReport(run_id=run.pk)
        self.resolver = Resolver(organization_id=self.org_id, source=source, directory_index=self._directory_index())
        self.encounters_touched: list[int] = []
        self.now = clock.now()
        self._writer: _WriteBehind | None = None  # started by the first NDJSON file; see flush() and close()
        # Whether the last chunk processed had resources to validate: while a re-import meets only
        # unchanged ones, chunks are not sent to the validation worker for nothing.
        self.validated_last_chunk = True

    # --- preparation ---------------------------------------------------------------------------

    def _directory_index(self) -> dict[tuple[str, str, str], int]:
        index: dict[tuple[str, str, str], int] = {}
        for rtype in DIRECTORY_TYPES:
            model = SPECS[rtype].model
            if not any(f.name == "identifiers" for f in model._meta.get_fields()):
                continue
            for pk, idents in model._default_manager.filter(organization_id=self.org_id).values_list(
                "pk", "identifiers"
            ):
                for ident in idents or ():
                    index.setdefault((rtype, ident.get("system", ""), ident.get("value", "")), pk)
        return index

    def reject(self, item: Item, reason: str) -> Item:
        item.outcome, item.reason = "rejected", reason
        self.report.reject(
            file=item.file, where=item.where, resource_type=item.rtype, source_id=item.source_id, reason=reason
        )
        return item

    def prepare(
        self, resource: Any, *, file: str, where: str, full_url: str = "", expect: str | None = None, raw: str = ""
    ) -> Item:
        """Check one resource and compute its identity and content hash. The item comes back rejected
        or skipped when it cannot be imported. ``raw``: the resource's JSON text as received (NDJSON),
        kept and hashed as is instead of serializing the resource again."""
        if not isinstance(resource, dict):
            return self.reject(Item(None, "", file, where), "is not a JSON object")
        rtype = resource.get("resourceType")
        item = Item(resource, rtype if isinstance(rtype, str) else "", file, where, full_url=full_url)
        item.source_id = str(resource.get("id") or "")
        if not item.rtype:
            return self.reject(item, "has no resourceType")
        if expect and item.rtype != expect:
            return self.reject(
                item, f"resourceType {item.rtype} in a bulk file of {expect} resources (one type per file)"
            )
        # Before anything recurses into the resource (serializing, validating, collecting references);
        # a bulk file's line is checked by its text, a walk only when the text cannot tell.
        limit = sources.MAX_RESOURCE_DEPTH
        if not (raw and text_nests_within(raw, limit)) and nested_deeper_than(resource, limit):
            return self.reject(item, f"nests arrays and objects more than {limit} levels deep (FHIR nests far less)")
        if item.rtype not in SPECS:
            if not _known_fhir_type(item.rtype):
                return self.reject(item, f"resourceType {item.rtype!r} is not a FHIR R4 resource type")
            item.outcome, item.reason = "skipped", f"CaseBridge does not import {item.rtype} resources"
            self.report.add(item.rtype, "skipped")
            return item
        item.text = raw or json.dumps(resource, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        item.digest = hashlib.sha256(item.text.encode()).hexdigest()
        # JSON text spells a NUL "\u0000"; the walk confirms it (the six characters may be plain text).
        if "\\u0000" in item.text and (nul_at := sources.nul_character_path(resource, item.rtype)):
            return self.reject(item, f"{nul_at} holds a NUL character (U+0000), which FHIR strings may not contain")
        if not item.source_id:
            item.source_id = self._fallback_id(resource, full_url, item.digest)
        if len(item.source_id) > 200:
            return self.reject(item, "id is longer than 200 characters")
        return item

    @staticmethod
    def _fallback_id(resource: dict[str, Any], full_url: str, digest: str) -> str:
        """Identity for a resource without an id: its bundle fullUrl, else its first identifier, else its
        content (so the same resource sent twice is still recognized)."""
        if full_url:
            return full_url.rsplit(":", 1)[-1] if full_url.startswith("urn:") else full_url.rstrip("/").split("/")[-1]
        for ident in resource.get("identifier") or () if isinstance(resource.get("identifier"), list) else ():
            if isinstance(ident, dict) and ident.get("value"):
                return f"{ident.get('system', '')}|{ident['value']}"[:200]
        return "sha256:" + digest

    # --- NDJSON --------------------------------------------------------------------------------

    def import_ndjson(self, path: Path) -> None:
        name = self.name_of(path)
        expect = sources.type_from_name(path)
        if expect and expect not in SPECS and _known_fhir_type(expect):
            n = sum(1 for _ in sources.ndjson_lines(path))
            self.report.add(expect, "skipped", n)
            self.progress(n)
            return
        writer = self._write_behind()
        try:
            self._read_ndjson(path, name, expect, writer)
        except BaseException:
            if writer is not None:
                writer.drain()  # a write still running finishes before the error goes up
            raise

    def _write_behind(self) -> _WriteBehind | None:
        if connection.vendor != "postgresql" or connection.in_atomic_block:
            return None
        if self._writer is None:
            self._writer = _WriteBehind()
        return self._writer

    def flush(self) -> None:
        """Wait for a chunk still being written behind (its error is raised here): after this, the
        database holds everything imported so far. The next file's chunks may overlap the last write
        of the one before, so call this before reading the import's results from the database."""
        if self._writer is not None:
            self._writer.wait()

    def settle(self) -> None:
        """The resolver's rollback journal is no longer needed for what was written (see
        ``Resolver.settle``); kept while a chunk is still being written behind, which may roll back."""
        if self._writer is None or not self._writer.busy:
            self.resolver.settle()

    def close(self) -> None:
        """End the write-behind thread and its database session, if an NDJSON file started them."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.close()

    def _read_ndjson(self, path: Path, name: str, expect: str | None, writer: _WriteBehind | None) -> None:
        # With a validation worker (see validation.py), each chunk read is sent to be validated and
        # processed only once the next one has been read and sent: while the importer maps and writes
        # a chunk, the worker validates the next. Without one, each chunk is processed as it is read.
        waiting: tuple[list[Item], _SentAhead] | None = None
        sent: _SentAhead | None = None
        try:
            for chunk in self._ndjson_chunks(path, name, expect):
                # The first file that fills a chunk is a bulk import's: worth starting the worker for (once,
                # in the background); once it runs, every chunk uses it.
                pool = self._validation_pool(start=len(chunk) >= self.chunk_size)
                sent = self._send_ahead(pool, chunk) if pool is not None and self.validated_last_chunk else None
                if waiting is not None:
                    self._process_chunk(waiting[0], writer, waiting[1])
                    waiting = None
                if sent is None:
                    self._process_chunk(chunk, writer)
                else:
                    waiting, sent = (chunk, sent), None
            if waiting is not None:
                self._process_chunk(waiting[0], writer, waiting[1])
        finally:
            # Interrupted (or done): the worker need not finish what nobody will read.
            for unread in (waiting[1] if waiting is not None else None, sent):
                if unread is not None:
                    unread.cancel()

    def _ndjson_chunks(self, path: Path, name: str, expect: str | None) -> Iterator[list[Item]]:
        """The file's importable resources, read and checked (``prepare``), ``chunk_size`` at a time;
        lines that cannot be read are rejected on the way."""
        chunk: list[Item] = []
        for number, line in sources.ndjson_lines(path):
            where = f"line {number}"
            try:
                resource = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError, RecursionError) as exc:
                if isinstance(exc, json.JSONDecodeError):
                    reason = sources.json_error(exc, len(line.rstrip()), one_line=True)
                elif isinstance(exc, RecursionError):  # nesting near Python's recursion limit
                    reason = sources.TOO_DEEP_TO_READ
                else:
                    reason = f"is not UTF-8 text (invalid byte at offset {exc.start})"
                self.report.reject(file=name, where=where, resource_type=expect or "", source_id="", reason=reason)
                self.progress(1)
                continue
            item = self.prepare(resource, file=name, where=where, expect=expect, raw=line.decode().strip())
            if expect is None and item.rtype in SPECS:
                expect = item.rtype
            if item.outcome:
                self.progress(1)
                continue
            chunk.append(item)
            if len(chunk) >= self.chunk_size:
                yield chunk
                chunk = []
        if chunk:
            yield chunk

    def _validation_pool(self, *, start: bool) -> validation.ValidationPool | None:
        return validation.shared_pool(settings.FHIR_VALIDATION_PROCESSES, SPECS, start=start)

    def _send_ahead(self, pool: validation.ValidationPool, chunk: list[Item]) -> _SentAhead | None:
        """Send the chunk's resources to the worker to be validated; None when it is not ready (still
        starting, or gone). Before anyone knows which of them are unchanged: that takes the chunk
        written behind to commit first (see ``_process_unique``), and a re-import, which needs no
        verdict, cancels the parts the worker has not started."""
        if not pool.ready:
            return None
        # Small parts: the worker starts on the first while later ones queue, and the importer can take
        # back the ones not started when it needs the chunk (see _SentAhead.known).
        parts: list[tuple[list[Item], Future[list[str | None]]]] = []
        for start in range(0, len(chunk), AHEAD_PART):
            part = chunk[start : start + AHEAD_PART]
            future = pool.submit([(i.rtype, i.text) for i in part])
            if future is None:  # the pool failed meanwhile: what was not sent is validated in-process
                break
            parts.append((part, future))
        return _SentAhead(pool, parts, self._validation_error) if parts else None

    def _process_chunk(self, chunk: list[Item], writer: _WriteBehind | None, sent: _SentAhead | None = None) -> None:
        verdicts: Mapping[int, str | None] | None = sent
        if verdicts is None and writer is not None and writer.busy:
            # The previous chunk is being written: validate this one meanwhile, before knowing which of
            # its resources are unchanged (a re-import writes nothing, so it never gets here).
            verdicts = {id(item): self._validation_error(item) for item in chunk}
        if writer is not None:
            writer.wait()
            self.resolver.settle()  # every chunk before this one is committed: nothing to roll back
        self.validated_last_chunk = False
        self.process(chunk, verdicts=verdicts, writer=writer)
        if sent is not None:
            sent.cancel()  # the parts of resources found unchanged, if the worker has not started them

    # --- Bundles -------------------------------------------------------------------------------

    def import_document(self, document: dict[str, Any], *, file: str) -> tuple[str, list[Item]]:
        """Import a Bundle, or a single resource. Returns the bundle type and one item per entry, in order."""
        if document.get("resourceType") != "Bundle":
            item = self.prepare(document, file=file, where="resource")
            if not item.outcome:
                self.process([item])
            return "single", [item]
        btype = document.get("type")
        if btype not in BUNDLE_TYPES:
            raise sources.InputProblem(
                file, f"Bundle type {btype!r} is not accepted: send a transaction, batch, collection or searchset"
            )
        entries = document.get("entry") or []
        if not isinstance(entries, list):
            raise sources.InputProblem(file, "Bundle.entry must be a list")
        items: list[Item] = []
        for index, entry in enumerate(entries):
            items.append(self._bundle_entry(entry, index, file, btype))
        if btype == "transaction":
            self._import_transaction(items, file)
        else:
            ready = [i for i in items if not i.outcome]
            for _, group in self._by_type(ready):
                for start in range(0, len(group), self.chunk_size):
                    self.process(group[start : start + self.chunk_size])
        return btype, items

    def _bundle_entry(self, entry: Any, index: int, file: str, btype: str) -> Item:
        where = f"entry {index}"
        if not isinstance(entry, dict):
            return self.reject(Item(None, "", file, where), "is not a Bundle entry object")
        search = entry.get("search")
        if btype == "searchset" and isinstance(search, dict) and search.get("mode") == "outcome":
            item = Item(entry.get("resource"), "OperationOutcome", file, where, outcome="skipped")
            item.reason = "search outcome"
            return item
        request = entry.get("request") or {}
        resource = entry.get("resource")
        rtype = resource.get("resourceType") if isinstance(resource, dict) else ""
        rtype = rtype if isinstance(rtype, str) else ""  # the resource itself is checked in prepare
        if not isinstance(request, dict):
            return self.reject(Item(None, rtype, file, where), "entry.request is not an object (method and url)")
        method = str(request.get("method") or "POST").upper()
        full_url = entry.get("fullUrl") or ""
        if not isinstance(full_url, str):
            return self.reject(Item(None, rtype, file, where), "entry.fullUrl is not a string")
        if method not in ("POST", "PUT"):
            return self.reject(Item(None, rtype, file, where), f"request method {method} is not supported by import")
        if "resource" not in entry:
            return self.reject(Item(None, "", file, where), "has no resource")
        item = self.prepare(entry["resource"], file=file, where=where, full_url=full_url)
        if item.rtype and item.source_id:
            if full_url:
                self.resolver.full_urls[full_url] = (item.rtype, item.source_id)
            if method == "PUT":
                # PUT Patient/abc names the id the sender uses for it.
                url = str(request.get("url") or "")
                if url.startswith(item.rtype + "/") and "?" not in url and not item.resource.get("id"):  # type: ignore[union-attr]
                    item.source_id = url.split("/", 1)[1]
        return item

    def _by_type(self, items: Iterable[Item]) -> list[tuple[str, list[Item]]]:
        groups: dict[str, list[Item]] = defaultdict(list)
        for item in items:
            groups[item.rtype].append(item)
        return [(t, groups[t]) for t in TYPE_ORDER if t in groups]

    def _import_transaction(self, items: list[Item], file: str) -> None:
        """All or nothing: any rejected entry rolls the whole bundle back."""
        failed = [i for i in items if i.outcome == "rejected"]
        snapshot = self.report.snapshot()
        mark = self.resolver.mark()
        touched = len(self.encounters_touched)
        if not failed:
            try:
                with transaction.atomic():
                    for _, group in self._by_type(i for i in items if not i.outcome):
                        self.process(group, strict=True)
                    failed = [i for i in items if i.outcome == "rejected"]
                    if failed:
                        raise TransactionFailed(failed)
            except TransactionFailed:
                pass
            except (DatabaseError, DomainError) as exc:
                failed = [i for i in items if i.outcome != "skipped"][:1]
                for item in failed:
                    self.reject(item, f"could not be saved: {exc}")
        if not failed:
            return
        self.resolver.rollback_to(mark)
        del self.encounters_touched[touched:]
        self.report.restore_counts(snapshot)
        for item in items:
            if item.outcome in ("created", "updated", "unchanged"):
                item.outcome, item.target_id = "", None
        first = failed[0]
        self.report.reject(
            file=file,
            where="",
            resource_type="Bundle",
            source_id="",
            reason=f"transaction rolled back, nothing from this bundle was saved: {first.where} "
            f"({first.rtype or 'entry'}) {first.reason}",
        )

    # --- the batch pipeline --------------------------------------------------------------------

    def process(
        self,
        items: list[Item],
        *,
        strict: bool = False,
        verdicts: Mapping[int, str | None] | None = None,
        writer: _WriteBehind | None = None,
    ) -> None:
        """Import items of one type. ``strict`` (transaction bundles): a write error propagates.
        ``verdicts``: the items' validation results when already known (None: valid). ``writer``: write
        the items behind (NDJSON chunks only: each resource is its own all-or-nothing unit)."""
        if not items:
            return
        spec = SPECS[items[0].rtype]
        seen: set[str] = set()
        first: list[Item] = []
        later: list[Item] = []
        for item in items:
            (later if item.source_id in seen else first).append(item)
            seen.add(item.source_id)
        self._process_unique(spec, first, strict, verdicts, writer)
        if later:  # the same resource twice in one chunk: the later copy wins, as it would in sequence
            self.process(later, strict=strict, verdicts=verdicts, writer=writer)

    def _validation_error(self, item: Item) -> str | None:
        """Why ``item`` does not validate with fhir.resources, or None."""
        return validation.validation_error(item.rtype, item.resource)  # type: ignore[arg-type]

    def _process_unique(
        self,
        spec: TypeSpec,
        items: list[Item],
        strict: bool,
        verdicts: Mapping[int, str | None] | None = None,
        writer: _WriteBehind | None = None,
    ) -> None:
        rtype = spec.resource_type
        self.flush()  # read nothing before a chunk written behind has committed
        existing = {
            sid: (pk, target, digest)
            for sid, pk, target, digest in source_records(
                organization_id=self.org_id,
                source=self.source,
                resource_type=rtype,
                source_ids=[i.source_id for i in items],
                fields=("source_id", "id", "target_id", "content_hash"),
            )
        }
        to_map: list[tuple[Item, tuple[int, int, str] | None]] = []
        for item in items:
            found = existing.get(item.source_id)
            if found is not None and found[2] == item.digest:
                # Byte for byte what was imported (and validated) before: nothing to check or write.
                item.outcome, item.target_id = "unchanged", found[1]
                self.resolver.remember(rtype, item.source_id, found[1])
                self.report.add(rtype, "unchanged")
                continue
            self.validated_last_chunk = True
            if verdicts is not None and id(item) in verdicts:
                problem = verdicts[id(item)]
            else:
                problem = self._validation_error(item)
            if problem is not None:
                self.reject(item, problem)
                continue
            to_map.append((item, found))
        if to_map:
            references: set[str] = set()
            for item, _ in to_map:
                collect_references_in_text(item.text, item.resource, references)
            self.resolver.prefetch(references)
            pending = self._map(spec, to_map)
            if pending and writer is not None:
                writer.submit(self._write_with_fallback, spec, pending, strict)
            elif pending:
                self._write_with_fallback(spec, pending, strict)
        self.progress(len(items))

    def _map(self, spec: TypeSpec, to_map: list[tuple[Item, tuple[int, int, str] | None]]) -> list[_Pending]:
        pending: list[_Pending] = []
        for item, found in to_map:
            try:
                mapped = spec.mapper(item.resource, self.resolver)  # type: ignore[arg-type]
            except Rejected as exc:
                self.reject(item, str(exc))
                continue
            except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
                self.reject(item, f"could not be read: {type(exc).__name__}: {exc}")
                continue
            if found is not None:
                pending.append(_Pending(item, mapped, record_id=found[0], target_id=found[1]))
            else:
                pending.append(_Pending(item, mapped))
        refused = self._match_existing(spec, [p for p in pending if p.record_id is None])
        for p, reason in refused:
            self.reject(p.item, reason)
        refused_ids = {id(p) for p, _ in refused}
        return [p for p in pending if id(p) not in refused_ids]

    def _match_existing(self, spec: TypeSpec, new: list[_Pending]) -> list[tuple[_Pending, str]]:
        """Link new resources to records the organization already has, by identifier: patients by MRN
        (``identifier_holder``: same system, or the one holder when a system is missing), directory
        entries by NPI or other identifier, encounters by visit number. Returns the resources that
        cannot be linked safely, with the reason."""
        refused: list[tuple[_Pending, str]] = []
        if not new:
            return refused
        rtype = spec.resource_type
        if rtype == "Patient":
            values = {i["value"] for p in new for i in p.mapped.identifiers if i["kind"] == IdentifierKind.MRN}
            held: dict[str, list[tuple[str, int]]] = defaultdict(list)
            if values:
                for system, value, patient_id in PatientIdentifier.objects.filter(
                    kind=IdentifierKind.MRN, assigner_id=self.org_id, value__any=list(values)
                ).values_list("system", "value", "patient_id"):
                    held[value].append((system, patient_id))
            for p in new:
                ambiguous = ""
                for ident in p.mapped.identifiers:
                    if ident["kind"] != IdentifierKind.MRN:
                        continue
                    try:
                        p.target_id = identifier_holder(ident["system"], held[ident["value"]])
                    except AmbiguousIdentifier as exc:
                        ambiguous = ambiguous or (
                            f"Patient.identifier MRN {ident['value']} could be any of {len(exc.patient_ids)} "
                            "patients here (they hold it under different systems, and one side has none): "
                            "send the identifier's system"
                        )
                        continue
                    if p.target_id is not None:
                        break
                if p.target_id is None and ambiguous:
                    refused.append((p, ambiguous))
        elif rtype in DIRECTORY_TYPES:
            for p in new:
                for ident in p.mapped.identifiers:
                    pk = self.resolver.directory_index.get((rtype, ident["system"], ident["value"]))
                    if pk is not None:
                        p.target_id = pk
                        break
        elif rtype == "Encounter":
            keyed = {
                (p.mapped.values["identifier_system"], p.mapped.values["identifier_value"]): p
                for p in new
                if p.mapped.values["identifier_value"]
            }
            if keyed:
                model = spec.model
                for system, value, pk in model._default_manager.filter(
                    organization_id=self.org_id,
                    identifier_system__any=list({k[0] for k in keyed}),
                    identifier_value__any=[k[1] for k in keyed],
                ).values_list("identifier_system", "identifier_value", "pk"):
                    if (system, value) in keyed:
                        keyed[(system, value)].target_id = pk
        return refused

    def _write_with_fallback(self, spec: TypeSpec, pending: list[_Pending], strict: bool) -> None:
        mark = self.resolver.mark()
        try:
            with transaction.atomic():
                self._write(spec, pending)
        except (IntegrityError, DatabaseError, DomainError):
            self.resolver.rollback_to(mark)
            if strict or len(pending) == 1:
                if strict:
                    raise
                self._reject_write(pending[0])
                return
            # One bad record must not sink the chunk: retry each in its own savepoint.
            for one in pending:
                mark = self.resolver.mark()
                try:
                    with transaction.atomic():
                        self._write(spec, [one])
                except (IntegrityError, DatabaseError, DomainError) as exc:
                    self.resolver.rollback_to(mark)
                    self._reject_write(one, exc)

    def _reject_write(self, one: _Pending, exc: Exception | None = None) -> None:
        if exc is None:
            reason = "could not be saved (it conflicts with a record already here, e.g. an identifier in use)"
        else:
            reason = f"could not be saved: {exc}"
        self.reject(one.item, reason)

    def _write(self, spec: TypeSpec, pending: list[_Pending]) -> None:
        model = spec.model
        rtype = spec.resource_type
        owned = any(f.name == "organization" for f in model._meta.concrete_fields)
        label = model._meta.label_lower
        now = self.now
        updates = [p for p in pending if p.target_id is not None]
        creates = [p for p in pending if p.target_id is None]
        if updates:
            targets = model._default_manager.in_bulk([p.target_id for p in updates])
            vanished = [p for p in updates if p.target_id not in targets]
            for p in vanished:  # provenance outlived its record (deleted here): create it again
                p.target_id = None
            creates += vanished
            updates = [p for p in updates if p.target_id in targets]
        if creates and spec.with_history:
            new_objs = []
            for p in creates:
                obj = model(**p.mapped.values)
                if owned:
                    setattr(obj, "organization_id", self.org_id)  # noqa: B010 - any owned model
                new_objs.append(obj)
            bulk_create_with_history(
                new_objs,
                model,
                batch_size=WRITE_BATCH,
                default_user=self.actor.user,
                default_change_reason=f"FHIR import {self.run.pk}",
            )
            for p, obj in zip(creates, new_objs, strict=True):
                p.target_id = obj.pk
        elif creates:
            extra = {"organization_id": self.org_id} if owned else {}
            ids = bulk_insert_rows(model, [{**p.mapped.values, **extra} for p in creates])
            for p, pk in zip(creates, ids, strict=True):
                p.target_id = pk
        changed_objs = []
        if updates:
            fields: set[str] = set()
            for p in updates:
                obj = targets[p.target_id]
                for name, value in p.mapped.values.items():
                    setattr(obj, name, value)
                fields.update(p.mapped.values)
                changed_objs.append(obj)
            concrete = {f.name for f in model._meta.concrete_fields}
            if "version" in concrete:
                for obj in changed_objs:
                    obj.version += 1  # type: ignore[attr-defined]  # checked above: the model has it
                fields.add("version")
            if "updated_at" in concrete:
                for obj in changed_objs:
                    obj.updated_at = now  # type: ignore[attr-defined]  # checked above: the model has it
                fields.add("updated_at")
            field_names = sorted(f.removesuffix("_id") if f.removesuffix("_id") in concrete else f for f in fields)
            if spec.with_history:
                bulk_update_with_history(
                    changed_objs,
                    model,
                    field_names,
                    batch_size=WRITE_BATCH,
                    default_user=self.actor.user,
                    default_change_reason=f"FHIR import {self.run.pk}",
                )
            else:
                model._default_manager.bulk_update(changed_objs, field_names, batch_size=WRITE_BATCH)
        if rtype == "Patient":
            self._write_patient_identifiers(pending)
        # Provenance: new rows for new resources (and for resources matched by identifier), updated rows otherwise.
        new_records = []
        changed_records = []
        for p in pending:
            item = p.item
            if p.record_id is None:
                new_records.append(
                    {
                        "organization_id": self.org_id,
                        "source": self.source,
                        "resource_type": rtype,
                        "source_id": item.source_id,
                        "content_hash": item.digest,
                        "resource": RawJSON(item.text),
                        "target_model": label,
                        "target_id": p.target_id,
                        "first_run_id": self.run.pk,
                        "last_run_id": self.run.pk,
                        "created_at": now,
                        "updated_at": now,
                    }
                )
            else:
                changed_records.append(
                    SourceRecord(
                        pk=p.record_id,
                        content_hash=item.digest,
                        resource=RawJSON(item.text),
                        target_id=p.target_id,  # type: ignore[misc]  # set by the writes above
                        last_run_id=self.run.pk,
                        updated_at=now,
                    )
                )
        bulk_insert_rows(SourceRecord, new_records, return_ids=False)
        if changed_records:
            SourceRecord.objects.bulk_update(
                changed_records,
                ["content_hash", "resource", "target_id", "last_run", "updated_at"],
                batch_size=WRITE_BATCH,
            )
        patient_ids = sorted(
            pid
            for pid in {p.target_id if rtype == "Patient" else p.mapped.patient_id for p in pending}
            if pid is not None
        )
        if patient_ids:
            # One audit event per patient per chunk, in the chunk's transaction (see services.fhir_import_files).
            audit_record_many(
                actor=self.actor,
                action="fhir.import",
                patient_ids=patient_ids,
                detail={"run": self.run.pk, "resource_type": rtype},
            )
        # Counted and remembered only now that the writes went through.
        created = {id(p) for p in creates}
        for p in pending:
            item = p.item
            item.target_id = p.target_id
            item.outcome = "created" if id(p) in created else "updated"
            self.report.add(rtype, item.outcome)
            self.resolver.remember(rtype, item.source_id, p.target_id, p.mapped.identifiers)  # type: ignore[arg-type]
            if rtype == "Encounter":
                self.encounters_touched.append(p.target_id)  # type: ignore[arg-type]

    def _write_patient_identifiers(self, pending: list[_Pending]) -> None:
        have = set(
            PatientIdentifier.objects.filter(patient_id__in=[p.target_id for p in pending]).values_list(
                "patient_id", "kind", "value"
            )
        )
        rows = []
        for p in pending:
            if p.target_id is None:
                continue
            for ident in p.mapped.identifiers:
                key = (p.target_id, ident["kind"], ident["value"])
                if key in have:
                    continue
                have.add(key)
                rows.append(
                    PatientIdentifier(
                        patient_id=p.target_id,
                        kind=ident["kind"],
                        value=ident["value"],
                        system=ident["system"],
                        assigner_id=self.org_id if ident["kind"] == IdentifierKind.MRN else None,
                    )
                )
        if rows:
            PatientIdentifier.objects.bulk_create(rows, batch_size=WRITE_BATCH)
