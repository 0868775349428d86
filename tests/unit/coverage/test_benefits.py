from decimal import Decimal
from typing import Any

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from casebridge.coverage.benefits import (
    Accumulators,
    BenefitTerms,
    NetworkTerms,
    Plan,
    SchemaError,
    ServiceLine,
    adjudicate,
    adjudicate_lines,
    load_plans,
)

PLAN = Plan(
    id="acme-ppo",
    name="Acme PPO",
    deductible=150_000,
    oop_max=600_000,
    benefits={
        "inpatient_day": BenefitTerms(NetworkTerms(covered=True, coinsurance=Decimal("0.2"))),
        "home_health_visit_nursing": BenefitTerms(
            NetworkTerms(covered=True, deductible_applies=False, copay=2_000, unit_limit=60)
        ),
        "snf_day": BenefitTerms(NetworkTerms(covered=True, coinsurance=Decimal("0.2"), prior_auth_required=True)),
        "home_infusion_drug": BenefitTerms(NetworkTerms(covered=False)),
    },
)


def test_a_non_covered_service_is_all_non_covered_and_says_so() -> None:
    share = adjudicate(PLAN, Accumulators(), ServiceLine("home_infusion_drug", 1, 500_000))
    assert (share.insurer, share.patient_oop, share.non_covered) == (0, 0, 500_000)
    assert share.patient_liability == 500_000
    assert any("not a covered benefit" in note for note in share.assumptions)


def test_the_deductible_is_paid_first_then_coinsurance_on_the_rest() -> None:
    acc = Accumulators(deductible_met=50_000)
    share = adjudicate(PLAN, acc, ServiceLine("inpatient_day", 3, 200_000))
    # $1,000 of deductible left, then 20% of the remaining $5,000.
    assert share.patient_oop == 100_000 + 100_000
    assert share.insurer == 600_000 - 200_000
    assert share.after.deductible_met == 150_000
    assert share.after.oop_spent == 200_000
    assert share.after.units_used["inpatient_day"] == 3


def test_the_out_of_pocket_maximum_caps_what_the_patient_pays() -> None:
    acc = Accumulators(deductible_met=150_000, oop_spent=550_000)
    share = adjudicate(PLAN, acc, ServiceLine("inpatient_day", 21, 200_000))
    assert share.patient_oop == 50_000
    assert share.insurer == 21 * 200_000 - 50_000
    assert any("out-of-pocket maximum" in note for note in share.assumptions)


def test_visits_beyond_the_limit_are_non_covered_and_copays_apply_per_visit() -> None:
    acc = Accumulators(units_used={"home_health_visit_nursing": 58})
    share = adjudicate(PLAN, acc, ServiceLine("home_health_visit_nursing", 5, 15_000))
    assert share.non_covered == 3 * 15_000
    assert share.patient_oop == 2 * 2_000
    assert share.insurer == 2 * 15_000 - 2 * 2_000
    assert share.after.units_used["home_health_visit_nursing"] == 60


def test_a_service_needing_prior_authorization_without_it_is_denied() -> None:
    share = adjudicate(PLAN, Accumulators(), ServiceLine("snf_day", 5, 60_000, prior_auth_obtained=False))
    assert share.non_covered == 300_000
    assert share.insurer == 0


def test_prior_authorization_is_stated_as_an_assumption_when_assumed() -> None:
    share = adjudicate(PLAN, Accumulators(), ServiceLine("snf_day", 5, 60_000))
    assert share.insurer > 0
    assert any("assumed obtained" in note for note in share.assumptions)


def test_out_of_network_care_is_not_covered_unless_the_plan_says_so() -> None:
    share = adjudicate(PLAN, Accumulators(), ServiceLine("inpatient_day", 1, 200_000, network="out_of_network"))
    assert share.non_covered == 200_000


def test_accumulators_carry_from_one_line_to_the_next() -> None:
    lines = [ServiceLine("inpatient_day", 1, 100_000), ServiceLine("inpatient_day", 1, 100_000)]
    shares, after = adjudicate_lines(PLAN, Accumulators(), lines)
    assert shares[0].patient_oop == 100_000  # all deductible
    assert shares[1].patient_oop == 50_000 + 10_000  # last $500 of deductible + 20% of $500
    assert after.oop_spent == 160_000


