import random
from decimal import Decimal

import pytest

from casebridge.coverage.benefits import Accumulators, BenefitTerms, NetworkTerms, Plan, ServiceLine
from casebridge.coverage.optimizer import (
    Candidate,
    CareOption,
    HospitalPayment,
    Need,
    OptionLine,
    Problem,
    brute_force,
    choose_care_option,
    evaluate_care_option,
    optimize,
)

PLAN = Plan(
    id="acme-ppo",
    name="Acme PPO",
    deductible=50_000,
    oop_max=600_000,
    benefits={
        "inpatient_day": BenefitTerms(NetworkTerms(covered=True)),
        "snf_day": BenefitTerms(NetworkTerms(covered=True, deductible_applies=False)),
        "home_health_visit_nursing": BenefitTerms(NetworkTerms(covered=True, deductible_applies=False)),
        "home_infusion_drug": BenefitTerms(NetworkTerms(covered=False)),
        "home_infusion_equipment": BenefitTerms(NetworkTerms(covered=False)),
        "outpatient_infusion": BenefitTerms(NetworkTerms(covered=True, coinsurance=Decimal("0.2"))),
    },
)


def four_options(*, caregiver_required_for_outpatient: bool = True, snf_declined: bool = False) -> list[CareOption]:
    """The four options of issue 5 for the reference patient, 21 days of IV antibiotics."""
    return [
        CareOption("stay inpatient 21 days", [OptionLine("hospital", ServiceLine("inpatient_day", 21, 200_000))]),
        CareOption(
            "SNF 21 days",
            [OptionLine("snf", ServiceLine("snf_day", 21, 65_000), unit_cost=52_000)],
            excluded_by_patient=snf_declined,
        ),
        CareOption(
            "home with home health and home infusion",
            [
                OptionLine("home_health", ServiceLine("home_health_visit_nursing", 9, 15_000), unit_cost=11_000),
                OptionLine("pharmacy", ServiceLine("home_infusion_drug", 1, 400_000), unit_cost=290_000),
                OptionLine("pharmacy", ServiceLine("home_infusion_equipment", 1, 100_000), unit_cost=60_000),
            ],
        ),
        CareOption(
            "daily outpatient infusion",
            [OptionLine("infusion_center", ServiceLine("outpatient_infusion", 21, 45_000))],
            requires_caregiver=caregiver_required_for_outpatient,
        ),
    ]


def test_a_care_option_is_priced_for_every_party() -> None:
    home = evaluate_care_option(PLAN, Accumulators(), four_options()[2])
    assert home.total_cost == 9 * 15_000 + 500_000
    assert home.insurer == 9 * 15_000
    assert home.non_covered == 500_000
    assert home.patient_liability == 500_000
    assert home.provider_margin == {"home_health": 9 * 4_000, "pharmacy": 150_000}
    assert any("not a covered benefit" in note for note in home.assumptions)


def test_a_hospital_paid_per_case_bears_the_cost_of_the_days_itself() -> None:
    stay = evaluate_care_option(
        PLAN, Accumulators(), four_options()[0], HospitalPayment(per_case=True, daily_cost=150_000)
    )
    assert stay.insurer == 0
    assert stay.hospital_cost == 21 * 150_000
    assert stay.total_cost == 21 * 150_000


def test_the_least_cost_feasible_of_four_care_options_is_chosen() -> None:
    choice = choose_care_option(PLAN, Accumulators(), four_options())
    assert choice.chosen == "home with home health and home infusion"
    assert choice.result.proven_optimal
    names = [name for name, _ in choice.ranking]
    assert names == [
        "home with home health and home infusion",
        "daily outpatient infusion",
        "SNF 21 days",
        "stay inpatient 21 days",
    ]
    reasons = dict(choice.ranking)
    assert reasons["SNF 21 days"] == "more expensive by $7,300.00"


def test_an_option_over_the_patients_out_of_pocket_limit_loses_with_the_excess_shown() -> None:
    choice = choose_care_option(PLAN, Accumulators(), four_options(), patient_oop_limit=100_000)
    # Home leaves $5,000 non-covered; outpatient asks $500 deductible + 20% of $8,950.
    assert choice.chosen == "SNF 21 days"
    reasons = dict(choice.ranking)
    assert reasons["home with home health and home infusion"] == (
        "patient would pay $5,000.00, over the $1,000.00 out-of-pocket limit by $4,000.00"
    )
    assert "over the $1,000.00 out-of-pocket limit by $1,290.00" in reasons["daily outpatient infusion"]


def test_infeasible_options_are_ranked_last_with_their_reasons() -> None:
    choice = choose_care_option(
        PLAN,
        Accumulators(),
        four_options(snf_declined=True),
        patient_oop_limit=100_000,
        caregiver_available=False,
    )
    assert choice.chosen == "stay inpatient 21 days"
    reasons = dict(choice.ranking)
    assert reasons["SNF 21 days"] == "infeasible: the patient declined it"
    assert reasons["daily outpatient infusion"] == "infeasible: needs a caregiver and none is available"


