"""The 10 core questions of the AHC Health-Related Social Needs Screening Tool, as data. Pure Python.

Source: Centers for Medicare & Medicaid Services, "The Accountable Health
Communities Health-Related Social Needs Screening Tool" (CMS Innovation Center,
2018 revision of Billioux A, Verlander K, Anthony S, Alley D, "Standardized
Screening for Health-Related Social Needs in Clinical Settings", NAM
Perspectives, 2017). Core domains: living situation (questions 1-2), food
(3-4), transportation (5), utilities (6), safety (7-10).

Positive screens, as the tool states them: question 1 options 2 or 3;
question 2 any option except "None of the above"; questions 3-4 "Often true"
or "Sometimes true"; question 5 "Yes"; question 6 "Yes" or "Already shut off";
safety: the answers to questions 7-10 score Never 1, Rarely 2, Sometimes 3,
Fairly often 4, Frequently 5, and a sum greater than 10 is positive (the HITS
cut-off the tool adopts).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from casebridge.careplans.questions import Answer, Kind, Option, Question, chosen

SOURCE = (
    "CMS Accountable Health Communities Health-Related Social Needs Screening Tool "
    "(CMS Innovation Center, 2018; Billioux et al., NAM Perspectives 2017)"
)
SECTION = "Social needs (AHC HRSN screening)"

_OFTEN = (
    Option("often", "Often true", positive=True),
    Option("sometimes", "Sometimes true", positive=True),
    Option("never", "Never true"),
)
_FREQUENCY = (
    Option("never", "Never", points=1),
    Option("rarely", "Rarely", points=2),
    Option("sometimes", "Sometimes", points=3),
    Option("fairly_often", "Fairly often", points=4),
    Option("frequently", "Frequently", points=5),
)

QUESTIONS: tuple[Question, ...] = (
    Question(
        "living_situation",
        "What is your living situation today?",
        (
            Option("steady", "I have a steady place to live"),
            Option(
                "worried",
                "I have a place to live today, but I am worried about losing it in the future",
                positive=True,
            ),
            Option(
                "no_steady_place",
                "I do not have a steady place to live (I am temporarily staying with others, in a hotel, "
                "in a shelter, living outside on the street, on a beach, in a car, abandoned building, "
                "bus or train station, or in a park)",
                positive=True,
            ),
        ),
        section=SECTION,
    ),
    Question(
        "housing_problems",
        "Think about the place you live. Do you have problems with any of the following? (Choose all that apply)",
        (
            Option("pests", "Pests such as bugs, ants, or mice", positive=True),
            Option("mold", "Mold", positive=True),
            Option("lead", "Lead paint or pipes", positive=True),
            Option("lack_of_heat", "Lack of heat", positive=True),
            Option("oven_stove", "Oven or stove not working", positive=True),
            Option("smoke_detectors", "Smoke detectors missing or not working", positive=True),
            Option("water_leaks", "Water leaks", positive=True),
            Option("none", "None of the above", exclusive=True),
        ),
        kind=Kind.MULTI,
        section=SECTION,
    ),
    Question(
        "food_worry",
        "Within the past 12 months, you worried that your food would run out before you got money to buy more.",
        _OFTEN,
        section=SECTION,
    ),
    Question(
        "food_didnt_last",
        "Within the past 12 months, the food you bought just didn't last and you didn't have money to get more.",
        _OFTEN,
        section=SECTION,
    ),
    Question(
        "transportation",
        "In the past 12 months, has lack of reliable transportation kept you from medical appointments, "
        "meetings, work or from getting things needed for daily living?",
        (Option("yes", "Yes", positive=True), Option("no", "No")),
        section=SECTION,
    ),
    Question(
        "utilities",
        "In the past 12 months has the electric, gas, oil, or water company threatened to shut off services "
        "in your home?",
        (
            Option("yes", "Yes", positive=True),
            Option("no", "No"),
            Option("already_shut_off", "Already shut off", positive=True),
        ),
        section=SECTION,
    ),
    Question(
        "safety_hurt",
        "How often does anyone, including family and friends, physically hurt you?",
        _FREQUENCY,
        section=SECTION,
    ),
    Question(
        "safety_insult",
        "How often does anyone, including family and friends, insult or talk down to you?",
        _FREQUENCY,
        section=SECTION,
    ),
    Question(
        "safety_threaten",
        "How often does anyone, including family and friends, threaten you with harm?",
        _FREQUENCY,
        section=SECTION,
    ),
    Question(
        "safety_scream",
        "How often does anyone, including family and friends, scream or curse at you?",
        _FREQUENCY,
        section=SECTION,
    ),
)
BY_KEY: dict[str, Question] = {q.key: q for q in QUESTIONS}
SAFETY_KEYS = ("safety_hurt", "safety_insult", "safety_threaten", "safety_scream")
SAFETY_POSITIVE_ABOVE = 10  # a sum of 11 or more (range 4-20) is a positive safety screen


@dataclass(frozen=True)
class Finding:
    """A positive screen in one domain: the need code, its label and the answers that raised it."""

    code: str
    label: str
    domain: str
    evidence: str


def safety_score(answers: Mapping[str, Answer]) -> int | None:
    """Sum of questions 7-10 (4-20), or None until all four are answered."""
    total = 0
    for key in SAFETY_KEYS:
        values = chosen(answers, key)
        option = BY_KEY[key].option(values[0]) if values else None
        if option is None:
            return None
        total += option.points
    return total


def _positive(answers: Mapping[str, Answer], key: str) -> list[Option]:
    question = BY_KEY[key]
    return [o for v in chosen(answers, key) if (o := question.option(v)) is not None and o.positive]


def findings(answers: Mapping[str, Answer]) -> list[Finding]:
    """The positive screens in a set of (already validated) answers, in the tool's domain order."""
    out: list[Finding] = []
    if hit := _positive(answers, "living_situation"):
        out.append(Finding("housing_instability", "Housing instability", "living situation", hit[0].label))
    if hit := _positive(answers, "housing_problems"):
        out.append(
            Finding(
                "housing_quality",
                "Inadequate housing quality",
                "living situation",
                ", ".join(o.label for o in hit),
            )
        )
    food = _positive(answers, "food_worry") + _positive(answers, "food_didnt_last")
    if food:
        out.append(Finding("food_insecurity", "Food insecurity", "food", ", ".join(sorted({o.label for o in food}))))
    if hit := _positive(answers, "transportation"):
        out.append(Finding("transportation_insecurity", "Transportation insecurity", "transportation", hit[0].label))
    if hit := _positive(answers, "utilities"):
        out.append(Finding("utility_insecurity", "Utility insecurity (shut-off threat)", "utilities", hit[0].label))
    score = safety_score(answers)
    if score is not None and score > SAFETY_POSITIVE_ABOVE:
        out.append(Finding("interpersonal_safety", "Interpersonal safety concern", "safety", f"safety score {score}"))
    return out
