"""What runs inside an MLLP worker process (``casebridge mllp --processes N``), and the one-message
step that thread mode shares with it.

Spawned children import this module to find their functions before Django is set up, so it imports
nothing of Django or of the models at module level.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

log = logging.getLogger(__name__)

#: Applies one framed message and returns its ACK (``mllp.serve_connection``'s ``apply``).
Apply = Callable[[bytes], Awaitable[bytes]]


def serve(
    control: socket.socket,
    organization_id: int,
    channel: str,
    database: str,
    max_bytes: int,
    idle_timeout: float,
    log_level: str | None = None,
) -> None:
    """A worker process: set up Django, say ``ready`` on ``control``, then serve every connection the
    listener hands over (as a socket, over ``control``) until the listener closes ``control``."""
    _exit_with_parent()
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the listener stops us
    feed = _setup(organization_id, channel, database)
    if log_level is not None:
        from casebridge.interop.hl7v2.mllp import log_to_console

        log_to_console(log_level)  # django.setup() above configured logging anew
    control.send(b"ready")
    asyncio.run(_serve(control, feed, max_bytes, idle_timeout))


def _setup(organization_id: int, channel: str, database: str) -> Any:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    import django

    django.setup()
    from django.db import connections

    from casebridge.accounts.models import Organization
    from casebridge.interop.hl7v2.receiver import Feed

    # The listener's database, which differs from the settings' under test (pytest-django renames it).
    connections["default"].settings_dict["NAME"] = database
    # One session for the life of the process (a broken one is still replaced between messages): it
    # keeps its prepared statements, which a session closed after CONN_MAX_AGE would lose.
    connections["default"].settings_dict["CONN_MAX_AGE"] = None
    feed = Feed(Organization.objects.get(pk=organization_id), channel=channel)
    connections.close_all()  # this thread's session: messages are applied on the database thread
    return feed


async def _serve(control: socket.socket, feed: Any, max_bytes: int, idle_timeout: float) -> None:
    from hl7.mllp.streams import HL7StreamProtocol, HL7StreamReader

    from casebridge.interop.hl7v2.mllp import serve_connection

    loop = asyncio.get_running_loop()
    ended = loop.create_future()
    serving: set[asyncio.Task[Any]] = set()

    # One database thread (Django's ORM is synchronous, and its session belongs to the thread): the
    # process applies one message at a time while its event loop keeps reading the other connections.
    database_thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mllp-db")
    apply = applier(loop, database_thread, feed)

    async def handle(reader: Any, writer: Any) -> None:
        task = asyncio.current_task()
        assert task is not None
        serving.add(task)
        try:
            await serve_connection(
                reader, writer, apply, facility=feed.facility, max_bytes=max_bytes, idle_timeout=idle_timeout
            )
        finally:
            serving.discard(task)
            ended_one()

    def ended_one() -> None:
        with contextlib.suppress(OSError):  # the listener may be gone or stopping
            control.send(b"d")  # the listener counts this process's connections

    async def adopt(conn: socket.socket) -> None:
        try:
            conn.setblocking(False)
            reader = HL7StreamReader(limit=max_bytes)
            await loop.connect_accepted_socket(lambda: HL7StreamProtocol(reader, handle), conn)
        except OSError as exc:  # the sender hung up before this process took the connection
            log.info("MLLP connection lost before it was served: %s", exc)
            conn.close()
            ended_one()

    def handed_over() -> None:
        try:
            data, fds, _, _ = socket.recv_fds(control, 16, 8)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data, fds = b"", []
        for fd in fds:
            if data:
                adopting = loop.create_task(adopt(socket.socket(fileno=fd)))
                serving.add(adopting)  # a reference until it is done (the loop keeps only weak ones)
                adopting.add_done_callback(serving.discard)
            else:
                os.close(fd)
        if not data and not ended.done():  # the listener closed its end: stop
            loop.remove_reader(control.fileno())
            ended.set_result(None)

    control.setblocking(False)
    loop.add_reader(control.fileno(), handed_over)
    await ended
    for task in list(serving):
        task.cancel()
    await asyncio.gather(*serving, return_exceptions=True)
    await loop.run_in_executor(database_thread, _close_connections)
    database_thread.shutdown()


def _close_connections() -> None:
    from django.db import connections

    connections.close_all()


def _exit_with_parent() -> None:
    """Linux: the worker gets SIGTERM when the listener process dies, however it dies."""
    import ctypes
    import signal

    try:
        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, int(signal.SIGTERM))  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def receive_with(feed: Any, block: bytes) -> tuple[bytes, Callable[[], None] | None]:
    """Apply one framed message with ``feed``: the ACK's bytes, and the message's follow-up work (see
    ``kernel.follow_up``) for the same thread to run once the ACK is on its way, or None."""
    from django.db import close_old_connections

    from casebridge.kernel.follow_up import run_all

    close_old_connections()  # a worker's connection may have gone away between messages
    receipt = feed.receive(block, defer_follow_up=True)
    log.info("HL7 %s %s -> %s %s", receipt.trigger, receipt.control_id, receipt.code, receipt.reason)
    work = receipt.follow_up
    return bytes(receipt.ack.encode("utf-8")), (lambda: run_all(work)) if work else None


def applier(loop: asyncio.AbstractEventLoop, database_thread: ThreadPoolExecutor, feed: Any) -> Apply:
    """The ``apply`` of ``serve_connection``: each message on ``database_thread`` (a single thread,
    whose database session it uses), its ACK back on the event loop.

    A message's follow-up work (a readmission risk refresh) is queued on the same thread as soon as
    the message committed, before the ACK is written: it runs while the ACK travels and the sender
    prepares its next message, and that message, queued behind it, still sees its result. The
    sender does not wait for it."""

    async def apply(block: bytes) -> bytes:
        ack, follow_up = await loop.run_in_executor(database_thread, receive_with, feed, block)
        if follow_up is not None:
            database_thread.submit(follow_up)  # failures are logged by run_all
        return ack

    return apply
