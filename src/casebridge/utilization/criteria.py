"""Utilization review criteria: a declarative, versioned format and its evaluator. Pure Python: no Django.

A criteria set is authored by the organization as YAML or JSON (see ``data/criteria/`` for the
starter library). Each criterion is either

* automatic: a FHIRPath expression (fhirpathpy) evaluated on each of the patient's FHIR resources of
  one type (``resource``), optionally narrowed first to the resources coded with one of ``codes``
  (an index lookup, so a record of thousands of resources is not walked once per criterion); or
* manual: a question the reviewer answers.

Each criterion comes out met, not met or unknown, with the evidence that decided it (the resource
and the value). The set's ``rule`` combines its criteria in three-valued logic (Kleene: unknown
stays unknown unless the other operands decide), and a met set supports its ``level_of_care``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache
from importlib import resources
from typing import Any

import yaml
from antlr4 import CommonTokenStream, InputStream, Token
from antlr4.error.ErrorListener import ErrorListener
from fhirpathpy import compile as fhirpath_compile
from fhirpathpy.models import models as fhirpath_models
from fhirpathpy.parser.generated.FHIRPathLexer import FHIRPathLexer
from fhirpathpy.parser.generated.FHIRPathParser import FHIRPathParser

from casebridge.kernel.nesting import AUTHORED_DOCUMENT_DEPTH, TooDeep, nested_deeper_than, parse_within, too_deep

MAX_EVIDENCE = 5
FHIR_MODEL = fhirpath_models["r4"]
# Extension the record builder puts on the reviewed Encounter: midnights crossed so far (42 CFR 412.3 counting).
MIDNIGHTS_EXTENSION = "https://casebridge.local/fhir/StructureDefinition/midnights-crossed"


class Status(StrEnum):
    MET = "met"
    NOT_MET = "not_met"
    UNKNOWN = "unknown"


class LevelOfCare(StrEnum):
    """Most intensive first: a recommendation picks the first level a met set supports."""

    INPATIENT = "inpatient"
    OBSERVATION = "observation"
    IRF = "irf"
    SNF = "snf"
    HOME_HEALTH = "home_health"
    OUTPATIENT = "outpatient"
    HOME = "home"


LEVEL_LABELS = {
    LevelOfCare.INPATIENT: "Inpatient",
    LevelOfCare.OBSERVATION: "Observation",
    LevelOfCare.IRF: "Inpatient rehabilitation facility (IRF)",
    LevelOfCare.SNF: "Skilled nursing facility (SNF)",
    LevelOfCare.HOME_HEALTH: "Home health",
    LevelOfCare.OUTPATIENT: "Outpatient",
    LevelOfCare.HOME: "Home (self-care)",
}
LEVEL_ORDER = list(LevelOfCare)

RESOURCE_TYPES = ("Encounter", "Condition", "Procedure", "MedicationRequest", "Observation", "AllergyIntolerance")
SCOPES = ("encounter", "patient")
ID_PATTERN = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class CriteriaFormatError(ValueError):
    """A criteria set that cannot be used; ``field`` names where (e.g. ``criteria[2].test``)."""

    def __init__(self, field_name: str, reason: str) -> None:
        super().__init__(f"{field_name}: {reason}")
        self.field = field_name
        self.reason = reason


# --- the format ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Criterion:
    id: str
    text: str
    kind: str  # "auto" or "manual"
    resource: str = ""
    codes: tuple[str, ...] = ()
    test: str = ""
    value: str = ""
    scope: str = "encounter"
    when_missing: Status = Status.UNKNOWN
    question: str = ""


Rule = str | Mapping[str, Any]


@dataclass(frozen=True)
class CriteriaDefinition:
    title: str
    citation: str
    evidence: str
    level_of_care: LevelOfCare
    criteria: tuple[Criterion, ...]
    rule: Rule
    fallback_level: LevelOfCare | None = None
    example: bool = False
    variables: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    applies_to: tuple[str, ...] = ()

    def criterion(self, criterion_id: str) -> Criterion:
        for c in self.criteria:
            if c.id == criterion_id:
                return c
        raise KeyError(criterion_id)


def load_text(text: str, fmt: str) -> Any:
    """Parse authored text: ``yaml`` (safe loader, no tags) or ``json``."""
    if fmt not in ("yaml", "json"):
        raise CriteriaFormatError("format", "must be yaml or json")
    try:
        return parse_within(yaml.safe_load if fmt == "yaml" else json.loads, text)
    except (yaml.YAMLError, json.JSONDecodeError) as exc:
        raise CriteriaFormatError("definition", f"is not valid {fmt.upper()}: {str(exc).splitlines()[0]}") from exc
    except TooDeep as exc:
        raise CriteriaFormatError("definition", str(exc)) from exc


@lru_cache(maxsize=2048)
def compiled(expression: str) -> Callable[..., list[Any]]:
    """Compile a FHIRPath expression once; fhirpathpy raises a bare Exception for syntax errors."""
    return fhirpath_compile(expression, model=FHIR_MODEL)  # type: ignore[no-any-return]


class _Raise(ErrorListener):  # type: ignore[misc]
    def syntaxError(self, recognizer: Any, offending: Any, line: int, column: int, msg: str, e: Any) -> None:  # noqa: N802
        raise CriteriaFormatError("expression", f"column {column + 1}: {msg}")


def fhirpath_syntax_error(expression: str) -> str | None:
    """fhirpathpy's parser ignores syntax errors; parse again with a listener that reports them."""
    listener = _Raise()
    lexer = FHIRPathLexer(InputStream(expression))
    lexer.removeErrorListeners()
    lexer.addErrorListener(listener)
    parser = FHIRPathParser(CommonTokenStream(lexer))
    parser.removeErrorListeners()
    parser.addErrorListener(listener)
    try:
        parser.expression()
        if parser.getCurrentToken().type != Token.EOF:
            return f"unexpected {parser.getCurrentToken().text!r} after the expression"
    except CriteriaFormatError as exc:
        return exc.reason
    except Exception as exc:  # noqa: BLE001 - the ANTLR lexer raises its own error types
        return str(exc) or type(exc).__name__
    return None


