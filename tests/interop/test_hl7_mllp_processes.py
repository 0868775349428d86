"""The MLLP listener as ``casebridge mllp`` runs it: worker processes that are handed the connections.

PostgreSQL only: the worker processes open their own sessions on the test database, which the
in-memory SQLite test database cannot share.
"""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
import threading
import time

import pytest
from django.db import connection

from casebridge.cases.models import Case
from casebridge.interop.hl7v2.mllp import MllpListener
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.interop.models import Hl7Message
from casebridge.patients.models import Patient
from tests.interop.hl7_support import RunningListener, adt, frame, msa, read_frame, send

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def listener(hospital):
    listener = MllpListener(Feed(hospital), host="127.0.0.1", port=0, max_bytes=64 * 1024, idle_timeout=20, processes=2)
    with RunningListener(listener):
        yield listener


def test_worker_processes_apply_messages_from_concurrent_connections(listener, hospital):
    codes: list[list[str]] = []

    def stay(n: int) -> None:
        acks = send(
            listener.port,
            adt("A01", control=f"p{n}-1", mrn=f"PROC-{n}", visit=f"PV-{n}"),
            adt("A03", control=f"p{n}-2", mrn=f"PROC-{n}", visit=f"PV-{n}", discharge="20260305120000"),
        )
        codes.append([msa(a)[1] for a in acks])

    clients = [threading.Thread(target=stay, args=(n,)) for n in range(4)]
    for c in clients:
        c.start()
    for c in clients:
        c.join(60)
    assert codes == [["AA", "AA"]] * 4
    assert Case.objects.filter(organization=hospital, status="transition").count() == 4
    assert Hl7Message.objects.filter(ack_code="AA", channel="mllp").count() == 8


def _loads(listener: MllpListener, expected: list[int]) -> list[int]:
    """The workers' connection counts once they settle on ``expected`` (they are reported back
    asynchronously), or as they are after 10 seconds."""
    assert listener.pool is not None
    deadline = time.monotonic() + 10
    while True:
        loads = sorted(w.load for w in listener.pool.workers)
        if loads == expected or time.monotonic() > deadline:
            return loads
        time.sleep(0.05)


def test_connections_are_spread_over_the_worker_processes_and_counted_back(listener):
    opened = [socket.create_connection(("127.0.0.1", listener.port), timeout=15) for _ in range(4)]
    try:
        for n, sock in enumerate(opened):
            sock.sendall(frame(adt("A08", control=f"spread-{n}", mrn=f"SPREAD-{n}", visit="")))
            assert msa(read_frame(sock))[1] == "AA"
        assert _loads(listener, [2, 2]) == [2, 2]
    finally:
        for sock in opened:
            sock.close()
    assert _loads(listener, [0, 0]) == [0, 0]


def test_bad_input_gets_a_nak_from_a_worker_process_and_changes_nothing(listener):
    with socket.create_connection(("127.0.0.1", listener.port), timeout=15) as sock:
        sock.sendall(frame(b"\x00\xffnot hl7 at all"))
        assert msa(read_frame(sock))[1] == "AR"
        sock.sendall(frame(adt("A01", control="after-garbage", mrn="PROC-G")))
        assert msa(read_frame(sock))[1:3] == ["AA", "after-garbage"]
    assert Patient.objects.filter(identifiers__value="PROC-G").count() == 1
    assert Hl7Message.objects.filter(ack_code="AA").count() == 1


def test_a_worker_process_that_dies_is_replaced_and_the_listener_keeps_serving(listener):
    victim = listener.pool.workers[0].process
    os.kill(victim.pid, signal.SIGKILL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        pids = [w.process.pid for w in listener.pool.workers]
        if len(pids) == 2 and victim.pid not in pids:
            break
        time.sleep(0.2)
    else:
        pytest.fail(f"the dead worker was not replaced: {pids}")
    for n in range(3):  # whichever worker each connection lands on, it is served
        (ack,) = send(listener.port, adt("A01", control=f"after-kill-{n}", mrn=f"PROC-K{n}", visit=f"KV-{n}"))
        assert msa(ack)[1] == "AA"
    assert Case.objects.count() == 3


def test_stopping_the_listener_ends_its_worker_processes(hospital):
    listener = MllpListener(Feed(hospital), host="127.0.0.1", port=0, processes=2)
    with RunningListener(listener):
        processes = [w.process for w in listener.pool.workers]
        assert all(p.is_alive() for p in processes)
        (ack,) = send(listener.port, adt("A01", control="stop-1"))
        assert msa(ack)[1] == "AA"
    assert not any(p.is_alive() for p in processes)


def test_casebridge_mllp_logs_one_line_per_message_from_its_worker_processes(hospital):
    """The command as an operator runs it: its worker processes log each message with its ACK code
    (at the default INFO), with time and process, although the settings keep Django at WARNING."""
    db = connection.settings_dict
    env = dict(
        os.environ,
        DATABASE_URL=f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
        PYTHONPATH="src",
        CASEBRIDGE_ENV="development",
    )
    command = [sys.executable, "-m", "casebridge.cli", "mllp", "--port", "0", "--processes", "1"]
    command += ["--organization", hospital.name]
    process = subprocess.Popen(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        ready = process.stdout.readline()  # type: ignore[union-attr]
        assert "MLLP listener for" in ready, process.stderr.read() if process.poll() is not None else ready  # type: ignore[union-attr]
        port = int(ready.split(" (")[0].rsplit(":", 1)[1])
        (ack,) = send(port, adt("A01", control="logged-1", mrn="LOG-1"))
        assert msa(ack)[1] == "AA"
    finally:
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    assert process.returncode == 0
    line = next((line for line in stderr.splitlines() if "logged-1" in line), "")
    assert re.search(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d+ mllp-worker-1 INFO HL7 A01 logged-1 -> AA", line), stderr
