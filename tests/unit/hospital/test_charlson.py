"""Charlson index: 1987 weights, Quan 2005 ICD-10 map (RULES.md table), hierarchy rule, SNOMED map on Synthea data."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from casebridge.hospital.rules.charlson import (
    SNOMED_CT,
    charlson_index,
    conditions,
    icd10_conditions,
    snomed_map,
)

ICD10 = "http://hl7.org/fhir/sid/icd-10"
ICD10_CM = "http://hl7.org/fhir/sid/icd-10-cm"
SYNTHEA = Path("/work/shared/data/fhir")

# RULES.md's ICD-10 table, transcribed here independently of the package's data file.
RULES_TABLE = {
    "myocardial_infarction": "I21, I22, I25.2",
    "congestive_heart_failure": "I09.9, I11.0, I13.0, I13.2, I25.5, I42.0, I42.5-I42.9, I43, I50, P29.0",
    "peripheral_vascular_disease": (
        "I70, I71, I73.1, I73.8, I73.9, I77.1, I79.0, I79.2, K55.1, K55.8, K55.9, Z95.8, Z95.9"
    ),
    "cerebrovascular_disease": "G45, G46, H34.0, I60-I69",
    "dementia": "F00-F03, F05.1, G30, G31.1",
    "chronic_pulmonary_disease": "I27.8, I27.9, J40-J47, J60-J67, J68.4, J70.1, J70.3",
    "rheumatic_disease": "M05, M06, M31.5, M32-M34, M35.1, M35.3, M36.0",
    "peptic_ulcer_disease": "K25-K28",
    "mild_liver_disease": (
        "B18, K70.0-K70.3, K70.9, K71.3-K71.5, K71.7, K73, K74, K76.0, K76.2-K76.4, K76.8, K76.9, Z94.4"
    ),
    "hemiplegia_paraplegia": "G04.1, G11.4, G80.1, G80.2, G81, G82, G83.0-G83.4, G83.9",
    "renal_disease": "I12.0, I13.1, N03.2-N03.7, N05.2-N05.7, N18, N19, N25.0, Z49.0-Z49.2, Z94.0, Z99.2",
    "any_malignancy": "C00-C26, C30-C34, C37-C41, C43, C45-C58, C60-C76, C81-C85, C88, C90-C97",
    "moderate_severe_liver_disease": "I85.0, I85.9, I86.4, I98.2, K70.4, K71.1, K72.1, K72.9, K76.5-K76.7",
    "metastatic_solid_tumor": "C77-C80",
    "aids_hiv": "B20-B22, B24",
}
WEIGHTS = {
    "myocardial_infarction": 1,
    "congestive_heart_failure": 1,
    "peripheral_vascular_disease": 1,
    "cerebrovascular_disease": 1,
    "dementia": 1,
    "chronic_pulmonary_disease": 1,
    "rheumatic_disease": 1,
    "peptic_ulcer_disease": 1,
    "mild_liver_disease": 1,
    "diabetes_without_complications": 1,
    "hemiplegia_paraplegia": 2,
    "renal_disease": 2,
    "diabetes_with_complications": 2,
    "any_malignancy": 2,
    "moderate_severe_liver_disease": 3,
    "metastatic_solid_tumor": 6,
    "aids_hiv": 6,
}


def _examples() -> list[tuple[str, str]]:
    """Every entry of the table: both ends of a range, and a prefix with and without a child code."""
    cases = []
    for condition, entries in RULES_TABLE.items():
        for entry in entries.split(", "):
            if "-" in entry:
                low, high = entry.split("-")
                cases += [(condition, low), (condition, high)]
            else:
                cases.append((condition, entry))
                cases.append((condition, entry + ("9" if "." in entry else ".9")))
    return cases


@pytest.mark.parametrize(("condition", "code"), _examples())
def test_every_code_of_the_rules_table_maps_to_its_condition(condition: str, code: str) -> None:
    assert icd10_conditions(code) == (condition,)


@pytest.mark.parametrize("code", ["I42.0", "I420", "i42.0", " I42.0 "])
def test_icd10_codes_match_with_or_without_dot_and_in_any_case(code: str) -> None:
    assert icd10_conditions(code) == ("congestive_heart_failure",)


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("I42.4", ()),  # just below I42.5-I42.9 and after I42.0
        ("I42.1", ()),
        ("I25.1", ()),  # atherosclerotic heart disease is not old MI
        ("I25.3", ()),
        ("I23", ()),  # just after I21, I22
        ("I20", ()),
        ("I59", ()),  # just before I60-I69
        ("I70", ("peripheral_vascular_disease",)),  # just after I60-I69
        ("I27.0", ()),  # primary pulmonary hypertension is not in Quan
        ("J39", ()),
        ("J48", ()),
        ("J68.3", ()),
        ("F04", ()),
        ("F05.0", ()),
        ("K24", ()),
        ("K29", ()),
        ("K70.4", ("moderate_severe_liver_disease",)),
        ("K70.5", ()),
        ("K71.2", ()),
        ("K71.6", ()),
        ("K76.1", ()),
        ("K76.7", ("moderate_severe_liver_disease",)),
        ("N03.1", ()),
        ("N03.8", ()),
        ("N05.1", ()),
        ("N05.8", ()),
        ("Z49.3", ()),
        ("G83.5", ()),
        ("G83.8", ()),
        ("C27", ()),
        ("C29", ()),
        ("C35", ()),
        ("C42", ()),
        ("C44.9", ()),  # other skin cancers are excluded
        ("C4A.9", ()),  # ICD-10-CM Merkel cell (WHO C44) stays outside C45-C58
        ("C59", ()),
        ("C77.0", ("metastatic_solid_tumor",)),
        ("C80.1", ("metastatic_solid_tumor",)),
        ("C81.0", ("any_malignancy",)),
        ("C86", ()),
        ("C89", ()),
        ("C98", ()),
        ("B23", ()),
        ("B25", ()),
        ("M07", ()),
        ("M35.2", ()),
        ("I13.2", ("congestive_heart_failure",)),
        ("I13.1", ("renal_disease",)),
    ],
)
def test_codes_just_outside_a_range_do_not_match(code: str, expected: tuple[str, ...]) -> None:
    assert icd10_conditions(code) == expected


@pytest.mark.parametrize("diabetes", ["E10", "E11", "E12", "E13", "E14"])
@pytest.mark.parametrize(
    ("fourth", "condition"),
    [
        ("0", "diabetes_without_complications"),
        ("1", "diabetes_without_complications"),
        ("6", "diabetes_without_complications"),
        ("8", "diabetes_without_complications"),
        ("9", "diabetes_without_complications"),
        ("2", "diabetes_with_complications"),
        ("3", "diabetes_with_complications"),
        ("4", "diabetes_with_complications"),
        ("5", "diabetes_with_complications"),
        ("7", "diabetes_with_complications"),
    ],
)
def test_diabetes_fourth_character_decides_complications(diabetes: str, fourth: str, condition: str) -> None:
    assert icd10_conditions(f"{diabetes}.{fourth}") == (condition,)


def test_diabetes_without_a_fourth_character_or_outside_e10_e14_does_not_count() -> None:
    assert icd10_conditions("E11") == ()
    assert icd10_conditions("E09.9") == ()
    assert icd10_conditions("E15") == ()
    assert icd10_conditions("E11.65") == ("diabetes_without_complications",)  # ICD-10-CM subcode keeps its 4th char


def test_original_1987_weights_are_in_the_data() -> None:
    assert {c.key: c.weight for c in conditions()} == WEIGHTS


def test_each_condition_scores_its_weight_alone() -> None:
    for condition, entries in RULES_TABLE.items():
        code = entries.split(", ")[0].split("-")[0]
        result = charlson_index([(ICD10, code)])
        assert result.total == WEIGHTS[condition], condition
        assert result.condition(condition) is not None


def test_uncomplicated_and_complicated_diabetes_count_only_the_higher_weight() -> None:
    result = charlson_index([(ICD10, "E11.9"), (ICD10, "E11.2")])
    assert result.total == 2
    uncomplicated = result.condition("diabetes_without_complications")
    assert uncomplicated is not None
    assert not uncomplicated.counted
    assert uncomplicated.superseded_by == "diabetes_with_complications"


def test_mild_and_severe_liver_disease_count_only_the_severe() -> None:
    result = charlson_index([(ICD10, "K70.3"), (ICD10, "K70.4")])
    assert result.total == 3


def test_malignancy_with_metastasis_counts_only_the_metastasis() -> None:
    result = charlson_index([(ICD10_CM, "C34.90"), (ICD10_CM, "C78.00")])
    assert result.total == 6
    malignancy = result.condition("any_malignancy")
    assert malignancy is not None and not malignancy.counted


def test_hierarchy_applies_only_within_liver_diabetes_and_cancer() -> None:
    codes = [(ICD10, "I21.0"), (ICD10, "I50.9"), (ICD10, "N18.5"), (ICD10, "B20"), (ICD10, "G81.9")]
    assert charlson_index(codes).total == 1 + 1 + 2 + 6 + 2


def test_a_worked_example_totals_every_counted_condition() -> None:
    codes = [
        (ICD10, "I25.2"),  # MI 1
        (ICD10, "J44.9"),  # COPD 1
        (ICD10, "E11.21"),  # diabetes with complications 2 (uncomplicated E11.9 dropped)
        (ICD10, "E11.9"),
        (ICD10, "K74.60"),  # mild liver 1
        (ICD10, "C50.911"),  # malignancy 2
    ]
    result = charlson_index(codes)
    assert result.total == 7
    assert [m.condition for m in result.conditions if m.counted] == [
        "myocardial_infarction",
        "chronic_pulmonary_disease",
        "mild_liver_disease",
        "diabetes_with_complications",
        "any_malignancy",
    ]


def test_matched_codes_are_reported_per_condition_once_each() -> None:
    result = charlson_index([(ICD10, "I50.9"), (ICD10, "I50.9"), (ICD10, "I11.0")])
    chf = result.condition("congestive_heart_failure")
    assert chf is not None
    assert [c.code for c in chf.codes] == ["I50.9", "I11.0"]
    assert result.total == 1


def test_codes_outside_charlson_and_other_systems_are_reported_not_counted() -> None:
    result = charlson_index([(ICD10, "J06.9"), ("http://loinc.org", "718-7"), (SNOMED_CT, "999999999")])
    assert result.total == 0
    assert [c.code for c in result.not_charlson] == ["J06.9"]
    assert [c.code for c in result.unsupported] == ["718-7"]
    assert [c.code for c in result.unreviewed] == ["999999999"]


def test_no_codes_score_zero() -> None:
    assert charlson_index([]).total == 0


# SNOMED CT map, checked against the Synthea files in place.


def _synthea_condition_codes() -> dict[str, str]:
    codes: dict[str, str] = {}
    with (SYNTHEA / "synthea-10-bulk" / "Condition.000.ndjson").open() as lines:
        for line in lines:
            for coding in json.loads(line)["code"]["coding"]:
                assert coding["system"] == SNOMED_CT
                codes[coding["code"]] = coding["display"]
    for bundle_path in sorted((SYNTHEA / "synthea-bundles").glob("*.json")):
        for entry in json.loads(bundle_path.read_text()).get("entry", []):
            resource = entry["resource"]
            if resource["resourceType"] == "Condition":
                for coding in resource["code"]["coding"]:
                    codes[coding["code"]] = coding["display"]
    return codes


def test_every_snomed_code_in_the_synthea_data_has_been_reviewed() -> None:
    codes = _synthea_condition_codes()
    assert len(codes) > 50
    assert set(codes) <= set(snomed_map())


def test_snomed_map_displays_match_the_synthea_data() -> None:
    for code, display in _synthea_condition_codes().items():
        assert snomed_map()[code].display == display


def test_snomed_map_rows_name_their_source_honestly() -> None:
    for row in snomed_map().values():
        assert row.source.startswith(
            "mapped by CaseBridge from SNOMED CT concept meanings to Quan 2005 categories; "
            "review by clinical leadership"
        )


@pytest.mark.parametrize(
    ("snomed", "condition"),
    [
        ("44054006", "diabetes_without_complications"),
        ("127013003", "diabetes_with_complications"),
        ("433144002", "renal_disease"),
        ("46177005", "renal_disease"),
        ("254837009", "any_malignancy"),
        ("254637007", "any_malignancy"),
        ("233678006", "chronic_pulmonary_disease"),
        ("22298006", "myocardial_infarction"),
        ("88805009", "congestive_heart_failure"),
        ("185086009", "chronic_pulmonary_disease"),
    ],
)
def test_snomed_codes_map_to_their_charlson_condition(snomed: str, condition: str) -> None:
    assert snomed_map()[snomed].charlson_condition == condition
    assert charlson_index([(SNOMED_CT, snomed)]).condition(condition) is not None


@pytest.mark.parametrize(
    "snomed",
    ["59621000", "414545008", "15777000", "80394007", "162573006", "160903007", "271737000", "698306007"],
)
def test_snomed_codes_outside_charlson_are_reviewed_but_not_counted(snomed: str) -> None:
    assert snomed_map()[snomed].charlson_condition is None
    result = charlson_index([(SNOMED_CT, snomed)])
    assert result.total == 0
    assert len(result.not_charlson) == 1


def test_charlson_from_the_synthea_conditions_per_patient() -> None:
    by_patient: dict[str, list[tuple[str, str]]] = {}
    with (SYNTHEA / "synthea-10-bulk" / "Condition.000.ndjson").open() as lines:
        for line in lines:
            resource = json.loads(line)
            patient = resource["subject"]["reference"]
            by_patient.setdefault(patient, []).extend((c["system"], c["code"]) for c in resource["code"]["coding"])
    results = {patient: charlson_index(codes) for patient, codes in by_patient.items()}
    assert all(not r.unreviewed and not r.unsupported for r in results.values())
    assert any(r.total > 0 for r in results.values())
    for result in results.values():
        assert result.total == sum(m.weight for m in result.conditions if m.counted)
        # a patient with both type 2 diabetes and diabetic kidney disease counts diabetes once, at 2
        if result.condition("diabetes_with_complications") and result.condition("diabetes_without_complications"):
            assert not result.condition("diabetes_without_complications").counted  # type: ignore[union-attr]