def _check_fhirpath(where: str, expression: str, resource: str, variables: Iterable[str]) -> None:
    problem = fhirpath_syntax_error(expression)
    if problem is None:
        # A dry run on an empty resource catches unknown functions, wrong arity and undefined %variables.
        try:
            compiled(expression)({"resourceType": resource}, dict.fromkeys(variables, []))
        except Exception as exc:  # noqa: BLE001 - fhirpathpy signals these with bare Exception/ValueError
            problem = str(exc)
    if problem is not None:
        raise CriteriaFormatError(where, f"is not a valid FHIRPath expression ({problem})")


def _text(data: Mapping[str, Any], key: str, where: str, *, required: bool = True, limit: int = 5000) -> str:
    value = data.get(key, "")
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise CriteriaFormatError(f"{where}{key}", "must be text")
    value = value.strip()
    if required and not value:
        raise CriteriaFormatError(f"{where}{key}", "is required")
    if len(value) > limit:
        raise CriteriaFormatError(f"{where}{key}", f"must be at most {limit} characters")
    return value


def _level(value: Any, where: str) -> LevelOfCare:
    try:
        return LevelOfCare(value)
    except ValueError as exc:
        raise CriteriaFormatError(where, f"must be one of {', '.join(LEVEL_ORDER)}") from exc


def _codes(value: Any, where: str) -> tuple[str, ...]:
    if value in (None, ""):
        return ()
    if not isinstance(value, list) or not all(isinstance(v, str | int) and str(v).strip() for v in value):
        raise CriteriaFormatError(
            where, 'must be a list of codes, "system|code" (a trailing * matches a prefix; %name a variable\'s values)'
        )
    return tuple(str(v).strip() for v in value)


# Variables the application supplies to every expression (the rule module's EXAMPLE inpatient-only CPT codes).
BUILTIN_VARIABLES = ("inpatientOnlyCodes",)


