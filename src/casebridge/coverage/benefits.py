"""Plan benefits, member accumulators, and what a priced service line costs whom.

A plan lists, per service category, in-network and out-of-network terms:
covered or not, whether the deductible applies, coinsurance, a copay per unit,
a unit limit per benefit period (visits or days) and whether prior
authorization is required. A member's accumulators record how much of the
deductible is met, how much out-of-pocket has been spent, and units used.

:func:`adjudicate` follows the usual order of an explanation of benefits:
coverage -> prior authorization -> unit limit -> deductible -> copay ->
coinsurance -> out-of-pocket maximum, and records one plain sentence per step
in ``assumptions``. Simplifications, stated so nobody mistakes them for plan
law: the allowed amount is the price given on the line (no separate billed
charge), the deductible and out-of-pocket maximum are combined across networks,
and the non-covered part does not count toward the out-of-pocket maximum (as
under the ACA, 45 CFR 156.130, cost sharing counts only for covered benefits).

:func:`load_plans` reads plans and members from a dict parsed from YAML or
JSON; every validation error names the path of the bad value, e.g.
``plans[0].benefits.home_infusion_drug.in_network.coinsurance: must be between 0 and 1``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from decimal import Decimal, InvalidOperation
from fractions import Fraction
from typing import Any, Literal

from casebridge.coverage.money import Cents, MoneyError, format_cents, round_half_up, to_cents

Network = Literal["in_network", "out_of_network"]
NETWORKS: tuple[Network, ...] = ("in_network", "out_of_network")

#: Service categories the engine knows. A plan file naming anything else is
#: almost always a typo, so the loader refuses it rather than ignore a benefit.
SERVICE_CATEGORIES: frozenset[str] = frozenset(
    {
        "inpatient_day",
        "observation_day",
        "snf_day",
        "irf_day",
        "ltach_day",
        "home_health_visit_nursing",
        "home_health_visit_pt",
        "home_health_visit_ot",
        "home_health_visit_slp",
        "home_health_visit_msw",
        "home_health_visit_aide",
        "home_infusion_drug",
        "home_infusion_equipment",
        "home_infusion_nursing",
        "dme",
        "outpatient_infusion",
        "physician_visit",
        "ambulance",
    }
)


@dataclass(frozen=True)
class NetworkTerms:
    """Cost-sharing terms for one service category in one network."""

    covered: bool
    deductible_applies: bool = True
    coinsurance: Decimal = Decimal(0)
    copay: Cents = 0
    unit_limit: int | None = None
    prior_auth_required: bool = False


NOT_COVERED = NetworkTerms(covered=False)


@dataclass(frozen=True)
class BenefitTerms:
    """A service category's terms in and out of network."""

    in_network: NetworkTerms
    out_of_network: NetworkTerms = NOT_COVERED

    def for_network(self, network: Network) -> NetworkTerms:
        return self.in_network if network == "in_network" else self.out_of_network


@dataclass(frozen=True)
class Plan:
    """An insurer plan: annual deductible, out-of-pocket maximum, benefits by category."""

    id: str
    name: str
    deductible: Cents
    oop_max: Cents
    benefits: Mapping[str, BenefitTerms]

    def terms(self, category: str, network: Network) -> NetworkTerms:
        benefit = self.benefits.get(category)
        return NOT_COVERED if benefit is None else benefit.for_network(network)


