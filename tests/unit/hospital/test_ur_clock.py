"""UR review clocks: initial review within 24 hours by default, continued-stay reviews at each payer's interval."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.hospital.rules.ur_clock import (
    ReviewKind,
    ReviewPolicies,
    ReviewPolicy,
    default_policies,
    initial_review_due,
    next_review_due,
)

ADMITTED = dt.datetime(2024, 7, 1, 14, 0)


def test_the_shipped_defaults_are_24_hour_initial_and_daily_continued_stay_reviews() -> None:
    policy = default_policies().for_payer("any-payer")
    assert policy == ReviewPolicy(initial_review_hours=24, continued_stay_interval_hours=24)


def test_the_initial_review_is_due_24_hours_after_admission() -> None:
    assert initial_review_due(ADMITTED, ReviewPolicy()) == dt.datetime(2024, 7, 2, 14, 0)


def test_before_any_review_the_next_one_due_is_the_initial_review() -> None:
    due = next_review_due(admitted_at=ADMITTED, last_review_at=None, policy=ReviewPolicy())
    assert due.kind is ReviewKind.INITIAL
    assert due.due_at == ADMITTED + dt.timedelta(hours=24)
    assert not due.overdue(ADMITTED + dt.timedelta(hours=24))
    assert due.overdue(ADMITTED + dt.timedelta(hours=24, minutes=1))


def test_continued_stay_reviews_follow_the_last_review_at_the_payers_interval() -> None:
    policies = ReviewPolicies.from_dict(
        {
            "default": {"initial_review_hours": 24, "continued_stay_interval_hours": 24},
            "payers": {"acme-ma": {"initial_review_hours": 12, "continued_stay_interval_hours": 72}},
        }
    )
    last = ADMITTED + dt.timedelta(hours=20)
    acme = next_review_due(admitted_at=ADMITTED, last_review_at=last, policy=policies.for_payer("acme-ma"))
    assert acme.kind is ReviewKind.CONTINUED_STAY
    assert acme.due_at == last + dt.timedelta(hours=72)
    other = next_review_due(admitted_at=ADMITTED, last_review_at=last, policy=policies.for_payer("unknown"))
    assert other.due_at == last + dt.timedelta(hours=24)
    assert initial_review_due(ADMITTED, policies.for_payer("acme-ma")) == ADMITTED + dt.timedelta(hours=12)
    assert policies.for_payer(None) == policies.default


@pytest.mark.parametrize("hours", [0, -4, True])
def test_review_intervals_must_be_positive_whole_hours(hours: object) -> None:
    with pytest.raises(ValueError, match="hours"):
        ReviewPolicy(initial_review_hours=hours)  # type: ignore[arg-type]


def test_a_review_before_admission_is_refused() -> None:
    with pytest.raises(ValueError):
        next_review_due(admitted_at=ADMITTED, last_review_at=ADMITTED - dt.timedelta(hours=1), policy=ReviewPolicy())
