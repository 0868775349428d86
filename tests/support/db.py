"""Database snapshots: "nothing changed" and "nothing of theirs changed", checked row by row.

A snapshot covers every model of every CaseBridge package, so models that other
packages add later are covered without touching this file.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.db import models

# Columns that change as a side effect of merely using the API, not as a change of data.
VOLATILE = {"accounts.apitoken": {"last_used_at"}}

Row = dict[str, Any]
Snapshot = dict[str, dict[Any, Row]]


def casebridge_models() -> list[type[models.Model]]:
    return [m for m in apps.get_models() if m.__module__.startswith("casebridge.")]


def snapshot() -> Snapshot:
    """Every row of every CaseBridge table, keyed by model label and primary key."""
    snap: Snapshot = {}
    for model in casebridge_models():
        label = model._meta.label_lower
        skip = VOLATILE.get(label, set())
        cols = [f.attname for f in model._meta.concrete_fields if f.attname not in skip]
        pk = model._meta.pk.attname
        snap[label] = {row[pk]: row for row in model._default_manager.values(*cols)}
    return snap


def counts() -> dict[str, int]:
    return {label: len(rows) for label, rows in snapshot().items()}


@dataclass
class Diff:
    added: dict[str, list[Row]] = field(default_factory=dict)
    changed: dict[str, list[tuple[Row, Row]]] = field(default_factory=dict)
    removed: dict[str, list[Row]] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.added or self.changed or self.removed)

    def summary(self) -> str:
        parts = [f"+{len(v)} {k}" for k, v in self.added.items()]
        parts += [f"~{len(v)} {k}" for k, v in self.changed.items()]
        parts += [f"-{len(v)} {k}" for k, v in self.removed.items()]
        return ", ".join(parts) or "no change"


def diff(before: Snapshot, after: Snapshot) -> Diff:
    d = Diff()
    for label in sorted(set(before) | set(after)):
        old, new = before.get(label, {}), after.get(label, {})
        added = [new[k] for k in new.keys() - old.keys()]
        removed = [old[k] for k in old.keys() - new.keys()]
        changed = [(old[k], new[k]) for k in old.keys() & new.keys() if old[k] != new[k]]
        if added:
            d.added[label] = added
        if removed:
            d.removed[label] = removed
        if changed:
            d.changed[label] = changed
    return d


def _fk_targets(model: type[models.Model]) -> list[tuple[str, str]]:
    return [
        (f.attname, f.related_model._meta.label_lower)
        for f in model._meta.concrete_fields
        if f.is_relation and f.related_model is not None
    ]


def owned_by(snap: Snapshot, seeds: Iterable[tuple[str, Any]]) -> set[tuple[str, Any]]:
    """Rows that belong to the seeds: the seeds, and every row that points (through foreign keys,
    transitively) at a row that belongs to them. Seed an organization and its users to get all its data."""
    owned = set(seeds)
    fks = {m._meta.label_lower: _fk_targets(m) for m in casebridge_models()}
    grew = True
    while grew:
        grew = False
        for label, rows in snap.items():
            for pk, row in rows.items():
                if (label, pk) in owned:
                    continue
                if any((target, row.get(att)) in owned for att, target in fks.get(label, [])):
                    owned.add((label, pk))
                    grew = True
    return owned


def touches(d: Diff, owned: set[tuple[str, Any]]) -> list[str]:
    """Descriptions of changes in ``d`` that touch owned rows or add rows pointing at them."""
    fks = {m._meta.label_lower: _fk_targets(m) for m in casebridge_models()}
    pk_name = {m._meta.label_lower: m._meta.pk.attname for m in casebridge_models()}
    problems = []
    for label, rows in d.removed.items():
        problems += [f"removed {label} {r[pk_name[label]]}" for r in rows if (label, r[pk_name[label]]) in owned]
    for label, pairs in d.changed.items():
        problems += [
            f"changed {label} {o[pk_name[label]]}: {o} -> {n}" for o, n in pairs if (label, o[pk_name[label]]) in owned
        ]
    for label, rows in d.added.items():
        for r in rows:
            hits = [att for att, target in fks.get(label, []) if (target, r.get(att)) in owned]
            if hits:
                problems.append(f"added {label} pointing at their data through {', '.join(hits)}: {r}")
    return problems
