"""The criteria engine on the Synthea bulk export's inpatient encounters, read in place (pure: no database)."""

from __future__ import annotations

import datetime as dt
import json
from collections import defaultdict
from functools import cache
from pathlib import Path

import pytest

from casebridge.hospital.rules.two_midnight import example_inpatient_only_list_codes, midnights_between
from casebridge.utilization import criteria as c

S = c.Status
BULK = Path("/work/shared/data/fhir/synthea-10-bulk")  # read in place, never copied
LUNG_CANCER_STAY = "1757eb91-63f9-5a92-ef9b-1afa1a17cef2"
KIDNEY_TRANSPLANT_STAY = "78cbcee4-5c37-aa56-ac25-1b9244646fb2"
SLEEP_STUDY_STAY = "8dee71b9-9de3-8d2d-3ebc-a816fb44c39c"
VARIABLES = {"inpatientOnlyCodes": sorted(example_inpatient_only_list_codes())}


def _ref_id(ref: str) -> str:
    return ref.rsplit("/", 1)[-1].replace("urn:uuid:", "")


@cache
def bulk() -> tuple[dict[str, dict], dict[str, list[dict]]]:
    """Encounters by id, and each patient's Condition/Procedure/MedicationRequest resources."""
    encounters = {}
    for line in (BULK / "Encounter.000.ndjson").read_text().splitlines():
        r = json.loads(line)
        encounters[r["id"]] = r
    by_patient: dict[str, list[dict]] = defaultdict(list)
    for name in ("Condition", "Procedure", "MedicationRequest"):
        for line in (BULK / f"{name}.000.ndjson").read_text().splitlines():
            r = json.loads(line)
            by_patient[_ref_id(r["subject"]["reference"])].append(r)
    return encounters, by_patient


def prepared_for(encounter_id: str) -> c.PreparedRecord:
    encounters, by_patient = bulk()
    enc = dict(encounters[encounter_id])
    start = dt.datetime.fromisoformat(enc["period"]["start"])
    end = dt.datetime.fromisoformat(enc["period"]["end"])
    enc["extension"] = [{"url": c.MIDNIGHTS_EXTENSION, "valueInteger": midnights_between(start, end, tz=start.tzinfo)}]
    records = [
        c.Record(
            r["resourceType"],
            r["id"],
            r,
            in_encounter=_ref_id(r.get("encounter", {}).get("reference", "")) == enc["id"],
        )
        for r in by_patient[_ref_id(enc["subject"]["reference"])]
    ]
    return c.PreparedRecord(enc, records)


@cache
def starter() -> dict[str, c.CriteriaDefinition]:
    return {s.key: c.parse_text(s.text, s.fmt) for s in c.starter_library()}


def by_id(result: c.SetResult) -> dict[str, c.CriterionResult]:
    return {r.id: r for r in result.criteria}


def test_the_starter_library_is_labelled_as_examples():
    assert set(starter()) == {
        "two_midnight",
        "pneumonia",
        "heart_failure",
        "osteomyelitis_inpatient",
        "osteomyelitis_home_iv",
    }
    for definition in starter().values():
        assert definition.example is True
        assert "EXAMPLE" in definition.evidence and definition.citation


def test_only_two_midnight_applies_to_a_lung_cancer_chemotherapy_admission():
    prepared = prepared_for(LUNG_CANCER_STAY)
    assert [k for k, d in starter().items() if c.applies(d, prepared)] == ["two_midnight"]


