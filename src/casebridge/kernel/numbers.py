"""Whole numbers typed into URLs and form fields. Pure functions."""

from __future__ import annotations

#: The largest row id a database column holds (PostgreSQL bigint); a larger number names no record.
MAX_ROW_ID = 2**63 - 1


def whole_number(raw: str, *, maximum: int | None = MAX_ROW_ID) -> int | None:
    """``raw`` as a whole number when it is written in ASCII digits alone (and is at most ``maximum``,
    unless that is None), else None.

    ``str.isdigit`` alone is not enough before ``int``: it accepts "²" and other digit characters that
    ``int`` refuses, so a check written that way turned such input into a server error."""
    if not (raw.isascii() and raw.isdigit()):
        return None
    value = int(raw)
    if maximum is not None and value > maximum:
        return None
    return value
