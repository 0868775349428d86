"""Shared shape of a points-based risk score with explicit missing inputs (used by LACE and HOSPITAL)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Component:
    """One item of a score: the input it read, where that came from, and its points (None when missing)."""

    key: str
    label: str
    value: object
    points: int | None
    max_points: int
    source: str | None

    @property
    def missing(self) -> bool:
        return self.points is None


@dataclass(frozen=True)
class Score:
    """A score's components. ``total`` and ``band`` are None unless every input was present."""

    name: str
    components: tuple[Component, ...]
    band: str | None

    @property
    def missing(self) -> tuple[str, ...]:
        return tuple(c.key for c in self.components if c.points is None)

    @property
    def complete(self) -> bool:
        return not self.missing

    @property
    def known_points(self) -> int:
        return sum(c.points for c in self.components if c.points is not None)

    @property
    def total(self) -> int | None:
        return self.known_points if self.complete else None

    @property
    def possible_range(self) -> tuple[int, int]:
        """Lowest and highest total the missing inputs could still produce."""
        return self.known_points, self.known_points + sum(c.max_points for c in self.components if c.points is None)

    def component(self, key: str) -> Component:
        return next(c for c in self.components if c.key == key)


def band_for(total: int, bands: Sequence[tuple[int, str]]) -> str:
    """``bands`` holds (lowest total, name) pairs in ascending order."""
    name = bands[0][1]
    for lowest, band in bands:
        if total >= lowest:
            name = band
    return name


def points_by_floor(value: int, table: Sequence[tuple[int, int]]) -> int:
    """Points from a (lowest value, points) table in ascending order: the last row whose lowest value is reached."""
    if value < table[0][0]:
        raise ValueError(f"{value} is below the table's first row")
    points = table[0][1]
    for lowest, row_points in table:
        if value >= lowest:
            points = row_points
    return points


def require_non_negative(name: str, value: int | None) -> None:
    if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 0):
        raise ValueError(f"{name} must be a whole number of at least 0, got {value!r}")


def length_of_stay_days(admitted: dt.date, discharged: dt.date) -> int:
    """Length of stay in days as the scores count it: discharge date minus admission date (same day = 0)."""
    if isinstance(admitted, dt.datetime):
        admitted = admitted.date()
    if isinstance(discharged, dt.datetime):
        discharged = discharged.date()
    days = (discharged - admitted).days
    if days < 0:
        raise ValueError("discharge is before admission")
    return days
