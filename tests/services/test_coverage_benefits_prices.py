"""Benefits, rates, needs and the savings report through the services."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
import yaml

from casebridge.accounts import roles
from casebridge.careplans import services as careplan_services
from casebridge.coverage import services as cov
from casebridge.coverage.models import BenefitPlan, BenefitTerm, CareOptionLine, CoverageNeed, MemberAccumulator
from casebridge.coverage.selectors import options_evaluate, savings_report
from casebridge.kernel import clock
from casebridge.kernel.errors import NotFound, PermissionDenied, StaleVersion, ValidationFailed
from tests.coverage_world import BENEFITS, HOME, build_world, open_reference_negotiation, option_named


@pytest.fixture
def world(make_org, make_actor, cm, hospital, insurer, patient):
    return build_world(make_org, make_actor, cm, hospital, insurer, patient)


def test_an_import_writes_every_category_and_network_and_the_members_accumulators(world):
    terms = BenefitTerm.objects.filter(plan=world.plan)
    assert terms.count() == 6 * 2
    drug = terms.get(category="home_infusion_drug", network="in_network")
    assert not drug.covered
    snf = terms.get(category="snf_day", network="in_network")
    assert snf.prior_auth_required and snf.unit_limit == 100
    member = MemberAccumulator.objects.get(plan=world.plan, member_id="ACME-1001")
    assert (member.deductible_met_cents, member.oop_spent_cents) == (50_000, 75_000)


def test_a_reimport_replaces_the_plan_and_drops_categories_it_omits(world):
    document = yaml.safe_load(BENEFITS.read_text())
    del document["plans"][0]["benefits"]["snf_day"]
    document["plans"][0]["deductible"] = 750
    cov.benefit_plans_import(actor=world.insurer_admin, document=document)
    plan = BenefitPlan.objects.get(pk=world.plan.pk)
    assert plan.deductible_cents == 75_000 and plan.version == 2
    assert not plan.terms.filter(category="snf_day").exists()


def test_an_invalid_document_names_every_bad_path_and_writes_nothing(world):
    document = yaml.safe_load(BENEFITS.read_text())
    document["plans"][0]["oop_max"] = "lots"
    document["plans"][0]["benefits"]["teleportation"] = {"in_network": {}}
    with pytest.raises(ValidationFailed) as excinfo:
        cov.benefit_plans_import(actor=world.insurer_admin, document=document)
    assert set(excinfo.value.field_errors) == {"plans[0].oop_max", "plans[0].benefits.teleportation"}
    assert BenefitPlan.objects.get(pk=world.plan.pk).version == 1


def test_only_insurer_admins_and_medical_directors_of_an_insurer_manage_benefits(world, make_actor):
    with pytest.raises(PermissionDenied):
        cov.benefit_plans_import(actor=world.insurer_cm, document={"plans": []})
    hospital_admin = make_actor(world.hospital, roles.ORG_ADMIN)
    with pytest.raises(PermissionDenied):
        cov.benefit_plans_import(actor=hospital_admin, document={"plans": []})
    director = make_actor(world.insurer, roles.MEDICAL_DIRECTOR)
    assert cov.benefit_plans_import(actor=director, document={"plans": []}) == []


def test_editing_one_category_changes_the_estimate_and_checks_the_version(world):
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    covered = cov.TermsInput(covered=True, deductible_applies=False, coinsurance=Decimal("0.1"))
    cov.benefit_terms_set(
        actor=world.insurer_admin,
        plan_id=world.plan.pk,
        category="home_infusion_drug",
        in_network=covered,
        out_of_network=cov.TermsInput(covered=False),
        version=1,
    )
    home = next(r for r in options_evaluate(world.case).rows if r.option.name == HOME)
    assert home.ledger.non_covered == 60_000  # only the equipment is left uncovered
    assert home.ledger.patient_oop == 44_000  # 10% of the $4,400 drug
    with pytest.raises(StaleVersion):
        cov.benefit_terms_set(
            actor=world.insurer_admin,
            plan_id=world.plan.pk,
            category="dme",
            in_network=covered,
            out_of_network=covered,
            version=1,
        )
    with pytest.raises(ValidationFailed) as excinfo:
        cov.benefit_terms_set(
            actor=world.insurer_admin,
            plan_id=world.plan.pk,
            category="dme",
            in_network=cov.TermsInput(covered=True, coinsurance=Decimal(2)),
            out_of_network=covered,
        )
    assert "in_network.coinsurance" in excinfo.value.field_errors


def test_standard_options_use_the_contracted_rate_when_one_is_on_file(world, make_actor):
    pharmacy_admin = make_actor(world.pharmacy, roles.ORG_ADMIN)
    cov.rate_add(
        actor=pharmacy_admin,
        category="home_infusion_drug",
        basis="percent_of_charges",
        amount_cents=500_000,
        percent=Decimal("0.8"),
        payer_id=world.insurer.pk,
    )
    cov.options_propose_standard(actor=world.cm, case_id=world.case.pk)
    line = CareOptionLine.objects.get(option=option_named(world.case, HOME), category="home_infusion_drug")
    assert line.unit_price_cents == 400_000
    assert "contracted rate" in line.price_source and "80.00% of charges $5,000.00 = $4,000.00" in line.price_source
    with pytest.raises(ValidationFailed) as excinfo:
        cov.rate_add(actor=pharmacy_admin, category="dme", basis="percent_of_charges", amount_cents=1)
    assert "percent" in excinfo.value.field_errors


def test_needs_are_entered_by_hand_with_a_known_service_category(world):
    need = cov.need_add(
        actor=world.cm, case_id=world.case.pk, description="IV antibiotics for 3 weeks", category="home_infusion_drug"
    )
    assert need.source == "entered"
    assert cov.needs_import_from_care_plan(actor=world.cm, case_id=world.case.pk) == []  # no care plan yet
    with pytest.raises(ValidationFailed) as excinfo:
        cov.need_add(actor=world.cm, case_id=world.case.pk, description="x", category="spa_day")
    assert "category" in excinfo.value.field_errors


def test_the_care_plans_service_needs_are_imported_once_with_their_category(world):
    case_id = world.case.pk
    for code, label, domain in (
        ("clinical_infusion", "IV or infusion therapy", "clinical"),
        ("clinical_wound_care", "Wound care", "clinical"),
        ("adl_bathing", "ADL dependence in bathing", "functional"),
        ("financial_strain", "Cannot afford care or medications", "finances"),  # no covered service meets it
        ("other", "Wants to go to church on Sundays", ""),
        ("dme", "Hospital bed at home", ""),  # coded with the service category itself
    ):
        careplan_services.need_add(actor=world.cm, case_id=case_id, code=code, label=label, domain=domain)

    imported = cov.needs_import_from_care_plan(actor=world.cm, case_id=case_id)

    assert [(n.description, n.category, n.source) for n in imported] == [
        ("IV or infusion therapy", "home_infusion_drug", "careplan"),
        ("Wound care", "home_health_visit_nursing", "careplan"),
        ("ADL dependence in bathing", "home_health_visit_aide", "careplan"),
        ("Hospital bed at home", "dme", "careplan"),
    ]
    assert cov.needs_import_from_care_plan(actor=world.cm, case_id=case_id) == []  # already there
    assert CoverageNeed.objects.filter(case=world.case).count() == 4
    with pytest.raises(NotFound):  # another organization's case
        cov.needs_import_from_care_plan(actor=world.stranger, case_id=case_id)


def test_the_care_plan_import_page_reports_what_it_imported(world, web_as):
    careplan_services.need_add(actor=world.cm, case_id=world.case.pk, code="clinical_infusion", label="IV therapy")
    response = web_as(world.cm).post(f"/cases/{world.case.pk}/coverage/needs/import", follow=True)
    assert "Imported 1 need(s) from the care plan." in response.content.decode()


def test_the_savings_report_counts_avoided_days_against_exception_payments_by_month_and_insurer(world):
    with clock.frozen_at(dt.datetime(2026, 3, 10, 12, tzinfo=dt.UTC)):
        negotiation = open_reference_negotiation(world)
        cov.proposal_send(
            actor=world.cm,
            negotiation_id=negotiation.pk,
            rule="manual",
            locks=world.reference_locks(),
            patient_agrees=True,
        )
        for actor in (world.pharmacist, world.nurse_manager, world.insurer_cm):
            cov.proposal_respond(actor=actor, negotiation_id=negotiation.pk, action="accept")
    for actor in (world.insurer_cm, world.cm):
        report = savings_report(actor=actor)
        assert [(r.period, r.insurer) for r in report.rows] == [("2026-03", "Acme Health Plan")]
        row = report.rows[0]
        assert (row.avoided_cost_cents, row.exception_cents, row.savings_cents) == (4_200_000, 250_000, 3_950_000)
        assert report.by_period[0].savings_cents == report.by_insurer[0].savings_cents == 3_950_000
    assert savings_report(actor=world.pharmacist).rows == ()
    assert savings_report(actor=world.cm, start=dt.date(2026, 4, 1)).rows == ()
