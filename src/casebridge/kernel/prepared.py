"""Querysets compiled to SQL once per process and reused with new values.

Django compiles a queryset's SQL from scratch every time it runs: for a lookup with a join and a
subquery that is over a millisecond of CPU, several times what the database needs to answer it. A
``PreparedQuery`` builds its queryset once with stand-in values, keeps the SQL Django generated for
the database in use (vendor differences, e.g. ``FOR UPDATE`` only where supported, stay Django's), and
afterwards swaps the real values into the parameter list, runs the SQL on a cursor and builds the
model instances with ``Model.from_db`` and the converters Django chose for its columns at compile
time (``Manager.raw`` would work out the columns, converters and field order again on every call).

Only for querysets whose SQL does not depend on the values: plain comparisons with ``str`` or ``int``
values, declared up front. A call with any other value (``None``, which Django turns into
``IS NULL``; a bool; a str subclass) runs the queryset through the ORM as usual, and so does a
queryset whose compiled parameters do not hold each stand-in, so the result is always the rows the
queryset itself returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)

_serial = itertools.count(1)


@dataclass(frozen=True)
class _Compiled:
    sql: str
    params: list[Any]
    slots: dict[str, list[int]]  # parameter name -> positions in ``params``
    attnames: list[str]  # the model fields the selected columns fill, in column order
    converters: list[tuple[int, list[Any], Any]]  # (column, converter functions, expression)


def _stand_in(kind: type) -> Any:
    n = next(_serial)
    return f"\x1fprepared-{n}\x1f" if kind is str else -(2**62) - n


class PreparedQuery(Generic[M]):
    """``PreparedQuery(model, build, name=str, other=int)``: ``build(name=..., other=...)`` returns the
    queryset of ``model`` (ordering, slicing and ``select_for_update`` included, no
    ``select_related``); calling the prepared query with those keyword values returns the list of
    rows that queryset returns."""

    def __init__(self, model: type[M], build: Callable[..., models.QuerySet[M]], **params: type) -> None:
        if any(kind not in (str, int) for kind in params.values()):
            raise TypeError("prepared query parameters are str or int")
        self.model = model
        self.build = build
        self.params = params
        self._compiled: dict[tuple[str, str], _Compiled | None] = {}

    def __call__(self, **values: Any) -> list[M]:
        if values.keys() != self.params.keys() or any(type(v) is not self.params[k] for k, v in values.items()):
            return list(self.build(**values))
        alias = router.db_for_read(self.model)
        key = (alias, connections[alias].vendor)
        if key not in self._compiled:
            self._compiled[key] = self._compile(alias)
        compiled = self._compiled[key]
        if compiled is None:  # the SQL depends on the values: stay with the ORM
            return list(self.build(**values))
        params = list(compiled.params)
        for name, positions in compiled.slots.items():
            for i in positions:
                params[i] = values[name]
        connection = connections[alias]
        with connection.cursor() as cursor:
            cursor.execute(compiled.sql, params)
            rows = cursor.fetchall()
        from_db, attnames = self.model.from_db, compiled.attnames
        if not compiled.converters:
            return [from_db(alias, attnames, row) for row in rows]
        out = []
        for fetched in rows:
            row = list(fetched)
            for pos, functions, expression in compiled.converters:
                value = row[pos]
                for convert in functions:
                    value = convert(value, expression, connection)
                row[pos] = value
            out.append(from_db(alias, attnames, row))
        return out

    def _compile(self, alias: str) -> _Compiled | None:
        stand_ins = {name: _stand_in(kind) for name, kind in self.params.items()}
        qs = self.build(**stand_ins)
        if qs.model is not self.model or qs.query.select_related:
            return None
        compiler = qs.query.get_compiler(using=alias)
        sql, raw_params = compiler.as_sql()
        params = list(raw_params)
        slots = {
            name: [i for i, p in enumerate(params) if type(p) is type(s) and p == s] for name, s in stand_ins.items()
        }
        if any(not positions for positions in slots.values()) or any(str(s) in sql for s in stand_ins.values()):
            return None
        # Only the model's own columns, as a plain queryset selects them: anything else (annotations,
        # extra selects) stays with the ORM.
        klass_info = compiler.klass_info
        columns = [expression for expression, _, _ in compiler.select]
        if (
            not klass_info
            or klass_info["model"] is not self.model
            or list(klass_info["select_fields"]) != list(range(len(columns)))
        ):
            return None
        attnames = [getattr(getattr(expression, "target", None), "attname", None) for expression in columns]
        if any(name is None for name in attnames):
            return None
        converters = [
            (pos, functions, expression) for pos, (functions, expression) in compiler.get_converters(columns).items()
        ]
        return _Compiled(sql, params, slots, attnames, converters)  # type: ignore[arg-type]
