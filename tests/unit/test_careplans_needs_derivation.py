"""AHC HRSN positive screens and the needs each assessment yields; answer validation names the question."""

from __future__ import annotations

import pytest
from careplans_support import NO_NEEDS_HRSN

from casebridge.careplans import hrsn
from casebridge.careplans.instruments import (
    ADLS,
    IADLS,
    INSTRUMENTS,
    AssessmentKind,
    katz_score,
    lawton_score,
    needs_from,
    validate_answers,
)
from casebridge.kernel.errors import ValidationFailed


def codes(kind, answers):
    return [n.code for n in needs_from(kind, validate_answers(kind, answers, complete=True))]


def test_the_core_tool_has_ten_questions_in_five_domains():
    assert len(hrsn.QUESTIONS) == 10
    assert [q.key for q in hrsn.QUESTIONS][:2] == ["living_situation", "housing_problems"]
    assert hrsn.QUESTIONS[0].text == "What is your living situation today?"
    assert "CMS" in hrsn.SOURCE


def test_no_positive_answers_yield_no_needs():
    assert codes(AssessmentKind.AHC_HRSN, NO_NEEDS_HRSN) == []


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"living_situation": "worried"}, ["housing_instability"]),
        ({"living_situation": "no_steady_place"}, ["housing_instability"]),
        ({"housing_problems": ["mold", "water_leaks"]}, ["housing_quality"]),
        ({"food_worry": "sometimes"}, ["food_insecurity"]),
        ({"food_didnt_last": "often"}, ["food_insecurity"]),
        ({"food_worry": "often", "food_didnt_last": "often"}, ["food_insecurity"]),
        ({"transportation": "yes"}, ["transportation_insecurity"]),
        ({"utilities": "yes"}, ["utility_insecurity"]),
        ({"utilities": "already_shut_off"}, ["utility_insecurity"]),
    ],
)
def test_each_positive_answer_identifies_its_need(changes, expected):
    assert codes(AssessmentKind.AHC_HRSN, {**NO_NEEDS_HRSN, **changes}) == expected


@pytest.mark.parametrize(
    ("hurt", "insult", "threaten", "scream", "score", "positive"),
    [
        ("never", "never", "never", "never", 4, False),
        ("sometimes", "sometimes", "sometimes", "never", 10, False),  # 10 is not above 10
        ("sometimes", "sometimes", "sometimes", "rarely", 11, True),
        ("frequently", "frequently", "frequently", "frequently", 20, True),
        ("frequently", "fairly_often", "never", "never", 11, True),
    ],
)
def test_safety_is_positive_only_above_ten(hurt, insult, threaten, scream, score, positive):
    answers = {
        **NO_NEEDS_HRSN,
        "safety_hurt": hurt,
        "safety_insult": insult,
        "safety_threaten": threaten,
        "safety_scream": scream,
    }
    assert hrsn.safety_score(answers) == score
    assert ("interpersonal_safety" in codes(AssessmentKind.AHC_HRSN, answers)) is positive


def test_safety_score_waits_for_all_four_answers():
    assert hrsn.safety_score({"safety_hurt": "frequently"}) is None


def test_none_of_the_above_cannot_be_combined():
    with pytest.raises(ValidationFailed) as err:
        validate_answers(AssessmentKind.AHC_HRSN, {"housing_problems": ["none", "mold"]})
    assert list(err.value.field_errors) == ["answers.housing_problems"]


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        ({"food_worry": "maybe"}, "answers.food_worry"),
        ({"living_situation": ["steady"]}, "answers.living_situation"),
        ({"housing_problems": ["ghosts"]}, "answers.housing_problems"),
        ({"favourite_colour": "blue"}, "answers.favourite_colour"),
        ({"transportation": 1}, "answers.transportation"),
    ],
)
def test_bad_answers_name_the_question(answers, field):
    with pytest.raises(ValidationFailed) as err:
        validate_answers(AssessmentKind.AHC_HRSN, answers)
    assert field in err.value.field_errors


def test_completion_needs_every_question_answered():
    partial = {k: v for k, v in NO_NEEDS_HRSN.items() if k != "utilities"}
    validate_answers(AssessmentKind.AHC_HRSN, partial)  # fine while in progress
    with pytest.raises(ValidationFailed) as err:
        validate_answers(AssessmentKind.AHC_HRSN, partial, complete=True)
    assert list(err.value.field_errors) == ["answers.utilities"]


def _functional(**overrides):
    answers = {f"adl_{k}": "independent" for k in ADLS} | {f"iadl_{k}": "independent" for k in IADLS}
    return answers | overrides


def test_functional_assessment_covers_katz_and_lawton_items():
    keys = [q.key for q in INSTRUMENTS[AssessmentKind.FUNCTIONAL]]
    assert keys[:6] == [
        "adl_bathing",
        "adl_dressing",
        "adl_toileting",
        "adl_transferring",
        "adl_continence",
        "adl_feeding",
    ]
    assert len(keys) == 14


def test_adl_dependence_and_iadl_help_become_needs():
    answers = _functional(adl_bathing="dependent", adl_transferring="dependent", iadl_shopping="unable")
    needs = needs_from(AssessmentKind.FUNCTIONAL, answers)
    assert [n.label for n in needs] == [
        "ADL dependence in bathing",
        "ADL dependence in transferring",
        "IADL help: shopping",
    ]
    assert katz_score(answers) == 4
    assert lawton_score(answers) == 7


def test_needs_and_resources_checklist_identifies_caregiver_and_home_needs():
    answers = {
        "cognition": "mild",
        "clinical_needs": ["wound_care"],
        "caregiver_available": "none",
        "caregiver_able": "not_applicable",
        "afford_care": "yes",
        "home_hazards": ["stairs"],
    }
    assert codes(AssessmentKind.NEEDS_RESOURCES, answers) == [
        "cognitive_impairment",
        "clinical_wound_care",
        "caregiver_unavailable",
        "home_stairs",
    ]
