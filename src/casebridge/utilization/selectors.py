"""Reads of utilization review, always scoped to the actor's organization (another organization's rows are 404).

For the census (hospital/): ``next_reviews_due`` and ``review_status_for`` answer for many stays in one query.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Count, F, Min, Q, QuerySet

from casebridge.accounts.permissions import can, require
from casebridge.audit.recorder import audit_listed, audit_record
from casebridge.clinical.coding import EncounterClass
from casebridge.clinical.models import Encounter
from casebridge.hospital.rules import observation, ur_determination
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, PermissionDenied
from casebridge.utilization import services
from casebridge.utilization.models import (
    AvoidableDay,
    AvoidableDayReason,
    ConditionCode44,
    CriteriaSet,
    CriteriaSetVersion,
    Determination,
    DeterminationStatus,
    MoonNotice,
    PayerReviewPolicy,
    ResponsibleParty,
    ReviewStatus,
    UtilizationReview,
)

OPEN_REVIEW = (ReviewStatus.PENDING, ReviewStatus.ESCALATED)


def reviews_owned(actor: Actor) -> QuerySet[UtilizationReview]:
    return UtilizationReview.objects.filter(organization_id=actor.organization_id)


def next_reviews_due(*, actor: Actor, encounter_ids: list[int]) -> dict[int, dt.datetime | None]:
    """For each encounter, when its next open review (initial or continued-stay) is due; None when no review
    is open (none scheduled yet, or the stay's reviews are done). One query; other organizations' stays get None."""
    require(actor, "case.view")
    out: dict[int, dt.datetime | None] = dict.fromkeys(encounter_ids)
    if not encounter_ids:
        return out
    rows = (
        reviews_owned(actor)
        .filter(encounter_id__in=encounter_ids, status__in=OPEN_REVIEW)
        .values("encounter_id")
        .annotate(due=Min("due_at"))
    )
    for row in rows:
        out[row["encounter_id"]] = row["due"]
    return out


@dataclass(frozen=True)
class ReviewStatusSummary:
    """Where a stay's utilization review stands, for a census row."""

    next_due_at: dt.datetime | None
    overdue: bool
    open_reviews: int
    escalated: bool
    completed_reviews: int
    last_decided_level: str  # from the most recent completed review, "" if none

    def as_dict(self) -> dict[str, Any]:
        return {
            "next_due_at": self.next_due_at,
            "overdue": self.overdue,
            "open_reviews": self.open_reviews,
            "escalated": self.escalated,
            "completed_reviews": self.completed_reviews,
            "last_decided_level": self.last_decided_level,
        }


def review_status_for(
    *, actor: Actor, encounter_ids: list[int], now: dt.datetime | None = None
) -> dict[int, ReviewStatusSummary]:
    """Per encounter: next due time, overdue flag, open/escalated/completed counts and the last decided level.
    Two queries whatever the number of stays (aggregates, then the latest completed level)."""
    require(actor, "case.view")
    moment = now or clock.now()
    empty = ReviewStatusSummary(None, False, 0, False, 0, "")
    out = dict.fromkeys(encounter_ids, empty)
    if not encounter_ids:
        return out
    rows = (
        reviews_owned(actor)
        .filter(encounter_id__in=encounter_ids)
        .values("encounter_id")
        .annotate(
            due=Min("due_at", filter=Q(status__in=OPEN_REVIEW)),
            open_n=Count("pk", filter=Q(status__in=OPEN_REVIEW)),
            escalated_n=Count("pk", filter=Q(status=ReviewStatus.ESCALATED)),
            done_n=Count("pk", filter=Q(status=ReviewStatus.COMPLETED)),
        )
    )
    latest: dict[int, str] = {}
    for eid, level, decision in (
        reviews_owned(actor)
        .filter(encounter_id__in=encounter_ids, status=ReviewStatus.COMPLETED)
        .order_by("encounter_id", "-completed_at", "-pk")
        .values_list("encounter_id", "decided_level", "decision")
    ):
        latest.setdefault(eid, level or decision)
    for r in rows:
        out[r["encounter_id"]] = ReviewStatusSummary(
            next_due_at=r["due"],
            overdue=r["due"] is not None and r["due"] < moment,
            open_reviews=r["open_n"],
            escalated=r["escalated_n"] > 0,
            completed_reviews=r["done_n"],
            last_decided_level=latest.get(r["encounter_id"], ""),
        )
    return out


def review_get(*, actor: Actor, review_id: int, audit: bool = True) -> UtilizationReview:
    require(actor, "case.view")
    review = (
        reviews_owned(actor)
        .select_related("patient", "encounter", "case", "task", "advisor_task", "completed_by", "escalated_by")
        .filter(pk=review_id)
        .first()
    )
    if review is None:
        raise NotFound(f"No review {review_id}.")
    if audit:
        audit_record(actor=actor, action="review.read", subject=review, patient=review.patient_id)
    return review


def review_list(
    *,
    actor: Actor,
    status: str | None = None,
    kind: str | None = None,
    encounter_id: int | None = None,
    case_id: int | None = None,
    overdue: bool | None = None,
) -> QuerySet[UtilizationReview]:
    require(actor, "case.view")
    qs = reviews_owned(actor).select_related("patient", "encounter")
    if status == "open":
        qs = qs.filter(status__in=OPEN_REVIEW)
    elif status:
        qs = qs.filter(status=status)
    if kind:
        qs = qs.filter(kind=kind)
    if encounter_id is not None:
        qs = qs.filter(encounter_id=encounter_id)
    if case_id is not None:
        qs = qs.filter(case_id=case_id)
    if overdue is True:
        qs = qs.filter(status__in=OPEN_REVIEW, due_at__lt=clock.now())
    return qs.order_by("due_at", "pk")


def reviews_listed(*, actor: Actor, limit: int, **filters: Any) -> list[UtilizationReview]:
    """A list of reviews as shown (page or API), each listed patient recorded as read."""
    rows = list(review_list(actor=actor, **filters)[:limit])
    given = {k: v for k, v in filters.items() if v is not None}
    audit_listed(actor=actor, action="review.list", rows=rows, detail={**given, "rows": len(rows)})
    return rows


def advisor_queue(*, actor: Actor, audit: bool = False) -> dict[str, list[Any]]:
    """The physician advisor's work: escalated reviews (oldest due first) and open determinations.
    ``audit``: the queue is being shown, so each listed patient is recorded as read."""
    require(actor, "case.view")
    queue: dict[str, list[Any]] = {
        "reviews": list(
            reviews_owned(actor)
            .filter(status=ReviewStatus.ESCALATED)
            .select_related("patient", "encounter", "escalated_by", "advisor_task")
            .order_by("escalated_at", "pk")[:200]
        ),
        "determinations": list(
            Determination.objects.filter(organization_id=actor.organization_id, status=DeterminationStatus.OPEN)
            .select_related("patient", "review")
            .order_by("created_at")[:200]
        ),
        "notices_due": list(
            Determination.objects.filter(organization_id=actor.organization_id, status=DeterminationStatus.DECIDED)
            .annotate(n=Count("notices"))
            .filter(n__lt=3)
            .select_related("patient")
            .order_by("notice_due_at")[:200]
        ),
    }
    if audit:
        audit_listed(
            actor=actor,
            action="advisor_queue.view",
            rows=[row for rows in queue.values() for row in rows],
            detail={k: len(v) for k, v in queue.items()},
        )
    return queue


def determination_get(*, actor: Actor, determination_id: int) -> Determination:
    require(actor, "case.view")
    det = (
        Determination.objects.filter(organization_id=actor.organization_id, pk=determination_id)
        .select_related("review", "patient", "opened_by")
        .first()
    )
    if det is None:
        raise NotFound(f"No determination {determination_id}.")
    return det


def determination_state(det: Determination, now: dt.datetime | None = None) -> dict[str, Any]:
    """What 482.30(d) says about this determination now: may it be decided, and where do the notices stand."""
    check = services.determination_check(det)
    notices = None
    if det.decided_at is not None:
        delivered = {ur_determination.NoticeRecipient(n.recipient): n.delivered_at for n in det.notices.all()}
        st = ur_determination.notice_status(decided_at=det.decided_at, delivered=delivered, as_of=now or clock.now())
        notices = {
            "due_by": st.due_by,
            "outstanding": [r.value for r in st.outstanding],
            "late": [r.value for r in st.late],
            "complete": st.complete,
        }
    return {
        "may_decide": check.allowed and det.status == DeterminationStatus.OPEN,
        "path": check.path.value if check.path else None,
        "reasons": list(check.reasons),
        "notices": notices,
    }


def encounter_for_review(*, actor: Actor, encounter_id: int) -> Encounter:
    require(actor, "case.view")
    encounter = (
        Encounter.objects.filter(organization_id=actor.organization_id, pk=encounter_id)
        .select_related("patient", "attending")
        .first()
    )
    if encounter is None:
        raise NotFound(f"No encounter {encounter_id}.")
    return encounter


def moon_get(*, actor: Actor, moon_id: int) -> MoonNotice:
    require(actor, "case.view")
    row = MoonNotice.objects.filter(organization_id=actor.organization_id, pk=moon_id).select_related("patient").first()
    if row is None:
        raise NotFound(f"No MOON notice {moon_id}.")
    return row


def moon_state(row: MoonNotice, now: dt.datetime | None = None) -> dict[str, Any]:
    released = row.encounter.discharge_at
    state = observation.moon_notice(
        observation_started_at=row.observation_started_at,
        released_at=released,
        as_of=None if released else (now or clock.now()),
    )
    return {"required": state.required, "due_at": state.due_at, "reason": state.reason}


def cc44_get(*, actor: Actor, cc44_id: int) -> ConditionCode44:
    require(actor, "case.view")
    row = (
        ConditionCode44.objects.filter(organization_id=actor.organization_id, pk=cc44_id)
        .select_related("patient", "encounter")
        .first()
    )
    if row is None:
        raise NotFound(f"No condition code 44 record {cc44_id}.")
    return row


def _may_read_criteria(actor: Actor) -> None:
    if not (can(actor, "case.view") or can(actor, "criteria.manage")):
        raise PermissionDenied(f"Your role in {actor.organization.name} does not allow reading the criteria library.")


def criteria_sets(*, actor: Actor) -> list[tuple[CriteriaSet, CriteriaSetVersion | None]]:
    """The organization's sets with their current version (two queries)."""
    _may_read_criteria(actor)
    sets = list(CriteriaSet.objects.filter(organization_id=actor.organization_id).order_by("key"))
    current = {
        (v.criteria_set_id, v.version): v
        for v in CriteriaSetVersion.objects.filter(criteria_set__in=sets).defer("source_text", "definition")
    }
    return [(s, current.get((s.pk, s.current_version))) for s in sets]


def criteria_set_get(*, actor: Actor, set_id: int) -> tuple[CriteriaSet, list[CriteriaSetVersion]]:
    _may_read_criteria(actor)
    cset = CriteriaSet.objects.filter(organization_id=actor.organization_id, pk=set_id).first()
    if cset is None:
        raise NotFound(f"No criteria set {set_id}.")
    return cset, list(cset.versions.select_related("created_by").order_by("-version"))


def review_policies(*, actor: Actor) -> list[PayerReviewPolicy]:
    _may_read_criteria(actor)
    return list(PayerReviewPolicy.objects.filter(organization_id=actor.organization_id))


def avoidable_reasons(*, actor: Actor) -> list[AvoidableDayReason]:
    require(actor, "case.view")
    services.avoidable_reasons_ensure(actor.organization_id)
    return list(AvoidableDayReason.objects.filter(organization_id=actor.organization_id, active=True))


def stays_to_pick(*, actor: Actor, limit: int = 300) -> list[tuple[int, str]]:
    """Recent inpatient and observation stays of the actor's organization, as (encounter id, label) choices."""
    require(actor, "case.view")
    rows = (
        Encounter.objects.filter(
            organization_id=actor.organization_id,
            encounter_class__in=[EncounterClass.INPATIENT, EncounterClass.OBSERVATION],
            admit_at__isnull=False,
        )
        .select_related("patient")
        .order_by("-admit_at")[:limit]
    )
    return [
        (
            e.pk,
            f"{e.patient.family_name}, {e.patient.given_name} · "
            f"{e.get_encounter_class_display()} {e.admit_at:%m/%d/%Y}",
        )
        for e in rows
    ]


def avoidable_days(
    *, actor: Actor, encounter_id: int | None = None, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> QuerySet[AvoidableDay]:
    require(actor, "case.view")
    qs = AvoidableDay.objects.filter(organization_id=actor.organization_id).select_related("reason", "patient")
    if encounter_id is not None:
        qs = qs.filter(encounter_id=encounter_id)
    if date_from is not None:
        qs = qs.filter(day__gte=date_from)
    if date_to is not None:
        qs = qs.filter(day__lte=date_to)
    return qs.order_by("-day", "-pk")


def avoidable_days_listed(*, actor: Actor, action: str, limit: int, **filters: Any) -> list[AvoidableDay]:
    """The newest avoidable days for a page or an API list, each listed patient recorded as read."""
    days = list(avoidable_days(actor=actor, **filters)[:limit])
    audit_listed(actor=actor, action=action, rows=days, detail={"rows": len(days)})
    return days


@dataclass
class Bar:
    label: str
    count: int
    percent: float = 0.0


@dataclass
class AvoidableReport:
    total: int = 0
    by_reason: list[Bar] = field(default_factory=list)
    by_payer: list[Bar] = field(default_factory=list)
    by_provider: list[Bar] = field(default_factory=list)
    by_party: list[Bar] = field(default_factory=list)


def _bars(counter: Counter[str]) -> list[Bar]:
    top = max(counter.values(), default=0)
    return [Bar(label, n, round(100.0 * n / top, 1) if top else 0.0) for label, n in counter.most_common()]


def avoidable_day_report(
    *, actor: Actor, date_from: dt.date | None = None, date_to: dt.date | None = None
) -> AvoidableReport:
    """Avoidable days counted by reason, payer, provider and responsible party (one grouped query)."""
    require(actor, "case.view")
    qs = avoidable_days(actor=actor, date_from=date_from, date_to=date_to)
    rows = qs.order_by().values("reason__label", "payer", "provider", "responsible_party").annotate(n=Count("pk"))
    reason: Counter[str] = Counter()
    payer: Counter[str] = Counter()
    provider: Counter[str] = Counter()
    party: Counter[str] = Counter()
    labels = dict(ResponsibleParty.choices)
    for r in rows:
        reason[r["reason__label"]] += r["n"]
        payer[r["payer"] or "No coverage on file"] += r["n"]
        provider[r["provider"] or "Not recorded"] += r["n"]
        party[labels.get(r["responsible_party"], r["responsible_party"])] += r["n"]
    return AvoidableReport(
        total=sum(reason.values()),
        by_reason=_bars(reason),
        by_payer=_bars(payer),
        by_provider=_bars(provider),
        by_party=_bars(party),
    )


def ur_panel(*, actor: Actor, case_id: int) -> dict[str, Any]:
    """What the case page shows of utilization review: the case's stays with their reviews, MOON and CC44."""
    encounters = list(
        Encounter.objects.filter(organization_id=actor.organization_id, hospital_case_id=case_id).order_by("-admit_at")
    )
    ids = [e.pk for e in encounters]
    reviews = list(reviews_owned(actor).filter(encounter_id__in=ids).order_by("-due_at", "-pk")[:20])
    return {
        "encounters": encounters,
        "reviews": reviews,
        "moons": {m.encounter_id: m for m in MoonNotice.objects.filter(encounter_id__in=ids)},
        "cc44": {c.encounter_id: c for c in ConditionCode44.objects.filter(encounter_id__in=ids)},
    }


RESULT_WORDS = {"met": "met", "not_met": "not met", "unknown": "unknown"}


def _evidence_text(criterion: dict[str, Any]) -> str:
    shown = [
        " ".join(str(part) for part in (e.get("display"), e.get("value"), e.get("at")) if part)
        for e in criterion.get("evidence") or []
    ]
    return "; ".join(s for s in shown if s) or str(criterion.get("explanation") or "")


def criteria_results_for_packet(*, actor: Actor, encounter_id: int) -> list[dict[str, Any]]:
    """The criteria results of the stay's latest evaluated review (completed first, else the latest evaluated
    open one), one row per criterion: set, criterion, result (met / not met / unknown) and the evidence that
    decided it. Empty when no review of the stay has been evaluated: the packet check then says so."""
    require(actor, "case.view")
    review = (
        reviews_owned(actor)
        .filter(encounter_id=encounter_id, evaluated_at__isnull=False)
        .exclude(status=ReviewStatus.CANCELLED)
        .order_by(
            # a completed review is the reviewer's word; an evaluated open one only the engine's
            F("completed_at").desc(nulls_last=True),
            "-evaluated_at",
            "-pk",
        )
        .only("results", "decided_level", "recommended_level", "status")
        .first()
    )
    if review is None:
        return []
    rows: list[dict[str, Any]] = []
    for set_result in review.results or []:
        for c in set_result.get("criteria") or []:
            status = str(c.get("status") or "unknown")
            rows.append(
                {
                    "set": set_result.get("title") or set_result.get("key", ""),
                    "criterion": c.get("text") or c.get("id", ""),
                    "result": RESULT_WORDS.get(status, status),
                    "evidence": _evidence_text(c),
                    "review_status": review.status,
                    "level_of_care": review.decided_level or review.recommended_level,
                }
            )
    return rows


def avoidable_days_by_reason(*, actor: Actor, since: dt.date) -> list[tuple[str, int]]:
    """Avoidable days logged since ``since``, counted by reason label, most days first (one grouped query)."""
    require(actor, "case.view")
    rows = (
        AvoidableDay.objects.filter(organization_id=actor.organization_id, day__gte=since)
        .values("reason__label")
        .annotate(n=Count("pk"))
        .order_by("-n", "reason__label")
    )
    return [(str(r["reason__label"]), int(r["n"])) for r in rows]
