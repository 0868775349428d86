"""Rows written with plain INSERTs (or COPY), without building model instances.

For models whose rows need no ``save()`` logic of their own (no ``save`` override that matters for
inserts, no signal receivers, no history tracking). ``Model.objects.create`` and ``bulk_create``
compile the INSERT anew value by value and run the model's signals; for the rows a message or request
writes, and for a bulk import's thousands, that costs more than the database needs to store them.

Per model, the column list and one converter per column are worked out once (``write_plan``); a field
left out gets its default, an ``auto_now`` one the current time, so the stored row is the one
``create`` would store. Two ways to write:

- ``insert_rows`` / ``insert_objects``: a handful of rows in the current transaction (an HL7
  message's log row, the audit events of a change, status changes): one INSERT ... VALUES ...
  RETURNING (on PostgreSQL, for several rows, INSERT ... SELECT * FROM UNNEST(...) RETURNING),
  prepared by the database like any repeated statement.
- ``bulk_insert_rows``: an import's many rows: ids reserved up front (a sequence range on
  PostgreSQL, the next free range under SQLite's write lock), rows streamed by COPY (PostgreSQL) or
  ``executemany`` (SQLite).
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any, TypeVar

from django.db import DatabaseError, connection, connections, models, router

from casebridge.kernel import clock

M = TypeVar("M", bound=models.Model)
Converter = Callable[[Any], Any]
# attname, field, converter (None: the value goes as it is), auto_now
Column = tuple[str, models.Field, Converter | None, bool]
_MISSING = object()

# Databases whose INSERT ... VALUES ... RETURNING gives the new ids in the order of the rows.
RETURNING_VENDORS = frozenset({"postgresql", "sqlite"})


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


def _converter(field: models.Field, vendor: str) -> Converter | None:
    """How a value of ``field`` is turned into its column's parameter; None when psycopg or sqlite3
    takes the Python value as it is (a call per value saved on a bulk import's hundred thousand)."""
    postgres = vendor == "postgresql"
    if isinstance(field, models.JSONField):
        return _json_converter(field)
    if isinstance(field, models.DateTimeField):
        if postgres:
            return None
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
        return None if postgres else (lambda value: None if value is None else value.isoformat())
    if isinstance(field, models.CharField | models.TextField | models.IntegerField | models.BooleanField):
        return None
    if isinstance(field, models.ForeignKey):
        return None
    return lambda value: field.get_db_prep_save(value, connection)


@cache
def write_plan(model: type[models.Model], vendor: str) -> tuple[str, list[str], list[Column]]:
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
        value = row.get(attname, _MISSING)
        if value is _MISSING:
            if field.name in row:
                value = row[field.name]
                if isinstance(value, models.Model):  # a relation given by its row
                    value = value.pk
            else:
                value = None if auto_now else field.get_default()
        if auto_now and value is None:
            value = now
        values.append(value if convert is None else convert(value))
    return values


@cache
def _field_names(model: type[models.Model], vendor: str) -> frozenset[str]:
    """The attnames and names a row given to ``insert_rows`` may use."""
    columns = write_plan(model, vendor)[2]
    return frozenset(attname for attname, _, _, _ in columns) | {field.name for _, field, _, _ in columns}


def _check_fields(model: type[models.Model], vendor: str, rows: Sequence[dict[str, Any]]) -> None:
    known = _field_names(model, vendor)
    for row in rows:
        if row.keys() <= known:
            continue
        unknown = set(row) - known
        if unknown:
            raise TypeError(f"{model._meta.label} has no field {sorted(unknown)[0]!r}")


@cache
def _unnest_casts(model: type[models.Model]) -> list[str] | None:
    """PostgreSQL: the array cast of each column for ``INSERT ... SELECT * FROM UNNEST(...)``, which
    takes any number of rows as one array per column, as Django's ``bulk_create`` does there (its
    conditions); None when a column cannot be sent as an array."""
    columns = write_plan(model, "postgresql")[2]
    casts = []
    for _, field, _, _ in columns:
        target = field.target_field if field.is_relation else field  # type: ignore[attr-defined]
        if hasattr(field, "get_placeholder") or target.get_internal_type() not in connection.data_types:
            return None
        casts.append(f"(%s)::{str(field.db_type(connection)).split('(')[0]}[]")
    return casts


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert a few ``rows`` (attname or field name -> value) into ``model``'s table in one statement;
    the new primary keys, in the order of ``rows``."""
    if not rows:
        return []
    db = connections[router.db_for_write(model)]
    if db.vendor not in RETURNING_VENDORS:
        objs = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in objs]
    return [returned[0] for returned in _insert(db, model, rows, [model._meta.pk])]  # type: ignore[list-item]


def insert_objects(objs: Sequence[M]) -> Sequence[M]:
    """Save unsaved instances of one model in one INSERT, as ``bulk_create`` does (ids and the values
    the database computes, such as generated columns, set; instances marked saved), with the
    statement ``insert_rows`` writes."""
    if not objs:
        return objs
    model = type(objs[0])
    alias = router.db_for_write(model)
    db = connections[alias]
    if db.vendor not in RETURNING_VENDORS:
        return model._default_manager.bulk_create(objs)
    _, _, columns = write_plan(model, db.vendor)
    returning = model._meta.db_returning_fields
    fetched = _insert(
        db, model, [{attname: getattr(obj, attname) for attname, _, _, _ in columns} for obj in objs], returning
    )
    for obj, values in zip(objs, fetched, strict=True):
        for field, value in zip(returning, values, strict=True):
            setattr(obj, field.attname, value)
        obj._state.adding = False
        obj._state.db = alias
    return objs


def _insert(
    db: Any, model: type[models.Model], rows: Sequence[dict[str, Any]], returning: Sequence[models.Field]
) -> list[tuple[Any, ...]]:
    sql, params = _insert_statement(db, model, rows, returning)
    with db.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def _insert_statement(
    db: Any, model: type[models.Model], rows: Sequence[dict[str, Any]], returning: Sequence[models.Field]
) -> tuple[str, list[Any]]:
    table, quoted, columns = write_plan(model, db.vendor)
    _check_fields(model, db.vendor, rows)
    now = clock.now()
    casts = _unnest_casts(model) if len(rows) > 1 and db.vendor == "postgresql" else None
    if casts is not None:
        # One statement text whatever the number of rows: psycopg parses it once (it does not cache a
        # statement with over 50 parameters) and the server prepares it once.
        values = [_values(model, columns, row, now) for row in rows]
        params: list[Any] = [list(column) for column in zip(*values, strict=True)]
        source = f"SELECT * FROM UNNEST({', '.join(casts)})"  # noqa: S608 - casts from the model's columns
    else:
        params = [value for row in rows for value in _values(model, columns, row, now)]
        one_row = "(" + ", ".join(["%s"] * len(quoted)) + ")"
        source = f"VALUES {', '.join([one_row] * len(rows))}"
    returned = ", ".join(db.ops.quote_name(str(field.column)) for field in returning)
    sql = f"INSERT INTO {table} ({', '.join(quoted)}) {source} RETURNING {returned}"  # noqa: S608 - names from the model, values are parameters
    return sql, params


# --- rows written at the end of a block --------------------------------------------------------------

_at_end = threading.local()


@dataclass
class _Later:
    """The rows of one model waiting for the end of an ``inserts_at_end`` block, and the instances
    (if any) that get their ids then."""

    model: type[models.Model]
    rows: list[dict[str, Any]]
    objs: list[models.Model | None]


@contextlib.contextmanager
def inserts_at_end() -> Iterator[None]:
    """Inside one transaction that any error rolls back whole: the rows given to ``insert_rows_later``
    and ``insert_objects_later`` in this block (this thread) are written when it ends, still inside the
    transaction, on PostgreSQL all of them in one statement (a WITH chain of INSERTs, one per table).

    For append-only rows nothing reads back in the same transaction (audit events, history rows,
    status changes, a message's log row): a busy path then pays one round trip for all of them instead
    of one per table and call. If the block raises, they are dropped with the transaction it rolls
    back; a constraint they break is raised as the block ends. Nested blocks join the outer one."""
    if getattr(_at_end, "pending", None) is not None:
        yield
        return
    pending: dict[type[models.Model], _Later] = {}
    _at_end.pending = pending
    try:
        yield
    finally:
        _at_end.pending = None
    _write_later(list(pending.values()))


def insert_rows_later(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> None:
    """``insert_rows``, at the end of the enclosing ``inserts_at_end`` block (now when there is none).
    The rows are read now, so later changes to their values are not written."""
    pending = getattr(_at_end, "pending", None)
    if pending is None:
        insert_rows(model, rows)
        return
    later = pending.setdefault(model, _Later(model, [], []))
    later.rows.extend(rows)
    later.objs.extend([None] * len(rows))


def insert_objects_later(objs: Sequence[M]) -> Sequence[M]:
    """``insert_objects``, at the end of the enclosing ``inserts_at_end`` block (now when there is
    none). The instances' values are read now; they get their ids when the block ends."""
    pending = getattr(_at_end, "pending", None)
    if pending is None or not objs:
        return insert_objects(objs)
    model = type(objs[0])
    columns = write_plan(model, connections[router.db_for_write(model)].vendor)[2]
    later = pending.setdefault(model, _Later(model, [], []))
    later.rows.extend({attname: getattr(obj, attname) for attname, _, _, _ in columns} for obj in objs)
    later.objs.extend(objs)
    return objs


def _write_later(batches: list[_Later]) -> None:
    if not batches:
        return
    aliases = {router.db_for_write(batch.model) for batch in batches}
    alias = aliases.pop()
    db = connections[alias]
    if aliases or db.vendor != "postgresql" or len(batches) == 1:
        for batch in batches:
            _took_ids(batch, insert_rows(batch.model, batch.rows), alias)
        return
    # WITH w0 AS (INSERT ... RETURNING id), w1 AS (...) SELECT 0, id FROM w0 UNION ALL SELECT 1, id FROM w1
    parts, selects, params = [], [], []
    for n, batch in enumerate(batches):
        pk = batch.model._meta.pk
        sql, batch_params = _insert_statement(db, batch.model, batch.rows, [pk])  # type: ignore[list-item]
        parts.append(f"w{n} AS ({sql})")
        selects.append(f"SELECT {n}, {db.ops.quote_name(str(pk.column))}::bigint FROM w{n}")  # type: ignore[union-attr]  # noqa: S608
        params.extend(batch_params)
    sql = f"WITH {', '.join(parts)} {' UNION ALL '.join(selects)}"
    if db.queries_logged:  # DEBUG, tests capturing queries: Django renders the log by %s placeholders
        cursor_for, statement = db.cursor(), sql
    else:
        cursor_for, statement = _numbered_cursor(db), _numbered(sql)
    with cursor_for as cursor:
        cursor.execute(statement, params)
        returned = cursor.fetchall()
    ids: dict[int, list[int]] = {}
    for n, new_id in returned:
        ids.setdefault(n, []).append(new_id)
    for n, batch in enumerate(batches):
        _took_ids(batch, ids.get(n, []), alias)


@lru_cache(maxsize=512)
def _numbered(sql: str) -> str:
    """``sql`` with its ``%s`` placeholders as PostgreSQL's own ``$1``, ``$2``... (the text holds no
    other ``%``: names come from the models, values are parameters)."""
    pieces = sql.split("%s")
    out = [pieces[0]]
    for n, piece in enumerate(pieces[1:], start=1):
        out.append(f"${n}{piece}")
    return "".join(out)


def _numbered_cursor(db: Any) -> Any:
    """A Django cursor (errors translated, execute wrappers run) over psycopg's ``RawCursor``, which
    sends a statement's ``$n`` placeholders as they are. The plain cursor rewrites ``%s`` on every
    call and caches the rewrite only for statements under 4 KB and 50 parameters; a WITH chain of a
    message's rows is longer, and rewriting it cost more than building it. Not for logged queries:
    Django renders a logged statement by its ``%s`` placeholders."""
    import psycopg

    db.ensure_connection()
    return db.make_cursor(psycopg.RawCursor(db.connection))


def _took_ids(batch: _Later, ids: list[Any], alias: str) -> None:
    if len(ids) != len(batch.rows):
        raise DatabaseError(f"{batch.model._meta.label}: {len(batch.rows)} rows written, {len(ids)} ids back")
    for obj, new_id in zip(batch.objs, ids, strict=True):
        if obj is not None:
            obj.pk = new_id
            obj._state.adding = False
            obj._state.db = alias


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
    table, quoted, columns = write_plan(model, connection.vendor)
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
