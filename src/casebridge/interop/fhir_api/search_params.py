"""FHIR R4 search parameters parsed into plain values. Pure Python: no Django.

Follows the R4 search specification (http://hl7.org/fhir/R4/search.html) for the parameter types the
API offers: token (``[system]|[code]``), reference (``[type]/[id]`` or ``[id]``) and date (with the
``eq``, ``gt``, ``lt``, ``ge``, ``le`` prefixes and the implicit range of a partial date). A comma
separates alternatives (OR); repeating a parameter combines (AND).

The server is strict by default: an unknown parameter, an unsupported modifier or a malformed value
is an error (HTTP 400), because silently ignoring ``patinet=`` would widen a search to every patient.
A client may ask for FHIR's lenient handling (``Prefer: handling=lenient``): unknown parameters are then
ignored and left out of the self link.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from casebridge.kernel.numbers import whole_number

DEFAULT_COUNT = 20
MAX_COUNT = 100

# Result parameters the server understands on every search.
CONTROL = ("_count", "_offset", "_format")
FORMATS = frozenset({"json", "application/json", "application/fhir+json"})
DATE_PREFIXES = frozenset({"eq", "gt", "lt", "ge", "le"})
UNSUPPORTED_DATE_PREFIXES = frozenset({"ne", "sa", "eb", "ap"})


class SearchError(ValueError):
    """A search the server refuses: names the parameter and why (HTTP 400)."""


@dataclass(frozen=True)
class Token:
    system: str | None  # None: any system; "": no system
    code: str | None  # None: any code in the system


@dataclass(frozen=True)
class DateCriterion:
    """``prefix`` applied to the range [start, end) the parameter value stands for."""

    prefix: str
    start: dt.datetime
    end: dt.datetime


@dataclass(frozen=True)
class ReferenceValue:
    resource_type: str | None
    id: str


@dataclass
class ParsedSearch:
    # name -> one entry per occurrence (AND); each entry is a list of alternatives (OR)
    criteria: dict[str, list[list[Token] | list[DateCriterion] | list[ReferenceValue]]] = field(default_factory=dict)
    count: int = DEFAULT_COUNT
    offset: int = 0
    ignored: list[str] = field(default_factory=list)
    # The parameters as understood, for the self and next links.
    echo: list[tuple[str, str]] = field(default_factory=list)


def split_alternatives(raw: str) -> list[str]:
    """Split on commas, honouring ``\\,`` as an escaped comma."""
    parts = re.split(r"(?<!\\),", raw)
    return [p.replace("\\,", ",") for p in parts]


def parse_token(raw: str) -> list[Token]:
    if "\x00" in raw:
        # A token is compared with stored text, and PostgreSQL refuses text holding NUL even in a
        # comparison: without this check the search would fail in the database, as a server error.
        raise SearchError("must not contain NUL characters (byte 0x00)")
    tokens = []
    for part in split_alternatives(raw):
        if not part:
            raise SearchError("is empty")
        if "|" in part:
            system, _, code = part.partition("|")
            if not system and not code:
                raise SearchError(f"{part!r} has neither system nor code")
            tokens.append(Token(system=system, code=code or None))
        else:
            tokens.append(Token(system=None, code=part))
    return tokens


_ID = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")
_TYPE = re.compile(r"^[A-Z][A-Za-z]+$")


def parse_reference(raw: str, allowed_types: Iterable[str]) -> list[ReferenceValue]:
    """``Patient/123``, ``123`` or an absolute URL ending in ``Patient/123``."""
    allowed = tuple(allowed_types)
    refs = []
    for part in split_alternatives(raw):
        segments = part.rstrip("/").split("/")
        if len(segments) >= 2:
            rtype, rid = segments[-2], segments[-1]
            if not _TYPE.match(rtype):
                raise SearchError(f"{part!r} is not a reference like Patient/123")
            if rtype not in allowed:
                raise SearchError(f"{part!r} must refer to {' or '.join(allowed)}")
        else:
            rtype, rid = None, segments[0]
        if not _ID.match(rid):
            raise SearchError(f"{part!r}: {rid!r} is not a FHIR id")
        refs.append(ReferenceValue(resource_type=rtype, id=rid))
    return refs


_DATE = re.compile(
    r"^(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?P<fraction>\.[0-9]+)?)?"
    r"(?P<tz>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$"
)


def _tz(text: str | None, default: dt.tzinfo) -> dt.tzinfo:
    if text is None:
        return default
    if text == "Z":
        return dt.UTC
    sign = 1 if text[0] == "+" else -1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return dt.timezone(sign * dt.timedelta(hours=hours, minutes=minutes))


def date_range(value: str, default_tz: dt.tzinfo = dt.UTC) -> tuple[dt.datetime, dt.datetime]:
    """The instants [start, end) a FHIR date or dateTime of any precision stands for. A value without a
    time zone is in ``default_tz`` (R4: the server's zone)."""
    m = _DATE.match(value)
    if m is None:
        raise SearchError(f"{value!r} is not a FHIR date (YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][zone])")
    g = m.groupdict()
    try:
        year = int(g["year"])
        tz = _tz(g["tz"], default_tz)
        if g["month"] is None:
            return dt.datetime(year, 1, 1, tzinfo=tz), dt.datetime(year + 1, 1, 1, tzinfo=tz)
        month = int(g["month"])
        if g["day"] is None:
            start = dt.datetime(year, month, 1, tzinfo=tz)
            days = calendar.monthrange(year, month)[1]
            return start, start + dt.timedelta(days=days)
        day = int(g["day"])
        if g["hour"] is None:
            start = dt.datetime(year, month, day, tzinfo=tz)
            return start, start + dt.timedelta(days=1)
        second = int(g["second"]) if g["second"] is not None else None
        micro = int(round(float(g["fraction"]) * 1_000_000)) if g["fraction"] else 0
        start = dt.datetime(year, month, day, int(g["hour"]), int(g["minute"]), second or 0, min(micro, 999_999), tz)
    except ValueError as exc:
        raise SearchError(f"{value!r} is not a valid date: {exc}") from exc
    if second is None:
        return start, start + dt.timedelta(minutes=1)
    if g["fraction"]:
        return start, start + dt.timedelta(microseconds=1)
    return start, start + dt.timedelta(seconds=1)


def parse_date(raw: str, default_tz: dt.tzinfo = dt.UTC) -> list[DateCriterion]:
    out = []
    for part in split_alternatives(raw):
        prefix, value = "eq", part
        if len(part) > 2 and part[:2].isalpha():
            prefix, value = part[:2], part[2:]
            if prefix in UNSUPPORTED_DATE_PREFIXES:
                raise SearchError(f"the prefix {prefix!r} is not supported: use eq, gt, lt, ge or le")
            if prefix not in DATE_PREFIXES:
                raise SearchError(f"{prefix!r} is not a FHIR search prefix")
        start, end = date_range(value, default_tz)
        out.append(DateCriterion(prefix=prefix, start=start, end=end))
    return out


def parse_count(raw: str) -> int:
    value = whole_number(raw, maximum=None)
    if value is None:
        raise SearchError(f"{raw!r} is not a whole number")
    if value < 1:
        raise SearchError("must be at least 1")
    return min(value, MAX_COUNT)


def parse_offset(raw: str) -> int:
    value = whole_number(raw, maximum=None)
    if value is None:
        raise SearchError(f"{raw!r} is not a whole number")
    return value


@dataclass(frozen=True)
class ParamSpec:
    """What the parser needs to know about one search parameter."""

    type: str  # token, reference, date
    targets: tuple[str, ...] = ()  # resource types a reference parameter may point to


def parse_search(
    pairs: Iterable[tuple[str, str]],
    params: Mapping[str, ParamSpec],
    *,
    lenient: bool = False,
    default_tz: dt.tzinfo = dt.UTC,
) -> ParsedSearch:
    """Parse the query string pairs of a search against the parameters the resource type supports."""
    result = ParsedSearch()
    for name, raw in pairs:
        base, _, modifier = name.partition(":")
        if base in CONTROL:
            try:
                if base == "_count":
                    result.count = parse_count(raw)
                elif base == "_offset":
                    result.offset = parse_offset(raw)
                elif raw not in FORMATS:
                    raise SearchError("only JSON is served: use json or application/fhir+json")
            except SearchError as exc:
                raise SearchError(f"{name}: {exc}") from exc
            continue
        spec = params.get(base)
        if spec is None:
            if lenient:
                result.ignored.append(name)
                continue
            raise SearchError(f"{name}: unknown search parameter; supported: {', '.join(sorted(params))}")
        if modifier:
            raise SearchError(f"{name}: the modifier :{modifier} is not supported")
        try:
            values: list[Token] | list[DateCriterion] | list[ReferenceValue]
            if spec.type == "token":
                values = parse_token(raw)
            elif spec.type == "date":
                values = parse_date(raw, default_tz)
            elif spec.type == "reference":
                values = parse_reference(raw, spec.targets)
            else:  # pragma: no cover - a registry bug
                raise SearchError(f"unsupported parameter type {spec.type}")
        except SearchError as exc:
            raise SearchError(f"{name}: {exc}") from exc
        result.criteria.setdefault(base, []).append(values)
        result.echo.append((name, raw))
    return result
