"""Clinical eligibility of a care option: the post-acute rules of RULES.md applied to the option's services. Pure.

An option is a bundle of service lines; each service category that a Medicare eligibility fact
governs is checked against the facts of the patient's hospital stay:

- ``snf_day``: the SNF 3-day qualifying inpatient stay (observation and ED time never count) and
  SNF admission within 30 days of discharge;
- ``irf_day``: IRF therapy intensity (3 h/day on 5 days, or 15 h over 7 days; more than one
  discipline, one of them PT or OT), from the therapy schedule recorded on the discharge plan's
  IRF need;
- ``home_infusion_*``: whether Part B pays the home infusion professional services. Failing it is
  not a clinical barrier (the drug may fall under Part D instead), so this check informs and never
  makes the option infeasible.

A check that lacks its facts is *unknown* and says which fact is missing: it never blocks an option
and is never silently counted as met. A failed blocking check makes the option infeasible unless
the case manager records a waiver with its reason (a Medicare Advantage plan or an ACO waiving the
3-day rule, for instance); the waived check stays on display.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field

from casebridge.hospital.rules import post_acute

SNF_RULE = "SNF 3-day qualifying inpatient stay (Medicare Part A)"
IRF_RULE = "IRF therapy intensity"
HOME_INFUSION_RULE = "Part B home infusion therapy services"

SNF_CATEGORIES = frozenset({"snf_day"})
IRF_CATEGORIES = frozenset({"irf_day"})
HOME_INFUSION_CATEGORIES = frozenset({"home_infusion_drug", "home_infusion_equipment", "home_infusion_nursing"})


@dataclass(frozen=True)
class InfusionPlan:
    route: str
    minutes_per_administration: int
    through_dme_pump: bool


@dataclass(frozen=True)
class StayFacts:
    """What the rules need from the patient's hospital stay and discharge plan; None where not recorded."""

    inpatient_admitted_on: dt.date | None
    observation: bool
    discharge_on: dt.date
    #: No expected discharge date is on the stay, so ``discharge_on`` is today: days are counted so far.
    discharge_on_is_today: bool = False
    snf_admission_on: dt.date | None = None
    irf_minutes_by_day: Sequence[int] | None = None
    irf_disciplines: Sequence[str] = field(default_factory=tuple)
    infusion: InfusionPlan | None = None


@dataclass(frozen=True)
class RuleCheck:
    rule: str
    eligible: bool | None  # None: the facts the rule needs are not on the record
    reasons: tuple[str, ...]
    blocking: bool  # a failure makes the option infeasible (unless waived)

    @property
    def fails(self) -> bool:
        return self.blocking and self.eligible is False


@dataclass(frozen=True)
class OptionEligibility:
    checks: tuple[RuleCheck, ...]
    waiver: str = ""

    @property
    def failed(self) -> tuple[RuleCheck, ...]:
        return tuple(c for c in self.checks if c.fails)

    @property
    def eligible(self) -> bool:
        return not self.failed or bool(self.waiver)

    @property
    def ineligible_reasons(self) -> tuple[str, ...]:
        """Why the rules make the option infeasible, one sentence per failed rule; empty when eligible."""
        if self.eligible:
            return ()
        return tuple(f"{c.rule}: {'; '.join(c.reasons)}" for c in self.failed)


def _snf(facts: StayFacts | None) -> RuleCheck:
    if facts is None:
        return RuleCheck(SNF_RULE, None, ("no hospital stay on this case to count inpatient days from",), True)
    if facts.inpatient_admitted_on is None:
        if facts.observation:
            reason = "an observation stay has no inpatient days: it does not qualify for Part A SNF"
            return RuleCheck(SNF_RULE, False, (reason,), True)
        return RuleCheck(SNF_RULE, None, ("the stay has no inpatient admission time",), True)
    try:
        result = post_acute.snf_qualifying_stay(
            inpatient_admitted_on=facts.inpatient_admitted_on,
            discharged_on=max(facts.discharge_on, facts.inpatient_admitted_on),
            snf_admission_on=facts.snf_admission_on,
        )
    except ValueError as exc:
        return RuleCheck(SNF_RULE, None, (str(exc),), True)
    reasons = result.reasons
    if facts.discharge_on_is_today:
        reasons = (*reasons, "no expected discharge date on the stay: inpatient days counted to today")
    return RuleCheck(SNF_RULE, result.eligible, reasons, True)


def _irf(facts: StayFacts | None) -> RuleCheck:
    if facts is None or facts.irf_minutes_by_day is None:
        missing = "no IRF need with a planned therapy schedule on the discharge plan"
        return RuleCheck(IRF_RULE, None, (missing,), True)
    try:
        result = post_acute.irf_intensity(
            therapy_minutes_by_day=facts.irf_minutes_by_day, disciplines=facts.irf_disciplines
        )
    except ValueError as exc:
        return RuleCheck(IRF_RULE, None, (str(exc),), True)
    return RuleCheck(IRF_RULE, result.eligible, result.reasons, True)


def _home_infusion(facts: StayFacts | None, service_date: dt.date) -> RuleCheck:
    if facts is None or facts.infusion is None:
        missing = "no home infusion need with route and minutes per dose on the discharge plan"
        return RuleCheck(HOME_INFUSION_RULE, None, (missing,), False)
    plan = facts.infusion
    result = post_acute.home_infusion_coverage(
        route=plan.route,
        minutes_per_administration=plan.minutes_per_administration,
        through_dme_pump=plan.through_dme_pump,
        service_date=service_date,
    )
    return RuleCheck(HOME_INFUSION_RULE, result.eligible, result.reasons, False)


def option_eligibility(
    categories: Collection[str], facts: StayFacts | None, *, today: dt.date, waiver: str = ""
) -> OptionEligibility:
    """The rule checks that the option's service categories call for, in a fixed order."""
    present = set(categories)
    checks = []
    if present & SNF_CATEGORIES:
        checks.append(_snf(facts))
    if present & IRF_CATEGORIES:
        checks.append(_irf(facts))
    if present & HOME_INFUSION_CATEGORIES:
        checks.append(_home_infusion(facts, facts.discharge_on if facts is not None else today))
    return OptionEligibility(tuple(checks), waiver.strip())
