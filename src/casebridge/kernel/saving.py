"""``Model.save`` with its SQL planned once, for the services on the busy paths (the HL7 feed saves
a patient, a visit, a case and a task per admission).

``Model.save`` builds a query and compiles its SQL on every call, and django-simple-history then
saves the historical row the same way: together about a third of an ADT message's CPU. ``save_object``
stores the same row with the same signals, but its INSERT is ``kernel.rows.insert_objects`` (the new
id and any generated columns come back with it) and its UPDATE one statement per model and set of
fields, worked out once:

- each field's own ``pre_save`` gives the value (so ``auto_now`` fields take the current time, as in
  ``save``), and relations are checked as ``save`` checks them;
- ``pre_save`` and ``post_save`` are sent with the arguments ``save`` sends;
- a model tracked by simple-history gets its historical row from ``history_objects``, which writes
  what simple-history's ``bulk_history_create`` writes (user, date and change reason taken from the
  instance or the request in the same way; inside a ``kernel.rows.inserts_at_end`` block, at its
  end), and simple-history's own ``post_save`` receiver is told to skip with its documented
  ``skip_history_when_saving`` switch.

What it does not do, it hands to ``Model.save``: a model with its own ``save``, an instance with
deferred fields, a new instance given its primary key, a database without INSERT ... RETURNING.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from functools import cache
from typing import TypeVar

from django.conf import settings
from django.db import DatabaseError, connections, models, router, transaction
from django.db.models.signals import post_save, pre_save
from django.utils import timezone

from casebridge.kernel.rows import RETURNING_VENDORS, Column, insert_objects, insert_rows_later, write_plan

M = TypeVar("M", bound=models.Model)


@cache
def _update_plan(model: type[models.Model], vendor: str, fields: frozenset[str] | None) -> tuple[str, list[Column]]:
    """``UPDATE table SET ... WHERE pk = %s`` for all of ``model``'s columns or only ``fields`` (names
    or attnames, as ``update_fields`` takes them), and those columns' write plan."""
    table, quoted, columns = write_plan(model, vendor)
    chosen = [
        (quoted_name, column)
        for quoted_name, column in zip(quoted, columns, strict=True)
        if fields is None or column[0] in fields or column[1].name in fields
    ]
    if fields is not None:
        known = {column[0] for _, column in chosen} | {column[1].name for _, column in chosen}
        unknown = {name for name in fields if name not in known}
        if unknown:
            raise ValueError(f"{model._meta.label} has no field {sorted(unknown)[0]!r} to update")
    ops = connections[router.db_for_write(model)].ops
    pk = ops.quote_name(str(model._meta.pk.column))  # type: ignore[union-attr]
    assignments = ", ".join(f"{quoted_name} = %s" for quoted_name, _ in chosen)
    sql = f"UPDATE {table} SET {assignments} WHERE {pk} = %s"  # noqa: S608 - names from the model, values are parameters
    return sql, [column for _, column in chosen]


@cache
def _history_model(model: type[models.Model]) -> type[models.Model] | None:
    """The historical model simple-history keeps for ``model``, or None when it keeps none."""
    manager_attribute = getattr(model._meta, "simple_history_manager_attribute", None)
    if manager_attribute is None:
        return None
    history_model: type[models.Model] = getattr(model, manager_attribute).model
    return history_model


@cache
def _history_related(model: type[models.Model]) -> bool:
    """Whether simple-history links ``model``'s rows through ``history_relation``, which
    ``history_objects`` does not write: such a model is saved by ``Model.save``."""
    history_model = _history_model(model)
    return history_model is not None and hasattr(history_model, "history_relation")


@cache
def _saves_itself(model: type[models.Model]) -> bool:
    return model.save is not models.Model.save


