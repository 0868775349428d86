"""Identifiers that pass the platform's format checks. Pure functions."""

from __future__ import annotations

import random

# CMS MBI alphabet: letters except S, L, O, I, B, Z.
MBI_LETTERS = "ACDEFGHJKMNPQRTUVWXY"
DIGITS = "0123456789"


def npi_check_digit(first_nine: str) -> int:
    """Luhn check digit of an NPI: computed over the prefix 80840 and the first nine digits (CMS NPI standard)."""
    digits = [int(c) for c in "80840" + first_nine]
    total = 0
    # The check digit will sit at the right, so the rightmost of these digits is doubled.
    for i, d in enumerate(reversed(digits)):
        if i % 2 == 0:
            d *= 2
            d = d - 9 if d > 9 else d
        total += d
    return (10 - total % 10) % 10


def make_npi(rng: random.Random) -> str:
    # NPIs issued so far start with 1 or 2.
    first_nine = str(rng.choice("12")) + "".join(rng.choice(DIGITS) for _ in range(8))
    return first_nine + str(npi_check_digit(first_nine))


def make_mbi(rng: random.Random) -> str:
    """An 11-character MBI in the CMS format: C A AN N A AN N A A N N."""
    alnum = MBI_LETTERS + DIGITS
    pattern = ["123456789", MBI_LETTERS, alnum, DIGITS, MBI_LETTERS, alnum, DIGITS, MBI_LETTERS, MBI_LETTERS]
    pattern += [DIGITS, DIGITS]
    return "".join(rng.choice(chars) for chars in pattern)
