"""The MLLP listener over real TCP connections: ACK after commit, NAKs for bad input, many connections."""

from __future__ import annotations

import socket
import threading
import time

import pytest
from django.db import connection

from casebridge.cases.models import Case
from casebridge.clinical.models import Encounter
from casebridge.interop.hl7v2.mllp import MllpListener
from casebridge.interop.hl7v2.receiver import Feed
from casebridge.patients.models import Patient
from tests.interop.hl7_support import CR, FS, VT, RunningListener, adt, frame, msa, read_frame, send

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def port(hospital):
    # The in-memory SQLite test database (shared cache) fails concurrent writers at once with "table is
    # locked" instead of waiting, so there the database work runs in one thread; connections are still
    # served concurrently. On PostgreSQL four threads write at once, as in production.
    workers = 4 if connection.vendor == "postgresql" else 1
    listener = MllpListener(
        Feed(hospital), host="127.0.0.1", port=0, max_bytes=64 * 1024, idle_timeout=20, workers=workers
    )
    with RunningListener(listener) as bound:
        yield bound


def test_admission_then_discharge_over_mllp_opens_a_case_and_moves_it_to_transition(port, hospital):
    acks = send(port, adt("A01", control="t1"), adt("A03", control="t2", discharge="20260305120000"))
    assert [msa(a)[1:3] for a in acks] == [["AA", "t1"], ["AA", "t2"]]
    case = Case.objects.get(organization=hospital)
    assert case.case_type == "hospital_stay" and case.status == "transition"
    assert Encounter.objects.get().status == "finished"


def test_the_ack_comes_after_the_commit(port):
    """Read from another connection the moment the ACK arrives: the change is already visible."""
    (ack,) = send(port, adt("A01", control="c1", mrn="VIS-1"))
    assert msa(ack)[1] == "AA"
    assert Patient.objects.filter(identifiers__value="VIS-1").exists()


def test_a_repeated_message_over_mllp_is_acknowledged_again_once_applied(port):
    first, again = send(port, adt("A01", control="d1"), adt("A01", control="d1"))
    assert first == again
    assert Patient.objects.count() == 1 and Case.objects.count() == 1


def test_a_message_with_blank_lines_between_segments_gets_its_ack(port):
    """Such a message used to end the connection unanswered (the library failed on the empty segment
    outside the parse guard), so the sender would resend it forever."""
    admit = adt("A01", control="bl1").replace("\rPV1", "\r\rPV1")
    (ack,) = send(port, admit)
    assert msa(ack)[1:3] == ["AA", "bl1"]
    assert Case.objects.count() == 1


def _counts():
    return Patient.objects.count(), Encounter.objects.count(), Case.objects.count()


def test_garbage_before_a_frame_gets_a_nak_and_the_connection_keeps_working(port):
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(b"\x00\x01\x02binary garbage\xff\xfe" + FS + CR)
        nak = read_frame(sock)
        assert msa(nak)[1] == "AR" and "start block" in msa(nak)[3]
        sock.sendall(frame(adt("A01", control="g1")))
        assert msa(read_frame(sock))[1:3] == ["AA", "g1"]


@pytest.mark.parametrize(
    ("payload", "reason"),
    [
        (b"\x00\x01\x02\xff\xfe binary", "not UTF-8"),
        (b"PID|1||M1^^^A^MR||Doe^J||19500101|F", "must start with an MSH segment"),
        (adt("A01", control="h1", pid=False).encode(), "no PID segment"),
        (adt("A01", control="h2")[:60].encode(), "MSH-10 message control ID is required"),
        (adt("A01", control="h3")[:140].encode(), "PID-"),
        (adt("A77", control="h4").encode(), "trigger event A77 is not supported"),
    ],
    ids=["binary", "no-msh", "no-pid", "truncated-msh", "truncated-pid", "unknown-trigger"],
)
def test_bad_frames_get_a_nak_with_the_reason_and_change_nothing(port, payload, reason):
    before = _counts()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(VT + payload + FS + CR)
        nak = read_frame(sock)
    assert msa(nak)[1] in ("AR", "AE")
    assert reason in msa(nak)[3]
    assert _counts() == before


def test_an_oversized_frame_is_refused_and_the_listener_keeps_serving(port):
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(VT + b"MSH|" + b"X" * (200 * 1024) + FS + CR)
        nak = read_frame(sock)
    assert msa(nak)[1] == "AR" and "larger than the limit" in msa(nak)[3]
    (ack,) = send(port, adt("A01", control="after-big"))
    assert msa(ack)[1] == "AA"
    assert _counts() == (1, 1, 1)


def test_a_half_message_then_hang_up_saves_nothing_and_others_are_served(port):
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        sock.sendall(VT + adt("A01", control="half", mrn="HALF-1").encode()[:80])
    (ack,) = send(port, adt("A01", control="whole", mrn="WHOLE-1"))
    assert msa(ack)[1] == "AA"
    assert not Patient.objects.filter(identifiers__value="HALF-1").exists()


def test_a_stalled_connection_does_not_block_other_connections(port):
    stalled = socket.create_connection(("127.0.0.1", port), timeout=15)
    try:
        stalled.sendall(VT + b"MSH|^~\\&|slow")  # a frame that never ends
        started = time.perf_counter()
        (ack,) = send(port, adt("A01", control="fast"))
        assert msa(ack)[1] == "AA"
        assert time.perf_counter() - started < 10
    finally:
        stalled.close()


def test_concurrent_connections_with_good_and_bad_messages_are_all_answered(port, hospital):
    results: dict[int, list[str]] = {}
    errors: list[BaseException] = []

    def client(n: int) -> None:
        try:
            messages: list[str | bytes] = []
            for k in range(5):
                messages.append(adt("A01", control=f"c{n}-{k}", mrn=f"P{n}-{k}", visit=f"V{n}-{k}"))
                messages.append(adt("A01", control=f"bad{n}-{k}", pid=False))
            messages.append(adt("A03", control=f"c{n}-x", mrn=f"P{n}-0", visit=f"V{n}-0", discharge="20260305120000"))
            results[n] = [msa(a)[1] for a in send(port, *messages)]
        except BaseException as exc:  # noqa: BLE001 - report in the main thread
            errors.append(exc)

    threads = [threading.Thread(target=client, args=(n,)) for n in range(6)]
    for t in threads:
        t.start()
    with socket.create_connection(("127.0.0.1", port), timeout=15) as garbage:
        garbage.sendall(b"\xde\xad\xbe\xef" * 100 + FS + CR)
        assert msa(read_frame(garbage))[1] == "AR"
    for t in threads:
        t.join(60)
    assert not errors, errors
    assert all(codes == ["AA", "AR"] * 5 + ["AA"] for codes in results.values()), results
    assert len(results) == 6
    assert Patient.objects.filter(organization=hospital).count() == 30
    assert Case.objects.filter(status="transition").count() == 6
    assert Case.objects.filter(status="referral").count() == 24


def test_the_same_new_patient_from_two_connections_at_once_is_registered_once(port):
    barrier = threading.Barrier(4)
    codes: list[str] = []

    def client(n: int) -> None:
        barrier.wait()
        codes.extend(msa(a)[1] for a in send(port, adt("A08", control=f"same-{n}", mrn="SAME-1", visit="")))

    threads = [threading.Thread(target=client, args=(n,)) for n in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(30)
    assert codes == ["AA"] * 4
    assert Patient.objects.filter(identifiers__value="SAME-1").count() == 1
