"""Least-cost care: choose services and providers that meet every need, exactly.

The choice is a 0/1 mixed-integer program solved with SciPy's ``milp`` (HiGHS
branch-and-cut) with a relative MIP gap of zero, so a reported optimum is a
*proven* optimum, not a heuristic:

    minimise    sum_j cost_j x_j                      (total cost, all payers)
    subject to  sum_{j serves n} x_j  = 1  (or >= 1)  for every need n
                sum_j patient_oop_j x_j <= limit      (patient's out-of-pocket limit)
                sum_{j at p} x_j <= capacity_p        (provider capacity, optional)
                x_j in {0, 1}; x_j = 0 for infeasible candidates

Candidates that fail a feasibility check (not clinically eligible, provider
does not accept, caregiver required but unavailable, excluded by the patient's
preference) are removed before solving, and the reason is kept. Ranked
alternatives come from re-solving with a *no-good cut* that forbids each plan
already found (``sum_{j in S} x_j - sum_{j not in S} x_j <= |S| - 1``), so the
k-th alternative is the k-th cheapest feasible plan. When an out-of-pocket limit
is set, the cheapest plan ignoring it is also reported if it is cheaper, with
the amount by which it exceeds the limit.

*Care options* (stay inpatient 21 days; SNF 21 days; home with home health and
home infusion; daily outpatient infusion) are named bundles of priced service
lines. :func:`evaluate_care_option` prices one per party through the plan's
benefit rules; :func:`choose_care_option` picks the least-cost feasible one with
the same solver, as a one-need problem.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
from scipy.optimize import Bounds, LinearConstraint, milp
from scipy.sparse import csr_array

from casebridge.coverage.benefits import Accumulators, Plan, ServiceLine, adjudicate
from casebridge.coverage.money import Cents, format_cents

CoverMode = Literal["exactly_once", "at_least_once"]
Status = Literal["optimal", "infeasible", "not_solved"]


@dataclass(frozen=True)
class Need:
    id: str
    description: str = ""


@dataclass(frozen=True)
class Candidate:
    """One way to meet one need: a service from a provider, with its cost to each party."""

    id: str
    need_id: str
    provider_id: str
    service: str
    total_cost: Cents
    patient_oop: Cents = 0
    party_costs: Mapping[str, Cents] = field(default_factory=dict)
    clinically_eligible: bool = True
    provider_accepts: bool = True
    requires_caregiver: bool = False
    excluded_by_patient: bool = False
    #: The eligibility rules that failed, each with its reason (RULES.md), when the rules decided it.
    ineligible_reasons: tuple[str, ...] = ()

    def infeasibility(self, caregiver_available: bool) -> tuple[str, ...]:
        """Why this candidate cannot be used, in the case manager's words; empty if it can."""
        reasons: list[str] = list(self.ineligible_reasons)
        if not self.clinically_eligible:
            reasons.append("marked as not meeting the clinical eligibility criteria")
        if not self.provider_accepts:
            reasons.append(f"{self.provider_id} does not accept the patient")
        if self.requires_caregiver and not caregiver_available:
            reasons.append("needs a caregiver and none is available")
        if self.excluded_by_patient:
            reasons.append("the patient declined it")
        return tuple(reasons)


@dataclass(frozen=True)
class Problem:
    needs: Sequence[Need]
    candidates: Sequence[Candidate]
    patient_oop_limit: Cents | None = None
    provider_capacity: Mapping[str, int] = field(default_factory=dict)
    caregiver_available: bool = True
    cover: CoverMode = "exactly_once"


@dataclass(frozen=True)
class Selection:
    """A plan: the chosen candidates and what it costs in total and to each party."""

    candidates: tuple[Candidate, ...]
    total_cost: Cents
    patient_oop: Cents
    party_costs: Mapping[str, Cents]

    @classmethod
    def of(cls, chosen: Sequence[Candidate]) -> Selection:
        parties: dict[str, Cents] = {}
        for candidate in chosen:
            for party, amount in candidate.party_costs.items():
                parties[party] = parties.get(party, 0) + amount
        ordered = tuple(sorted(chosen, key=lambda c: (c.need_id, c.id)))
        return cls(ordered, sum(c.total_cost for c in chosen), sum(c.patient_oop for c in chosen), parties)

    @property
    def ids(self) -> frozenset[str]:
        return frozenset(c.id for c in self.candidates)


