"""Negotiation scenario files: load, solve under every rule, and print the proposals.

The clean entry points for ``casebridge negotiate FILE`` are
:func:`solve_scenario` and :func:`format_report`; :func:`main` runs them as
``python -m casebridge.coverage.scenario FILE``.

A scenario (YAML or JSON; amounts in dollars)::

    case: Home IV antibiotics, three weeks
    gap: 5000
    parties:
      - id: insurer
        kind: insurer
        figures: {inpatient_per_diem: 2000, avoided_days: 21, covered_cost_of_option: 1350}
        override: {amount: 30000, reason: our own estimate}   # optional: the party's own figure
      - id: pharmacy
        kind: pharmacy
        figures: {price: 5000, costs: {drug: 3000, equipment: 500}}
      - id: home_health
        kind: home_health
        item: infusion pumps
        figures: {visits: 9, revenue_per_visit: 180, cost_per_visit: 110}
      - id: patient
        kind: patient
        figures: {ability_to_pay: 1000, hardship: false}
    manual:                                                    # optional
      locks: {patient: 1000, pharmacy: 1000}
      complete_with: nash

Figures by kind: ``insurer`` (inpatient_per_diem, avoided_days,
covered_cost_of_option), ``pharmacy``/``provider`` (price, costs),
``home_health`` (visits, revenue_per_visit, cost_per_visit), ``hospital``
(paid_per_case, daily_cost, avoided_days), ``patient`` (ability_to_pay,
hardship). Any party may instead give ``figures: {walkaway: ...}``.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from casebridge.coverage.benefits import DocumentReader, SchemaError
from casebridge.coverage.money import Cents, format_cents
from casebridge.coverage.negotiation import (
    RULES,
    CommitmentKind,
    Feasibility,
    NegotiationError,
    Party,
    PartyKind,
    Proposal,
    WalkAway,
    allocate_manual,
    assess,
    home_health_walkaway,
    hospital_walkaway,
    insurer_walkaway,
    patient_walkaway,
    provider_margin_walkaway,
    stated_walkaway,
)
from casebridge.kernel.nesting import TooDeep, parse_within


@dataclass(frozen=True)
class ManualRequest:
    locks: Mapping[str, Cents]
    complete_with: str


@dataclass(frozen=True)
class Scenario:
    case: str
    gap: Cents
    parties: tuple[Party, ...]
    manual: ManualRequest | None


@dataclass(frozen=True)
class Report:
    """Everything a case manager or analyst needs to see about a scenario."""

    scenario: Scenario
    feasibility: Feasibility
    proposals: tuple[Proposal, ...]
    rejected: Mapping[str, str]  # rule -> why it produced no proposal (e.g. impossible manual locks)


def _walkaway(reader: DocumentReader, kind: PartyKind, figures: dict[str, Any]) -> WalkAway:
    """Apply the kind's formula to its figures; the formula functions carry the derivation text."""
    if "walkaway" in figures:
        reader.mapping(figures, {"walkaway", "note"})
        note = figures.get("note")
        return stated_walkaway(reader.money(figures, "walkaway"), note if isinstance(note, str) else "")
    readers: dict[PartyKind, Callable[[], WalkAway]] = {
        PartyKind.INSURER: lambda: insurer_walkaway(
            inpatient_per_diem=reader.money(figures, "inpatient_per_diem"),
            avoided_days=reader.count(figures, "avoided_days"),
            covered_cost_of_option=reader.money(figures, "covered_cost_of_option", default=0),
        ),
        PartyKind.HOME_HEALTH: lambda: home_health_walkaway(
            visits=reader.count(figures, "visits"),
            revenue_per_visit=reader.money(figures, "revenue_per_visit"),
            cost_per_visit=reader.money(figures, "cost_per_visit"),
        ),
        PartyKind.HOSPITAL: lambda: hospital_walkaway(
            paid_per_case=reader.flag(figures, "paid_per_case", default=False),
            daily_cost=reader.money(figures, "daily_cost", default=0),
            avoided_days=reader.count(figures, "avoided_days", default=0),
        ),
        PartyKind.PATIENT: lambda: patient_walkaway(
            ability_to_pay=reader.money(figures, "ability_to_pay"),
            hardship=reader.flag(figures, "hardship", default=False),
        ),
    }
    allowed = {
        PartyKind.INSURER: {"inpatient_per_diem", "avoided_days", "covered_cost_of_option"},
        PartyKind.HOME_HEALTH: {"visits", "revenue_per_visit", "cost_per_visit"},
        PartyKind.HOSPITAL: {"paid_per_case", "daily_cost", "avoided_days"},
        PartyKind.PATIENT: {"ability_to_pay", "hardship"},
    }
    if kind in (PartyKind.PHARMACY, PartyKind.PROVIDER):
        reader.mapping(figures, {"price", "costs"})
        costs: dict[str, Cents] = {}
        with reader.at("costs"):
            raw_costs = reader.mapping(figures.get("costs") or {})
            for name in raw_costs:
                costs[name] = reader.money(raw_costs, name)
        return provider_margin_walkaway(price=reader.money(figures, "price"), costs=costs)
    reader.mapping(figures, allowed[kind])
    return readers[kind]()