def _criterion(data: Any, where: str, variables: Iterable[str] = ()) -> Criterion:
    if not isinstance(data, Mapping):
        raise CriteriaFormatError(where, "must be a mapping")
    cid = data.get("id")
    if not isinstance(cid, str) or not ID_PATTERN.match(cid):
        raise CriteriaFormatError(f"{where}.id", "must be lower-case letters, digits and _ (starting with a letter)")
    text = _text(data, "text", f"{where}.", limit=500)
    kind = data.get("type", "auto")
    if kind == "manual":
        return Criterion(
            id=cid, text=text, kind="manual", question=_text(data, "question", f"{where}.", required=False)
        )
    if kind != "auto":
        raise CriteriaFormatError(f"{where}.type", "must be auto or manual")
    resource = data.get("resource")
    if resource not in RESOURCE_TYPES:
        raise CriteriaFormatError(f"{where}.resource", f"must be one of {', '.join(RESOURCE_TYPES)}")
    names = (*BUILTIN_VARIABLES, *variables)
    codes = _codes(data.get("codes"), f"{where}.codes")
    for code in codes:
        if code.startswith("%") and code[1:] not in names:
            raise CriteriaFormatError(f"{where}.codes", f"{code} names no variable of the set")
    test = _text(data, "test", f"{where}.")
    _check_fhirpath(f"{where}.test", test, str(resource), names)
    value = _text(data, "value", f"{where}.", required=False)
    if value:
        _check_fhirpath(f"{where}.value", value, str(resource), names)
    scope = data.get("scope", "encounter")
    if scope not in SCOPES:
        raise CriteriaFormatError(f"{where}.scope", "must be encounter or patient")
    missing = data.get("when_missing", Status.UNKNOWN.value)
    if missing not in (Status.UNKNOWN, Status.NOT_MET):
        raise CriteriaFormatError(f"{where}.when_missing", "must be unknown or not_met")
    return Criterion(
        id=cid,
        text=text,
        kind="auto",
        resource=str(resource),
        codes=codes,
        test=test,
        value=value,
        scope=str(scope),
        when_missing=Status(missing),
    )


def _check_rule(rule: Any, ids: set[str], where: str) -> None:
    if isinstance(rule, str):
        if rule not in ids:
            raise CriteriaFormatError(where, f"names no criterion {rule!r}")
        return
    if not isinstance(rule, Mapping) or len(rule) != 1:
        raise CriteriaFormatError(where, 'must be a criterion id or one of {"all": [...]}, {"any": [...]}, {"not": x}')
    ((op, operand),) = rule.items()
    if op == "not":
        _check_rule(operand, ids, f"{where}.not")
    elif op in ("all", "any"):
        if not isinstance(operand, list) or not operand:
            raise CriteriaFormatError(f"{where}.{op}", "must be a non-empty list")
        for i, item in enumerate(operand):
            _check_rule(item, ids, f"{where}.{op}[{i}]")
    else:
        raise CriteriaFormatError(where, f"unknown operator {op!r}: use all, any or not")


