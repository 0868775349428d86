"""The shape of an assessment question and the checks every answer passes. Pure Python: no Django."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from casebridge.kernel.errors import ValidationFailed


class Kind(StrEnum):
    SINGLE = "single"  # exactly one option
    MULTI = "multi"  # one or more options; an "exclusive" option (e.g. "None of the above") stands alone


@dataclass(frozen=True)
class Option:
    value: str
    label: str
    points: int = 0  # for scored items (e.g. the AHC safety questions, Katz ADLs)
    positive: bool = False  # choosing it is a positive screen / an identified need
    exclusive: bool = False


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    options: tuple[Option, ...]
    kind: Kind = Kind.SINGLE
    section: str = ""

    def option(self, value: str) -> Option | None:
        return next((o for o in self.options if o.value == value), None)

    @property
    def values(self) -> tuple[str, ...]:
        return tuple(o.value for o in self.options)


Answer = str | list[str]


def _field(question_key: str) -> str:
    return f"answers.{question_key}"


def clean_answer(question: Question, raw: object) -> Answer:
    """One answer checked against its question; the error names the question."""
    allowed = ", ".join(question.values)
    if question.kind == Kind.SINGLE:
        if not isinstance(raw, str) or question.option(raw) is None:
            raise ValidationFailed.on(_field(question.key), f"must be one of {allowed}")
        return raw
    if isinstance(raw, str):
        raw = [raw]
    if not isinstance(raw, list) or not raw or not all(isinstance(v, str) for v in raw):
        raise ValidationFailed.on(_field(question.key), f"must be a non-empty list of {allowed}")
    chosen: list[str] = []
    for value in raw:
        if question.option(value) is None:
            raise ValidationFailed.on(_field(question.key), f"{value!r} is not one of {allowed}")
        if value not in chosen:
            chosen.append(value)
    exclusive = [v for v in chosen if question.option(v).exclusive]  # type: ignore[union-attr]
    if exclusive and len(chosen) > 1:
        raise ValidationFailed.on(_field(question.key), f"{exclusive[0]!r} cannot be combined with other answers")
    return chosen


def clean_answers(questions: Mapping[str, Question], raw: object, *, complete: bool) -> dict[str, Answer]:
    """Check a set of answers. While in progress any subset may be given; completing needs every question."""
    if not isinstance(raw, Mapping):
        raise ValidationFailed.on("answers", "must be an object mapping question keys to answers")
    cleaned: dict[str, Answer] = {}
    for key, value in raw.items():
        question = questions.get(str(key))
        if question is None:
            raise ValidationFailed.on(_field(str(key)), "is not a question of this assessment")
        if value is None or value == "" or value == []:
            continue  # unanswered
        cleaned[question.key] = clean_answer(question, value)
    if complete:
        missing = [k for k in questions if k not in cleaned]
        if missing:
            raise ValidationFailed(
                f"{len(missing)} question(s) still need an answer, first {_field(missing[0])}",
                field_errors={_field(k): ["needs an answer to complete the assessment"] for k in missing},
            )
    return cleaned


def chosen(answers: Mapping[str, Answer], key: str) -> list[str]:
    value = answers.get(key)
    if value is None:
        return []
    return [value] if isinstance(value, str) else list(value)
