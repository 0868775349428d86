"""Browser steps more than one journey takes, written once."""

from __future__ import annotations

import re
from collections.abc import Callable

from playwright.sync_api import Page


def choose_two_agencies_and_refer(
    page: Page, *, case_id: int, first: str, second: str, check_list: Callable[[Page], None] | None = None
) -> None:
    """From the case page: build a home health choice list for IV antibiotics (``check_list`` looks at
    it further), record the patient's ranking (``first`` then ``second``) as presented, and send
    referrals to both agencies at once."""
    page.get_by_role("link", name="Build a choice list").click()
    page.get_by_label("Service type needed").select_option("home_health")
    page.get_by_label("Service needed").select_option("iv_antibiotics")
    page.get_by_role("button", name="Build list").click()
    page.wait_for_url(re.compile(r"/choice-lists/\d+/$"))
    table = page.locator("table.choice-table")
    assert table.get_by_text(first, exact=True).is_visible()
    assert table.get_by_text(second, exact=True).is_visible()
    if check_list is not None:
        check_list(page)
    page.get_by_label(f"Rank for {first}").fill("1")
    page.get_by_label(f"Rank for {second}").fill("2")
    page.get_by_label("Presented to").select_option("patient")
    page.get_by_role("button", name="Record list presented").click()
    assert page.get_by_test_id("presented").is_visible()

    page.get_by_role("link", name="Send referrals").click()
    page.get_by_label(re.compile(first)).check()
    page.get_by_label(re.compile(second)).check()
    page.get_by_role("button", name="Send referrals").click()
    page.wait_for_url(re.compile(rf"/cases/{case_id}/"))
    assert page.locator("table.referrals tbody tr").count() == 2
