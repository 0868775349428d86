"""Small readers for FHIR datatypes (dates, names, addresses, telecoms). Pure Python."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Mapping
from decimal import Decimal, InvalidOperation
from typing import Any

from django.utils import timezone

US_STATES = {
    "alabama": "AL", "alaska": "AK", "arizona": "AZ", "arkansas": "AR", "california": "CA", "colorado": "CO",
    "connecticut": "CT", "delaware": "DE", "district of columbia": "DC", "florida": "FL", "georgia": "GA",
    "hawaii": "HI", "idaho": "ID", "illinois": "IL", "indiana": "IN", "iowa": "IA", "kansas": "KS",
    "kentucky": "KY", "louisiana": "LA", "maine": "ME", "maryland": "MD", "massachusetts": "MA",
    "michigan": "MI", "minnesota": "MN", "mississippi": "MS", "missouri": "MO", "montana": "MT",
    "nebraska": "NE", "nevada": "NV", "new hampshire": "NH", "new jersey": "NJ", "new mexico": "NM",
    "new york": "NY", "north carolina": "NC", "north dakota": "ND", "ohio": "OH", "oklahoma": "OK",
    "oregon": "OR", "pennsylvania": "PA", "rhode island": "RI", "south carolina": "SC", "south dakota": "SD",
    "tennessee": "TN", "texas": "TX", "utah": "UT", "vermont": "VT", "virginia": "VA", "washington": "WA",
    "west virginia": "WV", "wisconsin": "WI", "wyoming": "WY", "puerto rico": "PR", "guam": "GU",
    "virgin islands": "VI", "american samoa": "AS", "northern mariana islands": "MP",
}  # fmt: skip
_STATE_CODES = frozenset(US_STATES.values())
_NOT_DIGITS = re.compile(r"[^0-9]")


def datetime_of(value: Any) -> dt.datetime | None:
    """A FHIR date, dateTime or instant as an aware datetime (partial dates at their start)."""
    if not value or not isinstance(value, str):
        return None
    if len(value) == 4:
        value += "-01-01"
    elif len(value) == 7:
        value += "-01"
    try:
        parsed = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    if parsed.tzinfo is None:
        parsed = timezone.make_aware(parsed)
    return parsed


def date_of(value: Any) -> dt.date | None:
    if not value or not isinstance(value, str):
        return None
    moment = datetime_of(value[:10] if len(value) >= 10 else value)
    return moment.date() if moment else None


def period_of(resource: Mapping[str, Any], key: str = "period") -> tuple[dt.datetime | None, dt.datetime | None]:
    period = resource.get(key) or {}
    return datetime_of(period.get("start")), datetime_of(period.get("end"))


def human_name(names: Any) -> dict[str, str]:
    """The official (else first) HumanName as family / given / prefix."""
    if not names:
        return {"family": "", "given": "", "prefix": "", "text": ""}
    chosen = next((n for n in names if n.get("use") == "official"), names[0])
    family = chosen.get("family") or ""
    given = " ".join(chosen.get("given") or ())
    prefix = " ".join(chosen.get("prefix") or ())
    text = chosen.get("text") or " ".join(p for p in (prefix, given, family) if p)
    return {"family": family, "given": given, "prefix": prefix, "text": text}


def telecom(points: Any, system: str) -> str:
    for p in points or ():
        if p.get("system") == system and p.get("value"):
            return str(p["value"])
    return ""


def state_code(state: str) -> str:
    """A two-letter US state code for a state name or code; blank when it is neither."""
    state = (state or "").strip()
    if len(state) == 2 and state.upper() in _STATE_CODES:
        return state.upper()
    return US_STATES.get(state.lower(), "")


def zip_code(postal: str) -> str:
    """A US ZIP as 12345 or 12345-6789 (senders often drop the dash); blank when it is not a ZIP."""
    digits = _NOT_DIGITS.sub("", postal or "")
    if len(digits) == 5:
        return digits
    if len(digits) == 9:
        return f"{digits[:5]}-{digits[5:]}"
    return ""


def address(addresses: Any) -> dict[str, str]:
    """The home (else first) Address. ``addresses`` may be one Address or a list."""
    if isinstance(addresses, Mapping):
        addresses = [addresses]
    if not addresses:
        return {"line": "", "city": "", "state": "", "postal_code": ""}
    chosen = next((a for a in addresses if a.get("use") == "home"), addresses[0])
    return {
        "line": ", ".join(chosen.get("line") or ())[:200],
        "city": (chosen.get("city") or "")[:100],
        "state": chosen.get("state") or "",
        "postal_code": chosen.get("postalCode") or "",
    }


def identifiers(items: Any) -> list[dict[str, str]]:
    return [{"system": str(i.get("system") or ""), "value": str(i["value"])} for i in items or () if i.get("value")]


def money(value: Any) -> tuple[Decimal | None, str]:
    if not isinstance(value, Mapping) or value.get("value") is None:
        return None, ""
    try:
        amount = Decimal(str(value["value"])).quantize(Decimal("0.01"))
    except (InvalidOperation, ValueError):
        return None, ""
    return amount, str(value.get("currency") or "")[:3]


def display_of(ref: Any) -> str:
    return str((ref or {}).get("display") or "") if isinstance(ref, Mapping) else ""


def clip(value: Any, length: int) -> str:
    return str(value or "")[:length]