@dataclass(frozen=True)
class Alternative:
    """A plan that lost to the best one, and why."""

    selection: Selection
    reason: str
    within_limits: bool = True


@dataclass(frozen=True)
class OptimizationResult:
    status: Status
    proven_optimal: bool
    best: Selection | None
    alternatives: tuple[Alternative, ...]
    excluded: Mapping[str, tuple[str, ...]]
    explanation: tuple[str, ...]


class _Model:
    """The MILP for one problem over its feasible candidates; cuts can be added between solves."""

    def __init__(self, problem: Problem, feasible: Sequence[Candidate], with_oop_limit: bool) -> None:
        self.problem = problem
        self.candidates = list(feasible)
        self.cost = np.array([c.total_cost for c in self.candidates], dtype=float)
        rows: list[dict[int, float]] = []
        lower: list[float] = []
        upper: list[float] = []
        index_by_need: dict[str, list[int]] = {n.id: [] for n in problem.needs}
        for j, candidate in enumerate(self.candidates):
            index_by_need[candidate.need_id].append(j)
        for need in problem.needs:
            rows.append(dict.fromkeys(index_by_need[need.id], 1.0))
            lower.append(1.0)
            upper.append(1.0 if problem.cover == "exactly_once" else np.inf)
        if with_oop_limit and problem.patient_oop_limit is not None:
            rows.append({j: float(c.patient_oop) for j, c in enumerate(self.candidates)})
            lower.append(-np.inf)
            upper.append(float(problem.patient_oop_limit))
        for provider, capacity in sorted(problem.provider_capacity.items()):
            rows.append({j: 1.0 for j, c in enumerate(self.candidates) if c.provider_id == provider})
            lower.append(-np.inf)
            upper.append(float(capacity))
        self.rows, self.lower, self.upper = rows, lower, upper

    def forbid(self, chosen: frozenset[int]) -> None:
        """No-good cut: any later solution must differ from ``chosen`` in at least one variable."""
        self.rows.append({j: (1.0 if j in chosen else -1.0) for j in range(len(self.candidates))})
        self.lower.append(-np.inf)
        self.upper.append(float(len(chosen) - 1))

    def solve(self, time_limit: float, relax: bool = False) -> tuple[Status, frozenset[int], float]:
        count = len(self.candidates)
        if count == 0:
            return ("infeasible" if self.problem.needs else "optimal"), frozenset(), 0.0
        data, row_index, col_index = [], [], []
        for i, row in enumerate(self.rows):
            for j, value in row.items():
                row_index.append(i)
                col_index.append(j)
                data.append(value)
        matrix = csr_array((data, (row_index, col_index)), shape=(len(self.rows), count))
        result = milp(
            self.cost,
            constraints=LinearConstraint(matrix, np.array(self.lower), np.array(self.upper)),
            integrality=np.zeros(count) if relax else np.ones(count),
            bounds=Bounds(0, 1),
            # Zero gap: HiGHS must prove optimality, not stop at 0.01% as by default.
            options={"mip_rel_gap": 0.0, "time_limit": time_limit, "presolve": True},
        )
        if result.status == 0:
            chosen = frozenset(j for j in range(count) if result.x[j] > 0.5)
            return "optimal", chosen, float(result.fun)
        if result.status == 2:
            return "infeasible", frozenset(), float("nan")
        return "not_solved", frozenset(), float("nan")


def _differences(best: Selection, other: Selection) -> str:
    """Which needs are met differently, e.g. ``wound care: Acme (home visit) instead of Beta (clinic)``."""
    parts = []
    needs = sorted({c.need_id for c in best.candidates} | {c.need_id for c in other.candidates})
    for need in needs:
        mine = sorted(f"{c.provider_id} ({c.service})" for c in other.candidates if c.need_id == need)
        theirs = sorted(f"{c.provider_id} ({c.service})" for c in best.candidates if c.need_id == need)
        if mine != theirs:
            parts.append(f"{need}: {', '.join(mine) or 'nothing'} instead of {', '.join(theirs) or 'nothing'}")
    return "; ".join(parts)