def parse_definition(data: Any) -> CriteriaDefinition:
    """Validate a parsed criteria set. Raises CriteriaFormatError naming the offending field."""
    if not isinstance(data, Mapping):
        raise CriteriaFormatError("definition", "must be a mapping with title, citation, evidence and criteria")
    # Before the rule's checks and its evaluation (``combine``), which recurse once per level.
    if nested_deeper_than(data, AUTHORED_DOCUMENT_DEPTH):
        raise CriteriaFormatError("definition", too_deep(AUTHORED_DOCUMENT_DEPTH))
    title = _text(data, "title", "", limit=200)
    citation = _text(data, "citation", "", limit=1000)
    evidence = _text(data, "evidence", "", limit=10000)
    level = _level(data.get("level_of_care"), "level_of_care")
    fallback = data.get("fallback_level")
    fallback_level = _level(fallback, "fallback_level") if fallback not in (None, "") else None
    variables_raw = data.get("variables") or {}
    if not isinstance(variables_raw, Mapping):
        raise CriteriaFormatError("variables", "must map names to lists of values")
    variables = {str(k): _codes(v, f"variables.{k}") for k, v in variables_raw.items()}
    raw = data.get("criteria")
    if not isinstance(raw, list) or not raw:
        raise CriteriaFormatError("criteria", "must be a non-empty list")
    criteria = tuple(_criterion(c, f"criteria[{i}]", variables) for i, c in enumerate(raw))
    ids = [c.id for c in criteria]
    dupes = sorted({i for i in ids if ids.count(i) > 1})
    if dupes:
        raise CriteriaFormatError("criteria", f"ids must be unique; repeated: {', '.join(dupes)}")
    rule: Rule = data.get("rule") or {"all": ids}
    _check_rule(rule, set(ids), "rule")
    return CriteriaDefinition(
        title=title,
        citation=citation,
        evidence=evidence,
        level_of_care=level,
        fallback_level=fallback_level,
        criteria=criteria,
        rule=rule,
        example=bool(data.get("example", False)),
        variables=variables,
        applies_to=_codes(data.get("applies_to"), "applies_to"),
    )


def parse_text(text: str, fmt: str) -> CriteriaDefinition:
    return parse_definition(load_text(text, fmt))


# --- the patient's record --------------------------------------------------------------------------


@dataclass(frozen=True)
class Record:
    """One FHIR resource of the patient, with the CaseBridge record it came from."""

    resource_type: str
    record_id: int | str
    resource: Mapping[str, Any]
    in_encounter: bool = False


_CONCEPT = {
    "Condition": "code",
    "Procedure": "code",
    "Observation": "code",
    "AllergyIntolerance": "code",
    "MedicationRequest": "medicationCodeableConcept",
    "Encounter": "type",
}


def codings_of(resource: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    concept = resource.get(_CONCEPT.get(str(resource.get("resourceType")), "code"))
    if isinstance(concept, list):  # Encounter.type is a list of concepts
        return [c for cc in concept if isinstance(cc, Mapping) for c in cc.get("coding", [])]
    if isinstance(concept, Mapping):
        return list(concept.get("coding", []))
    return []


def _recency(record: Record) -> str:
    return _when(record.resource)


class PreparedRecord:
    """The patient's resources indexed by type, scope and code, built once per review."""

    def __init__(self, encounter: Mapping[str, Any] | None, records: Iterable[Record]) -> None:
        self.encounter = encounter
        self.by_type: dict[tuple[str, str], list[Record]] = {}
        self.by_code: dict[tuple[str, str, str], list[Record]] = {}
        self.codes_by_type: dict[tuple[str, str], set[tuple[str, str]]] = {}
        # Test results per (expression, variables, record): sets that share a criterion evaluate it once.
        self.memo: dict[tuple[str, str, int], bool] = {}
        if encounter is not None:
            self._add(Record("Encounter", str(encounter.get("id", "")), encounter, in_encounter=True))
        for record in records:
            if record.resource_type != "Encounter":
                self._add(record)

    def _add(self, record: Record) -> None:
        scopes = ("patient", "encounter") if record.in_encounter else ("patient",)
        keys = {(str(c.get("system", "")), str(c.get("code", ""))) for c in codings_of(record.resource)}
        for scope in scopes:
            self.by_type.setdefault((scope, record.resource_type), []).append(record)
            self.codes_by_type.setdefault((scope, record.resource_type), set()).update(keys)
            for system, code in keys:
                self.by_code.setdefault((scope, record.resource_type, f"{system}|{code}"), []).append(record)
                self.by_code.setdefault((scope, record.resource_type, f"|{code}"), []).append(record)

    def candidates(self, criterion: Criterion, variables: Mapping[str, Any] | None = None) -> list[Record]:
        """The records a criterion looks at, most recent first. A code written ``%name`` stands for the values of
        that variable (any code system; the FHIRPath test can still insist on one)."""
        key = (criterion.scope, criterion.resource)
        if not criterion.codes:
            return sorted(self.by_type.get(key, ()), key=_recency, reverse=True)
        found: dict[int, Record] = {}
        wanted_codes: list[str] = []
        for wanted in criterion.codes:
            if wanted.startswith("%"):
                wanted_codes.extend(f"|{v}" for v in (variables or {}).get(wanted[1:], ()))
            else:
                wanted_codes.append(wanted)
        for wanted in wanted_codes:
            system, _, code = wanted.rpartition("|")
            if code.endswith("*"):
                prefix = code[:-1]
                for sys_, code_ in self.codes_by_type.get(key, ()):
                    if code_.startswith(prefix) and (not system or sys_ == system):
                        for r in self.by_code.get((*key, f"{sys_}|{code_}"), ()):
                            found[id(r)] = r
            else:
                for r in self.by_code.get((*key, f"{system}|{code}"), ()):
                    found[id(r)] = r
        return sorted(found.values(), key=_recency, reverse=True)


# --- evaluation ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Evidence:
    resource_type: str
    record_id: int | str
    source_id: str
    display: str
    value: str
    at: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "resource_type": self.resource_type,
            "record_id": self.record_id,
            "source_id": self.source_id,
            "display": self.display,
            "value": self.value,
            "at": self.at,
        }


