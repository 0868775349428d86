"""Run functions at the same moment in real threads, each on its own database connection."""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from django.db import connections


@dataclass
class Outcome:
    value: Any = None
    error: BaseException | None = None


def run_together(*fns: Callable[[], Any], timeout: float = 30.0) -> list[Outcome]:
    """Start every function in its own thread, release them together with a barrier, and collect
    each one's return value or exception (in argument order). Each thread closes its connections,
    so the test database can be dropped afterwards."""
    barrier = threading.Barrier(len(fns))
    outcomes = [Outcome() for _ in fns]

    def run(i: int, fn: Callable[[], Any]) -> None:
        try:
            barrier.wait(timeout=timeout)
            outcomes[i].value = fn()
        except BaseException as exc:  # noqa: BLE001 - handed back to the test to assert on
            outcomes[i].error = exc
        finally:
            connections.close_all()

    threads = [threading.Thread(target=run, args=(i, fn), daemon=True) for i, fn in enumerate(fns)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout)
    stuck = [t.name for t in threads if t.is_alive()]
    assert not stuck, f"threads still running after {timeout}s (deadlock?): {stuck}"
    return outcomes


def slow_down_saves(model: type, seconds: float = 0.2) -> Callable[[], None]:
    """Make every save of ``model`` linger inside its transaction, so two savers truly overlap.
    Returns a function that undoes it."""
    import time

    original = model.save  # type: ignore[attr-defined]  # any model class

    def save(self: Any, *args: Any, **kwargs: Any) -> None:
        time.sleep(seconds)
        original(self, *args, **kwargs)

    setattr(model, "save", save)  # noqa: B010 - any model class, patched for the test
    return lambda: setattr(model, "save", original)
