"""Two people saving the same case at once on PostgreSQL: one wins, the other is told, nothing is lost."""

from __future__ import annotations

import pytest

from casebridge.cases.models import Case
from casebridge.cases.services import case_update
from casebridge.kernel.errors import StaleVersion
from tests.concurrency.helpers import run_together, slow_down_saves

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db(transaction=True)]


def test_two_threads_saving_the_same_case_version_one_wins_and_the_other_gets_a_conflict(cm, make_case):
    case = make_case(reason="Initial")
    history_before = case.history.count()
    restore = slow_down_saves(Case)
    try:
        outcomes = run_together(
            lambda: case_update(actor=cm, case_id=case.pk, version=case.version, reason="Saved by Ana"),
            lambda: case_update(actor=cm, case_id=case.pk, version=case.version, reason="Saved by Ben"),
        )
    finally:
        restore()

    winners = [o for o in outcomes if o.error is None]
    losers = [o for o in outcomes if o.error is not None]
    assert len(winners) == 1, [repr(o.error) for o in outcomes]
    assert len(losers) == 1 and isinstance(losers[0].error, StaleVersion), repr(losers[0].error)

    case.refresh_from_db()
    assert case.reason == winners[0].value.reason
    assert case.version == 2
    assert case.history.count() == history_before + 1


def test_two_threads_saving_in_turn_with_fresh_versions_both_succeed(cm, make_case):
    case = make_case(reason="Initial")
    first = case_update(actor=cm, case_id=case.pk, version=1, reason="first")
    outcomes = run_together(lambda: case_update(actor=cm, case_id=case.pk, version=first.version, reason="second"))
    assert outcomes[0].error is None
    case.refresh_from_db()
    assert (case.reason, case.version) == ("second", 3)