@dataclass(frozen=True)
class Answer:
    """A reviewer's answer to a manual criterion."""

    value: Status
    note: str = ""
    by: str = ""
    at: str = ""


@dataclass(frozen=True)
class CriterionResult:
    id: str
    text: str
    kind: str
    status: Status
    evidence: tuple[Evidence, ...]
    explanation: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "text": self.text,
            "kind": self.kind,
            "status": self.status.value,
            "evidence": [e.as_dict() for e in self.evidence],
            "explanation": self.explanation,
        }


@dataclass(frozen=True)
class SetResult:
    title: str
    level_of_care: LevelOfCare
    fallback_level: LevelOfCare | None
    status: Status
    criteria: tuple[CriterionResult, ...]
    example: bool = False

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "level_of_care": self.level_of_care.value,
            "fallback_level": self.fallback_level.value if self.fallback_level else None,
            "status": self.status.value,
            "example": self.example,
            "criteria": [c.as_dict() for c in self.criteria],
        }


def _first_text(values: list[Any]) -> str:
    for v in values:
        if v is None:
            continue
        if isinstance(v, Mapping):
            if "value" in v:
                return f"{v.get('value')} {v.get('unit', '')}".strip()
            return str(v.get("display") or v.get("text") or v.get("code") or "")
        return str(v)
    return ""


def _display(resource: Mapping[str, Any]) -> str:
    for c in codings_of(resource):
        if c.get("display") or c.get("code"):
            return str(c.get("display") or c.get("code"))
    concept = resource.get(_CONCEPT.get(str(resource.get("resourceType")), "code"))
    if isinstance(concept, Mapping) and concept.get("text"):
        return str(concept["text"])
    return str(resource.get("resourceType", ""))


def _when(resource: Mapping[str, Any]) -> str:
    for key in ("effectiveDateTime", "performedDateTime", "authoredOn", "onsetDateTime", "recordedDate"):
        if resource.get(key):
            return str(resource[key])
    for key in ("period", "performedPeriod", "effectivePeriod"):
        period = resource.get(key)
        if isinstance(period, Mapping) and period.get("start"):
            return str(period["start"])
    return ""


def _default_value(resource: Mapping[str, Any]) -> str:
    q = resource.get("valueQuantity")
    if isinstance(q, Mapping) and "value" in q:
        return f"{q['value']} {q.get('unit', '')}".strip()
    for key in ("valueString", "valueInteger", "valueBoolean"):
        if key in resource:
            return str(resource[key])
    cc = resource.get("valueCodeableConcept")
    if isinstance(cc, Mapping):
        return _first_text(list(cc.get("coding", []))) or str(cc.get("text", ""))
    return ""


