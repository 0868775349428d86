"""Querysets compiled to SQL once per process and reused with new values.

Django compiles a queryset's SQL from scratch every time it runs: for a lookup with a join and a
subquery that is over a millisecond of CPU, several times what the database needs to answer it. A
``PreparedQuery`` builds its queryset once with stand-in values, keeps the SQL Django generated for
the database in use (vendor differences, e.g. ``FOR UPDATE`` only where supported, stay Django's), and
afterwards swaps the real values into the parameter list and runs it with ``Manager.raw``.

Only for querysets whose SQL does not depend on the values: plain comparisons with ``str`` or ``int``
values, declared up front. A call with any other value (``None``, which Django turns into
``IS NULL``; a bool; a str subclass) runs the queryset through the ORM as usual, and so does a
queryset whose compiled parameters do not hold each stand-in, so the result is always the rows the
queryset itself returns.
"""

from __future__ import annotations

import itertools
from collections.abc import Callable
from typing import Any, Generic, TypeVar

from django.db import connections, models, router

M = TypeVar("M", bound=models.Model)

_serial = itertools.count(1)
_Compiled = tuple[str, list[Any], dict[str, list[int]]]


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
        sql, template, slots = compiled
        params = list(template)
        for name, positions in slots.items():
            for i in positions:
                params[i] = values[name]
        return list(self.model._default_manager.db_manager(alias).raw(sql, params))

    def _compile(self, alias: str) -> _Compiled | None:
        stand_ins = {name: _stand_in(kind) for name, kind in self.params.items()}
        qs = self.build(**stand_ins)
        if qs.model is not self.model or qs.query.select_related:
            return None
        sql, raw_params = qs.query.get_compiler(using=alias).as_sql()
        params = list(raw_params)
        slots = {
            name: [i for i, p in enumerate(params) if type(p) is type(s) and p == s] for name, s in stand_ins.items()
        }
        if any(not positions for positions in slots.values()) or any(str(s) in sql for s in stand_ins.values()):
            return None
        return sql, params, slots
