"""Multi-party coverage negotiation: walk-aways, feasibility and allocation rules.

When the best care option leaves an unfunded amount (the *gap*: in the
reference case, the $5,000 of home IV drug and equipment the policy does not
cover), each party's *walk-away* is the most it can contribute and still be
better off than with no deal. A deal exists if and only if the walk-aways
together cover the gap.

A party's *gain* from a deal is its walk-away minus its share: what it keeps of
the benefit the deal brings it. Every proposal satisfies, to the cent:

* shares sum to the gap exactly;
* ``0 <= share <= walk-away`` for every party;
* each party's gain after the deal is shown.

Each rule first computes exact rational shares, then rounds to cents with the
largest-remainder rule of :mod:`casebridge.coverage.money` (ties to the party
listed first). Rounding moves a share by less than one cent, so integer bounds
hold after rounding.

Rules:

``patient_protecting``
    The patient pays only what the other parties cannot cover
    (``max(0, gap - sum of others' walk-aways)``); the rest is split among the
    others in proportion to their gains (walk-aways).
``proportional_to_gain``
    Everyone pays ``gap * walk-away / sum of walk-aways``.
``nash``
    The Nash bargaining solution (Nash 1950, "The Bargaining Problem",
    Econometrica 18:155) with the no-deal point as disagreement point:
    maximise the product of remaining gains ``prod(w_i - s_i)`` subject to
    ``sum s_i = gap`` and ``0 <= s_i <= w_i``. The log of the product is
    separable and concave, so the optimum equalises remaining gains at a
    level ``L``: ``s_i = max(0, w_i - L)`` (water-filling), found exactly.
``manual``
    Amounts the case manager locks are kept; the rest of the gap is shared by
    the unlocked parties under another rule.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from fractions import Fraction

from casebridge.coverage.money import Cents, format_cents, proportional_ideal, round_shares


class PartyKind(StrEnum):
    INSURER = "insurer"
    PHARMACY = "pharmacy"
    PROVIDER = "provider"
    HOME_HEALTH = "home_health"
    HOSPITAL = "hospital"
    PATIENT = "patient"


class CommitmentKind(StrEnum):
    PRICE_REDUCTION = "price_reduction"
    PAYS_FOR_ITEM = "pays_for_item"
    EXCEPTION_PAYMENT = "exception_payment"
    PATIENT_PAYMENT = "patient_payment"


#: How each kind of party usually contributes: the pharmacy lowers its price,
#: the home health agency pays for an item (the pumps), the insurer pays beyond
#: benefits, the patient pays. A scenario can name another kind.
DEFAULT_COMMITMENT: Mapping[PartyKind, CommitmentKind] = {
    PartyKind.INSURER: CommitmentKind.EXCEPTION_PAYMENT,
    PartyKind.PHARMACY: CommitmentKind.PRICE_REDUCTION,
    PartyKind.PROVIDER: CommitmentKind.PRICE_REDUCTION,
    PartyKind.HOME_HEALTH: CommitmentKind.PAYS_FOR_ITEM,
    PartyKind.HOSPITAL: CommitmentKind.PAYS_FOR_ITEM,
    PartyKind.PATIENT: CommitmentKind.PATIENT_PAYMENT,
}


class NegotiationError(ValueError):
    """The inputs cannot produce a valid proposal (bad figures, impossible locks)."""


# --- walk-aways ------------------------------------------------------------


@dataclass(frozen=True)
class WalkAway:
    """A party's walk-away with its derivation, and the party's own correction if any.

    ``computed`` is what the engine derived from the figures; ``override`` is
    the figure the party itself states. Both are kept; ``amount`` is the one
    used, and ``source`` says which.
    """

    computed: Cents
    derivation: tuple[str, ...]
    override: Cents | None = None
    override_reason: str = ""

    @property
    def amount(self) -> Cents:
        return self.computed if self.override is None else self.override

    @property
    def source(self) -> str:
        return "computed" if self.override is None else "party's own figure"

    def with_override(self, amount: Cents, reason: str) -> WalkAway:
        if amount < 0:
            raise NegotiationError("a walk-away cannot be negative")
        return WalkAway(self.computed, self.derivation, amount, reason)

    def explain(self) -> list[str]:
        lines = list(self.derivation)
        if self.override is not None:
            why = f" ({self.override_reason})" if self.override_reason else ""
            lines.append(
                f"party states {format_cents(self.override)}{why}; computed {format_cents(self.computed)} kept for"
                f" reference; using the party's own figure"
            )
        return lines


def _nonnegative(value: Cents, label: str) -> Cents:
    if value < 0:
        raise NegotiationError(f"{label} must not be negative")
    return value


def insurer_walkaway(*, inpatient_per_diem: Cents, avoided_days: int, covered_cost_of_option: Cents) -> WalkAway:
    """Insurer: inpatient days it would otherwise pay, minus the covered cost of the chosen option.

    If the hospital is paid per case (DRG) the insurer saves nothing per day; pass
    ``inpatient_per_diem=0`` and count the hospital's avoided cost instead.
    """
    _nonnegative(inpatient_per_diem, "inpatient per diem")
    _nonnegative(avoided_days, "avoided days")
    avoided = inpatient_per_diem * avoided_days
    net = avoided - _nonnegative(covered_cost_of_option, "covered cost of the option")
    derivation = (
        f"avoided inpatient cost: {avoided_days} days x {format_cents(inpatient_per_diem)} = {format_cents(avoided)}",
        f"minus covered cost of the chosen option it pays anyway: {format_cents(covered_cost_of_option)}",
        f"walk-away = {format_cents(max(0, net))}" + (" (no saving, so nothing to give)" if net < 0 else ""),
    )
    return WalkAway(max(0, net), derivation)


def provider_margin_walkaway(*, price: Cents, costs: Mapping[str, Cents]) -> WalkAway:
    """Pharmacy or other provider: its price minus its cost of what it supplies (drug, equipment).

    Below that price it would lose money on the deal; with no deal it earns nothing.
    """
    _nonnegative(price, "price")
    total_cost = sum(_nonnegative(c, f"cost of {name}") for name, c in costs.items())
    margin = price - total_cost
    cost_text = " + ".join(f"{name} {format_cents(c)}" for name, c in costs.items()) or "nothing"
    derivation = (
        f"price {format_cents(price)} minus cost {cost_text} = {format_cents(margin)}",
        f"walk-away = {format_cents(max(0, margin))}" + (" (sells at a loss already)" if margin < 0 else ""),
    )
    return WalkAway(max(0, margin), derivation)


def home_health_walkaway(*, visits: int, revenue_per_visit: Cents, cost_per_visit: Cents) -> WalkAway:
    """Home health agency: its margin on the episode's visits, which it loses if the patient is not discharged."""
    _nonnegative(visits, "visits")
    per_visit = _nonnegative(revenue_per_visit, "revenue per visit") - _nonnegative(cost_per_visit, "cost per visit")
    margin = visits * per_visit
    derivation = (
        f"{visits} visits x ({format_cents(revenue_per_visit)} paid - {format_cents(cost_per_visit)} cost)"
        f" = {format_cents(margin)} margin on the episode",
        f"walk-away = {format_cents(max(0, margin))}",
    )
    return WalkAway(max(0, margin), derivation)


