"""Pure post-acute rules: managed-care detection, network status, ordering by priorities, the case's path."""

from __future__ import annotations

import pytest

from casebridge.cases.domain import CaseStatus
from casebridge.kernel.errors import IllegalTransition
from casebridge.postacute.choice import (
    Candidate,
    NetworkRef,
    NetworkStatus,
    PlanRef,
    check_priorities,
    is_managed_care,
    network_status,
    order_candidates,
    proximity,
    serves_area,
)
from casebridge.postacute.lifecycle import ReferralStatus, check_referral_move, path_to_transition


@pytest.mark.parametrize(
    ("payer", "plan", "on_platform", "expected"),
    [
        ("Medicare", "", False, False),
        ("Medicare", "Humana Gold Plus HMO", False, True),
        ("Acme Health Plan", "Acme Advantage", True, True),
        ("Medicaid", "", False, False),
        ("Medicaid", "Managed care plan", False, True),
        ("Blue Cross", "PPO Select", False, True),
        ("Blue Cross", "Gold", False, True),
    ],
)
def test_managed_care_guess(payer, plan, on_platform, expected):
    assert is_managed_care(payer_name=payer, plan_name=plan, insurer_on_platform=on_platform) is expected


def test_network_match_by_insurer_or_payer_name_and_plan():
    plan = PlanRef(insurer_id=7, payer_name="Acme", plan_name="Gold HMO")
    assert network_status(plan, [NetworkRef(7, "", "")], managed_care=True) == NetworkStatus.IN
    assert network_status(plan, [NetworkRef(None, "acme", "gold hmo")], managed_care=True) == NetworkStatus.IN
    assert network_status(plan, [NetworkRef(None, "Acme", "Silver")], managed_care=True) == NetworkStatus.NOT_LISTED
    assert network_status(plan, [], managed_care=False) == NetworkStatus.NOT_APPLICABLE
    assert network_status(None, [], managed_care=True) == NetworkStatus.UNKNOWN


def test_area_and_proximity():
    assert serves_area(area_zips=["02134"], zip_codes_served=["02134"], located_in="02139")
    assert serves_area(area_zips=["02134"], zip_codes_served=[], located_in="02134-1234")
    assert not serves_area(area_zips=["02134"], zip_codes_served=["02135"], located_in="02135")
    assert proximity(area_zips=["02134"], located_in="02134", zip_codes_served=[]) == 0
    assert proximity(area_zips=["02134"], located_in="02199", zip_codes_served=["02134"]) == 1
    assert proximity(area_zips=["02134"], located_in="02199", zip_codes_served=[]) == 2
    assert proximity(area_zips=["02134"], located_in="90210", zip_codes_served=[]) == 3


def _c(pid, name, network=NetworkStatus.IN, stars=None, prox=1, accepting=True, medicare=True):
    return Candidate(pid, name, network, stars, prox, accepting, medicare)


def test_ordering_follows_priorities_in_the_patients_order_and_drops_nobody():
    a = _c(1, "A", NetworkStatus.NOT_LISTED, 5)
    b = _c(2, "B", NetworkStatus.IN, 2, accepting=False)
    c = _c(3, "C", NetworkStatus.IN, 4, prox=0)
    assert [x.name for x in order_candidates([a, b, c], ["in_network", "rating"])] == ["C", "B", "A"]
    assert [x.name for x in order_candidates([a, b, c], ["rating"])] == ["A", "C", "B"]
    assert [x.name for x in order_candidates([a, b, c], ["accepting", "proximity"])] == ["C", "A", "B"]
    assert [x.name for x in order_candidates([a, b, c], [])] == ["A", "B", "C"]


def test_priorities_are_checked():
    with pytest.raises(ValueError, match="unknown"):
        check_priorities(["cheapest"])
    with pytest.raises(ValueError, match="twice"):
        check_priorities(["rating", "rating"])


@pytest.mark.parametrize(
    ("start", "steps"),
    [
        (CaseStatus.REFERRAL, ["assessment", "planning", "implementation", "transition"]),
        (CaseStatus.PLANNING, ["implementation", "transition"]),
        (CaseStatus.IMPLEMENTATION, ["transition"]),
        (CaseStatus.MONITORING, ["transition"]),
        (CaseStatus.TRANSITION, []),
    ],
)
def test_path_to_transition_walks_legal_forward_moves(start, steps):
    assert [s.value for s in path_to_transition(start)] == steps


@pytest.mark.parametrize("start", [CaseStatus.ON_HOLD, CaseStatus.CLOSED, CaseStatus.CANCELLED])
def test_path_to_transition_refuses_a_stopped_case(start):
    with pytest.raises(IllegalTransition):
        path_to_transition(start)


def test_referral_moves():
    check_referral_move(ReferralStatus.REQUESTED, ReferralStatus.ACCEPTED)
    check_referral_move(ReferralStatus.ACCEPTED, ReferralStatus.COMPLETED)
    with pytest.raises(IllegalTransition):
        check_referral_move(ReferralStatus.REQUESTED, ReferralStatus.COMPLETED)
    with pytest.raises(IllegalTransition):
        check_referral_move(ReferralStatus.REJECTED, ReferralStatus.ACCEPTED)
