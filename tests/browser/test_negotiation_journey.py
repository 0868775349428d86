"""Browser journey: the reference coverage negotiation (SCENARIOS.md) across four organizations.

The hospital case manager builds options for the reference patient, picks home
infusion and opens the negotiation; the pharmacy, home health and insurer users
each sign in and accept; the agreement shows, and the insurer's exception
authorization appears on the insurer's side.
"""

from __future__ import annotations

import re

import pytest

from casebridge.coverage.models import Agreement, ExceptionAuthorization
from tests.conftest import PASSWORD
from tests.coverage_world import HOME, World, build_world

pytestmark = pytest.mark.browser


@pytest.fixture
def world(transactional_db, make_org, make_actor, cm, hospital, insurer, patient) -> World:
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def sign_in(browser, live_server, username: str):  # type: ignore[no-untyped-def]
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(15_000)
    page.goto(f"{live_server.url}/login/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button:has-text('Sign in')")
    page.wait_for_url(re.compile(r".*/$"))
    return context, page


def test_reference_negotiation_journey(browser, live_server, world: World) -> None:
    from playwright.sync_api import expect

    # 1. The hospital case manager builds the options and picks home infusion.
    context, page = sign_in(browser, live_server, world.cm.user.username)
    page.goto(f"{live_server.url}/cases/{world.case.pk}/")
    page.click("[data-testid=coverage-link]")
    page.click("button:has-text('Propose the standard options')")
    table = page.locator("[data-testid=options-table]")
    expect(table).to_contain_text(HOME)
    home_row = page.locator(f"tr[data-option='{HOME}']")
    expect(home_row).to_contain_text("least cost")
    expect(home_row).to_contain_text("$5,000.00")
    home_row.locator("button:has-text('Choose')").click()
    expect(page.locator("[data-testid=chosen-badge]")).to_be_visible()
    expect(page.locator("[data-testid=gap]")).to_have_text("$5,000.00")

    # 2. She opens the negotiation and sends the split of SCENARIOS.md.
    page.fill("#id_ability_to_pay", "1000")
    page.click("button:has-text('Open negotiation')")
    expect(page.locator("h1")).to_contain_text("Negotiation #")
    expect(page.locator("#walkaways")).to_contain_text("21 days x $2,000.00")
    expect(page.locator("#proposals")).to_contain_text("nash")
    page.select_option("#id_rule", "manual")
    for key, cents in world.reference_locks().items():
        page.fill(f"#id_lock_{key}", f"{cents / 100:.2f}")
    page.check("#id_patient_agrees")
    page.click("[data-testid=send-proposal]")
    expect(page.locator(".messages")).to_contain_text("Proposal 1 sent")
    negotiation_url = page.url
    context.close()

    # 3. The pharmacy, the home health agency and the insurer each sign in and accept.
    for actor, share in (
        (world.pharmacist, "$1,000.00"),
        (world.nurse_manager, "$500.00"),
        (world.insurer_cm, "$2,500.00"),
    ):
        context, page = sign_in(browser, live_server, actor.user.username)
        page.click("nav >> text=Coverage")
        page.locator("#party-negotiations").get_by_role("link", name=world.patient.display_name).click()
        expect(page.locator("[data-testid=total]")).to_have_text("$5,000.00")
        expect(page.locator("[data-testid=own-share]")).to_have_text(share)
        page.check("input[name=action][value=accept]")
        page.click("[data-testid=respond]")
        expect(page.locator(".messages")).to_contain_text("accepted")
        if actor is world.insurer_cm:
            # The last acceptance signs the agreement; the exception appears on the insurer's side.
            expect(page.locator("[data-testid=agreement-banner]")).to_be_visible()
            page.click("nav >> text=Coverage")
            exceptions = page.locator("[data-testid=exception-authorizations]")
            expect(exceptions).to_contain_text(world.patient.display_name)
            expect(exceptions).to_contain_text("$2,500.00")
            expect(exceptions).to_contain_text("expected savings")
        context.close()

    # 4. The case manager sees the signed agreement.
    context, page = sign_in(browser, live_server, world.cm.user.username)
    page.goto(negotiation_url)
    expect(page.locator("[data-testid=negotiation-status]")).to_have_text("Agreed")
    page.click("[data-testid=agreement-banner] a")
    expect(page.locator("[data-testid=agreement-status]")).to_have_text("Signed")
    expect(page.locator("[data-testid=agreement-total]")).to_have_text("$5,000.00")
    terms = page.locator("[data-testid=agreement-terms]")
    for amount in ("$1,000.00", "$500.00", "$2,500.00"):
        expect(terms).to_contain_text(amount)
    context.close()

    agreement = Agreement.objects.get()
    assert ExceptionAuthorization.objects.get(agreement=agreement).organization_id == world.insurer.pk