def hospital_walkaway(*, paid_per_case: bool, daily_cost: Cents, avoided_days: int) -> WalkAway:
    """Hospital: when paid per case, each extra day is its own cost, so discharge saves it that cost.

    When paid per diem, the insurer's avoided cost already counts the days and
    the hospital loses revenue by an early discharge, so its walk-away is zero.
    """
    _nonnegative(daily_cost, "daily cost")
    _nonnegative(avoided_days, "avoided days")
    if not paid_per_case:
        return WalkAway(0, ("paid per diem: the days are the insurer's cost, not the hospital's; walk-away = $0.00",))
    avoided = daily_cost * avoided_days
    return WalkAway(
        avoided,
        (
            f"paid per case: avoided cost {avoided_days} days x {format_cents(daily_cost)} = {format_cents(avoided)}",
            f"walk-away = {format_cents(avoided)}",
        ),
    )


def patient_walkaway(*, ability_to_pay: Cents, hardship: bool) -> WalkAway:
    """Patient: the amount they say they can pay. A hardship flag is shown on every proposal."""
    _nonnegative(ability_to_pay, "ability to pay")
    lines = [f"patient states ability to pay {format_cents(ability_to_pay)}"]
    if hardship:
        lines.append("financial hardship declared: prefer a rule that protects the patient")
    return WalkAway(ability_to_pay, tuple(lines))


