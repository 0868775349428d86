"""The MLLP listener: python-hl7's asyncio server (``hl7.mllp.start_hl7_server``) and its framing.

Each connection is read one frame at a time (<VT> message <FS><CR>); the message is applied in a
worker thread (Django's ORM is synchronous), and the ACK is written after the transaction committed.
Messages on one connection are handled in order, as original-mode acknowledgement requires; many
connections are served at once, each waiting only for its own messages.

Bad input never stops the listener:
- a frame that is not HL7 (binary garbage, a half message, no MSH) gets an AR with the reason;
- bytes that do not start with <VT> are answered with an AR when their frame ends;
- a frame larger than ``max_bytes`` gets an AR and the connection is closed (what follows the limit
  cannot be framed reliably);
- a connection that sends nothing for ``idle_timeout`` seconds, or ends mid-frame, is closed.

Database work runs in ``workers`` slots; each connection sticks to the least busy slot when it
connects. A slot is a thread of this process (``processes=0``, what the tests use: they share the
test database's session setup) or, with ``processes=N``, one of N worker processes (spawned, each
with its own Django and one database session), so message handling, which is CPU-bound Python,
uses every core instead of taking turns on one interpreter lock. A worker process applies its
messages one at a time; the asyncio front only frames bytes and writes ACKs.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import Executor, ProcessPoolExecutor, ThreadPoolExecutor
from typing import Any

from django.db import connections
from hl7.mllp import InvalidBlockError, start_hl7_server

from casebridge.interop.hl7v2 import worker
from casebridge.interop.hl7v2.ack import build_ack
from casebridge.interop.hl7v2.receiver import REJECTED, Feed

log = logging.getLogger(__name__)

DEFAULT_MAX_BYTES = int(os.environ.get("CASEBRIDGE_MLLP_MAX_BYTES", str(1024 * 1024)))
DEFAULT_IDLE_TIMEOUT = float(os.environ.get("CASEBRIDGE_MLLP_IDLE_TIMEOUT", "600"))
DEFAULT_WORKERS = int(os.environ.get("CASEBRIDGE_MLLP_WORKERS", "8"))


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
    ) -> None:
        self.feed = feed
        self.host = host
        self.port = port
        self.max_bytes = max_bytes
        self.idle_timeout = idle_timeout
        # One single-thread executor per database worker, and each connection sticks to one of them
        # (the least busy when it connects): its messages run in order on one thread, which keeps one
        # warm database session, instead of hopping between threads and their cold sessions.
        self.processes = processes
        self.executors: list[Executor]
        if processes > 0:
            context = multiprocessing.get_context("spawn")
            initargs = (feed.organization.pk, feed.channel)
            self.executors = [
                ProcessPoolExecutor(max_workers=1, mp_context=context, initializer=worker.init, initargs=initargs)
                for _ in range(processes)
            ]
        else:
            self.executors = [
                ThreadPoolExecutor(max_workers=1, thread_name_prefix=f"mllp-db{n}") for n in range(workers)
            ]
        self.load = [0] * len(self.executors)
        self.server: asyncio.base_events.Server | None = None
        self.connections = 0

    def _receive(self, block: bytes) -> bytes:
        return worker.receive_with(self.feed, block)

    def _nak(self, reason: str) -> bytes:
        return build_ack(None, REJECTED, text=reason, error_code="100", facility=self.feed.facility).encode("utf-8")

    async def _handle(self, reader: Any, writer: Any) -> None:
        self.connections += 1
        slot = self.load.index(min(self.load))
        self.load[slot] += 1
        executor = self.executors[slot]
        loop = asyncio.get_running_loop()
        peer = writer.get_extra_info("peername")
        try:
            while True:
                try:
                    block = await asyncio.wait_for(reader.readblock(), timeout=self.idle_timeout)
                except asyncio.IncompleteReadError as exc:
                    if exc.partial.strip():
                        log.warning("MLLP %s closed mid-frame (%d bytes dropped)", peer, len(exc.partial))
                    return
                except TimeoutError:
                    log.info("MLLP %s idle for %ss: closing", peer, self.idle_timeout)
                    return
                except InvalidBlockError:
                    writer.writeblock(self._nak("the frame does not start with the MLLP start block <VT>"))
                    await writer.drain()
                    continue
                except ValueError:  # over the limit: the library dropped the buffered part of the frame
                    writer.writeblock(self._nak(f"the frame is larger than the limit of {self.max_bytes} bytes"))
                    await writer.drain()
                    return
                receive = worker.receive if self.processes else self._receive
                ack = await loop.run_in_executor(executor, receive, block)
                writer.writeblock(ack)
                await writer.drain()
        except (ConnectionError, OSError) as exc:
            log.info("MLLP %s: %s", peer, exc)
        finally:
            self.connections -= 1
            self.load[slot] -= 1
            writer.close()
            with contextlib.suppress(ConnectionError, OSError):
                await writer.wait_closed()

    async def start(self) -> int:
        """Start listening; returns the bound port (useful with port 0). Worker processes are started
        (Django set up, organization loaded) before the port opens."""
        if self.processes:
            loop = asyncio.get_running_loop()
            await asyncio.gather(*(loop.run_in_executor(ex, worker.ready) for ex in self.executors))
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
        assert self.server is not None
        try:
            async with self.server:
                await self.server.serve_forever()
        finally:
            if self.processes:  # never leave worker processes behind
                for executor in self.executors:
                    executor.shutdown(wait=False, cancel_futures=True)

    def _close_worker_connections(self) -> None:
        """Close each worker thread's database connection (Django connections belong to their thread),
        so a stopped listener leaves no database session open."""
        close = worker.close if self.processes else connections.close_all
        for future in [executor.submit(close) for executor in self.executors]:
            future.result(timeout=10)

    async def stop(self) -> None:
        if self.server is not None:
            self.server.close()
            await self.server.wait_closed()
        await asyncio.get_running_loop().run_in_executor(None, self._close_worker_connections)
        for executor in self.executors:
            executor.shutdown(wait=True, cancel_futures=True)
