from fractions import Fraction

import pytest
from hypothesis import assume, given
from hypothesis import strategies as st

from casebridge.coverage.money import to_cents
from casebridge.coverage.negotiation import (
    RULES,
    CommitmentKind,
    NegotiationError,
    Party,
    PartyKind,
    Proposal,
    allocate_manual,
    allocate_nash,
    allocate_patient_protecting,
    allocate_proportional_to_gain,
    assess,
    home_health_walkaway,
    hospital_walkaway,
    insurer_walkaway,
    nash_level,
    patient_walkaway,
    provider_margin_walkaway,
    stated_walkaway,
)

GAP = to_cents("5000")


def reference_parties(avoided_days: int = 21) -> list[Party]:
    """SCENARIOS.md reference case with the plausible inputs named in issue 5."""
    return [
        Party(
            "insurer",
            "Insurer",
            PartyKind.INSURER,
            insurer_walkaway(
                inpatient_per_diem=to_cents("2000"),
                avoided_days=avoided_days,
                covered_cost_of_option=to_cents("1350"),
            ),
        ),
        Party(
            "pharmacy",
            "Pharmacy",
            PartyKind.PHARMACY,
            provider_margin_walkaway(
                price=to_cents("5000"), costs={"drug": to_cents("2900"), "equipment": to_cents("600")}
            ),
        ),
        Party(
            "home_health",
            "Home health",
            PartyKind.HOME_HEALTH,
            home_health_walkaway(visits=9, revenue_per_visit=to_cents("180"), cost_per_visit=to_cents("110")),
            item="infusion pumps",
        ),
        Party(
            "patient", "Patient", PartyKind.PATIENT, patient_walkaway(ability_to_pay=to_cents("1000"), hardship=False)
        ),
    ]


def test_the_reference_case_walkaways_follow_from_the_figures() -> None:
    walkaways = {p.id: p.walkaway.amount for p in reference_parties()}
    assert walkaways["insurer"] == 21 * to_cents("2000") - to_cents("1350")
    assert walkaways["pharmacy"] == to_cents("1500")
    assert walkaways["home_health"] > to_cents("500")
    assert walkaways["patient"] == to_cents("1000")


def test_the_reference_case_is_feasible() -> None:
    verdict = assess(reference_parties(), GAP)
    assert verdict.feasible
    assert verdict.shortfall == 0


def test_the_case_managers_split_in_the_reference_case_is_valid() -> None:
    locks = {
        "patient": to_cents("1000"),
        "pharmacy": to_cents("1000"),
        "home_health": to_cents("500"),
        "insurer": to_cents("2500"),
    }
    proposal = allocate_manual(reference_parties(), GAP, locks)
    assert proposal.violations() == []
    assert proposal.shares == locks
    assert all(line.gain_after > 0 for line in proposal.lines if line.kind is not PartyKind.PATIENT)


@pytest.mark.parametrize("rule", sorted(RULES))
def test_every_solver_rule_keeps_the_reference_case_within_walkaways(rule: str) -> None:
    parties = reference_parties()
    proposal = RULES[rule](parties, GAP)
    assert proposal.violations() == []
    for line, party in zip(proposal.lines, parties, strict=True):
        assert 0 <= line.share <= party.walkaway.amount


def test_commitments_follow_the_kind_of_party() -> None:
    proposal = allocate_nash(reference_parties(), GAP)
    kinds = {line.party_id: line.commitment for line in proposal.lines}
    assert kinds == {
        "insurer": CommitmentKind.EXCEPTION_PAYMENT,
        "pharmacy": CommitmentKind.PRICE_REDUCTION,
        "home_health": CommitmentKind.PAYS_FOR_ITEM,
        "patient": CommitmentKind.PATIENT_PAYMENT,
    }