def stated_walkaway(amount: Cents, note: str = "") -> WalkAway:
    """A walk-away given directly (a party without a derivation formula)."""
    _nonnegative(amount, "walk-away")
    return WalkAway(amount, (f"stated walk-away {format_cents(amount)}" + (f": {note}" if note else ""),))


# --- parties and feasibility ----------------------------------------------


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    kind: PartyKind
    walkaway: WalkAway
    commitment: CommitmentKind | None = None
    item: str = ""
    hardship: bool = False

    @property
    def commitment_kind(self) -> CommitmentKind:
        return self.commitment or DEFAULT_COMMITMENT[self.kind]


@dataclass(frozen=True)
class Feasibility:
    """Whether a deal exists, and how tight it is.

    ``minimum_share[id]`` is the least that party must give in *any* deal
    (``gap - sum of everyone else's walk-aways``, if positive): where it equals
    the party's walk-away, that limit binds.
    """

    gap: Cents
    total_walkaway: Cents
    feasible: bool
    shortfall: Cents
    minimum_share: Mapping[str, Cents]
    binding: tuple[str, ...]
    explanation: tuple[str, ...]


def assess(parties: Sequence[Party], gap: Cents) -> Feasibility:
    """A deal exists iff the walk-aways sum to at least the gap (each party can give up to its own)."""
    _check_parties(parties, gap)
    total = sum(p.walkaway.amount for p in parties)
    feasible = total >= gap
    lines = [
        "walk-aways: "
        + " + ".join(f"{p.name} {format_cents(p.walkaway.amount)}" for p in parties)
        + f" = {format_cents(total)}",
        f"gap {format_cents(gap)}",
    ]
    minimum = {p.id: max(0, gap - (total - p.walkaway.amount)) for p in parties}
    if feasible:
        binding = tuple(p.id for p in parties if minimum[p.id] > 0 and minimum[p.id] == p.walkaway.amount)
        lines.append(f"feasible: {format_cents(total - gap)} of room beyond the gap")
        for p in parties:
            if minimum[p.id] > 0:
                lines.append(f"{p.name} must give at least {format_cents(minimum[p.id])} in any deal")
    else:
        # Every party is already at its limit and the gap is still not met.
        binding = tuple(p.id for p in parties)
        lines.append(f"infeasible: shortfall {format_cents(gap - total)}")
        lines.append(
            "every walk-away binds: "
            + ", ".join(
                f"{p.name} at {format_cents(p.walkaway.amount)}"
                for p in sorted(parties, key=lambda q: -q.walkaway.amount)
            )
        )
    return Feasibility(gap, total, feasible, max(0, gap - total), minimum, binding, tuple(lines))


def _check_parties(parties: Sequence[Party], gap: Cents) -> None:
    if gap < 0:
        raise NegotiationError("the gap must not be negative")
    if not parties:
        raise NegotiationError("a negotiation needs at least one party")
    ids = [p.id for p in parties]
    if len(set(ids)) != len(ids):
        raise NegotiationError("party ids must be unique")


# --- proposals -------------------------------------------------------------


@dataclass(frozen=True)
class ProposalLine:
    party_id: str
    name: str
    kind: PartyKind
    commitment: CommitmentKind
    walkaway: Cents
    share: Cents
    locked: bool = False

    @property
    def gain_after(self) -> Cents:
        """What the party keeps of its benefit from the deal after paying its share."""
        return self.walkaway - self.share


@dataclass(frozen=True)
class Proposal:
    rule: str
    gap: Cents
    lines: tuple[ProposalLine, ...]
    math: tuple[str, ...] = field(default=())

    @property
    def shares(self) -> dict[str, Cents]:
        return {line.party_id: line.share for line in self.lines}

    def violations(self) -> list[str]:
        """Every broken invariant, in words; empty for a valid proposal."""
        problems = []
        total = sum(line.share for line in self.lines)
        if total != self.gap:
            problems.append(f"shares sum to {format_cents(total)}, not the gap {format_cents(self.gap)}")
        for line in self.lines:
            if line.share < 0:
                problems.append(f"{line.name}'s share {format_cents(line.share)} is negative")
            if line.share > line.walkaway:
                problems.append(
                    f"{line.name}'s share {format_cents(line.share)} exceeds its walk-away"
                    f" {format_cents(line.walkaway)}"
                )
        return problems


