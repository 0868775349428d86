"""The login form and patient search work from the keyboard alone."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import expect

from casebridge.patients.services import patient_create
from tests.support.world import PASSWORD

pytestmark = pytest.mark.browser


def focused(page) -> str:
    """The focused control's name, or for a link or button its text."""
    return page.evaluate(
        "(() => { const e = document.activeElement; if (!e) return '';"
        " return e.name || (e.textContent || '').trim(); })()"
    )


def tab_to(page, name: str, limit: int = 25) -> None:
    for _ in range(limit):
        if focused(page) == name:
            return
        page.keyboard.press("Tab")
    raise AssertionError(f"Tab never reached {name!r}; last focus was {focused(page)!r}")


def test_signing_in_and_searching_patients_need_only_the_keyboard(page, hospital_cm):
    patient_create(actor=hospital_cm, family_name="Okafor", given_name="Chidi", birth_date=dt.date(1948, 2, 2))
    page.goto("/login/")

    tab_to(page, "username")
    page.keyboard.type(hospital_cm.user.username)
    page.keyboard.press("Tab")
    assert focused(page) == "password"
    page.keyboard.type(PASSWORD)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", name="My worklist")).to_be_visible()

    tab_to(page, "Patients")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"/patients/$"))

    # The search box takes focus on arrival; Escape leaves it and "/" comes back to it.
    assert focused(page) == "name"
    page.keyboard.press("Escape")
    page.keyboard.press("/")
    assert focused(page) == "name"
    page.keyboard.type("Okafor")
    page.keyboard.press("Enter")
    result = page.get_by_role("link", name="Okafor, Chidi")
    expect(result).to_be_visible()

    tab_to(page, "Okafor, Chidi")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text("Okafor, Chidi")


def test_every_login_control_has_a_label(page, db):
    page.goto("/login/")
    for name in ("username", "password"):
        field = page.locator(f"input[name={name}]")
        field_id = field.get_attribute("id")
        assert page.locator(f"label[for={field_id}]").count() == 1
