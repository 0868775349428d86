"""Acknowledgements (ACK): MSH, MSA and, for an error, ERR. Original acknowledgement mode.

MSA-1 is AA (accepted and committed), AE (application error: nothing was applied) or AR (reject:
the message was unusable, e.g. unsupported type or version, or not HL7 at all). MSA-3 carries the
reason as text; ERR carries it coded from HL7 table 0357, in the layout of the message's version
(ERR-1 up to v2.4, ERR-2..ERR-8 from v2.5).
"""

from __future__ import annotations

import datetime as dt

import hl7
from hl7.util import generate_message_control_id

from casebridge.interop.hl7v2.parsing import Header, Message

ERROR_TEXT = {
    "100": "Segment sequence error",
    "101": "Required field missing",
    "102": "Data type error",
    "103": "Table value not found",
    "200": "Unsupported message type",
    "201": "Unsupported event code",
    "203": "Unsupported version id",
    "204": "Unknown key identifier",
    "205": "Duplicate key identifier",
    "206": "Application record locked",
    "207": "Application internal error",
}
APPLICATION = "CaseBridge"
MAX_TEXT = 200


def _escape(text: str) -> str:
    """Escape HL7 delimiters in free text (default encoding characters, which our ACK uses)."""
    out = text.replace("\\", "\\E\\").replace("|", "\\F\\").replace("^", "\\S\\")
    out = out.replace("&", "\\T\\").replace("~", "\\R\\")
    return out.replace("\r", " ").replace("\n", " ")


def _version_at_least_25(version: str) -> bool:
    try:
        major, minor = (int(p) for p in version.split(".")[:2])
    except ValueError:
        return True
    return (major, minor) >= (2, 5)


def build_ack(
    header: Header | None,
    code: str,
    *,
    text: str = "",
    error_code: str = "",
    location: str = "",
    facility: str = "",
) -> str:
    """The ACK as text (segments end in CR, no MLLP framing). ``header`` may be None when not even the
    MSH could be read: the ACK then names nobody and acknowledges control ID "" (MSA-2 is required)."""
    h = header or Header()
    version = h.version if h.version else "2.5"
    now = dt.datetime.now(dt.UTC).strftime("%Y%m%d%H%M%S+0000")
    trigger = h.trigger if h.trigger and h.trigger.isalnum() else ""
    msh = "|".join(
        [
            "MSH",
            "^~\\&",
            APPLICATION,
            _escape(facility),
            h.sending_application,
            h.sending_facility,
            now,
            "",
            f"ACK^{trigger}^ACK" if trigger else "ACK",
            generate_message_control_id(),
            h.processing_id or "P",
            version,
        ]
    )
    reason = _escape(text[:MAX_TEXT])
    msa = f"MSA|{code}|{h.control_id}|{reason}".rstrip("|")
    segments = [msh, msa]
    if code != "AA" and error_code:
        label = ERROR_TEXT.get(error_code, ERROR_TEXT["207"])
        coded = f"{error_code}^{label}^HL70357"
        if _version_at_least_25(version):
            severity = "E"
            segments.append(f"ERR||{location}|{coded}|{severity}||||{reason}")
        else:
            loc = location or "MSH^1"
            segments.append(f"ERR|{loc}^{error_code}&{label}&HL70357")
    return "\r".join(segments) + "\r"


def build_ack_for(message: Message | None, code: str, **kwargs: str) -> str:
    return build_ack(message.header if message is not None else None, code, **kwargs)


def ack_code_of(ack_text: str) -> str:
    """MSA-1 of an ACK (for the CLI, tests and the benchmark), read with the library."""
    parsed = hl7.parse(ack_text)
    return str(parsed.segment("MSA")[1])
