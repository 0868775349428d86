"""Coverage pages: the reference case through the web forms, and other organizations kept out."""

from __future__ import annotations

from decimal import Decimal

import pytest

from casebridge.coverage.models import (
    Agreement,
    BenefitPlan,
    BenefitTerm,
    ContractedRate,
    DeliveryCost,
    ExceptionAuthorization,
    Negotiation,
)
from tests.coverage_world import BENEFITS, HOME, build_world, option_named


@pytest.fixture
def world(make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def test_the_reference_case_through_the_pages(world, web_as):
    cm = web_as(world.cm)
    case_page = cm.get(f"/cases/{world.case.pk}/").content.decode()
    assert f"/cases/{world.case.pk}/coverage/" in case_page

    assert cm.post(f"/cases/{world.case.pk}/coverage/options/propose").status_code == 302
    page = cm.get(f"/cases/{world.case.pk}/coverage/").content.decode()
    assert HOME in page and "least cost" in page and "$5,000.00" in page
    home = option_named(world.case, HOME)
    cm.post(f"/cases/{world.case.pk}/coverage/options/{home.pk}/choose")
    response = cm.post(
        f"/cases/{world.case.pk}/coverage/negotiate",
        {"ability_to_pay": "1000.00", "item": "infusion pumps"},
    )
    negotiation = Negotiation.objects.get(case=world.case)
    assert response["Location"] == f"/negotiations/{negotiation.pk}/"
    page = cm.get(f"/negotiations/{negotiation.pk}/").content.decode()
    assert "Nash bargaining" not in page or "nash" in page
    assert "21 days x $2,000.00" in page and "Proposals by rule" in page

    locks = {f"lock_{k}": f"{v / 100:.2f}" for k, v in world.reference_locks().items()}
    response = cm.post(
        f"/negotiations/{negotiation.pk}/send",
        {"rule": "manual", "complete_with": "nash", "patient_agrees": "on", "disclose_patient": "on", **locks},
    )
    assert response.status_code == 302
    for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm):
        web = web_as(actor)
        page = web.get(f"/negotiations/{negotiation.pk}/").content.decode()
        assert "Your answer" in page and "$5,000.00" in page
        line = negotiation.proposals.get().lines.get(party__organization=actor.organization)
        web.post(f"/negotiations/{negotiation.pk}/respond", {"action": "accept", "version": line.version})
    agreement = Agreement.objects.get(negotiation=negotiation)
    assert "$2,500.00" in cm.get(f"/agreements/{agreement.pk}/").content.decode()
    insurer_side = web_as(world.insurer_cm).get("/coverage/").content.decode()
    assert "Exception authorizations" in insurer_side and "$2,500.00" in insurer_side
    assert ExceptionAuthorization.objects.filter(organization=world.insurer).count() == 1
    savings = web_as(world.insurer_cm).get("/coverage/savings/").content.decode()
    assert "$39,500.00" in savings  # 21 x $2,000 avoided - $2,500 exception


def test_the_eligibility_waiver_is_saved_from_the_page_and_a_too_long_one_is_refused(world, web_as):
    cm = web_as(world.cm)
    cm.post(f"/cases/{world.case.pk}/coverage/options/propose")
    snf = option_named(world.case, "SNF 21 days")
    page = cm.get(f"/cases/{world.case.pk}/coverage/").content.decode()
    assert "SNF 3-day qualifying inpatient stay (Medicare Part A)" in page and "not checked" in page
    url = f"/cases/{world.case.pk}/coverage/options/{snf.pk}/flags"
    field = f"o{snf.pk}-eligibility_waiver"
    refused = cm.post(url, {f"o{snf.pk}-provider_accepts": "on", field: "x" * 301}, follow=True)
    assert "Waive failed eligibility rules because: Ensure this value has at most 300 characters" in (
        refused.content.decode()
    )
    snf.refresh_from_db()
    assert snf.eligibility_waiver == ""
    cm.post(url, {f"o{snf.pk}-provider_accepts": "on", field: "Plan waives the 3-day stay"})
    snf.refresh_from_db()
    assert snf.eligibility_waiver == "Plan waives the 3-day stay" and snf.provider_accepts


