"""Work that follows a commit but need not hold up the answer to whoever caused it.

Some after-commit work only keeps derived data fresh (a stay's readmission risk after its clinical
record changed). Django's ``transaction.on_commit`` runs it inside the commit, before the caller can
answer; an HL7 sender waiting for its ACK would wait for it too, message after message. Code that
registers such work calls ``after_commit`` instead of ``on_commit``. Normally that is the same thing;
inside a ``collected()`` block the work is handed to the block's owner, which runs it once its
transaction has committed and its answer is on the way (the MLLP listener: right after the ACK).

Only idempotent work that reads what is committed belongs here: the owner runs the collected work
only when its transaction committed, but also work registered inside a savepoint that was rolled back
(``on_commit`` would have dropped that), and a process that stops between the answer and the work
loses it (the census "Refresh" recomputes every stay).
"""

from __future__ import annotations

import contextlib
import logging
import threading
from collections.abc import Callable, Iterator

from django.db import transaction

log = logging.getLogger(__name__)

FollowUp = Callable[[], object]

_state = threading.local()


def after_commit(work: FollowUp) -> None:
    """Run ``work`` after the current transaction commits: at once with Django's ``on_commit``, or,
    inside a ``collected()`` block, when the block's owner chooses (the same function only once)."""
    collecting: list[FollowUp] | None = getattr(_state, "collecting", None)
    if collecting is None:
        transaction.on_commit(work)
    elif work not in collecting:
        collecting.append(work)


@contextlib.contextmanager
def collected() -> Iterator[list[FollowUp]]:
    """Collect the follow-up work registered in this thread inside the block, in order, for the
    caller to run with ``run_all`` after its transaction committed (or to drop if it did not)."""
    previous = getattr(_state, "collecting", None)
    collecting: list[FollowUp] = []
    _state.collecting = collecting
    try:
        yield collecting
    finally:
        _state.collecting = previous


def run_all(work: list[FollowUp] | tuple[FollowUp, ...]) -> None:
    """Run collected follow-up work; a failure is logged and the rest still runs (the answer it
    followed was already given, so there is nobody to tell)."""
    for each in work:
        try:
            each()
        except Exception:  # noqa: BLE001 - logged; one failed refresh must not stop the others
            log.exception("follow-up work %r failed", each)
