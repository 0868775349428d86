"""Assessment instruments (which questions each kind asks) and the needs a completed one yields. Pure Python.

Sections:
- Functional status: the six ADLs of the Katz Index of Independence in Activities
  of Daily Living (Katz et al., JAMA 1963;185:914), scored 1 for independent, 0
  for dependent (6 full function, 4 moderate impairment, 2 or less severe); and
  the eight IADL domains of the Lawton Instrumental Activities of Daily Living
  Scale (Lawton & Brody, Gerontologist 1969;9:179). Lawton's item-specific
  response wording is simplified here to independent / needs help / unable, and
  only independent performance scores 1 (0-8).
- Cognition, clinical needs, caregiver support, finances, home environment:
  CaseBridge's own needs-and-resources checklist (CMSA Standards of Practice
  2022, "assessment and opportunity identification"; 42 CFR 482.43 discharge
  planning evaluation: capacity for self-care, caregiver availability).
  These are not a published scored instrument.
- Social needs: the AHC HRSN core questions (``hrsn.py``).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from casebridge.careplans import hrsn
from casebridge.careplans.questions import Answer, Kind, Option, Question, chosen, clean_answers

KATZ_SOURCE = "Katz Index of Independence in ADLs (Katz et al., JAMA 1963)"
LAWTON_SOURCE = "Lawton IADL Scale (Lawton & Brody, Gerontologist 1969), simplified responses"

ADL_SECTION = "Functional status: activities of daily living (Katz)"
IADL_SECTION = "Functional status: instrumental activities of daily living (Lawton)"

ADLS = {
    "bathing": "Bathing",
    "dressing": "Dressing",
    "toileting": "Toileting",
    "transferring": "Transferring",
    "continence": "Continence",
    "feeding": "Feeding",
}
IADLS = {
    "telephone": "Ability to use the telephone",
    "shopping": "Shopping",
    "food_preparation": "Food preparation",
    "housekeeping": "Housekeeping",
    "laundry": "Laundry",
    "transportation": "Mode of transportation",
    "medications": "Responsibility for own medications",
    "finances": "Ability to handle finances",
}

_KATZ = (
    Option("independent", "Independent (no supervision, direction or personal assistance)", points=1),
    Option("dependent", "Dependent (needs supervision, direction, personal assistance or total care)", positive=True),
)
_LAWTON = (
    Option("independent", "Independent", points=1),
    Option("needs_help", "Needs help", positive=True),
    Option("unable", "Unable", positive=True),
)

FUNCTIONAL_QUESTIONS = tuple(
    Question(f"adl_{key}", label, _KATZ, section=ADL_SECTION) for key, label in ADLS.items()
) + tuple(Question(f"iadl_{key}", label, _LAWTON, section=IADL_SECTION) for key, label in IADLS.items())

COGNITION = "Cognition"
CLINICAL = "Clinical needs"
CAREGIVER = "Caregiver support"
FINANCES = "Finances"
HOME = "Home environment"

NEEDS_RESOURCES_QUESTIONS: tuple[Question, ...] = (
    Question(
        "cognition",
        "Cognitive status observed or reported",
        (
            Option("intact", "Intact"),
            Option("mild", "Mild impairment (forgetful, manages with cues)", positive=True),
            Option("moderate", "Moderate impairment (needs supervision for decisions)", positive=True),
            Option("severe", "Severe impairment (cannot make daily decisions)", positive=True),
        ),
        section=COGNITION,
    ),
    Question(
        "clinical_needs",
        "Skilled or clinical needs after this episode (choose all that apply)",
        (
            Option("wound_care", "Wound care", positive=True),
            Option("infusion", "IV or infusion therapy", positive=True),
            Option("medication_management", "Medication management or teaching", positive=True),
            Option("diabetes", "Diabetes management", positive=True),
            Option("respiratory", "Oxygen or respiratory care", positive=True),
            Option("therapy", "Physical, occupational or speech therapy", positive=True),
            Option("nutrition", "Nutrition support or tube feeding", positive=True),
            Option("none", "None", exclusive=True),
        ),
        kind=Kind.MULTI,
        section=CLINICAL,
    ),
    Question(
        "caregiver_available",
        "Is a family member or other caregiver available to help at home?",
        (
            Option("full_time", "Yes, as much as needed"),
            Option("part_time", "Yes, part of the time", positive=True),
            Option("none", "No caregiver available", positive=True),
        ),
        section=CAREGIVER,
    ),
    Question(
        "caregiver_able",
        "Is the caregiver able to give the care needed?",
        (
            Option("able", "Able"),
            Option("limited", "Limited (health, work or training)", positive=True),
            Option("not_applicable", "No caregiver"),
        ),
        section=CAREGIVER,
    ),
    Question(
        "afford_care",
        "Can the patient afford medications, co-pays and services needed?",
        (
            Option("yes", "Yes"),
            Option("with_difficulty", "With difficulty", positive=True),
            Option("no", "No", positive=True),
        ),
        section=FINANCES,
    ),
    Question(
        "home_hazards",
        "Home environment (choose all that apply)",
        (
            Option("stairs", "Stairs to enter or inside the home", positive=True),
            Option("bathroom", "Bathroom not safe (no grab bars, tub transfer)", positive=True),
            Option("clutter", "Trip hazards or clutter", positive=True),
            Option("no_phone", "No working phone", positive=True),
            Option("equipment", "Needs medical equipment (walker, hospital bed, commode)", positive=True),
            Option("none", "None of these", exclusive=True),
        ),
        kind=Kind.MULTI,
        section=HOME,
    ),
)


class AssessmentKind(StrEnum):
    AHC_HRSN = "ahc_hrsn"
    FUNCTIONAL = "functional"
    NEEDS_RESOURCES = "needs_resources"


KIND_LABELS: dict[AssessmentKind, str] = {
    AssessmentKind.AHC_HRSN: "AHC health-related social needs screen",
    AssessmentKind.FUNCTIONAL: "Functional status (ADL/IADL)",
    AssessmentKind.NEEDS_RESOURCES: "Needs and resources (cognition, clinical, caregiver, finances, home)",
}

INSTRUMENTS: dict[AssessmentKind, tuple[Question, ...]] = {
    AssessmentKind.AHC_HRSN: hrsn.QUESTIONS,
    AssessmentKind.FUNCTIONAL: FUNCTIONAL_QUESTIONS,
    AssessmentKind.NEEDS_RESOURCES: NEEDS_RESOURCES_QUESTIONS,
}


def questions_of(kind: AssessmentKind) -> dict[str, Question]:
    return {q.key: q for q in INSTRUMENTS[kind]}


def validate_answers(kind: AssessmentKind, raw: object, *, complete: bool = False) -> dict[str, Answer]:
    return clean_answers(questions_of(kind), raw, complete=complete)


@dataclass(frozen=True)
class IdentifiedNeed:
    code: str
    label: str
    domain: str
    evidence: str


def katz_score(answers: Mapping[str, Answer]) -> int:
    """Katz ADL index: number of the six ADLs performed independently (0-6)."""
    return sum(1 for key in ADLS if chosen(answers, f"adl_{key}") == ["independent"])


def lawton_score(answers: Mapping[str, Answer]) -> int:
    """Lawton IADL score: number of the eight domains performed independently (0-8)."""
    return sum(1 for key in IADLS if chosen(answers, f"iadl_{key}") == ["independent"])


def _functional_needs(answers: Mapping[str, Answer]) -> list[IdentifiedNeed]:
    out = []
    for key, label in ADLS.items():
        if chosen(answers, f"adl_{key}") == ["dependent"]:
            out.append(IdentifiedNeed(f"adl_{key}", f"ADL dependence in {label.lower()}", "functional", KATZ_SOURCE))
    for key, label in IADLS.items():
        values = chosen(answers, f"iadl_{key}")
        if values and values[0] in ("needs_help", "unable"):
            how = "Unable" if values[0] == "unable" else "Needs help"
            out.append(IdentifiedNeed(f"iadl_{key}", f"IADL help: {label.lower()}", "functional", f"{how}"))
    return out


def _needs_resources_needs(answers: Mapping[str, Answer]) -> list[IdentifiedNeed]:
    questions = questions_of(AssessmentKind.NEEDS_RESOURCES)
    out = []
    cognition = chosen(answers, "cognition")
    if cognition and cognition[0] != "intact":
        label = questions["cognition"].option(cognition[0]).label  # type: ignore[union-attr]
        out.append(IdentifiedNeed("cognitive_impairment", "Cognitive impairment", "cognition", label))
    for value in chosen(answers, "clinical_needs"):
        option = questions["clinical_needs"].option(value)
        if option is not None and option.positive:
            out.append(IdentifiedNeed(f"clinical_{value}", option.label, "clinical", "Clinical needs"))
    available = chosen(answers, "caregiver_available")
    if available == ["none"]:
        out.append(IdentifiedNeed("caregiver_unavailable", "Caregiver unavailable", "caregiver", "No caregiver"))
    elif available == ["part_time"]:
        out.append(IdentifiedNeed("caregiver_limited_time", "Caregiver available part-time only", "caregiver", ""))
    if chosen(answers, "caregiver_able") == ["limited"]:
        out.append(
            IdentifiedNeed("caregiver_limited_ability", "Caregiver limited in ability to give care", "caregiver", "")
        )
    afford = chosen(answers, "afford_care")
    if afford and afford[0] != "yes":
        label = questions["afford_care"].option(afford[0]).label  # type: ignore[union-attr]
        out.append(IdentifiedNeed("financial_strain", "Cannot afford care or medications", "finances", label))
    for value in chosen(answers, "home_hazards"):
        option = questions["home_hazards"].option(value)
        if option is not None and option.positive:
            out.append(IdentifiedNeed(f"home_{value}", f"Home: {option.label}", "home environment", ""))
    return out


def needs_from(kind: AssessmentKind, answers: Mapping[str, Answer]) -> list[IdentifiedNeed]:
    """The needs a completed assessment identifies, in question order. Answers must be validated first."""
    if kind == AssessmentKind.AHC_HRSN:
        return [IdentifiedNeed(f.code, f.label, f.domain, f.evidence) for f in hrsn.findings(answers)]
    if kind == AssessmentKind.FUNCTIONAL:
        return _functional_needs(answers)
    return _needs_resources_needs(answers)


def summary(kind: AssessmentKind, answers: Mapping[str, Answer]) -> dict[str, int | None]:
    """Scores shown next to a completed assessment."""
    if kind == AssessmentKind.AHC_HRSN:
        return {"safety_score": hrsn.safety_score(answers), "positive_domains": len(hrsn.findings(answers))}
    if kind == AssessmentKind.FUNCTIONAL:
        return {"katz_adl": katz_score(answers), "lawton_iadl": lawton_score(answers)}
    return {"needs": len(_needs_resources_needs(answers))}
