"""kernel.follow_up: after-commit work that an owner may run after answering instead of inside the commit."""

from __future__ import annotations

import logging

import pytest
from django.db import transaction

from casebridge.kernel.follow_up import after_commit, collected, run_all

pytestmark = pytest.mark.django_db


def test_outside_a_collected_block_work_runs_on_commit(django_capture_on_commit_callbacks):
    ran: list[str] = []
    with django_capture_on_commit_callbacks(execute=False) as callbacks, transaction.atomic():
        after_commit(lambda: ran.append("refresh"))
        assert ran == []  # not before the commit
    assert len(callbacks) == 1
    callbacks[0]()
    assert ran == ["refresh"]


def test_inside_a_collected_block_work_is_handed_to_the_owner_once(django_capture_on_commit_callbacks):
    ran: list[str] = []

    def refresh() -> None:
        ran.append("refresh")

    with django_capture_on_commit_callbacks(execute=True) as callbacks, collected() as later, transaction.atomic():
        after_commit(refresh)
        after_commit(refresh)  # registered by every save: run once
        after_commit(lambda: ran.append("other"))
    assert callbacks == [] and ran == []  # nothing ran with the commit
    assert later[0] is refresh and len(later) == 2
    run_all(later)
    assert ran == ["refresh", "other"]


def test_blocks_nest_and_the_outer_block_collects_again_after_an_inner_one():
    def first() -> None: ...

    def second() -> None: ...

    with collected() as outer:
        with collected() as inner:
            after_commit(first)
        after_commit(second)
    assert inner == [first] and outer == [second]


def test_a_failing_follow_up_is_logged_and_the_rest_still_run(caplog):
    ran: list[str] = []

    def broken() -> None:
        raise RuntimeError("stay vanished")

    with caplog.at_level(logging.ERROR, logger="casebridge.kernel.follow_up"):
        run_all([broken, lambda: ran.append("next")])
    assert ran == ["next"]
    assert "failed" in caplog.text and "stay vanished" in caplog.text
