"""Utilization review clocks: initial and continued-stay review due times per the hospital's UR plan (42 CFR 482.30)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from casebridge.hospital.rules._data import read_json


@dataclass(frozen=True)
class ReviewPolicy:
    initial_review_hours: int = 24
    continued_stay_interval_hours: int = 24

    def __post_init__(self) -> None:
        for name in ("initial_review_hours", "continued_stay_interval_hours"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value <= 0:
                raise ValueError(f"{name} must be a whole number of hours above 0, got {value!r}")

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewPolicy:
        return cls(
            initial_review_hours=data["initial_review_hours"],
            continued_stay_interval_hours=data["continued_stay_interval_hours"],
        )


@dataclass(frozen=True)
class ReviewPolicies:
    """Per-payer review policies with a default for payers the plan does not name."""

    default: ReviewPolicy
    payers: Mapping[str, ReviewPolicy]

    def for_payer(self, payer: str | None) -> ReviewPolicy:
        if payer is None:
            return self.default
        return self.payers.get(payer, self.default)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> ReviewPolicies:
        """Build from plain data shaped like ``data/ur_review_policies.json``."""
        return cls(
            default=ReviewPolicy.from_dict(data["default"]),
            payers={str(k): ReviewPolicy.from_dict(v) for k, v in dict(data.get("payers", {})).items()},
        )


def default_policies() -> ReviewPolicies:
    """The shipped defaults: initial review within 24 hours, continued-stay review every 24 hours."""
    return ReviewPolicies.from_dict(read_json("ur_review_policies.json"))


class ReviewKind(StrEnum):
    INITIAL = "initial"
    CONTINUED_STAY = "continued_stay"


@dataclass(frozen=True)
class ReviewDue:
    kind: ReviewKind
    due_at: dt.datetime

    def overdue(self, now: dt.datetime) -> bool:
        return now > self.due_at


def initial_review_due(admitted_at: dt.datetime, policy: ReviewPolicy) -> dt.datetime:
    return admitted_at + dt.timedelta(hours=policy.initial_review_hours)


def next_review_due(*, admitted_at: dt.datetime, last_review_at: dt.datetime | None, policy: ReviewPolicy) -> ReviewDue:
    """The initial review until one is done; then a continued-stay review one interval after the last review."""
    if last_review_at is None:
        return ReviewDue(kind=ReviewKind.INITIAL, due_at=initial_review_due(admitted_at, policy))
    if last_review_at < admitted_at:
        raise ValueError("a review cannot precede the admission")
    return ReviewDue(
        kind=ReviewKind.CONTINUED_STAY,
        due_at=last_review_at + dt.timedelta(hours=policy.continued_stay_interval_hours),
    )