@dataclass(frozen=True)
class Accumulators:
    """A member's year-to-date figures against the plan's limits."""

    deductible_met: Cents = 0
    oop_spent: Cents = 0
    units_used: Mapping[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class ServiceLine:
    """A priced service: ``units`` of ``category`` at ``unit_price`` (the allowed amount)."""

    category: str
    units: int
    unit_price: Cents
    network: Network = "in_network"
    prior_auth_obtained: bool = True

    @property
    def amount(self) -> Cents:
        return self.units * self.unit_price


@dataclass(frozen=True)
class CostShare:
    """Who pays what for one service line, with the reasoning."""

    line: ServiceLine
    insurer: Cents
    patient_oop: Cents
    non_covered: Cents
    assumptions: tuple[str, ...]
    after: Accumulators

    @property
    def patient_liability(self) -> Cents:
        """What the patient owes if nobody else steps in: cost sharing plus the non-covered part."""
        return self.patient_oop + self.non_covered


def adjudicate(plan: Plan, accumulators: Accumulators, line: ServiceLine) -> CostShare:
    """Split one service line into insurer payment, patient out-of-pocket and non-covered part.

    The three parts always add up to the line amount. See the module docstring
    for the order of steps and the simplifications.
    """
    if line.units < 0 or line.unit_price < 0:
        raise ValueError("service line units and price must not be negative")
    terms = plan.terms(line.category, line.network)
    notes: list[str] = []
    network_words = line.network.replace("_", "-")
    label = f"{line.category} ({network_words})"
    total = line.amount
    notes.append(f"{label}: {line.units} x {format_cents(line.unit_price)} = {format_cents(total)} allowed")

    if not terms.covered:
        notes.append(f"{label} is not a covered benefit of {plan.name}: all {format_cents(total)} is non-covered")
        return CostShare(line, 0, 0, total, tuple(notes), accumulators)
    if terms.prior_auth_required and not line.prior_auth_obtained:
        notes.append(f"{label} requires prior authorization, which was not obtained: treated as denied")
        return CostShare(line, 0, 0, total, tuple(notes), accumulators)
    if terms.prior_auth_required:
        notes.append(f"{label} requires prior authorization; assumed obtained")

    covered_units = line.units
    used = accumulators.units_used.get(line.category, 0)
    if terms.unit_limit is not None:
        left = max(0, terms.unit_limit - used)
        covered_units = min(line.units, left)
        notes.append(
            f"limit {terms.unit_limit} units, {used} used, {left} left: {covered_units} of {line.units} covered"
        )
    non_covered = (line.units - covered_units) * line.unit_price
    if non_covered:
        notes.append(f"{line.units - covered_units} units over the limit: {format_cents(non_covered)} non-covered")
    covered = covered_units * line.unit_price

    deductible_part = 0
    if terms.deductible_applies:
        deductible_left = max(0, plan.deductible - accumulators.deductible_met)
        deductible_part = min(covered, deductible_left)
        notes.append(
            f"deductible {format_cents(plan.deductible)}, {format_cents(accumulators.deductible_met)} met: "
            f"patient pays {format_cents(deductible_part)} toward it"
        )
    else:
        notes.append("deductible does not apply to this benefit")
    after_deductible = covered - deductible_part

    copay_part = min(after_deductible, terms.copay * covered_units)
    if terms.copay:
        notes.append(f"copay {format_cents(terms.copay)} x {covered_units} units = {format_cents(copay_part)}")
    after_copay = after_deductible - copay_part

    coinsurance_part = round_half_up(Fraction(terms.coinsurance) * after_copay)
    if terms.coinsurance:
        notes.append(
            f"coinsurance {terms.coinsurance:%} of {format_cents(after_copay)} = {format_cents(coinsurance_part)}"
            " (half a cent rounds up)"
        )

    sharing = deductible_part + copay_part + coinsurance_part
    oop_left = max(0, plan.oop_max - accumulators.oop_spent)
    patient_oop = min(sharing, oop_left)
    if patient_oop < sharing:
        notes.append(
            f"out-of-pocket maximum {format_cents(plan.oop_max)} reached: patient pays {format_cents(patient_oop)}"
            f" of {format_cents(sharing)} cost sharing, insurer the rest"
        )
    insurer = covered - patient_oop
    notes.append(
        f"insurer pays {format_cents(insurer)}, patient {format_cents(patient_oop)},"
        f" non-covered {format_cents(non_covered)}"
    )

    # Only the deductible portion of cost sharing actually paid counts toward the deductible.
    deductible_paid = min(deductible_part, patient_oop)
    units_used = dict(accumulators.units_used)
    units_used[line.category] = used + covered_units
    after = replace(
        accumulators,
        deductible_met=accumulators.deductible_met + deductible_paid,
        oop_spent=accumulators.oop_spent + patient_oop,
        units_used=units_used,
    )
    return CostShare(line, insurer, patient_oop, non_covered, tuple(notes), after)


def adjudicate_lines(
    plan: Plan, accumulators: Accumulators, lines: list[ServiceLine]
) -> tuple[list[CostShare], Accumulators]:
    """Adjudicate lines in order, carrying the accumulators from one to the next."""
    shares: list[CostShare] = []
    current = accumulators
    for line in lines:
        share = adjudicate(plan, current, line)
        shares.append(share)
        current = share.after
    return shares, current


# --- loading ---------------------------------------------------------------


class SchemaError(ValueError):
    """A document failed validation; ``errors`` holds one ``path: message`` per problem."""

    def __init__(self, errors: list[str]) -> None:
        super().__init__("\n".join(errors))
        self.errors = errors


class DocumentReader:
    """Reads a parsed YAML/JSON document while tracking the path of each value.

    Collects every problem instead of stopping at the first one, so a case
    manager fixing a file sees all of its mistakes at once.
    """

    def __init__(self) -> None:
        self.errors: list[str] = []
        self._path: list[str | int] = []

    @property
    def path(self) -> str:
        text = ""
        for part in self._path:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else part)
        return text or "(document)"

    @contextmanager
    def at(self, part: str | int) -> Iterator[None]:
        self._path.append(part)
        try:
            yield
        finally:
            self._path.pop()

    def error(self, message: str) -> None:
        self.errors.append(f"{self.path}: {message}")

    def raise_if_errors(self) -> None:
        if self.errors:
            raise SchemaError(self.errors)

    def mapping(self, value: object, allowed: set[str] | None = None) -> dict[str, Any]:
        if not isinstance(value, Mapping):
            self.error(f"must be a mapping, got {type(value).__name__}")
            return {}
        result = {str(k): v for k, v in value.items()}
        if allowed is not None:
            for key in sorted(set(result) - allowed):
                with self.at(key):
                    self.error(f"unknown field (allowed: {', '.join(sorted(allowed))})")
        return result

    def sequence(self, value: object) -> list[Any]:
        if not isinstance(value, list):
            self.error(f"must be a list, got {type(value).__name__}")
            return []
        return value

    def field(self, data: Mapping[str, Any], key: str, required: bool = True) -> Any:
        if key not in data or data[key] is None:
            if required:
                with self.at(key):
                    self.error("is required")
            return None
        return data[key]

    def text(self, data: Mapping[str, Any], key: str, default: str | None = None) -> str:
        value = self.field(data, key, required=default is None)
        if value is None:
            return default or ""
        if not isinstance(value, str) or not value.strip():
            with self.at(key):
                self.error("must be a non-empty string")
            return default or ""
        return value

    def flag(self, data: Mapping[str, Any], key: str, default: bool) -> bool:
        value = self.field(data, key, required=False)
        if value is None:
            return default
        if not isinstance(value, bool):
            with self.at(key):
                self.error("must be true or false")
            return default
        return value

    def money(self, data: Mapping[str, Any], key: str, default: Cents | None = None) -> Cents:
        value = self.field(data, key, required=default is None)
        if value is None:
            return default or 0
        with self.at(key):
            if isinstance(value, float):
                # YAML gives 1000.5 as a float; go through its shortest repr, not its binary value.
                value = repr(value)
            try:
                cents = to_cents(value)
            except MoneyError:
                self.error("must be an amount in dollars with at most two decimal places")
                return 0
            if cents < 0:
                self.error("must not be negative")
                return 0
            return cents

    def count(self, data: Mapping[str, Any], key: str, default: int | None = None) -> int:
        value = self.field(data, key, required=default is None)
        if value is None:
            return default or 0
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            with self.at(key):
                self.error("must be a whole number, 0 or more")
            return 0
        return value

    def optional_count(self, data: Mapping[str, Any], key: str) -> int | None:
        if data.get(key) is None:
            return None
        return self.count(data, key)

    def fraction(self, data: Mapping[str, Any], key: str, default: Decimal) -> Decimal:
        value = self.field(data, key, required=False)
        if value is None:
            return default
        with self.at(key):
            try:
                if isinstance(value, bool):
                    raise InvalidOperation
                number = Decimal(repr(value)) if isinstance(value, float) else Decimal(str(value))
            except InvalidOperation:
                self.error("must be a number between 0 and 1")
                return default
            if not (0 <= number <= 1):
                self.error("must be between 0 and 1")
                return default
            return number