def split_feasible(problem: Problem) -> tuple[list[Candidate], dict[str, tuple[str, ...]]]:
    """Candidates that pass every feasibility check, and the reasons for the others."""
    known_needs = {n.id for n in problem.needs}
    feasible: list[Candidate] = []
    excluded: dict[str, tuple[str, ...]] = {}
    for candidate in problem.candidates:
        if candidate.need_id not in known_needs:
            raise ValueError(f"candidate {candidate.id} is for unknown need {candidate.need_id!r}")
        reasons = candidate.infeasibility(problem.caregiver_available)
        if reasons:
            excluded[candidate.id] = reasons
        else:
            feasible.append(candidate)
    return feasible, excluded


def optimize(problem: Problem, *, alternatives: int = 3, time_limit: float = 30.0) -> OptimizationResult:
    """Cheapest plan meeting every need within the limits, proven optimal, plus ranked runners-up."""
    feasible, excluded = split_feasible(problem)
    explanation: list[str] = []
    for need in problem.needs:
        if not any(c.need_id == need.id for c in feasible):
            reasons = [f"{c.id}: {', '.join(excluded[c.id])}" for c in problem.candidates if c.need_id == need.id]
            explanation.append(
                f"need {need.id} has no feasible candidate" + (f" ({'; '.join(reasons)})" if reasons else "")
            )
    if explanation:
        return OptimizationResult("infeasible", True, None, (), excluded, tuple(explanation))

    model = _Model(problem, feasible, with_oop_limit=True)
    status, chosen, _ = model.solve(time_limit)
    if status != "optimal":
        explanation.append(
            _why_infeasible(problem, feasible, time_limit)
            if status == "infeasible"
            else "solver stopped before proving optimality (time limit)"
        )
        return OptimizationResult(status, status == "infeasible", None, (), excluded, tuple(explanation))

    best = Selection.of([model.candidates[j] for j in chosen])
    explanation.append(f"least-cost plan {format_cents(best.total_cost)}, proven optimal by HiGHS with zero MIP gap")
    ranked: list[Alternative] = []
    for _ in range(alternatives):
        model.forbid(chosen)
        status, chosen, _ = model.solve(time_limit)
        if status != "optimal":
            break
        runner_up = Selection.of([model.candidates[j] for j in chosen])
        extra = runner_up.total_cost - best.total_cost
        ranked.append(
            Alternative(runner_up, f"more expensive by {format_cents(extra)} ({_differences(best, runner_up)})")
        )

    limit = problem.patient_oop_limit
    if limit is not None:
        unlimited = _Model(problem, feasible, with_oop_limit=False)
        status, free_choice, _ = unlimited.solve(time_limit)
        if status == "optimal":
            cheaper = Selection.of([unlimited.candidates[j] for j in free_choice])
            if cheaper.total_cost < best.total_cost:
                ranked.insert(
                    0,
                    Alternative(
                        cheaper,
                        f"cheaper by {format_cents(best.total_cost - cheaper.total_cost)} but the patient would pay "
                        f"{format_cents(cheaper.patient_oop)}, over the {format_cents(limit)} out-of-pocket limit by "
                        f"{format_cents(cheaper.patient_oop - limit)}",
                        within_limits=False,
                    ),
                )
    return OptimizationResult("optimal", True, best, tuple(ranked), excluded, tuple(explanation))


def _why_infeasible(problem: Problem, feasible: Sequence[Candidate], time_limit: float) -> str:
    """Name the limit that makes the problem infeasible: out-of-pocket limit or provider capacity."""
    if problem.patient_oop_limit is not None:
        without = _Model(problem, feasible, with_oop_limit=False)
        status, _, _ = without.solve(time_limit)
        if status == "optimal":
            # Least out-of-pocket any plan can reach, to show how far off the limit is.
            oop_model = _Model(problem, feasible, with_oop_limit=False)
            oop_model.cost = np.array([c.patient_oop for c in feasible], dtype=float)
            _, chosen, _ = oop_model.solve(time_limit)
            least = sum(feasible[j].patient_oop for j in chosen)
            return (
                f"no plan keeps the patient within the {format_cents(problem.patient_oop_limit)} out-of-pocket "
                f"limit; the least any plan asks of the patient is {format_cents(least)}"
            )
    return "provider capacity cannot meet every need"


