"""The MLLP listener: python-hl7's asyncio MLLP streams and framing.

Each connection is read one frame at a time (<VT> message <FS><CR>); the message is applied and the
ACK is written after its transaction committed. Messages on one connection are handled in order, as
original-mode acknowledgement requires; many connections are served at once, each waiting only for
its own messages.

Bad input never stops the listener:
- a frame that is not HL7 (binary garbage, a half message, no MSH) gets an AR with the reason;
- bytes that do not start with <VT> are answered with an AR when their frame ends;
- a frame larger than ``max_bytes`` gets an AR and the connection is closed (what follows the limit
  cannot be framed reliably);
- a connection that sends nothing for ``idle_timeout`` seconds, or ends mid-frame, is closed.

Where messages are applied:
- ``processes=N`` (production, ``casebridge mllp``): N worker processes, each with its own Django and
  one database session, so message handling, which is CPU-bound Python, uses every core. This
  process only accepts connections and hands each one, as its socket, to the worker process serving
  the fewest; that worker then reads, applies and acknowledges the connection's messages itself, so
  no message crosses a process boundary (which cost as much CPU as a tenth of applying it). A worker
  that dies is replaced; its connections are dropped, and senders reconnect and resend what was not
  acknowledged.
- ``processes=0`` (what most tests use: they share the test database's session setup): ``workers``
  single-thread executors in this process; each connection sticks to the least busy one, so its
  messages run in order on one thread with one warm database session.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
import socket
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

from django.db import connections
from hl7.mllp import InvalidBlockError, start_hl7_server

from casebridge.interop.hl7v2 import worker
from casebridge.interop.hl7v2.ack import build_ack
from casebridge.interop.hl7v2.receiver import REJECTED, Feed
from casebridge.interop.hl7v2.worker import Apply

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = int(os.environ.get("CASEBRIDGE_MLLP_MAX_BYTES", str(1024 * 1024)))
DEFAULT_IDLE_TIMEOUT = float(os.environ.get("CASEBRIDGE_MLLP_IDLE_TIMEOUT", "600"))
DEFAULT_WORKERS = int(os.environ.get("CASEBRIDGE_MLLP_WORKERS", "8"))

LOGGER = "casebridge.interop.hl7v2"


def log_to_console(level: str) -> None:
    """Show the feed's log (one line per message at INFO, connection events, errors) on stderr at
    ``level``, with time and process: what a person running ``casebridge mllp`` watches. The settings'
    root logger stays at its own level (WARNING), so the rest of Django stays quiet. Each worker
    process calls this again after its own ``django.setup()``, which reconfigures logging."""
    logger = logging.getLogger(LOGGER)
    logger.setLevel(level)
    if not any(getattr(h, "casebridge_console", False) for h in logger.handlers):
        handler = logging.StreamHandler()
        handler.setFormatter(logging.Formatter("%(asctime)s %(processName)s %(levelname)s %(message)s"))
        handler.casebridge_console = True  # type: ignore[attr-defined]
        logger.addHandler(handler)
    logger.propagate = False  # once, not again through the root logger's handler


def nak(reason: str, facility: str) -> bytes:
    """An AR for input that is not a message at all (no header to answer)."""
    return build_ack(None, REJECTED, text=reason, error_code="100", facility=facility).encode("utf-8")


async def serve_connection(
    reader: Any, writer: Any, apply: Apply, *, facility: str, max_bytes: int, idle_timeout: float
) -> None:
    """Read frames from one connection until it ends; answer each with ``apply``'s ACK, or a NAK."""
    peer = writer.get_extra_info("peername")
    try:
        while True:
            try:
                block = await asyncio.wait_for(reader.readblock(), timeout=idle_timeout)
            except asyncio.IncompleteReadError as exc:
                if exc.partial.strip():
                    log.warning("MLLP %s closed mid-frame (%d bytes dropped)", peer, len(exc.partial))
                return
            except TimeoutError:
                log.info("MLLP %s idle for %ss: closing", peer, idle_timeout)
                return
            except InvalidBlockError:
                writer.writeblock(nak("the frame does not start with the MLLP start block <VT>", facility))
                await writer.drain()
                continue
            except ValueError:  # over the limit: the library dropped the buffered part of the frame
                writer.writeblock(nak(f"the frame is larger than the limit of {max_bytes} bytes", facility))
                await writer.drain()
                return
            writer.writeblock(await apply(block))
            await writer.drain()
    except (ConnectionError, OSError) as exc:
        log.info("MLLP %s: %s", peer, exc)
    finally:
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()


