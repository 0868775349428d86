"""Rows written with plain INSERTs (or COPY), without building model instances.

For models whose rows need no ``save()`` logic of their own (no ``save`` override that matters for
inserts, no signal receivers, no history tracking). ``Model.objects.create`` and ``bulk_create``
compile the INSERT anew value by value and run the model's signals; for the rows a message or request
writes, and for a bulk import's thousands, that costs more than the database needs to store them.

Per model, the column list and one converter per column are worked out once (``_plan``); a field
left out gets its default, an ``auto_now`` one the current time, so the stored row is the one
``create`` would store. Two ways to write:

- ``insert_rows`` / ``insert_objects``: a handful of rows in the current transaction (an HL7
  message's log row, the audit events of a change, status changes): one INSERT ... VALUES ...
  RETURNING, prepared by the database like any repeated statement.
- ``bulk_insert_rows``: an import's many rows: ids reserved up front (a sequence range on
  PostgreSQL, the next free range under SQLite's write lock), rows streamed by COPY (PostgreSQL) or
  ``executemany`` (SQLite).
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from functools import cache
from typing import Any, TypeVar

from django.db import connection, connections, models, router

from casebridge.kernel import clock

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any], Any]
Column = tuple[str, models.Field, Converter, bool]  # attname, field, converter, auto_now

# Databases whose INSERT ... VALUES ... RETURNING gives the new ids in the order of the rows.
_RETURNING_VENDORS = frozenset({"postgresql", "sqlite"})


class RawJSON:
    """A JSON value already serialized (e.g. a resource as received, for its content hash): stored as
    its text, not serialized twice."""

    __slots__ = ("text",)

    def __init__(self, text: str) -> None:
        self.text = text


def _json_converter(field: models.JSONField) -> Converter:
    """JSON text for the column: the database reads it by the column's type, so no wrapper object per
    value is needed; a ``RawJSON`` goes as its text."""
    encoder = field.encoder
    dumps = json.JSONEncoder().encode if encoder is None else None

    def convert(value: Any) -> Any:
        if value is None:
            return None
        if isinstance(value, RawJSON):
            return value.text
        return dumps(value) if dumps is not None else json.dumps(value, cls=encoder)

    return convert


def _converter(field: models.Field, vendor: str) -> Converter:
    postgres = vendor == "postgresql"
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
def _plan(model: type[models.Model], vendor: str) -> tuple[str, list[str], list[Column]]:
    """The quoted table, the quoted non-key columns and the columns' write plan of ``model``."""
    columns: list[Column] = []
    for field in model._meta.concrete_fields:
        if field.primary_key or isinstance(field, models.GeneratedField):
            continue
        auto_now = bool(getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False))
        columns.append((field.attname, field, _converter(field, vendor), auto_now))
    quote = connection.ops.quote_name
    return quote(model._meta.db_table), [quote(str(f.column)) for _, f, _, _ in columns], columns


def _values(model: type[models.Model], columns: list[Column], row: dict[str, Any], now: Any) -> list[Any]:
    """One row's column values; ``row`` maps attnames (or field names, for relations given as rows)."""
    values = []
    for attname, field, convert, auto_now in columns:
        if attname in row:
            value = row[attname]
        elif field.name in row:
            value = row[field.name]
            if isinstance(value, models.Model):  # a relation given by its row
                value = value.pk
        else:
            value = None if auto_now else field.get_default()
        if auto_now and value is None:
            value = now
        values.append(convert(value))
    return values


def _check_fields(model: type[models.Model], columns: list[Column], rows: Sequence[dict[str, Any]]) -> None:
    known = {attname for attname, _, _, _ in columns} | {field.name for _, field, _, _ in columns}
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise TypeError(f"{model._meta.label} has no field {sorted(unknown)[0]!r}")


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert a few ``rows`` (attname or field name -> value) into ``model``'s table in one statement;
    the new primary keys, in the order of ``rows``."""
    if not rows:
        return []
    db = connections[router.db_for_write(model)]
    if db.vendor not in _RETURNING_VENDORS:
        objs = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in objs]
    table, quoted, columns = _plan(model, db.vendor)
    _check_fields(model, columns, rows)
    now = clock.now()
    params = [value for row in rows for value in _values(model, columns, row, now)]
    one_row = "(" + ", ".join(["%s"] * len(quoted)) + ")"
    pk = db.ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
    sql = f"INSERT INTO {table} ({', '.join(quoted)}) VALUES {', '.join([one_row] * len(rows))} RETURNING {pk}"  # noqa: S608 - names from the model, values are parameters
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()]


def insert_objects(objs: Sequence[M]) -> Sequence[M]:
    """Save unsaved instances of one model in one INSERT, as ``bulk_create`` does (ids set, instances
    marked saved), through ``insert_rows``."""
    if not objs:
        return objs
    model = type(objs[0])
    _, _, columns = _plan(model, connections[router.db_for_write(model)].vendor)
    ids = insert_rows(model, [{attname: getattr(obj, attname) for attname, _, _, _ in columns} for obj in objs])
    alias = router.db_for_write(model)
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = alias
    return objs


def reserve_ids(model: type[models.Model], n: int) -> list[int]:
    """``n`` primary keys nobody else will use. Call inside the transaction that inserts them."""
    table = model._meta.db_table
    pk = str(model._meta.pk.column)  # type: ignore[union-attr]
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


def bulk_insert_rows(model: type[models.Model], rows: list[dict[str, Any]], *, return_ids: bool = True) -> list[int]:
    """Insert many ``rows`` (attname -> Python value) and return their ids.

    ``return_ids=False``: the database numbers the rows itself (no reservation round trip) and nothing
    is returned; for rows nothing else points to, such as provenance records."""
    if not rows:
        return []
    table, quoted, columns = _plan(model, connection.vendor)
    if return_ids:
        quoted = [connection.ops.quote_name(str(model._meta.pk.column)), *quoted]  # type: ignore[union-attr]
    ids = reserve_ids(model, len(rows)) if return_ids else []
    now = clock.now()
    params = [
        ([ids[index]] if return_ids else []) + _values(model, columns, row, now) for index, row in enumerate(rows)
    ]
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            # COPY streams all rows in one statement: no per-row round trip or parse.
            with cursor.cursor.copy(f"COPY {table} ({', '.join(quoted)}) FROM STDIN") as copy:
                for values in params:
                    copy.write_row(values)
        else:
            placeholders = ", ".join(["%s"] * len(quoted))
            cursor.executemany(f"INSERT INTO {table} ({', '.join(quoted)}) VALUES ({placeholders})", params)  # noqa: S608
    return ids
