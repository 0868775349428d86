"""fhir.resources validation of imported resources: in the importer's process, or ahead of it in a
worker process (``ValidationPool``).

Validation is the larger half of a bulk import's CPU time and needs no database. With a worker
process, a bulk file's next chunk is validated on another core while the importer matches, maps and
writes the chunk before it, so the import is no longer one core doing everything in turn. The worker
answers with exactly what in-process validation answers (the same function runs there); whenever it
is not there to ask (still starting, disabled, crashed) the importer validates in its own process,
as it always could.

The worker is spawned, not forked (the importer may run on a web server's thread, and a forked copy
of a threaded process can inherit a lock held by another thread). It imports this module to find
its functions, so this module imports nothing of Django or of CaseBridge's models.
"""

from __future__ import annotations

import json
import logging
import multiprocessing
import threading
from collections.abc import Iterable
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from pydantic import ValidationError as PydanticValidationError

log = logging.getLogger(__name__)

#: One (resourceType, JSON text) per resource; the text is what the importer keeps and hashes.
Batch = list[tuple[str, str]]


def validation_message(rtype: str, exc: PydanticValidationError) -> str:
    parts = []
    for error in exc.errors()[:3]:
        loc = ".".join(str(p) for p in error.get("loc", ()) if p != "__root__")
        parts.append(f"{rtype}.{loc}: {error.get('msg')}" if loc else f"{rtype}: {error.get('msg')}")
    more = exc.error_count() - len(parts)
    return "does not validate as FHIR R4: " + "; ".join(parts) + (f" (and {more} more)" if more > 0 else "")


def validation_error(rtype: str, resource: dict[str, Any]) -> str | None:
    """Why ``resource`` does not validate with fhir.resources as ``rtype``, or None."""
    try:
        get_fhir_model_class(rtype).model_validate(resource)
    except PydanticValidationError as exc:
        return validation_message(rtype, exc)
    except (ValueError, TypeError) as exc:
        return f"does not validate as FHIR R4: {exc}"
    except KeyError as exc:  # fhir.resources looks up a nested resource's model by its resourceType
        # The key it failed on reads "R4.<resourceType>Type".
        name = str(exc.args[0] if exc.args else "").removeprefix("R4B.").removeprefix("R4.").removesuffix("Type")
        shown = name if len(name) <= 64 else name[:64] + "…"
        return f"does not validate as FHIR R4: a nested resource has an unknown resourceType {shown!r}"
    return None


def validate_texts(batch: Batch) -> list[str | None]:
    """In the worker: each resource's ``validation_error``, in order. The importer has already read
    every text as JSON and checked its depth (``FhirImporter.prepare``), so ``json.loads`` succeeds."""
    return [validation_error(rtype, json.loads(text)) for rtype, text in batch]


def _load_models(resource_types: tuple[str, ...]) -> None:
    """In the worker, first: build the model classes (about 0.7 s), so no import waits for that."""
    for rtype in resource_types:
        get_fhir_model_class(rtype)


class ValidationPool:
    """Worker processes that validate batches of resources. Ready once the workers have started and
    loaded the models; until then, and for good once a worker has died, ``submit`` returns None and
    the caller validates in its own process."""

    def __init__(self, processes: int, resource_types: Iterable[str]) -> None:
        self.processes = processes
        self._executor = ProcessPoolExecutor(max_workers=processes, mp_context=multiprocessing.get_context("spawn"))
        types = tuple(resource_types)
        # Every worker starts now, in the background: the executor spawns one per task it cannot hand
        # to an idle worker. The caller goes on validating in-process until they have.
        self._started = [self._executor.submit(_load_models, types) for _ in range(processes)]
        self._broken = False
        self.batches = 0  # batches validated here: what a test or a benchmark can check

    @property
    def ready(self) -> bool:
        if self._broken:
            return False
        if not all(f.done() for f in self._started):
            return False
        for started in self._started:
            if (failed := started.exception()) is not None:
                self._mark_broken(failed)
                return False
        return True

    def wait_ready(self, timeout: float) -> bool:
        """Block until the workers are ready (or failed), at most ``timeout`` seconds; for tests and
        benchmarks that must know which way resources are validated."""
        for started in self._started:
            try:
                started.exception(timeout=timeout)
            except TimeoutError:
                return False
        return self.ready

    def submit(self, batch: Batch) -> Future[list[str | None]] | None:
        """The batch's verdicts to come, or None when the pool cannot take it now."""
        if not batch or not self.ready:
            return None
        try:
            future = self._executor.submit(validate_texts, batch)
        except (BrokenProcessPool, RuntimeError) as exc:  # a worker died, or the pool was shut down
            self._mark_broken(exc)
            return None
        self.batches += 1
        return future

    def results(self, future: Future[list[str | None]]) -> list[str | None] | None:
        """A submitted batch's verdicts, or None when the pool failed it (validate in-process then)."""
        try:
            return future.result()
        except BrokenProcessPool as exc:
            self._mark_broken(exc)
        except Exception:  # noqa: BLE001 - a bug in the worker must not fail an import it can finish alone
            log.exception("FHIR validation worker failed a batch; validating it in-process")
        return None

    def _mark_broken(self, exc: BaseException) -> None:
        if not self._broken:
            log.warning("FHIR validation worker unavailable (%s); imports validate in-process", exc)
        self._broken = True


_shared_lock = threading.Lock()
_shared: ValidationPool | None = None


def shared_pool(processes: int, resource_types: Iterable[str], *, start: bool = True) -> ValidationPool | None:
    """The process's pool of ``processes`` workers, started on first use and started anew when its
    worker died; with ``start`` false, only one already started. None when ``processes`` is 0.
    Imports running at the same time share it (their batches queue in order)."""
    global _shared
    if processes <= 0:
        return None
    with _shared_lock:
        if not start:
            return _shared if _shared is not None and _shared.processes == processes else None
        if _shared is None or _shared._broken or _shared.processes != processes:
            if _shared is not None:
                _shared._executor.shutdown(wait=False, cancel_futures=True)
            _shared = ValidationPool(processes, resource_types)
        return _shared
