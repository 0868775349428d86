"""Reads of the organization's import runs and HL7 message log, scoped to the actor's organization."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import Count, Q, QuerySet
from django.db.models.functions import TruncHour

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_listed
from casebridge.interop.models import Hl7Message, ImportRun
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound


def import_runs_recent(actor: Actor, limit: int = 20) -> QuerySet[ImportRun]:
    """The organization's latest imports, newest first (organization admins)."""
    require(actor, "organization.manage")
    return ImportRun.objects.filter(organization_id=actor.organization_id).select_related("started_by")[:limit]


def import_run_get(actor: Actor, run_id: int) -> ImportRun:
    """One of the organization's imports; NotFound for another organization's, as for none."""
    require(actor, "organization.manage")
    run = (
        ImportRun.objects.filter(pk=run_id, organization_id=actor.organization_id).select_related("started_by").first()
    )
    if run is None:
        raise NotFound(f"No import {run_id}.")
    return run


# --- the HL7 v2 feed's message log ------------------------------------------------------------------

#: The log page's filters: every message, those refused (AE or AR), or one acknowledgement code.
OUTCOMES = {"": (), "refused": ("AE", "AR"), "AA": ("AA",), "AE": ("AE",), "AR": ("AR",)}
LOG_PAGE = 100
CHART_HEIGHT = 120  # the hourly chart's SVG units
COLUMN_WIDTH = 22


@dataclass
class HourColumn:
    """One hour of the feed: messages accepted and refused, and the column's geometry (SVG units)."""

    start: dt.datetime
    accepted: int
    refused: int
    x: float = 0.0
    accepted_height: float = 0.0
    refused_height: float = 0.0

    @property
    def total(self) -> int:
        return self.accepted + self.refused

    # Columns grow up from the chart's floor; refused sits on accepted.
    @property
    def accepted_y(self) -> float:
        return round(CHART_HEIGHT - self.accepted_height, 1)

    @property
    def refused_y(self) -> float:
        return round(self.accepted_y - self.refused_height, 1)


@dataclass
class FeedSummary:
    since: dt.datetime
    accepted: int
    refused: int
    hours: list[HourColumn]
    peak: int

    CHART_HEIGHT = CHART_HEIGHT  # for the template

    @property
    def chart_width(self) -> int:
        return len(self.hours) * COLUMN_WIDTH


def hl7_messages(
    actor: Actor, *, outcome: str = "", control_id: str = "", before: int | None = None, limit: int = LOG_PAGE
) -> list[Hl7Message]:
    """The organization's logged HL7 messages, newest first: all, or those with the ``outcome``'s
    acknowledgement codes, or the one(s) with a control ID; ``before`` (a message id) pages back.
    The rows name patients, so reading them is audited, once per patient."""
    require(actor, "organization.manage")
    rows = Hl7Message.objects.filter(organization_id=actor.organization_id)
    codes = OUTCOMES.get(outcome, ())
    if codes:
        rows = rows.filter(ack_code__in=codes)
    if control_id:
        rows = rows.filter(control_id=control_id)
    if before is not None:
        # Keyset paging in the page's order (received, then id): the messages after that one. A
        # refused message's row is written after its rollback, so ids alone are not in time order.
        anchor = (
            Hl7Message.objects.filter(organization_id=actor.organization_id, pk=before)
            .values_list("received_at", flat=True)
            .first()
        )
        if anchor is not None:
            rows = rows.filter(Q(received_at__lt=anchor) | Q(received_at=anchor, pk__lt=before))
    found = list(rows.select_related("patient").order_by("-received_at", "-pk")[:limit])
    audit_listed(actor=actor, action="hl7.log.list", rows=found, detail={"outcome": outcome})
    return found


def hl7_feed_summary(actor: Actor, *, hours: int = 24) -> FeedSummary:
    """Messages accepted and refused in the last ``hours`` hours, in total and hour by hour (the
    current hour last), with the columns laid out for the page's chart."""
    require(actor, "organization.manage")
    now = clock.now()
    first_hour = now.replace(minute=0, second=0, microsecond=0) - dt.timedelta(hours=hours - 1)
    counted = (
        Hl7Message.objects.filter(organization_id=actor.organization_id, received_at__gte=first_hour)
        .annotate(hour=TruncHour("received_at", tzinfo=dt.UTC))
        .values("hour")
        .annotate(accepted=Count("pk", filter=Q(ack_code="AA")), refused=Count("pk", filter=~Q(ack_code="AA")))
    )
    by_hour = {row["hour"]: (row["accepted"], row["refused"]) for row in counted}
    columns = []
    for n in range(hours):
        start = first_hour + dt.timedelta(hours=n)
        accepted, refused = by_hour.get(start.astimezone(dt.UTC), (0, 0))
        columns.append(HourColumn(start, accepted, refused))
    peak = max((c.total for c in columns), default=0)
    scale = CHART_HEIGHT / peak if peak else 0.0
    for n, column in enumerate(columns):
        column.x = n * COLUMN_WIDTH
        column.accepted_height = round(column.accepted * scale, 1)
        column.refused_height = round(column.refused * scale, 1)
    return FeedSummary(
        since=first_hour,
        accepted=sum(c.accepted for c in columns),
        refused=sum(c.refused for c in columns),
        hours=columns,
        peak=peak,
    )
