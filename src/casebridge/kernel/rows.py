"""Append-only rows written in one INSERT without building model instances.

For log-like models that are written on every message or request and never go through ``save()``
logic of their own (no ``save`` override that matters for inserts, no signal receivers): the audit
trail, the HL7 message log. ``Model.objects.create`` and ``bulk_create`` compile the INSERT anew each
time, run the model's signals and, on PostgreSQL, dump a multi-row insert as one array per column for
UNNEST; for a handful of rows that cost several times what the database needs to store them.

Each value still goes through its field's ``get_db_prep_save`` (Django's own preparation for the
database in use: times, JSON, IP addresses), and a field left out gets its default, so the stored row
is the one ``create`` would store.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)

# Databases whose INSERT ... VALUES ... RETURNING gives the new ids in the order of the rows.
_RETURNING_VENDORS = frozenset({"postgresql", "sqlite"})


def _written_fields(model: type[models.Model]) -> list[Any]:
    """Every concrete column but an auto-numbered primary key."""
    return [f for f in model._meta.concrete_fields if not (f.primary_key and isinstance(f, models.AutoField))]


def insert_rows(model: type[models.Model], rows: Sequence[dict[str, Any]]) -> list[Any]:
    """Insert ``rows`` (field name or attname -> value) into ``model``'s table; the new primary keys,
    in the order of ``rows``."""
    if not rows:
        return []
    meta = model._meta
    fields = _written_fields(model)
    known = {f.name for f in fields} | {f.attname for f in fields}
    for row in rows:
        unknown = set(row) - known
        if unknown:
            raise TypeError(f"{meta.label} has no field {sorted(unknown)[0]!r}")
    connection = connections[router.db_for_write(model)]
    if connection.vendor not in _RETURNING_VENDORS:
        objs = model._default_manager.bulk_create([model(**row) for row in rows])
        return [obj.pk for obj in objs]
    params: list[Any] = []
    for row in rows:
        for field in fields:
            if field.name in row:
                value = row[field.name]
            elif field.attname in row:
                value = row[field.attname]
            else:
                value = field.get_default()
            if isinstance(value, models.Model):  # a related row given by instance
                value = value.pk
            params.append(field.get_db_prep_save(value, connection))
    quote = connection.ops.quote_name
    columns = ", ".join(quote(str(f.column)) for f in fields)
    one_row = "(" + ", ".join(["%s"] * len(fields)) + ")"
    pk = quote(str(meta.pk.column))  # type: ignore[union-attr]
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES {', '.join([one_row] * len(rows))} RETURNING {pk}"  # noqa: S608 - names from the model, values are parameters
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [r[0] for r in cursor.fetchall()]


def insert_objects(objs: Sequence[M]) -> Sequence[M]:
    """Save unsaved instances of one model in one INSERT, as ``bulk_create`` does (ids set, instances
    marked saved), through ``insert_rows``: same rules, same stored rows."""
    if not objs:
        return objs
    model = type(objs[0])
    attnames = [f.attname for f in _written_fields(model)]
    ids = insert_rows(model, [{a: getattr(obj, a) for a in attnames} for obj in objs])
    alias = router.db_for_write(model)
    for obj, new_id in zip(objs, ids, strict=True):
        obj.pk = new_id
        obj._state.adding = False
        obj._state.db = alias
    return objs