def _evidence(record: Record, criterion: Criterion, env: Mapping[str, Any]) -> Evidence:
    value = ""
    if criterion.value:
        try:
            value = _first_text(compiled(criterion.value)(record.resource, env))
        except Exception:  # noqa: BLE001 - a value that cannot be shown is left blank, not an error
            value = ""
    return Evidence(
        resource_type=record.resource_type,
        record_id=record.record_id,
        source_id=str(record.resource.get("id", "")),
        display=_display(record.resource),
        value=value or _default_value(record.resource),
        at=_when(record.resource),
    )


def _truthy(result: list[Any]) -> bool:
    # FHIRPath: a singleton true is true; an empty collection is "no"; anything else non-boolean counts as present.
    return bool(result) and all(r is not False for r in result)


def evaluate_criterion(
    criterion: Criterion,
    prepared: PreparedRecord,
    *,
    answers: Mapping[str, Answer] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> CriterionResult:
    if criterion.kind == "manual":
        answer = (answers or {}).get(criterion.id)
        if answer is None or answer.value is Status.UNKNOWN:
            return CriterionResult(criterion.id, criterion.text, "manual", Status.UNKNOWN, (), "awaiting the reviewer")
        who = f" by {answer.by}" if answer.by else ""
        note = f": {answer.note}" if answer.note else ""
        return CriterionResult(
            criterion.id, criterion.text, "manual", answer.value, (), f"answered {answer.value.value}{who}{note}"
        )
    env = dict(variables or {})
    candidates = prepared.candidates(criterion, env)
    where = "this stay" if criterion.scope == "encounter" else "the patient's record"
    wanted = f" coded {', '.join(criterion.codes)}" if criterion.codes else ""
    if not candidates:
        status = criterion.when_missing
        return CriterionResult(
            criterion.id, criterion.text, "auto", status, (), f"no {criterion.resource}{wanted} in {where}"
        )
    fn = compiled(criterion.test)
    env_key = repr(sorted((k, tuple(v) if isinstance(v, list) else v) for k, v in env.items()))
    matched: list[Record] = []
    errors = 0
    for record in candidates:
        memo_key = (criterion.test, env_key, id(record))
        hit = prepared.memo.get(memo_key)
        if hit is None:
            try:
                hit = _truthy(fn(record.resource, env))
            except Exception:  # noqa: BLE001 - one malformed resource must not sink the review
                errors += 1
                continue
            prepared.memo[memo_key] = hit
        if hit:
            matched.append(record)
            if len(matched) >= MAX_EVIDENCE:
                break  # candidates come most recent first: the latest matches are the evidence
    if matched:
        evidence = tuple(_evidence(r, criterion, env) for r in matched)
        count = f"at least {len(matched)}" if len(matched) >= MAX_EVIDENCE else str(len(matched))
        return CriterionResult(
            criterion.id,
            criterion.text,
            "auto",
            Status.MET,
            evidence,
            f"{count} of {len(candidates)} {criterion.resource} record(s) in {where} match",
        )
    if errors == len(candidates):
        return CriterionResult(
            criterion.id, criterion.text, "auto", Status.UNKNOWN, (), "the expression could not be evaluated"
        )
    checked = tuple(_evidence(r, criterion, env) for r in candidates[:MAX_EVIDENCE])
    return CriterionResult(
        criterion.id,
        criterion.text,
        "auto",
        Status.NOT_MET,
        checked,
        f"none of {len(candidates)} {criterion.resource}{wanted} record(s) in {where} match",
    )


def combine(rule: Rule, statuses: Mapping[str, Status]) -> Status:
    """Kleene three-valued logic over the criteria's statuses."""
    if isinstance(rule, str):
        return statuses[rule]
    ((op, operand),) = rule.items()
    if op == "not":
        inner = combine(operand, statuses)
        return {Status.MET: Status.NOT_MET, Status.NOT_MET: Status.MET}.get(inner, Status.UNKNOWN)
    parts = [combine(item, statuses) for item in operand]
    decisive, other = (Status.NOT_MET, Status.MET) if op == "all" else (Status.MET, Status.NOT_MET)
    if decisive in parts:
        return decisive
    if Status.UNKNOWN in parts:
        return Status.UNKNOWN
    return other


def evaluate_set(
    definition: CriteriaDefinition,
    prepared: PreparedRecord,
    *,
    answers: Mapping[str, Answer] | None = None,
    variables: Mapping[str, Any] | None = None,
) -> SetResult:
    env: dict[str, Any] = {**{k: list(v) for k, v in definition.variables.items()}, **dict(variables or {})}
    results = tuple(evaluate_criterion(c, prepared, answers=answers, variables=env) for c in definition.criteria)
    status = combine(definition.rule, {r.id: r.status for r in results})
    return SetResult(
        title=definition.title,
        level_of_care=definition.level_of_care,
        fallback_level=definition.fallback_level,
        status=status,
        criteria=results,
        example=definition.example,
    )


def applies(definition: CriteriaDefinition, prepared: PreparedRecord) -> bool:
    """Is the set meant for this stay? Sets without ``applies_to`` (e.g. Two-Midnight) apply to every stay;
    others when a diagnosis of the stay, or the encounter's reason, carries one of their codes."""
    if not definition.applies_to:
        return True
    probe = Criterion(id="applies", text="", kind="auto", resource="Condition", codes=definition.applies_to)
    if prepared.candidates(probe):
        return True
    reasons = (prepared.encounter or {}).get("reasonCode") or []
    keys = {
        (str(c.get("system", "")), str(c.get("code", "")))
        for rc in reasons
        if isinstance(rc, Mapping)
        for c in rc.get("coding", [])
    }
    for wanted in definition.applies_to:
        system, _, code = wanted.rpartition("|")
        for sys_, code_ in keys:
            if (not system or system == sys_) and (
                code_.startswith(code[:-1]) if code.endswith("*") else code_ == code
            ):
                return True
    return False


@dataclass(frozen=True)
class Recommendation:
    level: LevelOfCare | None
    reason: str
    pending: tuple[str, ...]
    """Sets whose result is still unknown (reviewer answers or data missing) that support a higher level."""

    def as_dict(self) -> dict[str, Any]:
        return {"level": self.level.value if self.level else None, "reason": self.reason, "pending": list(self.pending)}


def recommend(results: Sequence[SetResult]) -> Recommendation:
    """The most intensive level a met set supports; failing that, the most intensive fallback of a set not met."""
    candidates: list[tuple[LevelOfCare, str]] = []
    for r in results:
        if r.status is Status.MET:
            candidates.append((r.level_of_care, f"{r.title}: criteria met"))
        elif r.status is Status.NOT_MET and r.fallback_level is not None:
            candidates.append((r.fallback_level, f"{r.title}: criteria not met, its fallback level"))
    candidates.sort(key=lambda c: LEVEL_ORDER.index(c[0]))
    level = candidates[0][0] if candidates else None
    pending = tuple(
        r.title
        for r in results
        if r.status is Status.UNKNOWN
        and (level is None or LEVEL_ORDER.index(r.level_of_care) < LEVEL_ORDER.index(level))
    )
    if level is None:
        reason = (
            "no set is met yet: answer the open criteria or add the missing data"
            if pending
            else "no criteria set supports a level of care for this stay"
        )
        return Recommendation(level=None, reason=reason, pending=pending)
    return Recommendation(level=level, reason=candidates[0][1], pending=pending)


# --- the starter library ---------------------------------------------------------------------------

STARTER_LABEL = "Example for clinical leadership to replace"


@dataclass(frozen=True)
class StarterSet:
    key: str
    text: str
    fmt: str


def starter_library() -> list[StarterSet]:
    """The shipped example sets (``data/criteria/*.yaml``), as authored text. Examples, not clinical policy."""
    folder = resources.files("casebridge.utilization").joinpath("data", "criteria")
    out = []
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            key = re.sub(r"^\d+_", "", entry.name.removesuffix(".yaml"))
            out.append(StarterSet(key=key, text=entry.read_text("utf-8"), fmt="yaml"))
    return out