def test_a_small_insurer_avoided_cost_makes_the_reference_case_infeasible_with_the_shortfall_shown() -> None:
    parties = reference_parties(avoided_days=1)
    verdict = assess(parties, GAP)
    total = sum(p.walkaway.amount for p in parties)
    assert not verdict.feasible
    assert verdict.shortfall == GAP - total == to_cents("1220")
    assert set(verdict.binding) == {p.id for p in parties}
    assert any("shortfall $1,220.00" in line for line in verdict.explanation)
    for rule in RULES.values():
        with pytest.raises(NegotiationError, match="shortfall"):
            rule(parties, GAP)


def test_feasibility_names_the_least_each_party_must_give() -> None:
    verdict = assess(reference_parties(), GAP)
    others = to_cents("1500") + to_cents("630") + to_cents("1000")
    assert verdict.minimum_share["insurer"] == GAP - others
    assert verdict.minimum_share["patient"] == 0


def test_patient_protecting_charges_the_patient_nothing_when_others_can_cover_the_gap() -> None:
    proposal = allocate_patient_protecting(reference_parties(), GAP)
    assert proposal.shares["patient"] == 0


def test_a_party_may_correct_its_own_walkaway_and_both_figures_are_kept() -> None:
    computed = insurer_walkaway(inpatient_per_diem=200_000, avoided_days=21, covered_cost_of_option=135_000)
    corrected = computed.with_override(300_000, "we would move him to SNF after 10 days")
    assert corrected.amount == 300_000
    assert corrected.computed == computed.amount
    assert corrected.source == "party's own figure"
    assert "using the party's own figure" in corrected.explain()[-1]


def test_an_insurer_that_saves_nothing_has_a_zero_walkaway() -> None:
    walkaway = insurer_walkaway(inpatient_per_diem=100_000, avoided_days=1, covered_cost_of_option=500_000)
    assert walkaway.amount == 0


def test_a_hospital_paid_per_case_avoids_its_daily_cost_but_one_paid_per_diem_does_not() -> None:
    assert hospital_walkaway(paid_per_case=True, daily_cost=150_000, avoided_days=21).amount == 21 * 150_000
    assert hospital_walkaway(paid_per_case=False, daily_cost=150_000, avoided_days=21).amount == 0


def test_manual_locks_are_kept_and_the_rest_is_completed_by_the_solver() -> None:
    parties = reference_parties()
    proposal = allocate_manual(parties, GAP, {"patient": 50_000, "pharmacy": 100_000}, complete_with="nash")
    assert proposal.shares["patient"] == 50_000
    assert proposal.shares["pharmacy"] == 100_000
    assert proposal.violations() == []
    assert {line.party_id for line in proposal.lines if line.locked} == {"patient", "pharmacy"}


def test_a_lock_above_the_walkaway_is_refused_with_the_party_named() -> None:
    with pytest.raises(NegotiationError, match="Home health's locked amount .* exceeds its walk-away"):
        allocate_manual(reference_parties(), GAP, {"home_health": to_cents("700")})


def test_locks_that_leave_more_than_the_others_can_give_are_refused() -> None:
    with pytest.raises(NegotiationError, match="unlocked parties can give only"):
        allocate_manual(reference_parties(), GAP, {"insurer": 0})


def test_locks_on_every_party_must_add_up_to_the_gap() -> None:
    locks = {"insurer": 100, "pharmacy": 100, "home_health": 100, "patient": 100}
    with pytest.raises(NegotiationError, match="not the gap"):
        allocate_manual(reference_parties(), GAP, locks)


def test_the_nash_level_equalises_remaining_gains_exactly() -> None:
    # Walk-aways 10, 6, 1 and gap 9: the two largest pay down to a common 3.5.
    assert nash_level([10, 6, 1], 9) == Fraction(7, 2)


# --- properties ---------------------------------------------------------------

kinds = st.sampled_from(list(PartyKind))


