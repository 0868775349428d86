"""Money for the coverage engine: integer cents and exact splitting.

Every amount in the coverage engine is an ``int`` number of cents. Floats never
hold money: a negotiated split must add up to the gap *exactly*, to the cent,
and binary floating point cannot promise that.

Splitting uses the largest-remainder method (Hamilton's method): compute each
party's exact rational share, give everyone the floor of it in whole cents, and
hand the cents left over one at a time to the parties with the largest
fractional remainders. Ties between equal remainders go to the party that comes
first in the given order, so the same inputs always give the same split.
"""

from __future__ import annotations

from collections.abc import Sequence
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation
from fractions import Fraction
from typing import TypeAlias

Cents: TypeAlias = int

CENTS_PER_DOLLAR = 100


class MoneyError(ValueError):
    """An amount that cannot be represented exactly in cents, or an impossible split."""


def to_cents(amount: str | int | Decimal) -> Cents:
    """Convert a dollar amount ("5,000.00", 5000, Decimal("12.5")) to cents.

    Refuses amounts with fractions of a cent rather than rounding them silently,
    because an input file that says $10.005 is a typo, not a price.
    Floats are refused for the same reason: 0.1 + 0.2 is not 0.3.
    """
    if isinstance(amount, bool):
        raise MoneyError(f"not an amount: {amount!r}")
    if isinstance(amount, int):
        return amount * CENTS_PER_DOLLAR
    if isinstance(amount, str):
        text = amount.strip().replace(",", "").removeprefix("$")
        try:
            value = Decimal(text)
        except InvalidOperation as exc:
            raise MoneyError(f"not an amount: {amount!r}") from exc
    elif isinstance(amount, Decimal):
        value = amount
    else:
        raise MoneyError(f"not an amount: {amount!r}")
    if not value.is_finite():
        raise MoneyError(f"not an amount: {amount!r}")
    cents = value * CENTS_PER_DOLLAR
    if cents != cents.to_integral_value():
        raise MoneyError(f"more than two decimal places: {amount!r}")
    return int(cents)


def format_cents(cents: Cents) -> str:
    """Render cents as dollars for people: ``-123456`` -> ``-$1,234.56``."""
    sign = "-" if cents < 0 else ""
    dollars, rest = divmod(abs(cents), CENTS_PER_DOLLAR)
    return f"{sign}${dollars:,}.{rest:02d}"


def round_half_up(value: Fraction | Decimal) -> Cents:
    """Round an exact amount of cents to a whole cent, halves away from zero.

    Used for coinsurance percentages, where plans' explanation-of-benefits
    arithmetic conventionally rounds half a cent up.
    """
    exact = Decimal(value.numerator) / Decimal(value.denominator) if isinstance(value, Fraction) else value
    return int(exact.quantize(Decimal(1), rounding=ROUND_HALF_UP))


def round_shares(ideal: Sequence[Fraction], total: Cents) -> list[Cents]:
    """Round exact shares (in cents) to whole cents that sum exactly to ``total``.

    Largest-remainder rule: floor every share, then give the missing cents one
    each to the shares with the largest fractional part; equal fractional parts
    are broken by position (earlier first). Because each extra cent goes only to
    a share with a non-zero fractional part, no share moves by a full cent, so
    any whole-cent bound the exact share respected (0 <= share <= cap) is still
    respected after rounding.
    """
    if sum(ideal, Fraction(0)) != total:
        raise MoneyError(f"exact shares sum to {sum(ideal, Fraction(0))}, not {total}")
    floors = [int(share // 1) for share in ideal]
    leftover = total - sum(floors)
    order = sorted(range(len(ideal)), key=lambda i: (-(ideal[i] - floors[i]), i))
    for index in order[:leftover]:
        floors[index] += 1
    return floors


def proportional_ideal(
    total: Cents | Fraction,
    weights: Sequence[int | Fraction],
    caps: Sequence[Cents] | None = None,
) -> list[Fraction]:
    """Exact shares of ``total`` in proportion to ``weights``, never above ``caps``.

    When a proportional share would exceed its cap, the party is held at its cap
    and the excess is spread over the others in proportion to their weights,
    repeating until no cap is exceeded (progressive filling). If every party with
    headroom has zero weight, the remainder is spread in proportion to headroom,
    so a feasible split is always found when ``total <= sum(caps)``.
    """
    count = len(weights)
    if total < 0:
        raise MoneyError("cannot split a negative amount")
    if any(w < 0 for w in weights):
        raise MoneyError("weights must not be negative")
    if caps is not None:
        if len(caps) != count:
            raise MoneyError("one cap per weight is required")
        if any(c < 0 for c in caps):
            raise MoneyError("caps must not be negative")
        if total > sum(caps):
            raise MoneyError(f"cannot split {total} cents under caps totalling {sum(caps)}")
    shares = [Fraction(0)] * count
    fixed = [False] * count
    while True:
        remaining = Fraction(total) - sum(shares, Fraction(0))
        open_parties = [i for i in range(count) if not fixed[i]]
        if remaining == 0:
            return shares
        if not open_parties:
            raise MoneyError(f"cannot split {total} cents: no party can take more")
        basis = {i: Fraction(weights[i]) for i in open_parties}
        if sum(basis.values()) == 0:
            # Nobody left has a claim by weight; fall back to room under the cap.
            if caps is None:
                raise MoneyError(f"cannot split {total} cents: all weights are zero")
            basis = {i: Fraction(caps[i]) for i in open_parties}
        basis_sum = sum(basis.values(), Fraction(0))
        proposed = {i: remaining * basis[i] / basis_sum for i in open_parties}
        capped = [i for i in open_parties if caps is not None and proposed[i] >= caps[i]]
        if not capped:
            for i in open_parties:
                shares[i] = proposed[i]
            return shares
        for i in capped:
            # Held at its cap; the others are re-split next round with the excess.
            assert caps is not None
            shares[i] = Fraction(caps[i])
            fixed[i] = True


def split_proportional(
    total: Cents,
    weights: Sequence[int | Fraction],
    caps: Sequence[Cents] | None = None,
) -> list[Cents]:
    """Split ``total`` cents in proportion to ``weights`` under optional caps, exactly.

    Composition of :func:`proportional_ideal` (exact shares) and
    :func:`round_shares` (largest remainder, ties to the earlier party).
    """
    return round_shares(proportional_ideal(total, weights, caps), total)