def test_a_nine_midnight_chemotherapy_stay_crossed_two_midnights_but_needs_documented_factors():
    prepared = prepared_for(LUNG_CANCER_STAY)
    result = c.evaluate_set(starter()["two_midnight"], prepared, variables=VARIABLES)
    crit = by_id(result)
    assert crit["crossed_two_midnights"].status is S.MET
    assert crit["crossed_two_midnights"].evidence[0].resource_type == "Encounter"
    assert crit["crossed_two_midnights"].evidence[0].value == "9"
    # Chemotherapy, CT and hearing tests are on no inpatient-only list: no procedure qualifies.
    assert crit["inpatient_only_procedure"].status is S.NOT_MET
    assert crit["inpatient_only_procedure"].evidence == ()
    assert crit["inpatient_only_procedure"].explanation == (
        "no Procedure coded %inpatientOnlyCodes, %inpatientOnlySnomed in this stay"
    )
    assert crit["complex_factors"].status is S.UNKNOWN
    assert result.status is S.UNKNOWN
    assert c.recommend([result]).level is None

    answers = {"complex_factors": c.Answer(S.MET, note="stage 1 NSCLC, cisplatin toxicity risk", by="urnurse")}
    result = c.evaluate_set(starter()["two_midnight"], prepared, answers=answers, variables=VARIABLES)
    assert result.status is S.MET
    assert (
        by_id(result)["complex_factors"].explanation
        == "answered met by urnurse: stage 1 NSCLC, cisplatin toxicity risk"
    )
    assert c.recommend([result]).level is c.LevelOfCare.INPATIENT


def test_a_kidney_transplant_admission_meets_two_midnight_through_the_inpatient_only_list():
    result = c.evaluate_set(starter()["two_midnight"], prepared_for(KIDNEY_TRANSPLANT_STAY), variables=VARIABLES)
    ipo = by_id(result)["inpatient_only_procedure"]
    assert ipo.status is S.MET
    assert [(e.resource_type, e.display) for e in ipo.evidence] == [("Procedure", "Transplant of kidney (procedure)")]
    assert ipo.evidence[0].at.startswith("1990-")
    assert result.status is S.MET


def test_a_one_midnight_sleep_study_stay_has_not_crossed_two_midnights():
    result = c.evaluate_set(starter()["two_midnight"], prepared_for(SLEEP_STUDY_STAY), variables=VARIABLES)
    crossed = by_id(result)["crossed_two_midnights"]
    assert crossed.status is S.NOT_MET and crossed.evidence[0].value == "1"


def test_pneumonia_criteria_on_a_stay_without_pneumonia_are_not_met_and_vitals_unknown():
    result = c.evaluate_set(starter()["pneumonia"], prepared_for(LUNG_CANCER_STAY))
    crit = by_id(result)
    assert crit["pneumonia_diagnosis"].status is S.NOT_MET
    assert crit["pneumonia_diagnosis"].explanation.startswith("no Condition coded http://snomed.info/sct|233604007")
    # The bulk export carries no Observation file: vital signs and labs are unknown, not "normal".
    assert crit["hypoxemia"].status is S.UNKNOWN
    assert crit["uremia"].status is S.UNKNOWN
    assert result.status is S.NOT_MET
    rec = c.recommend([result])
    assert rec.level is c.LevelOfCare.OBSERVATION and "fallback" in rec.reason


@cache
def inpatient_encounter_ids() -> list[str]:
    """Every inpatient (IMP) encounter of the bulk export: 49, from lung cancer chemotherapy to a kidney transplant."""
    lines = (BULK / "Encounter.000.ndjson").read_text().splitlines()
    return sorted(r["id"] for r in map(json.loads, lines) if r["class"]["code"] == "IMP")


def test_the_bulk_export_has_49_inpatient_encounters():
    assert len(inpatient_encounter_ids()) == 49
    assert {LUNG_CANCER_STAY, KIDNEY_TRANSPLANT_STAY, SLEEP_STUDY_STAY} <= set(inpatient_encounter_ids())


@pytest.mark.parametrize("encounter_id", inpatient_encounter_ids())
def test_every_inpatient_encounter_is_evaluated_with_evidence_for_each_automatic_criterion(encounter_id):
    prepared = prepared_for(encounter_id)
    period = bulk()[0][encounter_id]["period"]
    start, end = dt.datetime.fromisoformat(period["start"]), dt.datetime.fromisoformat(period["end"])
    midnights = midnights_between(start, end, tz=start.tzinfo)
    applicable = [k for k, d in starter().items() if c.applies(d, prepared)]
    results = [c.evaluate_set(starter()[k], prepared, variables=VARIABLES) for k in applicable]

    assert applicable[0] == "two_midnight"  # applies to every stay
    for result in results:
        for crit in result.criteria:
            if crit.kind == "manual":
                assert crit.status is S.UNKNOWN, crit.id  # nobody answered yet
            elif crit.status is S.MET:
                assert crit.evidence, crit.id  # a met criterion shows the record that met it
            else:
                assert crit.explanation, crit.id  # otherwise it says what it looked for
    two_midnight = by_id(results[0])
    crossed = two_midnight["crossed_two_midnights"]
    assert crossed.status is (S.MET if midnights >= 2 else S.NOT_MET)
    assert crossed.evidence[0].value == str(midnights)
    transplant = encounter_id == KIDNEY_TRANSPLANT_STAY
    assert (two_midnight["inpatient_only_procedure"].status is S.MET) is transplant
    # Without the reviewer's answers only the inpatient-only list decides; the rest waits for the reviewer.
    assert results[0].status is (S.MET if transplant else S.UNKNOWN)
    assert c.recommend(results).level is (c.LevelOfCare.INPATIENT if transplant else None)