def _proposal(
    rule: str,
    parties: Sequence[Party],
    gap: Cents,
    shares: Sequence[Cents],
    math: list[str],
    locked: frozenset[str] = frozenset(),
) -> Proposal:
    lines = tuple(
        ProposalLine(p.id, p.name, p.kind, p.commitment_kind, p.walkaway.amount, s, p.id in locked)
        for p, s in zip(parties, shares, strict=True)
    )
    math = [
        *math,
        "result: "
        + ", ".join(f"{ln.name} {format_cents(ln.share)} (keeps {format_cents(ln.gain_after)})" for ln in lines),
    ]
    proposal = Proposal(rule, gap, lines, tuple(math))
    problems = proposal.violations()
    if problems:  # A rule that breaks an invariant is a bug, never a proposal to show.
        raise AssertionError(f"{rule} produced an invalid proposal: {problems}")
    return proposal


def _require_feasible(parties: Sequence[Party], gap: Cents) -> None:
    verdict = assess(parties, gap)
    if not verdict.feasible:
        raise NegotiationError(f"no deal exists: shortfall {format_cents(verdict.shortfall)}")


def _fraction_text(value: Fraction) -> str:
    """Exact cents as dollars with 4 decimals, for the math shown (not for paying)."""
    return f"${float(value) / 100:,.4f}"


def allocate_proportional_to_gain(parties: Sequence[Party], gap: Cents) -> Proposal:
    """Each party pays ``gap * walk-away / sum of walk-aways``, rounded by largest remainder."""
    _require_feasible(parties, gap)
    weights = [p.walkaway.amount for p in parties]
    total = sum(weights)
    ideal = proportional_ideal(gap, weights, weights)
    math = [f"each pays gap x walk-away / total walk-away = {format_cents(gap)} x w / {format_cents(total)}"]
    math += [f"{p.name}: {_fraction_text(x)}" for p, x in zip(parties, ideal, strict=True)]
    math.append("rounded to cents by largest remainder (ties to the party listed first)")
    return _proposal("proportional_to_gain", parties, gap, round_shares(ideal, gap), math)


def allocate_patient_protecting(parties: Sequence[Party], gap: Cents) -> Proposal:
    """Minimise the patient's share, then split the rest in proportion to the other parties' gains."""
    _require_feasible(parties, gap)
    patients = [i for i, p in enumerate(parties) if p.kind is PartyKind.PATIENT]
    others = [i for i, p in enumerate(parties) if p.kind is not PartyKind.PATIENT]
    others_total = sum(parties[i].walkaway.amount for i in others)
    patient_total = max(0, gap - others_total)
    rest = gap - patient_total
    math = [
        f"others can give up to {format_cents(others_total)}; patient pays only what they cannot:"
        f" max(0, {format_cents(gap)} - {format_cents(others_total)}) = {format_cents(patient_total)}",
        f"remaining {format_cents(rest)} split among the others in proportion to their walk-aways",
    ]
    shares = [0] * len(parties)
    for group, amount in ((patients, patient_total), (others, rest)):
        if not group:
            continue
        caps = [parties[i].walkaway.amount for i in group]
        ideal = proportional_ideal(amount, caps, caps)
        # Rounded within each group so the patient's total stays exactly the minimum.
        for i, share in zip(group, round_shares(ideal, amount), strict=True):
            shares[i] = share
        math += [f"{parties[i].name}: {_fraction_text(x)}" for i, x in zip(group, ideal, strict=True)]
    math.append("rounded to cents by largest remainder within each group (ties to the party listed first)")
    return _proposal("patient_protecting", parties, gap, shares, math)