def history_objects(objs: Sequence[models.Model], *, update: bool, default_change_reason: str | None = "") -> None:
    """The historical rows of ``objs`` (one model) in one INSERT, as simple-history's
    ``bulk_history_create`` writes them: ``_history_date`` or now, ``_history_user`` or the request's
    user, ``_change_reason`` or ``default_change_reason``, ``~`` for a change and ``+`` for a
    creation. (Its ``post_save`` receiver stores no reason as NULL: ``save_object`` passes None.)"""
    if not objs or not getattr(settings, "SIMPLE_HISTORY_ENABLED", True):
        return
    history_model = _history_model(type(objs[0]))
    if history_model is None or _history_related(type(objs[0])):
        raise TypeError(f"{type(objs[0])._meta.label}: no history rows of this kind (use bulk_history_create)")
    tracked = [field.attname for field in history_model.tracked_fields]  # type: ignore[attr-defined]
    default_user = history_model.get_default_history_user  # type: ignore[attr-defined]
    now = timezone.now()  # as simple-history dates its rows
    rows = []
    for obj in objs:
        user = obj._history_user if hasattr(obj, "_history_user") else default_user(obj)
        rows.append(
            {
                "history_date": getattr(obj, "_history_date", now),
                "history_user_id": None if user is None else user.pk,
                "history_change_reason": getattr(obj, "_change_reason", None) or default_change_reason,
                "history_type": "~" if update else "+",
                **{attname: getattr(obj, attname) for attname in tracked},
            }
        )
    insert_rows_later(history_model, rows)  # now, or at the end of an ``inserts_at_end`` block


def save_object(obj: M, *, update_fields: Iterable[str] | None = None, history: bool = True) -> M:
    """Save ``obj`` as ``obj.save(update_fields=...)`` would (see the module's description).

    ``history=False``: write no historical row (the caller writes its own with ``history_objects``,
    e.g. one per step of a multi-step change), as ``save_without_historical_record`` does."""
    model = type(obj)
    alias = router.db_for_write(model, instance=obj)
    vendor = connections[alias].vendor
    adding = obj._state.adding
    fields = None if update_fields is None else frozenset(update_fields)
    if (
        vendor not in RETURNING_VENDORS
        or _saves_itself(model)
        or _history_related(model)
        or (adding and obj.pk is not None)
        or (not adding and fields is None and _deferred_columns(obj))
    ):
        return _model_save(obj, fields, history)
    if adding and fields is not None:
        raise ValueError("update_fields cannot be given for a new instance")
    if fields is not None and not fields:
        return obj  # as save: nothing to write, no signals
    obj._prepare_related_fields_for_save(operation_name="save")  # type: ignore[attr-defined]  # as save checks
    pre_save.send(sender=model, instance=obj, raw=False, using=alias, update_fields=fields)
    # As save: an error inside an atomic block marks it for rollback, so nothing carries on by mistake.
    with transaction.mark_for_rollback_on_error(using=alias):
        if adding:
            for _, field, _, _ in write_plan(model, vendor)[2]:
                field.pre_save(obj, True)  # sets auto_now values on obj, as save does
            insert_objects([obj])
        else:
            sql, columns = _update_plan(model, vendor, fields)
            params = [
                value if convert is None else convert(value)
                for _, field, convert, _ in columns
                for value in (field.pre_save(obj, False),)
            ]
            params.append(obj.pk)
            with connections[alias].cursor() as cursor:
                cursor.execute(sql, params)
                if cursor.rowcount != 1:
                    # Model.save would insert the row again; every caller here holds the row it read.
                    raise DatabaseError(f"{model._meta.label} {obj.pk} was not updated: the row is gone")
    obj._state.db = alias
    tracked = _history_model(model) is not None
    skipping = hasattr(obj, "skip_history_when_saving")
    if tracked and history and not skipping:
        history_objects([obj], update=not adding, default_change_reason=None)
    if tracked and not skipping:
        obj.skip_history_when_saving = True  # type: ignore[attr-defined]  # written above, or not wanted
    try:
        post_save.send(sender=model, instance=obj, created=adding, update_fields=fields, raw=False, using=alias)
    finally:
        if tracked and not skipping:
            del obj.skip_history_when_saving  # type: ignore[attr-defined]
    return obj


def _deferred_columns(obj: models.Model) -> bool:
    """Whether a column ``save`` would write was not loaded (a generated column is never written)."""
    loaded = obj.__dict__
    return any(
        field.attname not in loaded and not field.generated  # type: ignore[attr-defined]
        for field in obj._meta.concrete_fields
    )


def _model_save(obj: M, fields: frozenset[str] | None, history: bool) -> M:
    if history or _history_model(type(obj)) is None:
        obj.save(update_fields=fields)
    else:
        obj.save_without_historical_record(update_fields=fields)  # type: ignore[attr-defined]
    return obj
