"""Coverage API: the reference case over HTTP, other organizations get 404, bad input gets a 4xx naming the field."""

from __future__ import annotations

import json

import pytest
import yaml

from casebridge.coverage.models import (
    Agreement,
    BenefitPlan,
    BenefitTerm,
    CareOption,
    CoverageNeed,
    ExceptionAuthorization,
    Negotiation,
    ProposalLine,
)
from tests.coverage_world import BENEFITS, HOME, build_world, open_reference_negotiation


@pytest.fixture
def world(make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def post(client, url, body):
    return client.post(url, data=json.dumps(body), content_type="application/json")


def errors_of(response):
    return {e["field"] for e in response.json().get("errors", [])}


def test_the_reference_case_over_the_api(world, api_as):
    cm = api_as(world.cm)
    case = world.case.pk
    assert (
        post(
            cm,
            f"/api/v1/cases/{case}/coverage/needs",
            {"description": "IV antibiotics 3 weeks", "category": "home_infusion_drug"},
        ).status_code
        == 201
    )
    assert post(cm, f"/api/v1/cases/{case}/coverage/options/propose", {}).status_code == 201
    options = cm.get(f"/api/v1/cases/{case}/coverage/options").json()
    best = options["options"][0]
    assert best["name"] == HOME and best["least_cost"]
    assert best["costs"]["non_covered_cents"] == 500_000
    assert any("more expensive by" in o["verdict"] for o in options["options"][1:])
    snf = next(o for o in options["options"] if o["name"].startswith("SNF"))
    # The case has no hospital stay yet: the SNF rule says which fact is missing and blocks nothing.
    assert snf["eligibility_checks"] == [
        {
            "rule": "SNF 3-day qualifying inpatient stay (Medicare Part A)",
            "eligible": None,
            "blocking": True,
            "reasons": ["no hospital stay on this case to count inpatient days from"],
        }
    ]
    assert snf["eligibility_waiver"] == "" and snf["infeasible_reasons"] == []
    assert (
        cm.post(f"/api/v1/cases/{case}/coverage/options/{best['id']}/choose").json()["chosen_option_id"] == best["id"]
    )

    opened = post(cm, f"/api/v1/cases/{case}/negotiations", {"ability_to_pay_cents": 100_000})
    assert opened.status_code == 201, opened.content
    negotiation = opened.json()
    assert negotiation["total_cents"] == 500_000 and len(negotiation["parties"]) == 4
    sent = post(
        cm,
        f"/api/v1/negotiations/{negotiation['id']}/proposals",
        {"rule": "manual", "locks": world.reference_locks(), "patient_agrees": True},
    )
    assert sent.status_code == 201, sent.content
    for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm):
        client = api_as(actor)
        mine = client.get(f"/api/v1/negotiations/{negotiation['id']}").json()
        assert mine["total_cents"] == 500_000 and [ln["party_key"] for ln in mine["lines"]] == [mine["own_party_key"]]
        version = mine["lines"][0]["version"]
        answered = post(
            client, f"/api/v1/negotiations/{negotiation['id']}/respond", {"action": "accept", "version": version}
        )
        assert answered.status_code == 200, answered.content
    final = cm.get(f"/api/v1/negotiations/{negotiation['id']}").json()
    assert final["status"] == "agreed" and final["agreement_id"]
    agreement = cm.get(f"/api/v1/agreements/{final['agreement_id']}").json()
    assert sum(t["share_cents"] for t in agreement["terms"]) == 500_000
    assert ExceptionAuthorization.objects.get(organization=world.insurer).amount_cents == 250_000
    savings = api_as(world.insurer_cm).get("/api/v1/coverage/savings").json()
    assert savings["total_savings_cents"] == 21 * 200_000 - 250_000


def test_an_insurer_imports_plans_over_the_api_and_a_bad_value_names_its_path(world, api_as):
    client = api_as(world.insurer_admin)
    document = yaml.safe_load(BENEFITS.read_text())
    document["plans"][0]["benefits"]["dme"] = {"in_network": {"coinsurance": 1.5}}
    response = post(client, "/api/v1/benefit-plans/import", {"document": document})
    assert response.status_code == 422
    assert "plans[0].benefits.dme.in_network.coinsurance" in errors_of(response)
    assert not BenefitTerm.objects.filter(category="dme").exists()
    response = post(client, "/api/v1/benefit-plans/import", {"text": BENEFITS.read_text()})
    assert response.status_code == 201
    assert response.json()[0]["code"] == "ACME-GOLD"
    assert post(client, "/api/v1/benefit-plans/import", {"text": "plans: [unclosed"}).status_code == 422