def _read_party(reader: DocumentReader, raw: object) -> Party | None:
    data = reader.mapping(raw, {"id", "name", "kind", "figures", "override", "commitment", "item"})
    party_id = reader.text(data, "id")
    kind_text = reader.text(data, "kind")
    try:
        kind = PartyKind(kind_text)
    except ValueError:
        if kind_text:
            with reader.at("kind"):
                reader.error(f"must be one of {', '.join(k.value for k in PartyKind)}")
        return None
    commitment: CommitmentKind | None = None
    if data.get("commitment") is not None:
        try:
            commitment = CommitmentKind(data["commitment"])
        except ValueError:
            with reader.at("commitment"):
                reader.error(f"must be one of {', '.join(k.value for k in CommitmentKind)}")
    errors_before = len(reader.errors)
    with reader.at("figures"):
        figures = reader.mapping(reader.field(data, "figures") or {})
        try:
            walkaway = _walkaway(reader, kind, figures)
        except NegotiationError as exc:
            reader.error(str(exc))
            return None
    if "override" in data:
        with reader.at("override"):
            override = reader.mapping(data["override"], {"amount", "reason"})
            amount = reader.money(override, "amount")
            reason = override.get("reason")
            walkaway = walkaway.with_override(amount, reason if isinstance(reason, str) else "")
    if len(reader.errors) > errors_before:
        return None
    hardship = kind is PartyKind.PATIENT and bool(figures.get("hardship"))
    item = data.get("item")
    return Party(
        id=party_id,
        name=reader.text(data, "name", default=party_id or "unnamed"),
        kind=kind,
        walkaway=walkaway,
        commitment=commitment,
        item=item if isinstance(item, str) else "",
        hardship=hardship,
    )


def load_scenario(document: object) -> Scenario:
    """Validate a parsed scenario; :class:`SchemaError` lists every bad value by path."""
    reader = DocumentReader()
    root = reader.mapping(document, {"case", "gap", "parties", "manual"})
    gap = reader.money(root, "gap")
    parties: list[Party] = []
    with reader.at("parties"):
        raw_parties = reader.sequence(reader.field(root, "parties") or [])
        if not raw_parties and "parties" in root:
            reader.error("at least one party is required")
        for index, raw in enumerate(raw_parties):
            with reader.at(index):
                party = _read_party(reader, raw)
                if party is not None:
                    if any(p.id == party.id for p in parties):
                        with reader.at("id"):
                            reader.error(f"duplicate party id {party.id!r}")
                    parties.append(party)
    manual: ManualRequest | None = None
    if root.get("manual") is not None:
        with reader.at("manual"):
            data = reader.mapping(root["manual"], {"locks", "complete_with"})
            locks: dict[str, Cents] = {}
            with reader.at("locks"):
                raw_locks = reader.mapping(reader.field(data, "locks") or {})
                for party_id in raw_locks:
                    # Compare with every declared id, so a party with bad figures does not
                    # also make its lock look like a typo.
                    declared = {raw.get("id") for raw in raw_parties if isinstance(raw, Mapping)}
                    if party_id not in declared:
                        with reader.at(party_id):
                            reader.error("no party with this id")
                    locks[party_id] = reader.money(raw_locks, party_id)
            complete_with = reader.text(data, "complete_with", default="proportional_to_gain")
            if complete_with not in RULES:
                with reader.at("complete_with"):
                    reader.error(f"must be one of {', '.join(RULES)}")
            manual = ManualRequest(locks, complete_with)
    reader.raise_if_errors()
    case = root.get("case")
    return Scenario(case if isinstance(case, str) else "unnamed case", gap, tuple(parties), manual)