def _synthetic(*resources: dict, encounter_id: str = "e1") -> c.PreparedRecord:
    enc = {"resourceType": "Encounter", "id": encounter_id, "period": {"start": "2026-03-01T08:00:00+00:00"}}
    return c.PreparedRecord(
        enc, [c.Record(r["resourceType"], i, r, in_encounter=True) for i, r in enumerate(resources)]
    )


OSTEO = {
    "resourceType": "Condition",
    "id": "osteo",
    "clinicalStatus": {"coding": [{"code": "active"}]},
    "code": {
        "coding": [{"system": "http://snomed.info/sct", "code": "60168000", "display": "Osteomyelitis (disorder)"}]
    },
}
VANCO = {
    "resourceType": "MedicationRequest",
    "id": "vanco",
    "status": "active",
    "medicationCodeableConcept": {"coding": [{"display": "Vancomycin 1000 MG Injection"}]},
}
VANCO_ORAL = {
    **VANCO,
    "id": "vanco-po",
    "medicationCodeableConcept": {"coding": [{"display": "Vancomycin 125 MG Oral Capsule"}]},
}
ESR = {
    "resourceType": "Observation",
    "id": "esr",
    "code": {"coding": [{"system": "http://loinc.org", "code": "4537-7"}]},
    "valueQuantity": {"value": 95, "unit": "mm/h"},
}


def test_osteomyelitis_with_iv_vancomycin_meets_the_inpatient_set_with_evidence():
    result = c.evaluate_set(
        starter()["osteomyelitis_inpatient"],
        _synthetic(OSTEO, VANCO, ESR),
        answers={"needs_hospital_level_care": c.Answer(S.MET)},
    )
    crit = by_id(result)
    assert crit["iv_antibiotics"].status is S.MET
    assert crit["iv_antibiotics"].evidence[0].source_id == "vanco"
    assert crit["inflammatory_markers"].evidence[0].value == "95 mm/h"
    assert result.status is S.MET


def test_oral_vancomycin_is_not_an_iv_antibiotic():
    crit = by_id(c.evaluate_set(starter()["osteomyelitis_inpatient"], _synthetic(OSTEO, VANCO_ORAL)))
    assert crit["iv_antibiotics"].status is S.NOT_MET
    assert crit["iv_antibiotics"].evidence[0].display == "Vancomycin 125 MG Oral Capsule"


def test_stable_osteomyelitis_with_home_infusion_arranged_recommends_home_health():
    yes = c.Answer(S.MET)
    prepared = _synthetic(OSTEO, VANCO)
    inpatient = c.evaluate_set(
        starter()["osteomyelitis_inpatient"], prepared, answers={"needs_hospital_level_care": c.Answer(S.NOT_MET)}
    )
    home = c.evaluate_set(
        starter()["osteomyelitis_home_iv"],
        prepared,
        answers={"clinically_stable": yes, "home_infusion_arranged": yes, "safe_home": yes},
    )
    assert inpatient.status is S.NOT_MET and home.status is S.MET
    assert c.recommend([inpatient, home]).level is c.LevelOfCare.HOME_HEALTH


