from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.coverage.money import (
    MoneyError,
    format_cents,
    proportional_ideal,
    round_half_up,
    round_shares,
    split_proportional,
    to_cents,
)


def test_dollar_strings_with_separators_become_cents() -> None:
    assert to_cents("$5,000.00") == 500_000
    assert to_cents("12.5") == 1250
    assert to_cents(7) == 700
    assert to_cents(Decimal("0.01")) == 1


def test_fractions_of_a_cent_are_refused_not_rounded() -> None:
    with pytest.raises(MoneyError, match="two decimal places"):
        to_cents("10.005")


def test_floats_and_booleans_are_not_amounts() -> None:
    with pytest.raises(MoneyError):
        to_cents(0.1)  # type: ignore[arg-type]  # what the type forbids is refused at run time too
    with pytest.raises(MoneyError):
        to_cents(True)


def test_cents_print_as_dollars_with_thousands_separators() -> None:
    assert format_cents(123_456) == "$1,234.56"
    assert format_cents(-5) == "-$0.05"


def test_half_a_cent_rounds_up() -> None:
    assert round_half_up(Fraction(5, 2)) == 3
    assert round_half_up(Fraction(249, 100)) == 2


def test_a_dollar_split_three_ways_gives_the_extra_cent_to_the_first_party() -> None:
    assert split_proportional(100, [1, 1, 1]) == [34, 33, 33]


def test_leftover_cents_go_to_the_largest_remainders_before_party_order() -> None:
    # Exact shares 1.6, 1.6, 6.8 cents -> floors 1, 1, 6; two cents left; remainders .6, .6, .8.
    assert split_proportional(10, [2, 2, Fraction(17, 2)]) == [2, 1, 7]


def test_a_capped_party_is_held_at_its_cap_and_the_excess_goes_to_the_others() -> None:
    assert split_proportional(1000, [1, 1], caps=[100, 10_000]) == [100, 900]


def test_splitting_more_than_the_caps_allow_is_an_error() -> None:
    with pytest.raises(MoneyError, match="caps"):
        split_proportional(1000, [1, 1], caps=[100, 100])


def test_zero_weight_parties_take_the_remainder_by_headroom_when_needed() -> None:
    assert split_proportional(300, [1, 0, 0], caps=[100, 100, 200]) == [100, 67, 133]


def test_round_shares_refuses_exact_shares_that_do_not_add_up() -> None:
    with pytest.raises(MoneyError):
        round_shares([Fraction(1, 2)], 1)


amounts = st.integers(min_value=0, max_value=10**9)


@given(
    total=amounts,
    weights=st.lists(st.integers(min_value=0, max_value=10**7), min_size=1, max_size=12),
    data=st.data(),
)
def test_any_split_sums_exactly_and_respects_caps(total: int, weights: list[int], data: st.DataObject) -> None:
    caps = data.draw(st.lists(amounts, min_size=len(weights), max_size=len(weights)))
    if total > sum(caps) or (sum(weights) == 0 and sum(caps) == 0 and total > 0):
        with pytest.raises(MoneyError):
            split_proportional(total, weights, caps)
        return
    shares = split_proportional(total, weights, caps)
    assert sum(shares) == total
    assert all(0 <= s <= c for s, c in zip(shares, caps, strict=True))
    ideal = proportional_ideal(total, weights, caps)
    # Rounding moves no share by a whole cent.
    assert all(abs(s - x) < 1 for s, x in zip(shares, ideal, strict=True))


@given(
    total=amounts,
    weights=st.lists(st.integers(min_value=1, max_value=10**6), min_size=1, max_size=8),
)
def test_uncapped_split_is_proportional_to_within_a_cent(total: int, weights: list[int]) -> None:
    shares = split_proportional(total, weights)
    for share, weight in zip(shares, weights, strict=True):
        assert abs(share - Fraction(total * weight, sum(weights))) < 1