@dataclass
class _WorkerProcess:
    process: Any
    control: socket.socket  # this end of a SOCK_SEQPACKET pair: sockets out, b"d" (a connection ended) back
    load: int = 0


class WorkerProcesses:
    """N spawned worker processes (see ``worker.serve``) and the connections each is serving."""

    def __init__(
        self, feed: Feed, processes: int, *, max_bytes: int, idle_timeout: float, log_level: str | None = None
    ) -> None:
        self.count = processes
        self.args = (
            feed.organization.pk,
            feed.channel,
            connections["default"].settings_dict["NAME"],  # the listener's database, also under test
            max_bytes,
            idle_timeout,
            log_level,
        )
        self.context = multiprocessing.get_context("spawn")
        self.workers: list[_WorkerProcess] = []
        self.stopping = False
        self.spawned = 0

    async def start(self) -> None:
        """Start the processes and wait until each has Django set up and the organization loaded."""
        started = await asyncio.gather(*(self._spawn() for _ in range(self.count)))
        self.workers.extend(started)

    async def _spawn(self) -> _WorkerProcess:
        loop = asyncio.get_running_loop()
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.spawned += 1
        process = self.context.Process(
            target=worker.serve, args=(theirs, *self.args), name=f"mllp-worker-{self.spawned}", daemon=True
        )
        process.start()
        theirs.close()
        ours.setblocking(False)
        if await loop.sock_recv(ours, 16) != b"ready":
            ours.close()
            process.join(5)
            raise RuntimeError(f"MLLP worker process {process.name} failed to start (exit code {process.exitcode})")
        entry = _WorkerProcess(process, ours)
        loop.add_reader(ours.fileno(), self._heard_from, entry)
        return entry

    def _heard_from(self, entry: _WorkerProcess) -> None:
        try:
            data = entry.control.recv(64)
        except (BlockingIOError, InterruptedError):
            return
        except OSError:
            data = b""
        if data:
            entry.load -= data.count(b"d")
            return
        # The worker is gone (it crashed or was killed): its connections died with it.
        asyncio.get_running_loop().remove_reader(entry.control.fileno())
        entry.control.close()
        if entry in self.workers:
            self.workers.remove(entry)
        if not self.stopping:
            name, code = entry.process.name, entry.process.exitcode
            log.error("MLLP worker %s ended (exit code %s): starting another", name, code)
            asyncio.get_running_loop().create_task(self._replace())

    async def _replace(self) -> None:
        try:
            self.workers.append(await self._spawn())
        except (RuntimeError, OSError):
            log.exception("could not replace an MLLP worker process")

    def hand_over(self, conn: socket.socket) -> None:
        """Give an accepted connection to the least busy worker; this process keeps no copy of it."""
        try:
            while self.workers:
                entry = min(self.workers, key=lambda w: w.load)
                try:
                    socket.send_fds(entry.control, [b"c"], [conn.fileno()])
                except (BlockingIOError, InterruptedError):
                    log.warning("MLLP worker %s is not taking connections", entry.process.name)
                    return  # the sender sees the connection close and reconnects
                except OSError:
                    self._heard_from(entry)  # gone: forget it, then try the next one
                    continue
                entry.load += 1
                return
            log.error("no MLLP worker process is running: connection dropped")
        finally:
            conn.close()

    async def stop(self) -> None:
        self.stopping = True
        loop = asyncio.get_running_loop()
        for entry in self.workers:
            loop.remove_reader(entry.control.fileno())
            entry.control.close()  # the worker sees its control socket end, closes its connections and exits
        for entry in self.workers:
            await loop.run_in_executor(None, entry.process.join, 10)
            if entry.process.is_alive():
                entry.process.terminate()
        self.workers.clear()