def brute_force(problem: Problem) -> list[Selection]:
    """Every feasible plan, cheapest first, by enumeration. Only for small problems and for checking the MILP."""
    if problem.cover != "exactly_once":
        raise ValueError("brute force enumerates one candidate per need (cover='exactly_once')")
    feasible, _ = split_feasible(problem)
    per_need = [[c for c in feasible if c.need_id == need.id] for need in problem.needs]
    plans = []
    for combo in itertools.product(*per_need):
        if problem.patient_oop_limit is not None and sum(c.patient_oop for c in combo) > problem.patient_oop_limit:
            continue
        load: dict[str, int] = {}
        for c in combo:
            load[c.provider_id] = load.get(c.provider_id, 0) + 1
        if any(load.get(p, 0) > cap for p, cap in problem.provider_capacity.items()):
            continue
        plans.append(Selection.of(combo))
    plans.sort(key=lambda s: s.total_cost)
    return plans


# --- care options -------------------------------------------------------------


@dataclass(frozen=True)
class OptionLine:
    """A priced service in a care option, from a provider, with its cost to deliver if known (for margin)."""

    provider_id: str
    service: ServiceLine
    unit_cost: Cents | None = None


@dataclass(frozen=True)
class CareOption:
    name: str
    lines: Sequence[OptionLine]
    clinically_eligible: bool = True
    provider_accepts: bool = True
    requires_caregiver: bool = False
    excluded_by_patient: bool = False
    ineligible_reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class HospitalPayment:
    """How the hospital is paid: per diem (the insurer pays each day) or per case (a DRG covers the stay).

    Paid per case, the insurer's payment does not change with the days, and each
    day is the hospital's own cost, at ``daily_cost``.
    """

    per_case: bool = False
    daily_cost: Cents = 0


@dataclass(frozen=True)
class OptionLedger:
    """A care option priced for each party."""

    name: str
    total_cost: Cents
    insurer: Cents
    patient_oop: Cents
    non_covered: Cents
    provider_revenue: Mapping[str, Cents]
    provider_margin: Mapping[str, Cents | None]
    hospital_cost: Cents
    assumptions: tuple[str, ...]
    provider_non_covered: Mapping[str, Cents] = field(default_factory=dict)

    @property
    def patient_liability(self) -> Cents:
        """Cost sharing plus the non-covered part: what falls on the patient if nobody else steps in."""
        return self.patient_oop + self.non_covered


def evaluate_care_option(
    plan: Plan, accumulators: Accumulators, option: CareOption, hospital: HospitalPayment | None = None
) -> OptionLedger:
    """Price a care option per party through the plan's benefit rules, line by line."""
    hospital = hospital or HospitalPayment()
    current = accumulators
    insurer = patient = non_covered = hospital_cost = total = 0
    revenue: dict[str, Cents] = {}
    margin: dict[str, Cents] = {}
    uncovered_by_provider: dict[str, Cents] = {}
    unknown_cost: set[str] = set()  # a margin is unknown if any of the provider's costs is
    notes: list[str] = []
    for item in option.lines:
        line = item.service
        if hospital.per_case and line.category == "inpatient_day":
            days_cost = line.units * hospital.daily_cost
            hospital_cost += days_cost
            total += days_cost
            notes.append(
                f"{line.units} inpatient days paid per case: no extra insurer payment; hospital bears "
                f"{line.units} x {format_cents(hospital.daily_cost)} = {format_cents(days_cost)}"
            )
            continue
        share = adjudicate(plan, current, line)
        current = share.after
        insurer += share.insurer
        patient += share.patient_oop
        non_covered += share.non_covered
        if share.non_covered:
            uncovered_by_provider[item.provider_id] = uncovered_by_provider.get(item.provider_id, 0) + share.non_covered
        total += line.amount
        notes += share.assumptions
        revenue[item.provider_id] = revenue.get(item.provider_id, 0) + line.amount
        if item.unit_cost is None:
            unknown_cost.add(item.provider_id)
        else:
            margin[item.provider_id] = margin.get(item.provider_id, 0) + line.amount - item.unit_cost * line.units
    margins: dict[str, Cents | None] = {p: None if p in unknown_cost else margin.get(p, 0) for p in revenue}
    return OptionLedger(
        option.name,
        total,
        insurer,
        patient,
        non_covered,
        revenue,
        margins,
        hospital_cost,
        tuple(notes),
        uncovered_by_provider,
    )