def test_a_party_sees_its_own_line_but_not_undisclosed_ones(world, web_as):
    from tests.coverage_world import open_reference_negotiation

    negotiation = open_reference_negotiation(world)
    from casebridge.coverage import services as cov

    cov.proposal_send(actor=world.cm, negotiation_id=negotiation.pk, rule="manual", locks=world.reference_locks())
    page = web_as(world.pharmacist).get(f"/negotiations/{negotiation.pk}/").content.decode()
    assert "Riverside Home Infusion" in page and "$1,000.00" in page
    assert "Visiting Nurses of the Valley" not in page
    assert "$2,500.00" not in page  # the insurer's share was not disclosed
    assert "Proposals by rule" not in page


def test_an_unrelated_organization_gets_404_on_every_coverage_page(world, web_as):
    from tests.coverage_world import open_reference_negotiation

    negotiation = open_reference_negotiation(world)
    stranger = web_as(world.stranger)
    for url in (f"/negotiations/{negotiation.pk}/", f"/cases/{world.case.pk}/coverage/"):
        assert stranger.get(url).status_code == 404
    response = stranger.post(f"/negotiations/{negotiation.pk}/respond", {"action": "accept", "version": 1})
    assert response.status_code == 302
    assert not negotiation.proposals.exists()
    # The insurer is a party to the negotiation, not to the hospital's case.
    assert web_as(world.insurer_cm).get(f"/cases/{world.case.pk}/coverage/").status_code == 404


def test_a_pasted_benefits_document_nested_too_deeply_is_an_error_on_the_page(world, web_as):
    """900 levels of YAML ran the parser out of stack: a 500 instead of the form with its error."""
    web = web_as(world.insurer_admin)
    plans = BenefitPlan.objects.count()
    response = web.post("/coverage/benefits/", {"text": "plans: " + "[" * 900 + "]" * 900})
    assert response.status_code == 200
    assert "nests lists and objects more than 64 levels deep" in response.content.decode()
    assert BenefitPlan.objects.count() == plans


def test_an_insurer_imports_a_plan_by_paste_and_errors_name_the_path(world, web_as):
    web = web_as(world.insurer_admin)
    bad = BENEFITS.read_text().replace("coinsurance: 0.2", "coinsurance: 2")
    page = web.post("/coverage/benefits/", {"text": bad}).content.decode()
    assert "plans[0].benefits.outpatient_infusion.in_network.coinsurance" in page
    assert "must be between 0 and 1" in page
    assert BenefitTerm.objects.get(
        plan=world.plan, category="outpatient_infusion", network="in_network"
    ).coinsurance == Decimal("0.2")
    response = web.post(
        "/coverage/benefits/", {"text": BENEFITS.read_text().replace("Acme Gold PPO", "Acme Gold 2026")}
    )
    assert response.status_code == 302
    assert BenefitPlan.objects.get(pk=world.plan.pk).name == "Acme Gold 2026"


def test_an_insurer_edits_one_category_of_a_plan(world, web_as):
    web = web_as(world.insurer_admin)
    page = web.get(f"/coverage/benefits/{world.plan.pk}/?category=home_infusion_drug")
    assert page.status_code == 200
    data = {
        "form": "terms",
        "category": "home_infusion_drug",
        "version": world.plan.version,
        "in_covered": "on",
        "in_coinsurance": "0.1",
        "in_copay": "0",
        "out_coinsurance": "0",
        "out_copay": "0",
    }
    assert web.post(f"/coverage/benefits/{world.plan.pk}/", data).status_code == 302
    term = BenefitTerm.objects.get(plan=world.plan, category="home_infusion_drug", network="in_network")
    assert term.covered and term.coinsurance == Decimal("0.1")
    # A hospital user cannot open the insurer's plan pages.
    assert web_as(world.cm).get(f"/coverage/benefits/{world.plan.pk}/").status_code == 403


def test_a_provider_records_rates_and_a_private_cost(world, make_actor, web_as):
    from casebridge.accounts import roles

    admin = make_actor(world.pharmacy, roles.ORG_ADMIN)
    web = web_as(admin)
    web.post(
        "/coverage/prices/",
        {
            "form": "rate",
            "category": "home_infusion_drug",
            "basis": "per_case",
            "amount": "4400",
            "payer_id": world.insurer.pk,
        },
    )
    web.post("/coverage/prices/", {"form": "cost", "category": "home_infusion_drug", "unit_cost": "2900"})
    assert ContractedRate.objects.get(provider=world.pharmacy).unit_price_cents == 440_000
    assert DeliveryCost.objects.get(organization=world.pharmacy).unit_cost_cents == 290_000
    other_admin = make_actor(world.agency, roles.ORG_ADMIN)
    assert "$2,900.00" not in web_as(other_admin).get("/coverage/prices/").content.decode()
