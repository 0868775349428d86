"""Building HL7 v2 ADT messages for tests, and a plain-socket MLLP client."""

from __future__ import annotations

import asyncio
import socket
import threading
from pathlib import Path

from casebridge.interop.hl7v2.mllp import MllpListener

SAMPLES = Path(__file__).resolve().parents[3] / "shared" / "data" / "hl7v2"
if not SAMPLES.is_dir():
    SAMPLES = Path("/work/shared/data/hl7v2")

VT, FS, CR = b"\x0b", b"\x1c", b"\x0d"


def adt(
    trigger: str,
    *,
    control: str,
    mrn: str = "MRN-7001",
    visit: str = "V-9001",
    patient_class: str = "I",
    patient_type: str = "",
    family: str = "Okafor",
    given: str = "Grace",
    birth: str = "19470312",
    sex: str = "F",
    admit: str = "20260301083000",
    discharge: str = "",
    disposition: str = "",
    location: str = "4W^401^B",
    prior_location: str = "",
    version: str = "2.5.1",
    facility: str = "GHH",
    mrg: str = "",
    address: str = "12 Elm St^^Boston^MA^02134",
    phone: str = "617-555-0100",
    dg1: str = "I50.9^Heart failure, unspecified^I10",
    pid: bool = True,
    pv1: bool = True,
    structure: str | None = None,
) -> str:
    """One ADT message (segments end in CR)."""
    segs = [
        f"MSH|^~\\&|ADTApp|{facility}|CaseBridge|GH|20260301090000||ADT^{trigger}^{structure or 'ADT_' + trigger}"
        f"|{control}|P|{version}",
        f"EVN|{trigger}|20260301090000",
    ]
    if pid:
        segs.append(
            f"PID|1||{mrn}^^^GHH^MR~123-45-6789^^^USSSA^SS||{family}^{given}||{birth}|{sex}|||{address}||{phone}"
        )
    if mrg:
        segs.append(f"MRG|{mrg}^^^GHH^MR")
    if pv1:
        pv1_fields = [""] * 46
        pv1_fields[1] = "1"
        pv1_fields[2] = patient_class
        pv1_fields[3] = location
        pv1_fields[6] = prior_location
        pv1_fields[7] = "1234^Alaz^Mohammed^^^Dr."
        pv1_fields[18] = patient_type
        pv1_fields[19] = f"{visit}^^^GHH^VN"
        pv1_fields[36] = disposition
        pv1_fields[44] = admit
        pv1_fields[45] = discharge
        segs.append("PV1|" + "|".join(pv1_fields[1:]).rstrip("|"))
    if dg1:
        segs.append(f"DG1|1||{dg1}")
    return "\r".join(segs) + "\r"


def frame(text: str | bytes) -> bytes:
    data = text.encode("utf-8") if isinstance(text, str) else text
    return VT + data + FS + CR


def read_frame(sock: socket.socket, timeout: float = 15.0) -> str:
    sock.settimeout(timeout)
    buf = b""
    while FS + CR not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise ConnectionError(f"closed by the listener after {buf!r}")
        buf += chunk
    block, _, _ = buf.partition(FS + CR)
    assert block.startswith(VT), block
    return block[1:].decode("utf-8")


def send(port: int, *messages: str | bytes, raw: bool = False) -> list[str]:
    """Send each message on one connection and return the ACKs (``raw``: bytes sent unframed)."""
    acks = []
    with socket.create_connection(("127.0.0.1", port), timeout=15) as sock:
        for m in messages:
            sock.sendall(m if raw and isinstance(m, bytes) else frame(m))
            acks.append(read_frame(sock))
    return acks


def msa(ack: str) -> list[str]:
    line = next(s for s in ack.split("\r") if s.startswith("MSA|"))
    return line.split("|")


def err(ack: str) -> str:
    return next((s for s in ack.split("\r") if s.startswith("ERR|")), "")


class RunningListener:
    """An MLLP listener on a free local port, in a background thread with its own event loop."""

    def __init__(self, listener: MllpListener) -> None:
        self.listener = listener
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self.listener.start())
        self.ready.set()
        self.loop.run_forever()

    def __enter__(self) -> int:
        self.thread.start()
        assert self.ready.wait(10)
        return self.listener.port

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.listener.stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