def test_a_benefits_document_nested_too_deeply_gets_422_saying_so_and_imports_nothing(world, api_as):
    """The YAML composer recurses once per level: 900 levels ran it out of stack, a 500."""
    client = api_as(world.insurer_admin)
    plans = BenefitPlan.objects.count()
    for text in ("plans: " + "[" * 900 + "]" * 900, "plans: " + "[" * 100 + "]" * 100):
        response = post(client, "/api/v1/benefit-plans/import", {"text": text})
        assert response.status_code == 422, response.content
        assert response.json()["errors"] == [
            {"field": "document", "message": "nests lists and objects more than 64 levels deep"}
        ]
    assert BenefitPlan.objects.count() == plans


def test_only_an_insurer_imports_benefit_plans(world, api_as, make_actor):
    from casebridge.accounts import roles

    hospital_admin = make_actor(world.hospital, roles.ORG_ADMIN)
    response = post(api_as(hospital_admin), "/api/v1/benefit-plans/import", {"text": BENEFITS.read_text()})
    assert response.status_code == 403
    assert BenefitPlan.objects.count() == 1


def test_an_unrelated_organization_gets_404_and_changes_nothing(world, api_as):
    negotiation = open_reference_negotiation(world)
    stranger = api_as(world.stranger)
    option = CareOption.objects.filter(case=world.case).first()
    calls = [
        ("get", f"/api/v1/negotiations/{negotiation.pk}", None),
        ("post", f"/api/v1/negotiations/{negotiation.pk}/respond", {"action": "accept"}),
        ("post", f"/api/v1/negotiations/{negotiation.pk}/walkaway", {"amount_cents": 1, "reason": "x"}),
        ("post", f"/api/v1/negotiations/{negotiation.pk}/proposals", {"rule": "nash"}),
        ("get", f"/api/v1/cases/{world.case.pk}/coverage/options", None),
        ("post", f"/api/v1/cases/{world.case.pk}/coverage/needs", {"description": "x", "category": "dme"}),
        ("post", f"/api/v1/cases/{world.case.pk}/coverage/options/propose", {}),
        ("post", f"/api/v1/cases/{world.case.pk}/coverage/options/{option.pk}/choose", None),
        (
            "post",
            f"/api/v1/cases/{world.case.pk}/coverage/options/{option.pk}/feasibility",
            {"provider_accepts": False, "eligibility_waiver": "x"},
        ),
        ("post", f"/api/v1/cases/{world.case.pk}/negotiations", {"ability_to_pay_cents": 0}),
    ]
    before = (
        Negotiation.objects.get(pk=negotiation.pk).version,
        CoverageNeed.objects.count(),
        CareOption.objects.count(),
        negotiation.parties.filter(override_cents__isnull=False).count(),
        list(CareOption.objects.values_list("provider_accepts", "eligibility_waiver")),
    )
    for method, url, body in calls:
        response = (
            post(stranger, url, body) if method == "post" and body is not None else getattr(stranger, method)(url)
        )
        assert response.status_code == 404, (url, response.status_code, response.content)
    after = (
        Negotiation.objects.get(pk=negotiation.pk).version,
        CoverageNeed.objects.count(),
        CareOption.objects.count(),
        negotiation.parties.filter(override_cents__isnull=False).count(),
        list(CareOption.objects.values_list("provider_accepts", "eligibility_waiver")),
    )
    assert after == before
    assert not negotiation.proposals.exists()


def test_a_party_cannot_run_the_negotiation_or_read_the_case_options(world, api_as):
    negotiation = open_reference_negotiation(world)
    insurer = api_as(world.insurer_cm)
    assert post(insurer, f"/api/v1/negotiations/{negotiation.pk}/proposals", {"rule": "nash"}).status_code == 404
    assert insurer.get(f"/api/v1/cases/{world.case.pk}/coverage/options").status_code == 404
    assert not negotiation.proposals.exists()