_TERM_FIELDS = {"covered", "deductible_applies", "coinsurance", "copay", "unit_limit", "prior_auth_required"}


def _read_terms(reader: DocumentReader, raw: object) -> NetworkTerms:
    data = reader.mapping(raw, _TERM_FIELDS)
    return NetworkTerms(
        covered=reader.flag(data, "covered", default=True),
        deductible_applies=reader.flag(data, "deductible_applies", default=True),
        coinsurance=reader.fraction(data, "coinsurance", default=Decimal(0)),
        copay=reader.money(data, "copay", default=0),
        unit_limit=reader.optional_count(data, "unit_limit"),
        prior_auth_required=reader.flag(data, "prior_auth_required", default=False),
    )


def _read_plan(reader: DocumentReader, raw: object) -> Plan:
    data = reader.mapping(raw, {"id", "name", "deductible", "oop_max", "benefits"})
    benefits: dict[str, BenefitTerms] = {}
    with reader.at("benefits"):
        raw_benefits = reader.mapping(reader.field(data, "benefits", required=False) or {})
        for category, raw_terms in raw_benefits.items():
            with reader.at(category):
                if category not in SERVICE_CATEGORIES:
                    reader.error("unknown service category")
                    continue
                terms_data = reader.mapping(raw_terms, set(NETWORKS))
                if "in_network" not in terms_data:
                    with reader.at("in_network"):
                        reader.error("is required")
                with reader.at("in_network"):
                    in_network = _read_terms(reader, terms_data.get("in_network", {}))
                with reader.at("out_of_network"):
                    out_network = (
                        _read_terms(reader, terms_data["out_of_network"])
                        if "out_of_network" in terms_data
                        else NOT_COVERED
                    )
                benefits[category] = BenefitTerms(in_network, out_network)
    plan_id = reader.text(data, "id")
    return Plan(
        id=plan_id,
        name=reader.text(data, "name", default=plan_id or "unnamed plan"),
        deductible=reader.money(data, "deductible"),
        oop_max=reader.money(data, "oop_max"),
        benefits=benefits,
    )


