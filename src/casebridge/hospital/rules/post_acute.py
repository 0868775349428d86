"""Post-acute eligibility facts (RULES.md): SNF 3-day qualifying stay, IRF therapy intensity, Part B home infusion."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection, Sequence
from dataclasses import dataclass

SNF_QUALIFYING_INPATIENT_DAYS = 3
SNF_ADMISSION_WITHIN_DAYS = 30
IRF_DAILY_MINUTES = 180  # 3 hours a day ...
IRF_DAYS_PER_WEEK = 5  # ... at least 5 days a week
IRF_WEEKLY_MINUTES = 900  # or 15 hours over 7 consecutive days
IRF_DISCIPLINES = frozenset({"PT", "OT", "SLP", "ORTHOTICS_PROSTHETICS"})
IRF_REQUIRED_ONE_OF = frozenset({"PT", "OT"})
HOME_INFUSION_BENEFIT_START = dt.date(2021, 1, 1)
HOME_INFUSION_MIN_MINUTES = 15
HOME_INFUSION_ROUTES = frozenset({"intravenous", "subcutaneous"})


@dataclass(frozen=True)
class Eligibility:
    eligible: bool
    reasons: tuple[str, ...]


@dataclass(frozen=True)
class SnfQualifyingStay(Eligibility):
    inpatient_days: int


def _date(value: dt.date) -> dt.date:
    return value.date() if isinstance(value, dt.datetime) else value


def snf_qualifying_stay(
    *,
    inpatient_admitted_on: dt.date,
    discharged_on: dt.date,
    snf_admission_on: dt.date | None = None,
    observation_or_ed_started_on: dt.date | None = None,
) -> SnfQualifyingStay:
    """Medicare Part A SNF: 3 consecutive inpatient days, SNF admission within 30 days of hospital discharge.

    ``inpatient_admitted_on`` is the date of the formal inpatient admission. The admission day counts, the
    discharge day does not; days in observation or the ED before it never count.
    """
    admitted, discharged = _date(inpatient_admitted_on), _date(discharged_on)
    if discharged < admitted:
        raise ValueError("discharge is before the inpatient admission")
    days = (discharged - admitted).days
    reasons = []
    qualifying = days >= SNF_QUALIFYING_INPATIENT_DAYS
    reasons.append(
        f"{days} inpatient day(s) counted (admission day counts, discharge day does not); "
        f"{'meets' if qualifying else 'short of'} the {SNF_QUALIFYING_INPATIENT_DAYS}-day qualifying stay"
    )
    if observation_or_ed_started_on is not None and _date(observation_or_ed_started_on) < admitted:
        excluded = (admitted - _date(observation_or_ed_started_on)).days
        reasons.append(f"{excluded} day(s) in observation/ED before the inpatient admission do not count")
    in_window = True
    if snf_admission_on is not None:
        gap = (_date(snf_admission_on) - discharged).days
        if gap < 0:
            raise ValueError("SNF admission is before the hospital discharge")
        in_window = gap <= SNF_ADMISSION_WITHIN_DAYS
        reasons.append(
            f"SNF admission {gap} day(s) after discharge: "
            f"{'within' if in_window else 'beyond'} {SNF_ADMISSION_WITHIN_DAYS} days"
        )
    return SnfQualifyingStay(eligible=qualifying and in_window, reasons=tuple(reasons), inpatient_days=days)


def irf_intensity(*, therapy_minutes_by_day: Sequence[int], disciplines: Collection[str]) -> Eligibility:
    """IRF intensity: 3 h/day on at least 5 days a week, or 15 hours over 7 days; multiple disciplines, one PT or OT.

    ``therapy_minutes_by_day`` holds the planned minutes for 7 consecutive days; ``disciplines`` uses PT, OT, SLP
    and ORTHOTICS_PROSTHETICS.
    """
    if len(therapy_minutes_by_day) != 7:
        raise ValueError("therapy_minutes_by_day needs exactly 7 consecutive days")
    if any(m < 0 for m in therapy_minutes_by_day):
        raise ValueError("therapy minutes cannot be negative")
    named = {d.strip().upper() for d in disciplines}
    unknown = named - IRF_DISCIPLINES
    if unknown:
        raise ValueError(f"unknown therapy discipline(s): {', '.join(sorted(unknown))}")
    reasons = []
    full_days = sum(1 for m in therapy_minutes_by_day if m >= IRF_DAILY_MINUTES)
    total = sum(therapy_minutes_by_day)
    if full_days >= IRF_DAYS_PER_WEEK:
        intensity = True
        reasons.append(f"{full_days} day(s) with at least 3 hours of therapy (needs {IRF_DAYS_PER_WEEK})")
    elif total >= IRF_WEEKLY_MINUTES:
        intensity = True
        reasons.append(f"{total / 60:g} hours over 7 days (at least 15); CMS accepts this schedule when documented")
    else:
        intensity = False
        reasons.append(
            f"only {full_days} day(s) with 3 hours of therapy and {total / 60:g} hours over 7 days: "
            "needs 3 hours on 5 days or 15 hours over 7 days"
        )
    multiple = len(named) >= 2
    if not multiple:
        reasons.append("needs more than one therapy discipline")
    has_pt_or_ot = bool(named & IRF_REQUIRED_ONE_OF)
    if not has_pt_or_ot:
        reasons.append("one of the disciplines must be PT or OT")
    if multiple and has_pt_or_ot:
        reasons.append(f"disciplines {', '.join(sorted(named))} include PT or OT")
    return Eligibility(eligible=intensity and multiple and has_pt_or_ot, reasons=tuple(reasons))


@dataclass(frozen=True)
class HomeInfusionCoverage(Eligibility):
    """``eligible`` means the Part B home infusion therapy services benefit pays the professional services."""

    pump_supplies_drug_under_dme: bool


def home_infusion_coverage(
    *, route: str, minutes_per_administration: int, through_dme_pump: bool, service_date: dt.date
) -> HomeInfusionCoverage:
    """Part B home infusion therapy services (from 2021-01-01): IV or subcutaneous, 15+ minutes, by DME pump."""
    reasons = []
    route_ok = route.strip().lower() in HOME_INFUSION_ROUTES
    if not route_ok:
        reasons.append(f"route {route!r} is not intravenous or subcutaneous")
    duration_ok = minutes_per_administration >= HOME_INFUSION_MIN_MINUTES
    if not duration_ok:
        reasons.append(f"{minutes_per_administration} minutes per administration is under 15")
    if not through_dme_pump:
        reasons.append("not given through a DME infusion pump")
    date_ok = _date(service_date) >= HOME_INFUSION_BENEFIT_START
    if not date_ok:
        reasons.append("the Part B home infusion therapy services benefit begins 2021-01-01")
    eligible = route_ok and duration_ok and through_dme_pump and date_ok
    if eligible:
        reasons.append(
            "Part B pays the home infusion professional services; "
            "the pump, supplies and drug fall under the DME benefit"
        )
    else:
        reasons.append("the drug may instead fall under Part D, which covers the drug but not the supplies or nursing")
    return HomeInfusionCoverage(eligible=eligible, reasons=tuple(reasons), pump_supplies_drug_under_dme=eligible)
