"""Plain multi-row INSERTs for the import's high-volume tables.

Django's ``bulk_create`` compiles its SQL in Python value by value; on a bulk import that compile
costs more than the database does. Here the column list and one converter per column are worked
out once per model, ids are reserved up front (a sequence range on PostgreSQL, the next free range
under SQLite's write lock), and rows go to PostgreSQL by COPY and to SQLite by ``executemany``. Only for models without
history tracking or signals: Patient and Coverage keep ``bulk_create_with_history``.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from functools import cache
from typing import Any

from django.db import connection, models

from casebridge.interop.models import RawJSON
from casebridge.kernel import clock

Converter = Callable[[Any], Any]


def _json_converter(field: models.JSONField) -> Converter:
    """JSON text for the column. Both COPY (PostgreSQL) and ``executemany`` (SQLite) take the text as is and
    the database reads it by the column's type, so no wrapper object per value is needed; a value that
    is already serialized (``RawJSON``: the resource as received) goes as its text, not dumped again."""
    encoder = field.encoder
    dumps = json.JSONEncoder().encode if encoder is None else None

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, RawJSON):
            return value.text
        return dumps(value) if dumps is not None else json.dumps(value, cls=encoder)

    return convert


def _converter(field: models.Field) -> Converter:
    postgres = connection.vendor == "postgresql"
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if isinstance(field, models.DateTimeField):
        if postgres:
            return lambda value: value
        adapt = connection.ops.adapt_datetimefield_value

        def to_sqlite(value: Any) -> Any:
            # Django's SQLite format (naive UTC, "YYYY-MM-DD HH:MM:SS[.ffffff]"), without its per-call overhead.
            if value is None:
                return None
            if value.tzinfo is None:
                return adapt(value)
            return str(value.astimezone(dt.UTC).replace(tzinfo=None))

        return to_sqlite
    if isinstance(field, models.DateField):
        return (lambda value: value) if postgres else (lambda value: None if value is None else value.isoformat())
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.BooleanField):
        return lambda value: value
    if isinstance(field, models.ForeignKey):
        return lambda value: value
    return lambda value: field.get_db_prep_save(value, connection)


@cache
def _plan(
    model: type[models.Model], vendor: str, with_pk: bool = True
) -> tuple[str, str, list[tuple[str, models.Field, Converter, bool]]]:
    """The INSERT statement, the COPY statement and the columns (with their converters) of ``model``."""
    columns = []
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.GeneratedField):
            continue
        auto_now = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        columns.append((field.attname, field, _converter(field), auto_now))
    quote = connection.ops.quote_name
    cols = ([quote(str(model._meta.pk.column))] if with_pk else []) + [
        quote(str(field.column)) for _, field, _, _ in columns
    ]
    placeholders = ", ".join(["%s"] * len(cols))
    table = connection.ops.quote_name(model._meta.db_table)
    # Names come from model metadata, values go as parameters.
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES ({placeholders})"  # noqa: S608
    copy_sql = f"COPY {table} ({', '.join(cols)}) FROM STDIN"
    return sql, copy_sql, columns


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` primary keys nobody else will use. Call inside the transaction that inserts them."""
    table = model._meta.db_table
    pk = str(model._meta.pk.column)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute("SELECT nextval(pg_get_serial_sequence(%s, %s)) FROM generate_series(1, %s)", [table, pk, n])
            return [row[0] for row in cursor.fetchall()]
        # SQLite: the transaction holds the write lock (BEGIN IMMEDIATE), so max+1.. is ours; never reuse
        # an id AUTOINCREMENT handed out before, even if its row is gone.
        cursor.execute(f"SELECT max({connection.ops.quote_name(pk)}) FROM {connection.ops.quote_name(table)}")  # noqa: S608
        top = cursor.fetchone()[0] or 0
        cursor.execute("SELECT seq FROM sqlite_sequence WHERE name = %s", [table])
        row = cursor.fetchone()
        top = max(top, row[0] if row else 0)
        # Inserting explicit ids moves sqlite_sequence past them by itself.
        return list(range(top + 1, top + 1 + n))


def insert_rows(model: type[models.Model], rows: list[dict[str, Any]], *, return_ids: bool = True) -> list[int]:
    """Insert ``rows`` (attname -> Python value; missing fields take their defaults) and return their ids.

    ``return_ids=False``: the database numbers the rows itself (no reservation round trip) and nothing
    is returned; for rows nothing else points to, such as provenance records."""
    if not rows:
        return []
    sql, copy_sql, columns = _plan(model, connection.vendor, return_ids)
    ids = reserve_ids(model, len(rows)) if return_ids else []
    now = clock.now()
    params = []
    for index, row in enumerate(rows):
        values: list[Any] = [ids[index]] if return_ids else []
        for attname, field, convert, auto_now in columns:
            if auto_now:
                value = row.get(attname) or now
            elif attname in row:
                value = row[attname]
            else:
                value = field.get_default()
            values.append(convert(value))
        params.append(values)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams all rows in one statement: no per-row round trip or parse.
            with cursor.cursor.copy(copy_sql) as copy:
                for values in params:
                    copy.write_row(values)
        else:
            cursor.executemany(sql, params)
    return ids