def _read_accumulators(reader: DocumentReader, raw: object) -> Accumulators:
    data = reader.mapping(raw, {"deductible_met", "oop_spent", "units_used"})
    units: dict[str, int] = {}
    with reader.at("units_used"):
        raw_units = reader.mapping(data.get("units_used") or {})
        for category in raw_units:
            if category not in SERVICE_CATEGORIES:
                with reader.at(category):
                    reader.error("unknown service category")
                continue
            units[category] = reader.count(raw_units, category)
    return Accumulators(
        deductible_met=reader.money(data, "deductible_met", default=0),
        oop_spent=reader.money(data, "oop_spent", default=0),
        units_used=units,
    )


@dataclass(frozen=True)
class Member:
    """A member enrolled in a plan, with accumulators."""

    id: str
    plan_id: str
    accumulators: Accumulators


@dataclass(frozen=True)
class BenefitsDocument:
    plans: dict[str, Plan]
    members: dict[str, Member]


def load_plans(document: object) -> BenefitsDocument:
    """Validate and load ``{"plans": [...], "members": [...]}``; raise :class:`SchemaError` naming paths."""
    reader = DocumentReader()
    root = reader.mapping(document, {"plans", "members"})
    plans: dict[str, Plan] = {}
    with reader.at("plans"):
        for index, raw in enumerate(reader.sequence(reader.field(root, "plans") or [])):
            with reader.at(index):
                plan = _read_plan(reader, raw)
                if plan.id in plans:
                    with reader.at("id"):
                        reader.error(f"duplicate plan id {plan.id!r}")
                plans[plan.id] = plan
    members: dict[str, Member] = {}
    with reader.at("members"):
        for index, raw in enumerate(reader.sequence(root.get("members") or [])):
            with reader.at(index):
                data = reader.mapping(raw, {"id", "plan", "accumulators"})
                plan_id = reader.text(data, "plan")
                if plan_id and plan_id not in plans:
                    with reader.at("plan"):
                        reader.error(f"unknown plan {plan_id!r}")
                with reader.at("accumulators"):
                    accumulators = _read_accumulators(reader, data.get("accumulators") or {})
                member = Member(reader.text(data, "id"), plan_id, accumulators)
                members[member.id] = member
    reader.raise_if_errors()
    return BenefitsDocument(plans, members)