@st.composite
def negotiations(draw: st.DrawFn) -> tuple[list[Party], int]:
    """1-10 parties with walk-aways up to $100,000 and a gap they can cover."""
    count = draw(st.integers(1, 10))
    parties = [
        Party(f"p{i}", f"Party {i}", draw(kinds), stated_walkaway(draw(st.integers(0, 10_000_000))))
        for i in range(count)
    ]
    total = sum(p.walkaway.amount for p in parties)
    gap = draw(st.integers(0, total))
    return parties, gap


def assert_valid(proposal: Proposal, parties: list[Party], gap: int) -> None:
    assert sum(proposal.shares.values()) == gap
    for line, party in zip(proposal.lines, parties, strict=True):
        assert isinstance(line.share, int)
        assert 0 <= line.share <= party.walkaway.amount
        assert line.gain_after == party.walkaway.amount - line.share
    assert proposal.violations() == []


@given(negotiations(), st.sampled_from(sorted(RULES)))
def test_every_rule_splits_any_feasible_gap_exactly_to_the_cent_within_walkaways(
    case: tuple[list[Party], int], rule: str
) -> None:
    parties, gap = case
    assert_valid(RULES[rule](parties, gap), parties, gap)


@given(negotiations())
def test_proportional_shares_are_within_a_cent_of_the_exact_proportion(case: tuple[list[Party], int]) -> None:
    parties, gap = case
    total = sum(p.walkaway.amount for p in parties)
    assume(total > 0)
    proposal = allocate_proportional_to_gain(parties, gap)
    for line in proposal.lines:
        assert abs(line.share - Fraction(gap * line.walkaway, total)) < 1


@given(negotiations())
def test_patient_protecting_charges_patients_only_what_the_others_cannot_give(case: tuple[list[Party], int]) -> None:
    parties, gap = case
    proposal = allocate_patient_protecting(parties, gap)
    others = sum(p.walkaway.amount for p in parties if p.kind is not PartyKind.PATIENT)
    patients_share = sum(line.share for line in proposal.lines if line.kind is PartyKind.PATIENT)
    assert patients_share == max(0, gap - others)


@given(negotiations())
def test_no_one_cent_transfer_can_raise_the_nash_product(case: tuple[list[Party], int]) -> None:
    # Moving a cent from i's share to j's changes the product of remaining gains by
    # a factor (r_i + 1)(r_j - 1) / (r_i r_j), which is > 1 exactly when r_j > r_i + 1.
    parties, gap = case
    proposal = allocate_nash(parties, gap)
    for giver in proposal.lines:
        for taker in proposal.lines:
            if giver is taker or giver.share < 1 or taker.share >= taker.walkaway:
                continue
            assert taker.gain_after <= giver.gain_after + 1


@given(negotiations(), st.data())
def test_manual_locks_are_kept_exactly_and_the_completion_is_valid(
    case: tuple[list[Party], int], data: st.DataObject
) -> None:
    parties, gap = case
    locked = data.draw(st.lists(st.sampled_from(parties), unique_by=lambda p: p.id, max_size=len(parties) - 1))
    locks: dict[str, int] = {}
    for party in locked:
        room = gap - sum(locks.values())
        locks[party.id] = data.draw(st.integers(0, min(room, party.walkaway.amount)))
    free_room = sum(p.walkaway.amount for p in parties if p.id not in locks)
    assume(gap - sum(locks.values()) <= free_room)
    proposal = allocate_manual(parties, gap, locks, complete_with=data.draw(st.sampled_from(sorted(RULES))))
    assert_valid(proposal, parties, gap)
    assert all(proposal.shares[pid] == amount for pid, amount in locks.items())


@given(negotiations(), st.integers(1, 10_000))
def test_a_gap_beyond_the_walkaways_is_infeasible_by_exactly_the_excess(
    case: tuple[list[Party], int], excess: int
) -> None:
    parties, _ = case
    gap = sum(p.walkaway.amount for p in parties) + excess
    verdict = assess(parties, gap)
    assert not verdict.feasible
    assert verdict.shortfall == excess
