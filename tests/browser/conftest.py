"""Playwright (sync API) driving Debian's Chromium against pytest-django's live server.

Chromium missing is a failure, not a skip: CI installs it (`apt-get install -y chromium`),
and a browser journey that silently does not run proves nothing.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from casebridge.accounts import roles
from tests.support.world import PASSWORD, make_user

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
# Playwright's sync API runs an event loop in this thread; the test's own database calls are
# ordinary synchronous ones, which Django would otherwise refuse here.
os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(
            f"Browser tests need Chromium at {CHROMIUM}. Install it with `apt-get install -y chromium` "
            "(CI's .ci/run does); these tests fail rather than skip so a missing browser is noticed."
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser, live_server):
    context = browser.new_context(base_url=live_server.url, viewport={"width": 1280, "height": 900})
    context.set_default_timeout(10_000)
    pg = context.new_page()
    try:
        yield pg
    finally:
        context.close()


@pytest.fixture
def hospital_cm(hospital):
    """The hospital's case manager, who signs in through the form."""
    return make_user(hospital, "nurse.ana", roles.CASE_MANAGER)


def sign_in(page, username: str, password: str = PASSWORD) -> None:
    page.goto("/login/")
    page.get_by_label("Username").fill(username)
    page.get_by_label("Password").fill(password)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("heading", name="My worklist").wait_for()


@pytest.fixture
def logged_in_page(page, hospital_cm):
    """A page signed in, through the login form, as the hospital's case manager."""
    sign_in(page, hospital_cm.user.username)
    return page
