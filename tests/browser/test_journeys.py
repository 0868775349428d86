"""Main user journeys in a real browser."""

from __future__ import annotations

import re

import pytest
from playwright.sync_api import expect

from casebridge.cases.services import case_open
from casebridge.patients.services import patient_create
from tests.browser.conftest import sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def rivera(hospital_cm):
    import datetime as dt

    return patient_create(
        actor=hospital_cm, family_name="Rivera", given_name="Ana", birth_date=dt.date(1950, 3, 4), mrn="MRN-77"
    )


def test_a_case_manager_finds_a_patient_and_opens_a_case(page, hospital_cm, rivera):
    sign_in(page, hospital_cm.user.username)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Patients").click()
    page.get_by_label("Name").fill("Rivera")
    page.get_by_role("button", name="Search").click()
    page.get_by_role("link", name="Rivera, Ana").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Rivera, Ana")

    page.get_by_role("link", name="Open a case").click()
    page.get_by_label("Type").select_option(label="Hospital stay")
    page.get_by_label("Reason for case management").fill("Discharge planning after hip fracture")
    page.get_by_role("button", name="Open case").click()

    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))
    expect(page.get_by_test_id("case-status")).to_have_text("Referral / screening")
    expect(page.locator("#timeline")).to_contain_text("Case opened in Referral / screening")


def test_a_case_manager_moves_a_case_on_from_its_page(logged_in_page, hospital_cm, rivera):
    page = logged_in_page
    case = case_open(
        actor=hospital_cm, patient_id=rivera.pk, case_type="hospital_stay", assigned_to_id=hospital_cm.user_id
    )
    page.goto(f"/cases/{case.pk}/")
    page.get_by_label("Move to").select_option(label="Assessment")
    page.get_by_role("button", name="Change status").click()
    expect(page.get_by_test_id("case-status")).to_have_text("Assessment")
    expect(page.locator("#timeline")).to_contain_text("Moved to Assessment")


def test_a_wrong_password_shows_an_error_and_does_not_sign_in(page, hospital_cm):
    page.goto("/login/")
    page.get_by_label("Username").fill(hospital_cm.user.username)
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Sign in").click()
    expect(page.get_by_role("alert")).to_contain_text("correct username and password")
    expect(page).to_have_url(re.compile(r"/login/"))


def test_case_manager_journey(page, hospital_cm, rivera):
    """The issue's journey: worklist -> case -> add a goal and a task -> complete it -> see it on the timeline.

    Signs in as the hospital case manager with an assigned case (built through the services,
    as `casebridge demo` builds its hospital case manager's caseload).
    """
    case = case_open(
        actor=hospital_cm,
        patient_id=rivera.pk,
        case_type="hospital_stay",
        reason="Heart failure readmission risk",
        assigned_to_id=hospital_cm.user_id,
    )
    sign_in(page, hospital_cm.user.username)

    page.get_by_role("link", name=f"#{case.pk}").click()
    expect(page).to_have_url(re.compile(rf"/cases/{case.pk}/$"))

    # Labels may carry a required-field marker ("Goal *"); match the word, not "Goals in the patient's words".
    page.get_by_label(re.compile(r"^Goal\b")).fill("Walks to the mailbox without shortness of breath")
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text("Walks to the mailbox without shortness of breath").first).to_be_visible()

    task_title = "Call cardiology to book follow-up within 7 days"
    page.get_by_label(re.compile(r"^Task\b")).fill(task_title)
    page.get_by_role("button", name="Add task").click()
    expect(page.get_by_text(task_title).first).to_be_visible()

    page.get_by_role("button", name="Mark done").first.click()
    expect(page.locator("#timeline")).to_contain_text(task_title)


def test_the_demo_case_manager_journey(page, transactional_db):
    """The same journey on the demo data a new user sees: sign in as cm.hospital with the printed password."""
    from casebridge.demo.builder import build_demo
    from casebridge.demo.directory import DEMO_PASSWORD

    build_demo(patients=12, progress=False)
    sign_in(page, "cm.hospital", DEMO_PASSWORD)

    my_cases = page.locator("#my-cases")
    my_cases.get_by_role("link", name=re.compile(r"^Case #\d+")).first.click()
    expect(page).to_have_url(re.compile(r"/cases/\d+/$"))

    goal = "Back home with home health nursing by Friday"
    page.get_by_label(re.compile(r"^Goal\b")).fill(goal)
    page.get_by_role("button", name="Add goal").click()
    expect(page.get_by_text(goal).first).to_be_visible()

    task_title = "Confirm home infusion delivery with CareFlow"
    # A case that already has tasks keeps the form folded under "Add task".
    task_field = page.get_by_label(re.compile(r"^Task\b"))
    if not task_field.is_visible():
        page.locator("summary").filter(has_text="Add task").click()
    task_field.fill(task_title)
    page.get_by_role("button", name="Add task").click()
    row = page.get_by_role("row").filter(has_text=task_title)
    row.get_by_role("button", name="Mark done").click()
    expect(page.locator("#timeline")).to_contain_text(f"Task completed: {task_title}")
