"""The hospital dashboard's figures, each chart a small list of labelled values (rendered as inline SVG
with a data table as its text alternative)."""

from __future__ import annotations

import datetime as dt
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import Decimal

from django.utils import timezone

from casebridge.accounts.permissions import require
from casebridge.hospital.models import ServiceType
from casebridge.hospital.selectors import census, denial_rate
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.postacute import selectors as postacute_selectors
from casebridge.utilization import selectors as ur_selectors

BAR_HEIGHT = 22
LABEL_WIDTH = 240  # room for a 28-character label at 12 px; longer ones are cut with an ellipsis
CHART_WIDTH = 560
SERVICE_LABELS = dict(ServiceType.choices)


@dataclass
class Bar:
    label: str
    value: float
    display: str
    tone: str = ""
    y: int = 0
    width: float = 0.0


@dataclass
class Chart:
    key: str
    title: str
    summary: str
    unit: str
    bars: list[Bar] = field(default_factory=list)

    @property
    def height(self) -> int:
        return max(1, len(self.bars)) * (BAR_HEIGHT + 6) + 6

    def layout(self) -> Chart:
        top = max((b.value for b in self.bars), default=0) or 1
        span = CHART_WIDTH - LABEL_WIDTH - 60
        for i, b in enumerate(self.bars):
            b.y = 6 + i * (BAR_HEIGHT + 6)
            b.width = round(max(0.0, b.value) / top * span, 1)
        return self


def dashboard(*, actor: Actor) -> list[Chart]:
    require(actor, "census.view")
    now = clock.now()
    today = timezone.localdate(now)
    rows = census(actor=actor, with_options=False, audit=False).rows
    charts: list[Chart] = []

    by_status = Counter(r.status for r in rows)
    charts.append(
        Chart(
            "census",
            "Census by status",
            f"{len(rows)} current stays: {by_status.get('inpatient', 0)} inpatient, "
            f"{by_status.get('observation', 0)} observation.",
            "stays",
            [
                Bar("Inpatient", by_status.get("inpatient", 0), str(by_status.get("inpatient", 0))),
                Bar("Observation", by_status.get("observation", 0), str(by_status.get("observation", 0)), "alt"),
            ],
        )
    )

    reviews = Chart("reviews", "Reviews due and overdue", "", "stays")
    ur = [r for r in rows if r.next_review_due is not None]
    payer = [r for r in rows if r.payer_review_on is not None]
    buckets = [
        ("UR review overdue", sum(1 for r in ur if r.review_overdue), "danger"),
        (
            "UR review due today",
            sum(1 for r in ur if not r.review_overdue and timezone.localdate(r.next_review_due) == today),
            "warn",
        ),  # type: ignore[arg-type]
        ("Payer review overdue", sum(1 for r in payer if r.payer_review_on and r.payer_review_on < today), "danger"),
        ("Payer review due today", sum(1 for r in payer if r.payer_review_on == today), "warn"),
        ("Payer review later", sum(1 for r in payer if r.payer_review_on and r.payer_review_on > today), ""),
    ]
    reviews.bars = [Bar(label, n, str(n), tone) for label, n, tone in buckets]
    reviews.summary = "; ".join(f"{b.label}: {b.display}" for b in reviews.bars) + "."
    charts.append(reviews)

    by_drg: dict[str, list[Decimal]] = defaultdict(list)
    for r in rows:
        if r.los_index is not None:
            by_drg[f"{r.working_drg} {r.drg_title}"[:40]].append(r.los_index)
    los = Chart("los", "LOS index by DRG (actual days / GMLOS)", "", "index")
    for label, values in sorted(by_drg.items(), key=lambda kv: -sum(kv[1]) / len(kv[1]))[:12]:
        mean = sum(values) / len(values)
        los.bars.append(Bar(f"{label} (n={len(values)})", float(mean), f"{mean:.2f}", "danger" if mean > 1 else ""))
    los.summary = (
        f"{sum(len(v) for v in by_drg.values())} stays with a working DRG in the imported GMLOS table; "
        "above 1.00 the stay is longer than the DRG's geometric mean."
        if by_drg
        else "No current stay has a working DRG found in the imported GMLOS table."
    )
    charts.append(los)

    avoidable = Chart("avoidable", "Avoidable days by reason (last 90 days)", "", "days")
    found = ur_selectors.avoidable_days_by_reason(actor=actor, since=today - dt.timedelta(days=90))
    avoidable.bars = [Bar(reason, days, str(days)) for reason, days in found]
    avoidable.summary = "; ".join(f"{b.label}: {b.display}" for b in avoidable.bars) or "No avoidable days logged."
    charts.append(avoidable)

    rate = Chart("denials", "Concurrent denial rate by payer (last 90 days)", "", "%")
    for row in denial_rate(actor=actor, since=today - dt.timedelta(days=90)):
        pct = row.rate
        rate.bars.append(
            Bar(
                f"{row.payer} ({row.denied}/{row.decided})",
                float(pct or 0),
                f"{pct}%" if pct is not None else "—",
                "danger" if row.payer == "All payers" else "",
            )
        )
    rate.summary = (
        "; ".join(f"{b.label}: {b.display}" for b in rate.bars) or "No authorization decisions in the period."
    )
    charts.append(rate)

    referrals = Chart("referrals", "Referral response time (median hours, last 90 days)", "", "hours")
    times = postacute_selectors.referral_response_hours(actor=actor, since=now - dt.timedelta(days=90))
    referrals.bars = [Bar(f"{SERVICE_LABELS.get(t, t)} (n={n})", hours, f"{hours:g} h") for t, hours, n in times]
    referrals.summary = "; ".join(f"{b.label}: {b.display}" for b in referrals.bars) or "No answered referrals yet."
    charts.append(referrals)

    bands = Counter(r.risk_band for r in rows)
    risk = Chart(
        "risk",
        "Readmission risk distribution (LACE / HOSPITAL)",
        "",
        "stays",
        [
            Bar("High", bands.get("high", 0), str(bands.get("high", 0)), "danger"),
            Bar("Moderate", bands.get("moderate", 0), str(bands.get("moderate", 0)), "warn"),
            Bar("Low", bands.get("low", 0), str(bands.get("low", 0)), "ok"),
            Bar("Incomplete (inputs missing)", bands.get("unknown", 0), str(bands.get("unknown", 0)), "muted"),
        ],
    )
    risk.summary = "; ".join(f"{b.label}: {b.display}" for b in risk.bars) + "."
    charts.append(risk)
    return [c.layout() for c in charts]
