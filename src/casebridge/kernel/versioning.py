"""Optimistic concurrency: a save names the version it started from; a stale one is refused."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

from django.db import models

from casebridge.kernel.errors import NotFound, StaleVersion

M = TypeVar("M", bound=models.Model)


def lock_at_version(
    queryset: models.QuerySet[M] | Callable[[], models.QuerySet[M]],
    pk: int,
    expected_version: int | None,
    what: str,
    *,
    held: M | None = None,
    organization_id: int | None = None,
) -> M:
    """Lock the row (inside the caller's transaction) and check nobody saved it since ``expected_version``.

    The row lock makes concurrent savers queue; the second one then sees the
    first one's version and gets a conflict instead of overwriting it.

    ``held``: the row as the caller already read it with ``select_for_update`` in this transaction (a
    feed that matched it under lock); used instead of locking it again when it is that row and belongs
    to ``organization_id``, with the same version check. ``queryset`` may then be given as a function
    returning it, so that it is built only when the row has to be read.
    """
    if (
        held is not None
        and held.pk == pk
        and organization_id is not None
        and getattr(held, "organization_id", None) == organization_id
    ):
        obj: M | None = held
    else:
        rows = queryset() if callable(queryset) else queryset
        obj = rows.select_for_update(of=("self",)).filter(pk=pk).first()
    if obj is None:
        raise NotFound(f"No {what} {pk}.")
    if expected_version is not None and obj.version != expected_version:  # type: ignore[attr-defined]
        raise StaleVersion(what)
    obj.version += 1  # type: ignore[attr-defined]
    return obj
