"""Identifier formats: Medicare Beneficiary Identifiers and National Provider Identifiers."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from casebridge.accounts.services import _check_npi
from casebridge.kernel.errors import ValidationFailed
from casebridge.patients.identifiers import AmbiguousIdentifier, identifier_holder, mbi_is_valid, normalize_mbi


@pytest.mark.parametrize(
    "mbi",
    [
        "1EG4-TE5-MK73",  # the example in CMS's "Understanding the MBI"
        "1EG4TE5MK73",
        "1eg4-te5-mk73",
        " 1EG4 TE5 MK73 ",
        "2C99C99CC99",
        "9Y99Y99YY99",
        "1A00A00AA00",
    ],
)
def test_a_valid_mbi_is_accepted(mbi):
    assert mbi_is_valid(mbi)


@pytest.mark.parametrize(
    ("mbi", "why"),
    [
        ("0EG4TE5MK73", "position 1 is 1-9, never 0"),
        ("11G4TE5MK73", "position 2 is a letter"),
        ("1EG4TE5MK7", "too short"),
        ("1EG4TE5MK733", "too long"),
        ("1SG4TE5MK73", "S is never used"),
        ("1LG4TE5MK73", "L is never used"),
        ("1OG4TE5MK73", "O is never used"),
        ("1IG4TE5MK73", "I is never used"),
        ("1BG4TE5MK73", "B is never used"),
        ("1ZG4TE5MK73", "Z is never used"),
        ("1EGATE5MK73", "position 4 is a digit"),
        ("1EG4TE5M173", "position 9 is a letter"),
        ("1EG4TE5MKA3", "position 10 is a digit"),
        ("1EG4TE5MK7A", "position 11 is a digit"),
        ("", "empty"),
        ("1EG4-TE5-MK7!", "punctuation"),
    ],
)
def test_an_invalid_mbi_is_refused(mbi, why):
    assert not mbi_is_valid(mbi), why


def test_normalizing_an_mbi_drops_dashes_and_spaces_and_uppercases():
    assert normalize_mbi(" 1eg4-te5 mk73") == "1EG4TE5MK73"


@given(st.text(max_size=20))
def test_mbi_validation_never_crashes_and_only_accepts_11_characters(text):
    if mbi_is_valid(text):
        assert len(normalize_mbi(text)) == 11


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1003000126", ""])
def test_a_valid_npi_passes_the_luhn_check(npi):
    _check_npi(npi)


@pytest.mark.parametrize(
    ("npi", "reason"),
    [
        ("1234567890", "check digit"),
        ("1234567894", "check digit"),
        ("123456789", "10 digits"),
        ("12345678931", "10 digits"),
        ("12345a7893", "10 digits"),
        ("-234567893", "10 digits"),
    ],
)
def test_an_invalid_npi_is_refused_naming_the_field(npi, reason):
    with pytest.raises(ValidationFailed) as exc:
        _check_npi(npi)
    assert list(exc.value.field_errors) == ["npi"]
    assert reason in exc.value.field_errors["npi"][0]


@given(st.from_regex(r"\A[0-9]{9}\Z"))
def test_exactly_one_check_digit_completes_any_nine_digit_npi_prefix(prefix):
    valid = []
    for d in "0123456789":
        try:
            _check_npi(prefix + d)
            valid.append(d)
        except ValidationFailed:
            pass
    assert len(valid) == 1


# --- which patient an incoming identifier names ---------------------------------------------------


def test_the_same_system_names_its_holder_and_another_system_is_another_number_space():
    held = [("urn:oid:north", 1), ("urn:oid:south", 2)]
    assert identifier_holder("urn:oid:south", held) == 2
    assert identifier_holder("urn:oid:north", held) == 1
    assert identifier_holder("urn:oid:east", held) is None
    assert identifier_holder("urn:oid:east", []) is None


def test_a_number_stored_without_a_system_matches_any_system():
    assert identifier_holder("urn:oid:north", [("", 7)]) == 7


def test_a_number_sent_without_a_system_names_the_one_holder():
    assert identifier_holder("", [("urn:oid:north", 3)]) == 3
    assert identifier_holder("", [("urn:oid:north", 3), ("urn:oid:south", 3)]) == 3


def test_the_exact_system_wins_over_a_number_without_one():
    assert identifier_holder("", [("urn:oid:north", 3), ("", 4)]) == 4
    assert identifier_holder("urn:oid:north", [("", 4), ("urn:oid:north", 3)]) == 3


def test_a_number_without_a_system_that_several_patients_hold_is_not_guessed():
    with pytest.raises(AmbiguousIdentifier) as raised:
        identifier_holder("", [("urn:oid:north", 5), ("urn:oid:south", 2)])
    assert raised.value.patient_ids == [2, 5]