class UnreadableDocument(ValueError):
    """A scenario file that is not UTF-8 text, or nests too deeply to parse; the message says which."""


def read_document(path: str | Path) -> object:
    """Parse a YAML or JSON file (by extension; YAML otherwise, which also reads JSON)."""
    file = Path(path)
    try:
        text = file.read_text(encoding="utf-8")
    except UnicodeDecodeError as exc:
        raise UnreadableDocument(f"it is not UTF-8 text (invalid byte at offset {exc.start})") from exc
    try:  # checked before the scenario reader walks it
        return parse_within(json.loads if file.suffix.lower() == ".json" else yaml.safe_load, text)
    except TooDeep as exc:
        raise UnreadableDocument(f"it {exc}") from exc


def solve(scenario: Scenario) -> Report:
    """Assess feasibility and, if a deal exists, propose under every rule (and the manual locks if given)."""
    feasibility = assess(scenario.parties, scenario.gap)
    proposals: list[Proposal] = []
    rejected: dict[str, str] = {}
    if feasibility.feasible:
        proposals = [rule(scenario.parties, scenario.gap) for rule in RULES.values()]
        if scenario.manual is not None:
            try:
                proposals.append(
                    allocate_manual(
                        scenario.parties, scenario.gap, scenario.manual.locks, scenario.manual.complete_with
                    )
                )
            except NegotiationError as exc:
                rejected["manual"] = str(exc)
    return Report(scenario, feasibility, tuple(proposals), rejected)


def solve_scenario(path: str | Path) -> Report:
    """Load a scenario file and solve it (entry point for ``casebridge negotiate FILE``)."""
    return solve(load_scenario(read_document(path)))


def format_report(report: Report) -> str:
    """Plain-text report: walk-aways with derivations, feasibility, then each proposal with its math."""
    scenario = report.scenario
    out = [f"Negotiation: {scenario.case}", f"Gap to fund: {format_cents(scenario.gap)}", "", "Walk-aways"]
    for party in scenario.parties:
        flag = "  [HARDSHIP]" if party.hardship else ""
        out.append(
            f"  {party.name} ({party.kind.value}): {format_cents(party.walkaway.amount)}"
            f" [{party.walkaway.source}]{flag}"
        )
        out += [f"      {line}" for line in party.walkaway.explain()]
    out += ["", "Feasibility: " + ("a deal exists" if report.feasibility.feasible else "NO DEAL EXISTS")]
    out += [f"  {line}" for line in report.feasibility.explanation]
    names = {p.id: p.name for p in scenario.parties}
    width = max(len(n) for n in names.values()) if names else 10
    for proposal in report.proposals:
        out += ["", f"Proposal: {proposal.rule}"]
        out.append(f"  {'party':<{width}}  {'commitment':<18} {'walk-away':>14} {'share':>14} {'gain after':>14}")
        for line in proposal.lines:
            lock = " (locked)" if line.locked else ""
            out.append(
                f"  {line.name:<{width}}  {line.commitment.value:<18} {format_cents(line.walkaway):>14}"
                f" {format_cents(line.share):>14} {format_cents(line.gain_after):>14}{lock}"
            )
        out.append(
            f"  {'total':<{width}}  {'':<18} {'':>14} {format_cents(sum(ln.share for ln in proposal.lines)):>14}"
        )
        out.append("  math:")
        out += [f"    {line}" for line in proposal.math]
    for rule, reason in report.rejected.items():
        out += ["", f"Proposal: {rule} rejected: {reason}"]
    return "\n".join(out) + "\n"


def main(argv: Sequence[str] | None = None) -> int:
    """Print the report. Exit 0 if a deal exists, 1 if not, 2 if the file is unreadable or invalid."""
    args = list(sys.argv[1:] if argv is None else argv)
    if len(args) != 1 or args[0] in {"-h", "--help"}:
        print("usage: python -m casebridge.coverage.scenario FILE", file=sys.stderr)
        return 2
    try:
        report = solve_scenario(args[0])
    except SchemaError as exc:
        print(f"{args[0]}: invalid scenario", file=sys.stderr)
        for error in exc.errors:
            print(f"  {error}", file=sys.stderr)
        return 2
    except (OSError, yaml.YAMLError, json.JSONDecodeError, UnreadableDocument) as exc:
        print(f"{args[0]}: cannot read: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(format_report(report))
    return 0 if report.feasibility.feasible else 1


if __name__ == "__main__":
    raise SystemExit(main())