@dataclass(frozen=True)
class CareOptionChoice:
    """The chosen care option, every option's per-party ledger, and the ranking with reasons."""

    ledgers: Mapping[str, OptionLedger]
    result: OptimizationResult
    ranking: tuple[tuple[str, str], ...]

    @property
    def chosen(self) -> str | None:
        best = self.result.best
        return None if best is None else best.candidates[0].id


def _rank_options(
    ledgers: Mapping[str, OptionLedger], result: OptimizationResult, limit: Cents | None
) -> tuple[tuple[str, str], ...]:
    """Chosen first, then the others within limits by cost, then those over the limit, then the infeasible."""
    chosen = None if result.best is None else result.best.candidates[0].id
    best_cost = None if chosen is None else ledgers[chosen].total_cost
    within, over, infeasible = [], [], []
    for name, ledger in sorted(ledgers.items(), key=lambda item: (item[1].total_cost, item[0])):
        if name == chosen:
            continue
        if name in result.excluded:
            infeasible.append((name, "infeasible: " + "; ".join(result.excluded[name])))
        elif limit is not None and ledger.patient_liability > limit:
            over.append(
                (
                    name,
                    f"patient would pay {format_cents(ledger.patient_liability)}, over the "
                    f"{format_cents(limit)} out-of-pocket limit by "
                    f"{format_cents(ledger.patient_liability - limit)}",
                )
            )
        elif best_cost is not None:
            within.append((name, f"more expensive by {format_cents(ledger.total_cost - best_cost)}"))
    head = [] if chosen is None else [(chosen, "chosen: least total cost among feasible options")]
    return tuple(head + within + over + infeasible)


def choose_care_option(
    plan: Plan,
    accumulators: Accumulators,
    options: Sequence[CareOption],
    *,
    patient_oop_limit: Cents | None = None,
    caregiver_available: bool = True,
    hospital: HospitalPayment | None = None,
) -> CareOptionChoice:
    """The least-cost feasible care option, with every other option ranked and its reason for losing.

    The patient's out-of-pocket limit applies to the patient's liability
    (cost sharing plus the non-covered part), since both would come out of the
    patient's pocket unless a negotiation funds the non-covered part.
    """
    ledgers = {o.name: evaluate_care_option(plan, accumulators, o, hospital) for o in options}
    need = Need("post_acute_care", "care after discharge")
    candidates = [
        Candidate(
            id=o.name,
            need_id=need.id,
            provider_id=o.name,
            service=o.name,
            total_cost=ledgers[o.name].total_cost,
            patient_oop=ledgers[o.name].patient_liability,
            party_costs={
                "insurer": ledgers[o.name].insurer,
                "patient": ledgers[o.name].patient_oop,
                "non_covered": ledgers[o.name].non_covered,
                "hospital": ledgers[o.name].hospital_cost,
            },
            clinically_eligible=o.clinically_eligible,
            provider_accepts=o.provider_accepts,
            requires_caregiver=o.requires_caregiver,
            excluded_by_patient=o.excluded_by_patient,
            ineligible_reasons=o.ineligible_reasons,
        )
        for o in options
    ]
    problem = Problem([need], candidates, patient_oop_limit=patient_oop_limit, caregiver_available=caregiver_available)
    result = optimize(problem, alternatives=len(options))
    return CareOptionChoice(ledgers, result, _rank_options(ledgers, result, patient_oop_limit))