def test_an_agreement_is_404_to_an_unrelated_organization(world, api_as):
    from casebridge.coverage import services as cov

    negotiation = open_reference_negotiation(world)
    cov.proposal_send(
        actor=world.cm, negotiation_id=negotiation.pk, rule="manual", locks=world.reference_locks(), patient_agrees=True
    )
    for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm):
        cov.proposal_respond(actor=actor, negotiation_id=negotiation.pk, action="accept")
    agreement = Agreement.objects.get(negotiation=negotiation)
    assert api_as(world.stranger).get(f"/api/v1/agreements/{agreement.pk}").status_code == 404
    mine = api_as(world.pharmacist).get(f"/api/v1/agreements/{agreement.pk}").json()
    assert [t["party"] for t in mine["terms"]] == ["Riverside Home Infusion"]


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"rule": "fair"}, "rule"),
        ({"rule": "manual", "locks": {}}, "locks"),
        ({"rule": "manual", "locks": {"patient": 900_000}}, "locks"),
        ({"rule": "nash", "disclosed": ["nobody"]}, "disclosed"),
    ],
)
def test_a_bad_proposal_gets_422_naming_the_field_and_sends_nothing(world, api_as, body, field):
    negotiation = open_reference_negotiation(world)
    response = post(api_as(world.cm), f"/api/v1/negotiations/{negotiation.pk}/proposals", body)
    assert response.status_code == 422
    assert field in errors_of(response)
    assert not negotiation.proposals.exists()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"action": "maybe"}, "action"),
        ({"action": "counter"}, "amount"),
        ({"action": "counter", "amount_cents": -5}, "amount_cents"),
        ({"action": "decline"}, "reason"),
    ],
)
def test_a_bad_answer_gets_422_naming_the_field_and_changes_nothing(world, api_as, body, field):
    from casebridge.coverage import services as cov

    negotiation = open_reference_negotiation(world)
    cov.proposal_send(actor=world.cm, negotiation_id=negotiation.pk, rule="nash")
    response = post(api_as(world.insurer_cm), f"/api/v1/negotiations/{negotiation.pk}/respond", body)
    assert response.status_code == 422
    assert field in errors_of(response)
    assert set(ProposalLine.objects.values_list("response", flat=True)) == {"pending"}


def test_a_stale_version_gets_409(world, api_as):
    from casebridge.coverage import services as cov

    negotiation = open_reference_negotiation(world)
    cov.proposal_send(actor=world.cm, negotiation_id=negotiation.pk, rule="nash")
    response = post(
        api_as(world.insurer_cm), f"/api/v1/negotiations/{negotiation.pk}/respond", {"action": "accept", "version": 7}
    )
    assert response.status_code == 409
    assert ProposalLine.objects.get(party__key="insurer").response == "pending"


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"name": "x", "lines": []}, "lines"),
        (
            {"name": "x", "lines": [{"category": "teleport", "units": 1, "unit_price_cents": 1, "provider_name": "X"}]},
            "lines[0].category",
        ),
        (
            {"name": "x", "lines": [{"category": "dme", "units": 0, "unit_price_cents": 1, "provider_name": "X"}]},
            "lines.0.units",
        ),
        ({"name": "x", "lines": [{"category": "dme", "units": 1, "provider_name": "X"}]}, "lines[0].unit_price"),
    ],
)
def test_a_bad_option_gets_422_naming_the_field_and_creates_nothing(world, api_as, body, field):
    response = post(api_as(world.cm), f"/api/v1/cases/{world.case.pk}/coverage/options", body)
    assert response.status_code == 422, response.content
    assert field in errors_of(response)
    assert not CareOption.objects.exists()


def test_a_rate_posted_by_another_organization_is_its_own_and_changes_nothing_of_the_hospitals(
    make_actor, insurer, hospital, api_as
):
    from casebridge.accounts import roles
    from casebridge.coverage.models import ContractedRate

    admin = make_actor(insurer, roles.ORG_ADMIN)
    body = {"category": "home_infusion_drug", "basis": "per_case", "amount_cents": 500_000}
    response = post(api_as(admin), "/api/v1/rates", body)
    assert response.status_code == 201, response.content
    assert response.json()["provider_id"] == insurer.pk
    assert not ContractedRate.objects.filter(provider=hospital).exists()


def test_feasibility_flags_and_waiver_over_the_api(world, api_as):
    from casebridge.coverage import services as cov

    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    snf = CareOption.objects.get(case=world.case, name="SNF 21 days")
    cm = api_as(world.cm)
    url = f"/api/v1/cases/{world.case.pk}/coverage/options/{snf.pk}/feasibility"
    response = post(cm, url, {"excluded_by_patient": True, "eligibility_waiver": "Plan waives the 3-day stay"})
    assert response.status_code == 200, response.content
    assert response.json() | {"id": 0} == {
        "id": 0,
        "clinically_eligible": True,
        "provider_accepts": True,
        "requires_caregiver": False,
        "excluded_by_patient": True,
        "eligibility_waiver": "Plan waives the 3-day stay",
    }
    options = cm.get(f"/api/v1/cases/{world.case.pk}/coverage/options").json()["options"]
    row = next(o for o in options if o["id"] == snf.pk)
    assert row["infeasible_reasons"] == ["the patient declined it"]
    assert row["eligibility_waiver"] == "Plan waives the 3-day stay"
    too_long = post(cm, url, {"provider_accepts": False, "eligibility_waiver": "x" * 301})
    assert too_long.status_code == 422 and "eligibility_waiver" in errors_of(too_long)
    wrong_type = post(cm, url, {"provider_accepts": "maybe"})
    assert wrong_type.status_code == 422 and "provider_accepts" in errors_of(wrong_type)
    snf.refresh_from_db()
    assert snf.provider_accepts and snf.eligibility_waiver == "Plan waives the 3-day stay"
