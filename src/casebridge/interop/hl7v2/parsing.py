"""Reading HL7 v2 messages with the ``hl7`` library (python-hl7): no hand-written parser.

The library parses one message whose segments end in carriage returns. Real feeds and files are
less tidy, so before parsing: a UTF-8 byte-order mark is dropped, CRLF and LF segment ends become
CR, blank lines between segments are dropped, and a file with several messages is split on its MSH
segments (``hl7.split_file``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

import hl7
from django.utils import timezone
from hl7.datatypes import parse_datetime

from casebridge.kernel.numbers import ascii_digits

SUPPORTED_VERSIONS = ("2.3", "2.3.1", "2.4", "2.5", "2.5.1", "2.6", "2.7", "2.7.1", "2.8", "2.8.1", "2.8.2")


class Hl7Problem(Exception):
    """Why a message cannot be taken. ``ack_code`` AR (reject: the message itself is unusable) or AE
    (application error: well formed, but it cannot be applied); ``error_code`` from HL7 table 0357;
    ``location`` is segment^sequence^field (ERR-2)."""

    def __init__(self, reason: str, *, ack_code: str = "AE", error_code: str = "207", location: str = "") -> None:
        super().__init__(reason)
        self.reason = reason
        self.ack_code = ack_code
        self.error_code = error_code
        self.location = location


def decode(data: bytes | str) -> str:
    """Text with CR segment ends and no byte-order mark. Undecodable bytes are an AR: the sender
    must fix its character set, guessing would store wrong names."""
    if isinstance(data, bytes):
        try:
            text = data.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise Hl7Problem(
                f"not UTF-8 text (byte {exc.start}): send UTF-8 or ASCII", ack_code="AR", error_code="102"
            ) from exc
    else:
        text = data.removeprefix("\ufeff")
    text = text.replace("\r\n", "\r").replace("\n", "\r")
    # A blank line between segments (files written with doubled line ends, editors) is no segment;
    # the library would read it as one with an empty name and fail on it.
    return "\r".join(segment for segment in text.split("\r") if segment.strip())


def split_messages(data: bytes | str) -> list[str]:
    """Each message of a file or stream, as text ready to parse (batch/file header segments dropped)."""
    text = decode(data).strip()
    if not text:
        return []
    if not text.startswith(("MSH", "FHS", "BHS")):
        # Keep leading junk attached so the first message is reported as unparsable, not silently lost.
        head, sep, rest = text.partition("\rMSH")
        messages = [head]
        if sep:
            messages += hl7.split_file("MSH" + rest)
        return messages
    return list(hl7.split_file(text))


@dataclass
class Header:
    """What an ACK needs from MSH, read even from messages that fail later checks."""

    sending_application: str = ""
    sending_facility: str = ""
    receiving_application: str = ""
    receiving_facility: str = ""
    control_id: str = ""
    message_type: str = ""
    trigger: str = ""
    processing_id: str = "P"
    version: str = "2.5"
    field_separator: str = "|"
    encoding_characters: str = "^~\\&"


class Message:
    """A parsed message with forgiving field access: a field the sender left out reads as ""."""

    def __init__(self, text: str) -> None:
        self.text = text
        if not text.startswith("MSH") or len(text) < 8:
            raise Hl7Problem(
                "not an HL7 v2 message: it must start with an MSH segment", ack_code="AR", error_code="100"
            )
        # The library raises several types on malformed input, also when a parsed message is first
        # read (indexing a segment it built from odd text), so the header is read under the same guard.
        try:
            self.msg = hl7.parse(text)
            # The segments by name, in message order: field reads look segments up many times per message.
            self._by_name: dict[str, list[Any]] = {}
            for seg in self.msg:
                self._by_name.setdefault(str(seg(0)), []).append(seg)
            self.header = self._header()
        except Hl7Problem:
            raise
        except Exception as exc:  # noqa: BLE001
            raise Hl7Problem(f"cannot parse the message: {exc}", ack_code="AR", error_code="100") from exc

    def _header(self) -> Header:
        msh = self.msg.segment("MSH")
        header = Header(
            sending_application=self.get("MSH", 3),
            sending_facility=self.get("MSH", 4),
            receiving_application=self.get("MSH", 5),
            receiving_facility=self.get("MSH", 6),
            control_id=self.get("MSH", 10),
            message_type=self.get("MSH", 9, 1, 1),
            trigger=self.get("MSH", 9, 1, 2) or self.get("EVN", 1),
            processing_id=self.get("MSH", 11, 1, 1) or "P",
            version=self.get("MSH", 12, 1, 1),
            field_separator=str(msh[1]),
            encoding_characters=str(msh[2]),
        )
        if "\x00" in self.text:
            # Refused later (see nul_character_location); the ACK and the log echo the header without it.
            for name, value in vars(header).items():
                setattr(header, name, value.replace("\x00", ""))
        return header

    def nul_character_location(self) -> tuple[str, int, int] | None:
        """Where the first NUL character (byte 0x00) is: segment name, that segment's sequence among
        those of its name, field number (0: in the name). HL7 text may not hold one (control characters
        travel as escapes) and PostgreSQL cannot store it. None when there is none."""
        if "\x00" not in self.text:
            return None
        separator = self.header.field_separator or "|"
        seen: dict[str, int] = {}
        for line in self.text.split("\r"):
            name = line[:3]
            seen[name] = seen.get(name, 0) + 1
            if (at := line.find("\x00")) >= 0:
                fields_before = line.count(separator, 0, at)
                # MSH-1 is the first separator itself, so MSH-2 already has one before it.
                return name, seen[name], fields_before + 1 if name == "MSH" and fields_before else fields_before
        return None

    def has(self, segment: str) -> bool:
        return segment in self._by_name

    def segments(self, segment: str) -> list[Any]:
        return list(self._by_name.get(segment, ()))

    def field(self, segment: str, field: int, nth: int = 1) -> Any:
        """The field (all repetitions) or None when the segment or field is absent. For MSH the
        library keeps MSH-1 (the field separator) at index 1, so indexes match field numbers."""
        segs = self._by_name.get(segment, ())
        if len(segs) < nth:
            return None
        seg = segs[nth - 1]
        if field >= len(seg):
            return None
        return seg[field]

    def get(self, segment: str, field: int, repetition: int = 1, component: int = 0, sub: int = 0) -> str:
        """One value as text, unescaped; "" when absent. ``component`` 0 means the whole repetition."""
        value = self.field(segment, field)
        if value is None:
            return ""
        return part(self.msg, repetition_of(value, repetition), component, sub)

    def get_nth(self, segment: str, field: int, nth: int, component: int = 0) -> str:
        """Like ``get``, in the ``nth`` segment of that name (DG1 repeats), first repetition."""
        value = self.field(segment, field, nth)
        if value is None:
            return ""
        return part(self.msg, repetition_of(value), component)

    def repetitions(self, segment: str, field: int, nth: int = 1) -> list[Any]:
        """The field's repetitions (each a library Repetition or plain string), empty when blank."""
        value = self.field(segment, field, nth)
        if value is None or str(value) == "":
            return []
        return [r for r in (value if isinstance(value, hl7.Field) else [value]) if str(r) != ""]

    def escaped(self, text: str) -> str:
        return str(self.msg.escape(text))