@given(
    units=st.integers(0, 40),
    price=st.integers(0, 500_000),
    deductible_met=st.integers(0, 200_000),
    oop_spent=st.integers(0, 700_000),
    used=st.integers(0, 80),
    category=st.sampled_from(["inpatient_day", "home_health_visit_nursing", "snf_day", "home_infusion_drug"]),
)
def test_every_line_splits_exactly_into_insurer_patient_and_non_covered(
    units: int, price: int, deductible_met: int, oop_spent: int, used: int, category: str
) -> None:
    acc = Accumulators(deductible_met=deductible_met, oop_spent=oop_spent, units_used={category: used})
    share = adjudicate(PLAN, acc, ServiceLine(category, units, price))
    assert share.insurer + share.patient_oop + share.non_covered == units * price
    assert min(share.insurer, share.patient_oop, share.non_covered) >= 0
    assert share.patient_oop <= max(0, PLAN.oop_max - oop_spent)


def plan_document() -> dict[str, Any]:
    text = """
    plans:
      - id: acme-ppo
        name: Acme PPO
        deductible: 1500
        oop_max: "6,000.00"
        benefits:
          inpatient_day:
            in_network: {coinsurance: 0.2, prior_auth_required: true}
          home_infusion_drug:
            in_network: {covered: false}
          home_health_visit_nursing:
            in_network: {deductible_applies: false, copay: 20, unit_limit: 60}
            out_of_network: {coinsurance: 0.4}
    members:
      - id: m1
        plan: acme-ppo
        accumulators: {deductible_met: 500, units_used: {home_health_visit_nursing: 3}}
    """
    document: dict[str, Any] = yaml.safe_load(text)
    return document


def test_a_plan_file_loads_into_plans_and_members() -> None:
    loaded = load_plans(plan_document())
    plan = loaded.plans["acme-ppo"]
    assert plan.oop_max == 600_000
    assert plan.terms("inpatient_day", "in_network").coinsurance == Decimal("0.2")
    assert plan.terms("inpatient_day", "in_network").prior_auth_required
    assert not plan.terms("home_infusion_drug", "in_network").covered
    assert plan.terms("home_health_visit_nursing", "out_of_network").coinsurance == Decimal("0.4")
    assert loaded.members["m1"].accumulators.deductible_met == 50_000
    assert loaded.members["m1"].accumulators.units_used == {"home_health_visit_nursing": 3}


def errors_for(document: dict[str, Any]) -> list[str]:
    with pytest.raises(SchemaError) as excinfo:
        load_plans(document)
    errors: list[str] = excinfo.value.errors
    return errors


def test_a_bad_coinsurance_is_reported_with_the_path_of_the_value() -> None:
    document = plan_document()
    document["plans"][0]["benefits"]["home_infusion_drug"]["in_network"]["coinsurance"] = 1.5
    assert errors_for(document) == [
        "plans[0].benefits.home_infusion_drug.in_network.coinsurance: must be between 0 and 1"
    ]


def test_every_problem_in_a_file_is_reported_at_once() -> None:
    document = plan_document()
    plan = document["plans"][0]
    del plan["oop_max"]
    plan["deductible"] = "12.345"
    plan["benefits"]["home_infusoin_drug"] = {"in_network": {}}
    plan["benefits"]["inpatient_day"]["in_network"]["unit_limit"] = -1
    document["members"][0]["plan"] = "nope"
    assert sorted(errors_for(document)) == sorted(
        [
            "plans[0].benefits.home_infusoin_drug: unknown service category",
            "plans[0].benefits.inpatient_day.in_network.unit_limit: must be a whole number, 0 or more",
            "plans[0].deductible: must be an amount in dollars with at most two decimal places",
            "plans[0].oop_max: is required",
            "members[0].plan: unknown plan 'nope'",
        ]
    )


def test_unknown_fields_are_refused_so_typos_are_not_silently_ignored() -> None:
    document = plan_document()
    document["plans"][0]["benefits"]["inpatient_day"]["in_network"]["coinsurence"] = 0.3
    assert errors_for(document) == [
        "plans[0].benefits.inpatient_day.in_network.coinsurence: unknown field (allowed: coinsurance, copay,"
        " covered, deductible_applies, prior_auth_required, unit_limit)"
    ]


def test_a_document_that_is_not_a_mapping_is_refused() -> None:
    with pytest.raises(SchemaError, match=r"\(document\): must be a mapping"):
        load_plans(["plans"])
