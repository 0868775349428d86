"""kernel.numbers: whole numbers from URLs and form fields."""

from __future__ import annotations

import pytest

from casebridge.kernel.numbers import MAX_ROW_ID, ascii_digits, is_us_zip, whole_number


@pytest.mark.parametrize(("raw", "expected"), [("0", 0), ("42", 42), ("007", 7), (str(MAX_ROW_ID), MAX_ROW_ID)])
def test_ascii_digits_are_read(raw, expected):
    assert whole_number(raw) == expected


# "²" and "٣" pass str.isdigit(); int() refuses the first and would read the second.
@pytest.mark.parametrize(
    "raw", ["", "²", "٣", "1²", "-1", "+1", " 1", "1.0", "1e3", "0x10", "1_000", str(MAX_ROW_ID + 1)]
)
def test_anything_else_is_none(raw):
    assert whole_number(raw) is None


def test_without_a_maximum_any_length_is_read():
    assert whole_number("9" * 30, maximum=None) == int("9" * 30)
    assert whole_number("25", maximum=24) is None
    assert whole_number("0" * 4400 + "7") is None  # past Python's 4300-digit limit: int() raised ValueError


@pytest.mark.parametrize("maximum", [None, MAX_ROW_ID])
def test_more_digits_than_python_reads_are_none_not_an_error(maximum):
    assert whole_number("9" * 5000, maximum=maximum) is None


@pytest.mark.parametrize(("raw", "expected"), [("0", True), ("0123456789", True), ("", False), ("²", False),
                                               ("٣", False), ("1 ", False), ("-1", False), ("12a", False)])  # fmt: skip
def test_ascii_digits_are_0_to_9_alone(raw, expected):
    assert ascii_digits(raw) is expected


@pytest.mark.parametrize(("raw", "expected"), [("02134", True), ("02134-1234", True), ("0213", False),
                                               ("021345", False), ("02134-123", False), ("02134abcde", False),
                                               ("021341234", False), ("٠٢١٣٤", False), (" 02134", False),
                                               ("02134\n", False)])  # fmt: skip
def test_us_zip_codes_are_five_digits_or_zip_plus_four(raw, expected):
    assert is_us_zip(raw) is expected