def repetition_of(value: Any, repetition: int = 1) -> Any:
    if isinstance(value, hl7.Field):
        return value[repetition - 1] if len(value) >= repetition else ""
    return value if repetition == 1 else ""


def _child(node: Any, index: int) -> Any:
    if isinstance(node, hl7.Container):
        return node[index - 1] if len(node) >= index else ""
    return node if index == 1 else ""


def part(msg: Any, rep: Any, component: int = 0, sub: int = 0) -> str:
    """Component ``component`` (1-based; 0: all of it), subcomponent ``sub``, of one repetition, unescaped.
    The library keeps an undivided value as a plain string, which is its own first component."""
    node = rep
    if component:
        node = _child(node, component)
        if sub:
            node = _child(node, sub)
    return str(msg.unescape(str(node))) if node is not None else ""


# The UTC offsets in use around the world (UTC-12:00 to UTC+14:00). HL7's +/-HHMM can say more
# (python-hl7 reads +9999 as 99 hours 99 minutes), which no clock shows and Python cannot represent.
_OFFSETS_IN_USE = (-dt.timedelta(hours=12), dt.timedelta(hours=14))


def _bad_value(field: str, value: str, why: str) -> Hl7Problem:
    """An AE naming the field (``PV1-44``) in its text and its ERR location."""
    if not field:
        return Hl7Problem(f"{value!r} {why}", error_code="102")
    segment, _, number = field.partition("-")
    return Hl7Problem(f"{field} {value!r} {why}", error_code="102", location=f"{segment}^1^{number}")


def hl7_datetime(value: str, field: str = "") -> dt.datetime | None:
    """An HL7 DTM/TS (of ``field``, e.g. ``PV1-44``, for the error) as an aware datetime in UTC, read in
    the local time zone when the sender gave no offset; None when blank."""
    value = value.strip()
    if not value:
        return None
    if not value.isascii():  # python-hl7 reads "٢٠٢٦" as 2026 (see kernel.numbers)
        raise _bad_value(field, value, "is not an HL7 date/time")
    try:
        parsed = parse_datetime(value)
        if parsed is None:
            return None
        if parsed.tzinfo is None:
            parsed = timezone.make_aware(parsed)
        else:
            offset = parsed.tzinfo.utcoffset(None)  # the tzinfo's own answer: datetime's refuses past 24 h
            if offset is None or not _OFFSETS_IN_USE[0] <= offset <= _OFFSETS_IN_USE[1]:
                raise _bad_value(field, value, "has a UTC offset outside -1200 to +1400")
        # In UTC here, so a time at the edge of the calendar (year 1 or 9999) fails now, not in the database.
        return parsed.astimezone(dt.UTC)
    except (ValueError, IndexError, OverflowError) as exc:
        raise _bad_value(field, value, "is not an HL7 date/time") from exc


def hl7_date(value: str, field: str = "") -> dt.date | None:
    value = value.strip()
    if not value:
        return None
    if len(value) < 8 or not ascii_digits(value[:8]):
        raise _bad_value(field, value, "is not an HL7 date")
    try:
        return dt.date(int(value[:4]), int(value[4:6]), int(value[6:8]))
    except ValueError as exc:
        raise _bad_value(field, value, "is not a valid date") from exc
