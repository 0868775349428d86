"""Whole numbers and digit strings typed into URLs, forms and messages. Pure functions.

``str.isdigit`` says yes to "²", "٣" and every other Unicode digit; ``int`` refuses some of them and
reads others, and ``\\d`` in a regular expression matches them all. None of them belongs in a row
id, a ZIP code, an MS-DRG or a date, so checks here accept the ASCII digits 0 to 9 alone."""

from __future__ import annotations

import re

#: The largest row id a database column holds (PostgreSQL bigint); a larger number names no record.
MAX_ROW_ID = 2**63 - 1


def whole_number(raw: str, *, maximum: int | None = MAX_ROW_ID) -> int | None:
    """``raw`` as a whole number when it is written in ASCII digits alone (and is at most ``maximum``,
    unless that is None), else None.

    ``str.isdigit`` alone is not enough before ``int``: it accepts "²" and other digit characters that
    ``int`` refuses, so a check written that way turned such input into a server error."""
    if not ascii_digits(raw):
        return None
    try:
        value = int(raw)
    except ValueError:  # more digits than Python reads from text (sys.get_int_max_str_digits, 4300)
        return None
    if maximum is not None and value > maximum:
        return None
    return value


def ascii_digits(raw: str) -> bool:
    """``raw`` is one or more of the ASCII digits 0 to 9, and nothing else."""
    return raw.isascii() and raw.isdigit()


_US_ZIP = re.compile(r"[0-9]{5}(?:-[0-9]{4})?")


def is_us_zip(raw: str) -> bool:
    """``raw`` is a US ZIP code, 02134 or ZIP+4 02134-1234."""
    return _US_ZIP.fullmatch(raw) is not None