def nash_level(walkaways: Sequence[Cents], gap: Cents) -> Fraction:
    """The common remaining gain ``L`` with ``sum max(0, w_i - L) = gap`` (exact water-filling).

    Sort walk-aways descending; with the top ``k`` parties paying, ``L = (sum of top k - gap) / k``;
    the right ``k`` is the largest one whose level is not above the k-th walk-away.
    """
    if gap == 0:
        return Fraction(max(walkaways, default=0))
    ordered = sorted(walkaways, reverse=True)
    level = Fraction(0)
    running = 0
    for k, w in enumerate(ordered, start=1):
        running += w
        candidate = Fraction(running - gap, k)
        if candidate <= w:
            level = candidate
        else:
            break
    return max(level, Fraction(0))


def allocate_nash(parties: Sequence[Party], gap: Cents) -> Proposal:
    """Nash bargaining solution: maximise the product of remaining gains (see module docstring)."""
    _require_feasible(parties, gap)
    walkaways = [p.walkaway.amount for p in parties]
    level = nash_level(walkaways, gap)
    ideal = [max(Fraction(0), w - level) for w in walkaways]
    math = [
        "maximise product of (walk-away - share) subject to shares summing to the gap:",
        "the optimum leaves every contributing party the same remaining gain L; share = max(0, walk-away - L)",
        f"L = {_fraction_text(level)} solves sum max(0, w - L) = {format_cents(gap)}",
    ]
    math += [
        f"{p.name}: max(0, {format_cents(p.walkaway.amount)} - L) = {_fraction_text(x)}"
        for p, x in zip(parties, ideal, strict=True)
    ]
    math.append(
        "rounded to cents by largest remainder (ties to the party listed first);"
        " remaining gains then differ by at most one cent"
    )
    return _proposal("nash", parties, gap, round_shares(ideal, gap), math)


RULES = {
    "patient_protecting": allocate_patient_protecting,
    "proportional_to_gain": allocate_proportional_to_gain,
    "nash": allocate_nash,
}


def allocate_manual(
    parties: Sequence[Party], gap: Cents, locks: Mapping[str, Cents], complete_with: str = "proportional_to_gain"
) -> Proposal:
    """Keep the case manager's locked amounts; the unlocked parties share the rest under ``complete_with``."""
    _check_parties(parties, gap)
    known = {p.id for p in parties}
    problems = [f"lock for unknown party {pid!r}" for pid in locks if pid not in known]
    by_id = {p.id: p for p in parties}
    for pid, amount in locks.items():
        if pid not in known:
            continue
        party = by_id[pid]
        if amount < 0:
            problems.append(f"{party.name}'s locked amount {format_cents(amount)} is negative")
        if amount > party.walkaway.amount:
            problems.append(
                f"{party.name}'s locked amount {format_cents(amount)} exceeds its walk-away"
                f" {format_cents(party.walkaway.amount)}"
            )
    if complete_with not in RULES:
        problems.append(f"unknown completion rule {complete_with!r}; choose from {', '.join(RULES)}")
    if problems:
        raise NegotiationError("; ".join(problems))
    locked_total = sum(locks.values())
    free = [p for p in parties if p.id not in locks]
    rest = gap - locked_total
    free_room = sum(p.walkaway.amount for p in free)
    math = [
        "locked: "
        + (", ".join(f"{by_id[pid].name} {format_cents(a)}" for pid, a in locks.items()) or "none")
        + f" = {format_cents(locked_total)}"
    ]
    if rest < 0:
        raise NegotiationError(f"locked amounts {format_cents(locked_total)} exceed the gap {format_cents(gap)}")
    if not free and rest:
        raise NegotiationError(
            f"every party is locked but the locks sum to {format_cents(locked_total)}, not the gap {format_cents(gap)}"
        )
    if rest > free_room:
        raise NegotiationError(
            f"after locks {format_cents(rest)} remains but unlocked parties can give only {format_cents(free_room)}"
        )
    shares: dict[str, Cents] = dict(locks)
    if free:
        completion = RULES[complete_with](free, rest)
        shares.update(completion.shares)
        math.append(f"remaining {format_cents(rest)} completed by {complete_with} among unlocked parties:")
        math += [f"  {line}" for line in completion.math]
    return _proposal("manual", parties, gap, [shares[p.id] for p in parties], math, frozenset(locks))


def propose_all(parties: Sequence[Party], gap: Cents) -> list[Proposal]:
    """One proposal per solver rule, in a fixed order."""
    return [rule(parties, gap) for rule in RULES.values()]