class MllpListener:
    def __init__(
        self,
        feed: Feed,
        *,
        host: str = "127.0.0.1",
        port: int = 2575,
        max_bytes: int = DEFAULT_MAX_BYTES,
        idle_timeout: float = DEFAULT_IDLE_TIMEOUT,
        workers: int = DEFAULT_WORKERS,
        processes: int = 0,
        log_level: str | None = None,
    ) -> None:
        """``log_level``: show the feed's log on stderr at this level, in every process
        (``log_to_console``); None leaves logging as the settings configure it (tests capture it)."""
        if log_level is not None:
            log_to_console(log_level)
        self.feed = feed
        self.host = host
        self.port = port
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        self.processes = processes
        self.pool = (
            WorkerProcesses(feed, processes, max_bytes=max_bytes, idle_timeout=idle_timeout, log_level=log_level)
            if processes
            else None
        )
        threads = 0 if processes else workers
        self.executors = [ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mllp-db{n}") for n in range(threads)]
        self.load = [0] * len(self.executors)
        self.server: asyncio.base_events.Server | None = None
        self.listening: socket.socket | None = None
        self.accepting: asyncio.Task[None] | None = None
        self.connections = 0

    async def _handle(self, reader: Any, writer: Any) -> None:
        """A connection in thread mode: its messages run on the least busy executor's thread."""
        self.connections += 1
        slot = self.load.index(min(self.load))
        self.load[slot] += 1
        apply = worker.applier(asyncio.get_running_loop(), self.executors[slot], self.feed)

        try:
            facility, max_bytes, idle = self.feed.facility, self.max_bytes, self.idle_timeout
            await serve_connection(reader, writer, apply, facility=facility, max_bytes=max_bytes, idle_timeout=idle)
        finally:
            self.connections -= 1
            self.load[slot] -= 1

    async def _accept(self) -> None:
        assert self.listening is not None and self.pool is not None
        loop = asyncio.get_running_loop()
        while True:
            try:
                conn, _ = await loop.sock_accept(self.listening)
            except OSError as exc:  # e.g. too many open files: wait a moment instead of spinning
                log.warning("MLLP accept failed: %s", exc)
                await asyncio.sleep(0.5)
                continue
            self.pool.hand_over(conn)

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with port 0). Worker processes are started
        (Django set up, organization loaded) before the port opens."""
        if self.pool is not None:
            await self.pool.start()
            self.listening = socket.create_server((self.host, self.port), backlog=128)
            self.listening.setblocking(False)
            self.port = self.listening.getsockname()[1]
            self.accepting = asyncio.get_running_loop().create_task(self._accept())
            return self.port
        self.server = await start_hl7_server(
            self._handle, host=self.host, port=self.port, limit=self.max_bytes, reuse_address=True
        )
        sockets = self.server.sockets or ()
        self.port = sockets[0].getsockname()[1] if sockets else self.port
        return self.port

    async def serve_forever(self, ready: Callable[[int], None] | None = None) -> None:
        port = await self.start()
        if ready is not None:
            ready(port)
        try:
            await asyncio.Event().wait()  # until cancelled (Ctrl+C, SIGTERM)
        finally:
            await self.stop()  # never leave worker processes behind

    def _close_worker_connections(self) -> None:
        """Close each worker thread's database connection (Django connections belong to their thread),
        so a stopped listener leaves no database session open."""
        for future in [executor.submit(connections.close_all) for executor in self.executors]:
            future.result(timeout=10)

    async def stop(self) -> None:
        if self.accepting is not None:
            self.accepting.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self.accepting
            self.accepting = None
        if self.listening is not None:
            self.listening.close()
            self.listening = None
        if self.pool is not None:
            await self.pool.stop()
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
            self.server = None
        if self.executors:
            await asyncio.get_running_loop().run_in_executor(None, self._close_worker_connections)
            for executor in self.executors:
                executor.shutdown(wait=True, cancel_futures=True)
            self.executors = []