def test_blood_pressure_panels_are_read_through_their_components():
    bp = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "http://loinc.org", "code": "85354-9"}]},
        "component": [
            {"code": {"coding": [{"code": "8480-6"}]}, "valueQuantity": {"value": 84, "unit": "mm[Hg]"}},
            {"code": {"coding": [{"code": "8462-4"}]}, "valueQuantity": {"value": 50, "unit": "mm[Hg]"}},
        ],
    }
    pna = {**OSTEO, "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J18.9"}]}}
    crit = by_id(c.evaluate_set(starter()["pneumonia"], _synthetic(pna, bp)))
    assert crit["pneumonia_diagnosis"].status is S.MET  # ICD-10 prefix J18*
    assert crit["hypotension"].status is S.MET and crit["hypotension"].evidence[0].value == "84"


@pytest.mark.parametrize(
    ("rule", "statuses", "expected"),
    [
        ({"all": ["a", "b"]}, {"a": S.MET, "b": S.UNKNOWN}, S.UNKNOWN),
        ({"all": ["a", "b"]}, {"a": S.NOT_MET, "b": S.UNKNOWN}, S.NOT_MET),
        ({"any": ["a", "b"]}, {"a": S.MET, "b": S.UNKNOWN}, S.MET),
        ({"any": ["a", "b"]}, {"a": S.NOT_MET, "b": S.UNKNOWN}, S.UNKNOWN),
        ({"not": "a"}, {"a": S.UNKNOWN}, S.UNKNOWN),
        ({"not": "a"}, {"a": S.MET}, S.NOT_MET),
    ],
)
def test_rules_combine_in_three_valued_logic(rule, statuses, expected):
    assert c.combine(rule, statuses) is expected


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("title"), "title"),
        (lambda d: d.update(level_of_care="icu"), "level_of_care"),
        (lambda d: d["criteria"][0].update(test="code.coding.where("), "criteria[0].test"),
        (lambda d: d["criteria"][0].update(test="code in %undeclared"), "criteria[0].test"),
        (lambda d: d["criteria"][0].update(resource="Patient"), "criteria[0].resource"),
        (lambda d: d.update(rule={"all": ["nope"]}), "rule.all[0]"),
        (lambda d: d["criteria"].append(dict(d["criteria"][0])), "criteria"),
    ],
)
def test_format_errors_name_the_field(mutate, field):
    data = {
        "title": "t",
        "citation": "c",
        "evidence": "e",
        "level_of_care": "inpatient",
        "criteria": [{"id": "dx", "text": "x", "resource": "Condition", "test": "code.exists()"}],
    }
    mutate(data)
    with pytest.raises(c.CriteriaFormatError) as exc:
        c.parse_definition(data)
    assert exc.value.field == field


def _definition(rule: object) -> dict[str, object]:
    return {
        "title": "t",
        "citation": "c",
        "evidence": "e",
        "level_of_care": "inpatient",
        "criteria": [{"id": "dx", "text": "x", "type": "manual"}],
        "rule": rule,
    }


def _nots(depth: int) -> object:
    rule: object = "dx"
    for _ in range(depth):
        rule = {"not": rule}
    return rule


@pytest.mark.parametrize(
    ("text", "fmt"),
    [
        # Both parsers recurse once per level and ran out of Python stack: a 500 where a set was saved.
        ("rule: " + "[" * 900 + "]" * 900, "yaml"),
        ('{"rule": ' + "[" * 5000 + "]" * 5000 + "}", "json"),
        # Readable, but the rule's check and its evaluation recurse per level too: 65 levels with the set's own.
        (json.dumps(_definition(_nots(64))), "json"),
    ],
    ids=["yaml-900", "json-5000", "rule-of-64-nots"],
)
def test_a_set_nested_too_deeply_is_refused_naming_the_definition(text, fmt):
    with pytest.raises(c.CriteriaFormatError) as exc:
        c.parse_text(text, fmt)
    assert (exc.value.field, exc.value.reason) == ("definition", "nests lists and objects more than 64 levels deep")


def test_a_rule_nested_within_the_limit_is_evaluated():
    definition = c.parse_definition(_definition(_nots(63)))  # 64 levels with the set's own: the limit
    assert c.combine(definition.rule, {"dx": c.Status.MET}) == c.Status.NOT_MET  # an odd number of nots
    assert c.combine({"not": definition.rule}, {"dx": c.Status.MET}) == c.Status.MET
