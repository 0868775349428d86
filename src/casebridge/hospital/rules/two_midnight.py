"""Medicare Two-Midnight benchmark for inpatient admission: 42 CFR 412.3(d); Medicare Advantage via CMS-4201-F."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cache

from casebridge.hospital.rules._data import read_json

MEDICARE_ADVANTAGE_412_3_EFFECTIVE = dt.date(2024, 1, 1)  # CMS-4201-F
BENCHMARK_MIDNIGHTS = 2


class Payer(StrEnum):
    MEDICARE_FFS = "medicare_ffs"
    MEDICARE_ADVANTAGE = "medicare_advantage"
    OTHER = "other"


class DischargeReason(StrEnum):
    DEATH = "death"
    TRANSFER = "transfer"
    LEFT_AGAINST_MEDICAL_ADVICE = "left_against_medical_advice"
    RAPID_RECOVERY = "rapid_recovery"
    ROUTINE = "routine"


# 412.3(d)(1)(ii): unforeseen circumstances that shorten a stay expected to cross two midnights.
UNFORESEEN_DISCHARGE_REASONS = frozenset(
    {
        DischargeReason.DEATH,
        DischargeReason.TRANSFER,
        DischargeReason.LEFT_AGAINST_MEDICAL_ADVICE,
        DischargeReason.RAPID_RECOVERY,
    }
)


class Basis(StrEnum):
    TWO_MIDNIGHT_BENCHMARK = "two_midnight_benchmark"
    INPATIENT_ONLY_PROCEDURE = "inpatient_only_procedure"
    CASE_BY_CASE_EXCEPTION = "case_by_case_exception"


@dataclass(frozen=True)
class TwoMidnightConfig:
    """Defaults an organization may change; both are UNVERIFIED readings of CMS guidance (see UNVERIFIED_DEFAULTS).

    ``count_time_before_order``: time in the ED or observation before the inpatient order counts toward the
    benchmark (CMS manual guidance; RULES.md marks the wording UNVERIFIED).
    ``presumption_counts_from_order``: the 2-midnight presumption for medical review counts midnights after the
    inpatient order only (CMS review guidance as CaseBridge reads it; not in RULES.md).
    """

    count_time_before_order: bool = True
    presumption_counts_from_order: bool = True


# Settings whose default the UI and docs must label UNVERIFIED.
UNVERIFIED_DEFAULTS = ("count_time_before_order", "presumption_counts_from_order")


@dataclass(frozen=True)
class TwoMidnightDecision:
    inpatient_appropriate: bool
    basis: tuple[Basis, ...]
    reasons: tuple[str, ...]
    regulation_applies: bool
    """False for payers 412.3 does not bind (and for Medicare Advantage before 2024-01-01)."""
    presumption_applies: bool
    """The 2-midnight presumption for medical review; never for Medicare Advantage (CMS-4201-F)."""
    expected_midnights: int | None
    midnights_so_far: int | None
    benchmark_start: dt.datetime


def midnights_between(start: dt.datetime, end: dt.datetime, tz: dt.tzinfo | None = None) -> int:
    """Midnights crossed after ``start`` up to and including ``end``, on the local clock of ``tz``.

    Pass the hospital's time zone as ``tz`` for aware datetimes; naive datetimes are read as local already.
    """
    if (start.tzinfo is None) != (end.tzinfo is None):
        raise ValueError("start and end must both be naive or both be time-zone aware")
    if end < start:
        raise ValueError("end is before start")
    if tz is not None:
        if start.tzinfo is None:
            raise ValueError("a time zone needs aware datetimes")
        start, end = start.astimezone(tz), end.astimezone(tz)
    elif start.tzinfo is not None:
        end = end.astimezone(start.tzinfo)
    return (end.date() - start.date()).days


@dataclass(frozen=True)
class InpatientOnlyProcedure:
    code: str
    system: str
    display: str


@cache
def example_inpatient_only_list() -> tuple[InpatientOnlyProcedure, ...]:
    """An EXAMPLE list to be replaced by the CMS OPPS inpatient-only list (Addendum E); see the data file."""
    data = read_json("inpatient_only_procedures_EXAMPLE.json")
    return tuple(
        InpatientOnlyProcedure(code=str(p["code"]), system=str(p["system"]), display=str(p["display"]))
        for p in data["procedures"]
    )


def two_midnight_decision(
    *,
    payer: Payer,
    care_started_at: dt.datetime,
    inpatient_order_at: dt.datetime,
    expected_discharge_at: dt.datetime | None,
    complex_medical_factors: Sequence[str],
    planned_procedures: Collection[str] = (),
    inpatient_only_codes: Collection[str] | None = None,
    case_by_case_rationale: str | None = None,
    discharged_at: dt.datetime | None = None,
    discharge_reason: DischargeReason | None = None,
    tz: dt.tzinfo | None = None,
    config: TwoMidnightConfig | None = None,
) -> TwoMidnightDecision:
    """Is an inpatient admission appropriate under 42 CFR 412.3(d)? Returns the decision with its reasons.

    ``care_started_at`` is when hospital care began (ED arrival or observation start); ``complex_medical_factors``
    are the documented factors behind the physician's expectation (history and comorbidities, severity, current
    needs, risk of an adverse event). ``inpatient_only_codes`` defaults to the EXAMPLE list.
    """
    if inpatient_order_at < care_started_at:
        raise ValueError("the inpatient order cannot precede the start of hospital care")
    if discharged_at is not None and discharged_at < inpatient_order_at:
        raise ValueError("the discharge cannot precede the inpatient order")
    config = config or TwoMidnightConfig()
    reasons: list[str] = []
    basis: list[Basis] = []

    regulation_applies = payer is not Payer.OTHER
    if payer is Payer.MEDICARE_ADVANTAGE and inpatient_order_at.date() < MEDICARE_ADVANTAGE_412_3_EFFECTIVE:
        regulation_applies = False
        reasons.append("Medicare Advantage plans apply 42 CFR 412.3 only from 2024-01-01 (CMS-4201-F)")
    elif payer is Payer.OTHER:
        reasons.append("42 CFR 412.3 binds Medicare and Medicare Advantage only; this result is informational")

    benchmark_start = care_started_at if config.count_time_before_order else inpatient_order_at
    if config.count_time_before_order:
        reasons.append("time in the ED/observation before the order counts toward the benchmark (UNVERIFIED default)")

    expected = None if expected_discharge_at is None else midnights_between(benchmark_start, expected_discharge_at, tz)
    factors = [f for f in complex_medical_factors if f.strip()]
    if expected is None:
        reasons.append("no expected discharge recorded: the physician's expectation is unknown")
    elif expected < BENCHMARK_MIDNIGHTS:
        reasons.append(f"expected to cross {expected} midnight(s), fewer than {BENCHMARK_MIDNIGHTS}")
    elif not factors:
        reasons.append(
            f"expected to cross {expected} midnights but no complex medical factors are documented; "
            "412.3(d)(1)(i) gives the expectation consideration only when its factors are documented"
        )
    else:
        reasons.append(f"expected to cross {expected} midnights, supported by: {'; '.join(factors)}")
        basis.append(Basis.TWO_MIDNIGHT_BENCHMARK)

    so_far = None
    if discharged_at is not None:
        so_far = midnights_between(benchmark_start, discharged_at, tz)
        if Basis.TWO_MIDNIGHT_BENCHMARK in basis and so_far < BENCHMARK_MIDNIGHTS:
            if discharge_reason in UNFORESEEN_DISCHARGE_REASONS:
                reasons.append(
                    f"stay ended after {so_far} midnight(s) for an unforeseen reason ({discharge_reason}); "
                    "it still counts because two midnights were reasonably expected"
                )
            else:
                basis.remove(Basis.TWO_MIDNIGHT_BENCHMARK)
                reasons.append(
                    f"stay ended after {so_far} midnight(s) without an unforeseen circumstance "
                    "(death, transfer, AMA, rapid recovery): the record does not support the expectation"
                )

    ipo = set(example_inpatient_only_list_codes() if inpatient_only_codes is None else inpatient_only_codes)
    listed = sorted(code for code in planned_procedures if code in ipo)
    if listed:
        basis.append(Basis.INPATIENT_ONLY_PROCEDURE)
        label = " (EXAMPLE list)" if inpatient_only_codes is None else ""
        reasons.append(f"procedure(s) on the inpatient-only list{label}: {', '.join(listed)}")

    if case_by_case_rationale is not None and case_by_case_rationale.strip():
        basis.append(Basis.CASE_BY_CASE_EXCEPTION)
        reasons.append(f"case-by-case exception documented: {case_by_case_rationale.strip()}")

    presumption_start = inpatient_order_at if config.presumption_counts_from_order else benchmark_start
    after_order = None if discharged_at is None else midnights_between(presumption_start, discharged_at, tz)
    presumption = (
        payer is Payer.MEDICARE_FFS
        and regulation_applies
        and after_order is not None
        and after_order >= BENCHMARK_MIDNIGHTS
    )
    if payer is Payer.MEDICARE_ADVANTAGE:
        reasons.append("Medicare Advantage: 412.3 criteria apply but not the 2-midnight presumption (CMS-4201-F)")

    return TwoMidnightDecision(
        inpatient_appropriate=bool(basis),
        basis=tuple(basis),
        reasons=tuple(reasons),
        regulation_applies=regulation_applies,
        presumption_applies=presumption,
        expected_midnights=expected,
        midnights_so_far=so_far,
        benchmark_start=benchmark_start,
    )


def example_inpatient_only_list_codes() -> frozenset[str]:
    return frozenset(p.code for p in example_inpatient_only_list())
