"""The FHIR search parameter parser (pure: no database)."""

from __future__ import annotations

import datetime as dt

import pytest

from casebridge.interop.fhir_api.search_params import (
    MAX_COUNT,
    DateCriterion,
    ParamSpec,
    ReferenceValue,
    SearchError,
    Token,
    date_range,
    parse_date,
    parse_reference,
    parse_search,
    parse_token,
)

PARAMS = {
    "status": ParamSpec("token"),
    "identifier": ParamSpec("token"),
    "patient": ParamSpec("reference", ("Patient",)),
    "_lastUpdated": ParamSpec("date"),
}
UTC = dt.UTC


def test_token_forms_follow_the_r4_search_spec():
    assert parse_token("active") == [Token(None, "active")]
    assert parse_token("urn:x|42") == [Token("urn:x", "42")]
    assert parse_token("|42") == [Token("", "42")]
    assert parse_token("urn:x|") == [Token("urn:x", None)]
    assert parse_token("active,planned") == [Token(None, "active"), Token(None, "planned")]
    assert parse_token(r"a\,b") == [Token(None, "a,b")]


@pytest.mark.parametrize("raw", ["", "|", "a,,b"])
def test_empty_tokens_are_refused(raw):
    with pytest.raises(SearchError):
        parse_token(raw)


@pytest.mark.parametrize("raw", ["\x00", "a\x00b", "urn:x|\x00", "ok,\x00"])
def test_tokens_holding_a_nul_character_are_refused(raw):
    with pytest.raises(SearchError, match="NUL"):
        parse_token(raw)


def test_references_accept_type_and_id_a_bare_id_or_an_absolute_url():
    assert parse_reference("Patient/casebridge-patient-5", ["Patient"]) == [
        ReferenceValue("Patient", "casebridge-patient-5")
    ]
    assert parse_reference("casebridge-patient-5", ["Patient"]) == [ReferenceValue(None, "casebridge-patient-5")]
    assert parse_reference("https://h/fhir/r4/Patient/p1", ["Patient"]) == [ReferenceValue("Patient", "p1")]


@pytest.mark.parametrize("raw", ["Group/g1", "Patient/bad id!", "patient/1", "Patient/" + "x" * 65])
def test_bad_references_are_refused(raw):
    with pytest.raises(SearchError):
        parse_reference(raw, ["Patient"])


def test_a_partial_date_stands_for_its_whole_range():
    assert date_range("2024") == (dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC))
    assert date_range("2024-02") == (dt.datetime(2024, 2, 1, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC))
    assert date_range("2024-02-29") == (dt.datetime(2024, 2, 29, tzinfo=UTC), dt.datetime(2024, 3, 1, tzinfo=UTC))
    start, end = date_range("2024-02-29T10:30:00+02:00")
    assert start == dt.datetime(2024, 2, 29, 8, 30, tzinfo=UTC) and end - start == dt.timedelta(seconds=1)
    start, end = date_range("2024-02-29T10:30Z")
    assert end - start == dt.timedelta(minutes=1)


def test_a_date_without_zone_is_in_the_servers_zone():
    eastern = dt.timezone(dt.timedelta(hours=-5))
    assert date_range("2024-03-01", eastern)[0] == dt.datetime(2024, 3, 1, 5, tzinfo=UTC)


def test_date_prefixes():
    assert [c.prefix for c in parse_date("ge2024-01-01,lt2023")] == ["ge", "lt"]
    assert parse_date("2024")[0] == DateCriterion(
        "eq", dt.datetime(2024, 1, 1, tzinfo=UTC), dt.datetime(2025, 1, 1, tzinfo=UTC)
    )


@pytest.mark.parametrize("raw", ["2024-13-01", "2024-02-30", "yesterday", "ne2024", "ap2024", "xx2024", "2024-1-1"])
def test_bad_dates_and_unsupported_prefixes_are_refused(raw):
    with pytest.raises(SearchError):
        parse_date(raw)


def test_parse_search_collects_and_ors_and_control_parameters():
    parsed = parse_search(
        [("status", "active,planned"), ("_lastUpdated", "ge2024"), ("_lastUpdated", "lt2025"), ("_count", "2")],
        PARAMS,
    )
    assert parsed.count == 2 and parsed.offset == 0
    assert len(parsed.criteria["status"]) == 1 and len(parsed.criteria["status"][0]) == 2
    assert len(parsed.criteria["_lastUpdated"]) == 2
    assert parsed.echo == [("status", "active,planned"), ("_lastUpdated", "ge2024"), ("_lastUpdated", "lt2025")]


def test_count_is_capped():
    assert parse_search([("_count", "100000")], PARAMS).count == MAX_COUNT


@pytest.mark.parametrize(
    "pairs, names",
    [
        ([("patinet", "Patient/1")], "patinet"),
        ([("status:not", "active")], "status:not"),
        ([("_count", "0")], "_count"),
        ([("_count", "ten")], "_count"),
        ([("_offset", "-1")], "_offset"),
        ([("_format", "xml")], "_format"),
        ([("_lastUpdated", "soon")], "_lastUpdated"),
        ([("patient", "Group/1")], "patient"),
    ],
)
def test_bad_parameters_are_refused_naming_the_parameter(pairs, names):
    with pytest.raises(SearchError, match=names.replace("[", r"\[")):
        parse_search(pairs, PARAMS)


def test_lenient_handling_ignores_unknown_parameters_but_not_bad_values():
    parsed = parse_search([("patinet", "x"), ("status", "active")], PARAMS, lenient=True)
    assert parsed.ignored == ["patinet"] and parsed.echo == [("status", "active")]
    with pytest.raises(SearchError):
        parse_search([("_lastUpdated", "soon")], PARAMS, lenient=True)