def test_a_need_with_no_feasible_candidate_makes_the_problem_infeasible_and_says_why() -> None:
    problem = Problem(
        [Need("wound_care")], [Candidate("c1", "wound_care", "acme", "visit", 100, clinically_eligible=False)]
    )
    result = optimize(problem)
    assert result.status == "infeasible"
    assert "wound_care has no feasible candidate" in result.explanation[0]
    assert "clinical eligibility" in result.explanation[0]


def test_an_out_of_pocket_limit_no_plan_can_meet_is_reported_with_the_least_possible() -> None:
    needs = [Need("a"), Need("b")]
    candidates = [
        Candidate("a1", "a", "p", "s", 100, patient_oop=60),
        Candidate("a2", "a", "q", "s", 200, patient_oop=50),
        Candidate("b1", "b", "p", "s", 100, patient_oop=70),
    ]
    result = optimize(Problem(needs, candidates, patient_oop_limit=100))
    assert result.status == "infeasible"
    assert "least any plan asks of the patient is $1.20" in result.explanation[0]


def test_provider_capacity_forces_the_second_cheapest_provider_for_one_need() -> None:
    needs = [Need("a"), Need("b")]
    candidates = [
        Candidate("a_cheap", "a", "cheap", "s", 100),
        Candidate("b_cheap", "b", "cheap", "s", 100),
        Candidate("a_dear", "a", "dear", "s", 150),
        Candidate("b_dear", "b", "dear", "s", 130),
    ]
    result = optimize(Problem(needs, candidates, provider_capacity={"cheap": 1}))
    assert result.best is not None
    assert result.best.ids == {"a_cheap", "b_dear"}


def test_alternatives_explain_how_much_more_they_cost_and_what_differs() -> None:
    needs = [Need("a")]
    candidates = [Candidate("a1", "a", "acme", "visit", 10_000), Candidate("a2", "a", "beta", "clinic", 12_500)]
    result = optimize(Problem(needs, candidates))
    assert [alt.reason for alt in result.alternatives] == [
        "more expensive by $25.00 (a: beta (clinic) instead of acme (visit))"
    ]


def test_a_cheaper_plan_over_the_oop_limit_is_shown_as_losing_for_that_reason() -> None:
    needs = [Need("a")]
    candidates = [
        Candidate("a1", "a", "acme", "visit", 10_000, patient_oop=5_000),
        Candidate("a2", "a", "beta", "clinic", 12_500, patient_oop=1_000),
    ]
    result = optimize(Problem(needs, candidates, patient_oop_limit=2_000))
    assert result.best is not None and result.best.ids == {"a2"}
    assert not result.alternatives[0].within_limits
    assert "over the $20.00 out-of-pocket limit by $30.00" in result.alternatives[0].reason


def test_per_party_costs_are_summed_over_the_chosen_plan() -> None:
    needs = [Need("a"), Need("b")]
    candidates = [
        Candidate("a1", "a", "p", "s", 300, party_costs={"insurer": 200, "patient": 100}),
        Candidate("b1", "b", "q", "s", 500, party_costs={"insurer": 450, "patient": 50}),
    ]
    result = optimize(Problem(needs, candidates))
    assert result.best is not None
    assert result.best.party_costs == {"insurer": 650, "patient": 150}


def random_problem(rng: random.Random) -> Problem:
    needs = [Need(f"n{i}") for i in range(rng.randint(1, 4))]
    providers = [f"p{i}" for i in range(rng.randint(1, 4))]
    candidates = []
    for need in needs:
        for k in range(rng.randint(1, 4)):
            candidates.append(
                Candidate(
                    f"{need.id}c{k}",
                    need.id,
                    rng.choice(providers),
                    "s",
                    rng.randint(0, 5_000),
                    patient_oop=rng.randint(0, 1_000),
                    clinically_eligible=rng.random() > 0.1,
                    requires_caregiver=rng.random() < 0.2,
                )
            )
    return Problem(
        needs,
        candidates,
        patient_oop_limit=rng.choice([None, rng.randint(0, 2_500)]),
        provider_capacity={p: rng.randint(1, 3) for p in providers if rng.random() < 0.5},
        caregiver_available=rng.random() < 0.5,
    )


@pytest.mark.parametrize("seed", range(200))
def test_the_milp_agrees_with_brute_force_on_small_random_instances(seed: int) -> None:
    problem = random_problem(random.Random(seed))
    plans = brute_force(problem)
    result = optimize(problem, alternatives=2)
    if not plans:
        assert result.status == "infeasible"
        return
    assert result.status == "optimal" and result.proven_optimal
    assert result.best is not None
    assert result.best.total_cost == plans[0].total_cost
    # The ranked alternatives within limits are the next cheapest plans, in order.
    runner_up_costs = [alt.selection.total_cost for alt in result.alternatives if alt.within_limits]
    assert runner_up_costs == [plan.total_cost for plan in plans[1:3]]
