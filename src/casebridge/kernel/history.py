"""django-simple-history, made cheaper per save.

Its ``HistoryDescriptor.__get__`` (``instance.history``, which every historical save goes through)
builds a new manager class with ``Manager.from_queryset`` on each access: about a millisecond of
``inspect.getmembers`` per saved patient or case. The class depends only on the descriptor's manager
and queryset classes, so ``install`` makes the descriptor reuse one class per pair. What the manager
does is unchanged.
"""

from __future__ import annotations

from typing import Any

from simple_history.manager import HistoryDescriptor

_manager_classes: dict[tuple[type, type], type] = {}


def _history_get(self: Any, instance: Any, owner: Any) -> Any:
    key = (self.manager_class, self.queryset_class)
    manager_class = _manager_classes.get(key)
    if manager_class is None:
        manager_class = _manager_classes[key] = self.manager_class.from_queryset(self.queryset_class)
    return manager_class(self.model, instance)


def install() -> None:
    """Idempotent; called from the audit app's ``ready``."""
    HistoryDescriptor.__get__ = _history_get  # type: ignore[method-assign]
