"""Reading an MS-DRG table (GMLOS, weight) from CSV. Pure Python: no Django.

Columns (header row required, case-insensitive): ``drg``, ``title``, ``gmlos``; optional ``weight``,
``amlos``. CMS publishes the real table each fiscal year (IPPS Final Rule, Table 5); CaseBridge ships
only a clearly labelled sample in ``hospital/data/``.
"""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation

MAX_ROWS = 5000


@dataclass(frozen=True)
class DrgRow:
    drg: str
    title: str
    gmlos: Decimal
    weight: Decimal | None
    amlos: Decimal | None


class DrgTableError(ValueError):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(f"{field}: {message}")
        self.field = field
        self.message = message


def _decimal(value: str, where: str, *, required: bool) -> Decimal | None:
    text = (value or "").strip()
    if not text:
        if required:
            raise DrgTableError(where, "is required")
        return None
    try:
        number = Decimal(text)
    except InvalidOperation:
        raise DrgTableError(where, f"{text!r} is not a number") from None
    if not number.is_finite() or number <= 0:
        raise DrgTableError(where, "must be a number above 0")
    return number


def parse_drg_csv(text: str) -> list[DrgRow]:
    """Rows of the table; raises DrgTableError naming the line and column of the first problem."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    if reader.fieldnames is None:
        raise DrgTableError("file", "is empty")
    columns = {(name or "").strip().lower(): name for name in reader.fieldnames}
    for required in ("drg", "title", "gmlos"):
        if required not in columns:
            raise DrgTableError("file", f"needs a {required!r} column (found: {', '.join(columns)})")
    rows: list[DrgRow] = []
    seen: set[str] = set()
    for line, raw in enumerate(reader, start=2):
        if len(rows) >= MAX_ROWS:
            raise DrgTableError("file", f"more than {MAX_ROWS} rows")

        def cell(name: str, raw: dict[str, str] = raw) -> str:
            return (raw.get(columns[name]) or "").strip() if name in columns else ""

        code = cell("drg")
        if not code.isdigit() or len(code) > 3:
            raise DrgTableError(f"line {line} drg", f"{code!r} is not an MS-DRG number (1-3 digits)")
        code = code.zfill(3)
        if code in seen:
            raise DrgTableError(f"line {line} drg", f"{code} appears twice")
        seen.add(code)
        title = cell("title")
        if not title:
            raise DrgTableError(f"line {line} title", "is required")
        gmlos = _decimal(cell("gmlos"), f"line {line} gmlos", required=True)
        assert gmlos is not None
        rows.append(
            DrgRow(
                drg=code,
                title=title[:300],
                gmlos=gmlos,
                weight=_decimal(cell("weight"), f"line {line} weight", required=False),
                amlos=_decimal(cell("amlos"), f"line {line} amlos", required=False),
            )
        )
    if not rows:
        raise DrgTableError("file", "has no rows")
    return rows
