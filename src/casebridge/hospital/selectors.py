"""Reads of hospital stays, scoped to the actor's organization (another organization's rows are 404)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.db.models import Count, F, OuterRef, Q, QuerySet, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from casebridge.accounts.models import User
from casebridge.accounts.permissions import require
from casebridge.accounts.selectors import insurers_on_platform
from casebridge.audit.recorder import audit_record, audit_record_many
from casebridge.clinical.coding import ADMISSION_CLASSES, ENCOUNTER_OPEN_STATUSES
from casebridge.clinical.models import Encounter
from casebridge.hospital.models import (
    Authorization,
    AuthorizationStatus,
    Denial,
    DischargeBarrier,
    DischargePlan,
    DrgWeight,
    HospitalStay,
    PacketShare,
    ReviewPacket,
)
from casebridge.hospital.rules.two_midnight import midnights_between
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.patients.models import Coverage
from casebridge.utilization import selectors as ur_selectors


def open_admissions(actor: Actor) -> QuerySet[Encounter]:
    """The hospital's current inpatient and observation encounters."""
    return Encounter.objects.filter(
        organization_id=actor.organization_id,
        encounter_class__in=sorted(ADMISSION_CLASSES),
        status__in=sorted(ENCOUNTER_OPEN_STATUSES),
        discharge_at__isnull=True,
    )


def stays_owned(actor: Actor) -> QuerySet[HospitalStay]:
    return HospitalStay.objects.filter(organization_id=actor.organization_id)


def unit_of(encounter: Encounter) -> str:
    """The nursing unit: the location's name, else the first component of the point of care (4W^401^B)."""
    if encounter.location_id and encounter.location is not None and encounter.location.name:
        return encounter.location.name
    return (encounter.location_text or "").split("^")[0].strip()


@dataclass
class CensusRow:
    """One census line, built from plain values (no model instances: 500 rows must stay cheap)."""

    encounter_id: int
    patient_id: int
    patient_name: str
    stay_id: int | None
    status: str
    admit_at: dt.datetime
    midnights: int
    unit: str
    case_manager: str
    case_manager_id: int | None
    case_id: int | None
    payer: str
    working_drg: str
    drg_title: str
    gmlos: Decimal | None
    los_index: Decimal | None
    next_review_due: dt.datetime | None
    review_overdue: bool
    authorization_status: str
    authorization_label: str
    payer_review_on: dt.date | None
    payer_review_overdue: bool
    expected_discharge_on: dt.date | None
    barrier_count: int
    first_barrier: str
    risk_band: str


@dataclass
class Census:
    rows: list[CensusRow]
    units: list[str] = field(default_factory=list)
    case_managers: list[tuple[int, str]] = field(default_factory=list)
    payers: list[str] = field(default_factory=list)


CENSUS_VALUES = (
    "pk",
    "patient_id",
    "patient__family_name",
    "patient__given_name",
    "encounter_class",
    "admit_at",
    "location__name",
    "location_text",
    "hospital_case_id",
    "hospital_case__assigned_to_id",
    "hospital_case__assigned_to__first_name",
    "hospital_case__assigned_to__last_name",
    "hospital_case__assigned_to__username",
    "hospital_stay__pk",
    "hospital_stay__working_drg",
    "hospital_stay__expected_discharge_on",
    "hospital_stay__risk_band",
    "auth_status",
    "auth_next_review",
    "payer",
    "gmlos",
    "drg_title",
)


def _census_queryset(actor: Actor) -> QuerySet[Encounter, dict[str, Any]]:
    stay_pk = OuterRef("hospital_stay__pk")
    latest_auth = Authorization.objects.filter(stay_id=stay_pk).order_by("-pk")
    primary_coverage = Coverage.objects.filter(patient_id=OuterRef("patient_id"), active=True).order_by(
        "order", "-period_start"
    )
    drg = DrgWeight.objects.filter(organization_id=actor.organization_id, drg=OuterRef("hospital_stay__working_drg"))
    return (
        open_admissions(actor)
        .annotate(
            auth_status=Subquery(latest_auth.values("status")[:1]),
            auth_next_review=Subquery(latest_auth.values("next_review_on")[:1]),
            payer=Coalesce(
                Subquery(latest_auth.values("payer_name")[:1]),
                Subquery(primary_coverage.values("payer_name")[:1]),
                Value(""),
            ),
            gmlos=Subquery(drg.values("gmlos")[:1]),
            drg_title=Subquery(drg.values("title")[:1]),
        )
        .values(*CENSUS_VALUES)
    )


def _open_barriers(actor: Actor, stay_ids: list[int]) -> dict[int, list[str]]:
    """Open discharge barriers of the listed stays, oldest first. One query for all of them: as two
    correlated subqueries per row, PostgreSQL scanned the whole barrier table 1,000 times per census."""
    out: dict[int, list[str]] = {}
    if not stay_ids:
        return out
    rows = (
        DischargeBarrier.objects.filter(
            organization_id=actor.organization_id, stay_id__in=stay_ids, resolved_at__isnull=True
        )
        .order_by("stay_id", "created_at", "pk")
        .values_list("stay_id", "description")
    )
    for stay_id, description in rows:
        out.setdefault(stay_id, []).append(description)
    return out


AUTH_LABELS = dict(AuthorizationStatus.choices)
HUNDREDTH = Decimal("0.01")


def census(
    *,
    actor: Actor,
    unit: str = "",
    case_manager_id: int | None = None,
    payer: str = "",
    with_options: bool = True,
    audit: bool = True,
) -> Census:
    """Every current inpatient and observation stay, overdue reviews first.

    Ordering: stays whose UR review is overdue, then those whose payer review date
    has passed, then by next review due, then by admission. One query for the rows (subqueries for
    authorization, payer and DRG), one for the open barriers, one for the UR clock, three small ones
    for the filter choices when filtered, and one statement for the audit rows (one per patient listed).
    """
    require(actor, "census.view")
    now = clock.now()
    today = timezone.localdate(now)
    tz = timezone.get_current_timezone()
    qs = _census_queryset(actor)
    if unit:
        qs = qs.filter(Q(location__name=unit) | Q(location_text=unit) | Q(location_text__startswith=unit + "^"))
    if case_manager_id:
        qs = qs.filter(hospital_case__assigned_to_id=case_manager_id)
    if payer:
        qs = qs.filter(Q(payer=payer))  # the annotation above
    values = [v for v in qs if v["admit_at"] is not None]
    due = ur_selectors.next_reviews_due(actor=actor, encounter_ids=[v["pk"] for v in values])
    barriers = _open_barriers(actor, [v["hospital_stay__pk"] for v in values if v["hospital_stay__pk"]])
    no_barriers: list[str] = []
    rows: list[CensusRow] = []
    for v in values:
        admit_at = v["admit_at"]
        midnights = midnights_between(admit_at, max(now, admit_at), tz)
        gmlos = v["gmlos"]
        los_index = (Decimal(midnights) / gmlos).quantize(HUNDREDTH, rounding=ROUND_HALF_UP) if gmlos else None
        next_due = due.get(v["pk"])
        payer_review_on = v["auth_next_review"]
        cm_name = " ".join(
            p for p in (v["hospital_case__assigned_to__first_name"], v["hospital_case__assigned_to__last_name"]) if p
        ) or (v["hospital_case__assigned_to__username"] or "")
        auth_status = v["auth_status"] or ""
        open_barriers = barriers.get(v["hospital_stay__pk"], no_barriers)
        rows.append(
            CensusRow(
                encounter_id=v["pk"],
                patient_id=v["patient_id"],
                patient_name=f"{v['patient__family_name']}, {v['patient__given_name']}",
                stay_id=v["hospital_stay__pk"],
                status=v["encounter_class"],
                admit_at=admit_at,
                midnights=midnights,
                unit=v["location__name"] or (v["location_text"] or "").split("^")[0].strip(),
                case_manager=cm_name,
                case_manager_id=v["hospital_case__assigned_to_id"],
                case_id=v["hospital_case_id"],
                payer=v["payer"],
                working_drg=v["hospital_stay__working_drg"] or "",
                drg_title=v["drg_title"] or "",
                gmlos=gmlos,
                los_index=los_index,
                next_review_due=next_due,
                review_overdue=bool(next_due and next_due < now),
                authorization_status=auth_status,
                authorization_label=AUTH_LABELS.get(auth_status, "None"),
                payer_review_on=payer_review_on,
                payer_review_overdue=bool(payer_review_on and payer_review_on < today),
                expected_discharge_on=v["hospital_stay__expected_discharge_on"],
                barrier_count=len(open_barriers),
                first_barrier=open_barriers[0] if open_barriers else "",
                risk_band=v["hospital_stay__risk_band"] or "unknown",
            )
        )
    far = dt.datetime.max.replace(tzinfo=dt.UTC)
    rows.sort(
        key=lambda r: (
            not r.review_overdue,
            not r.payer_review_overdue,
            r.next_review_due or far,
            r.admit_at,
            r.encounter_id,
        )
    )
    result = Census(rows=rows)
    if with_options and not (unit or case_manager_id or payer):
        # Unfiltered, the rows hold every choice: no extra queries.
        result.units = sorted({r.unit for r in rows if r.unit})
        managers = {r.case_manager_id: r.case_manager for r in rows if r.case_manager_id}
        result.case_managers = sorted(managers.items(), key=lambda kv: kv[1].split(" ")[-1:] + [kv[1]])
        result.payers = sorted({r.payer for r in rows if r.payer})
    elif with_options:
        base = open_admissions(actor)
        names = base.exclude(location__isnull=True).values_list("location__name", flat=True).distinct()
        texts = base.filter(location__isnull=True).exclude(location_text="").values_list("location_text", flat=True)
        result.units = sorted({n for n in names if n} | {t.split("^")[0] for t in texts.distinct()})
        result.case_managers = [
            (u.pk, u.get_full_name() or u.username)
            for u in User.objects.filter(pk__in=base.values("hospital_case__assigned_to_id")).order_by(
                "last_name", "first_name"
            )
        ]
        result.payers = sorted({r.payer for r in rows if r.payer} | ({payer} if payer else set()))
    if audit and rows:
        audit_record_many(
            actor=actor,
            action="census.read",
            patient_ids=sorted({r.patient_id for r in rows}),
            detail={"rows": len(rows)},
        )
    return result


def stay_get(*, actor: Actor, stay_id: int, audit: bool = True) -> HospitalStay:
    require(actor, "census.view")
    stay = (
        stays_owned(actor)
        .select_related("encounter", "encounter__location", "patient", "case", "case__assigned_to")
        .filter(pk=stay_id)
        .first()
    )
    if stay is None:
        raise NotFound(f"No hospital stay {stay_id}.")
    if audit:
        audit_record(actor=actor, action="stay.read", subject=stay, patient=stay.patient_id)
    return stay


def stay_for_case(*, actor: Actor, case_id: int) -> HospitalStay | None:
    """The latest stay of the actor's organization linked to the case, if any."""
    return (
        stays_owned(actor)
        .select_related("encounter")
        .filter(Q(case_id=case_id) | Q(encounter__hospital_case_id=case_id))
        .order_by("-encounter__admit_at", "-pk")
        .first()
    )


def discharge_plan_of(*, actor: Actor, stay: HospitalStay) -> DischargePlan | None:
    """The stay's discharge plan (screen and 482.43 evaluation), if one was opened."""
    return DischargePlan.objects.filter(organization_id=actor.organization_id, stay=stay).select_related("stay").first()


def insurer_choices(*, actor: Actor) -> list[tuple[int, str]]:
    """Insurers on the platform a packet can be sent to, as (organization id, name); never the actor's own."""
    return [(o.pk, o.name) for o in insurers_on_platform().exclude(pk=actor.organization_id)]


def drg_table(*, actor: Actor, limit: int = 500) -> QuerySet[DrgWeight]:
    """The organization's imported GMLOS table, by DRG."""
    return DrgWeight.objects.filter(organization_id=actor.organization_id).order_by("drg")[:limit]


def drg_of(*, actor: Actor, code: str) -> DrgWeight | None:
    return DrgWeight.objects.filter(organization_id=actor.organization_id, drg=code).first() if code else None


def authorizations_of(stay: HospitalStay) -> QuerySet[Authorization]:
    return stay.authorizations.select_related("insurer").order_by("-pk")


def authorization_get(*, actor: Actor, authorization_id: int) -> Authorization:
    require(actor, "census.view")
    found = (
        Authorization.objects.filter(organization_id=actor.organization_id, pk=authorization_id)
        .select_related("stay")
        .first()
    )
    if found is None:
        raise NotFound(f"No authorization {authorization_id}.")
    return found


def packet_get(*, actor: Actor, packet_id: int, audit: bool = True) -> ReviewPacket:
    require(actor, "census.view")
    packet = (
        ReviewPacket.objects.filter(organization_id=actor.organization_id, pk=packet_id)
        .select_related("stay", "stay__patient", "authorization", "built_by", "sent_by")
        .first()
    )
    if packet is None:
        raise NotFound(f"No review packet {packet_id}.")
    if audit:
        audit_record(actor=actor, action="packet.read", subject=packet, patient=packet.stay.patient_id)
    return packet


def packet_shares(*, actor: Actor, packet: ReviewPacket) -> list[PacketShare]:
    """The links through which insurers on the platform see the packet, active first."""
    require(actor, "census.view")
    if packet.organization_id != actor.organization_id:
        raise NotFound(f"No review packet {packet.pk}.")
    return list(packet.shares.select_related("organization").order_by("-active", "-shared_at", "-pk"))


def denial_get(*, actor: Actor, denial_id: int) -> Denial:
    require(actor, "census.view")
    denial = (
        Denial.objects.filter(organization_id=actor.organization_id, pk=denial_id)
        .select_related("stay", "authorization")
        .first()
    )
    if denial is None:
        raise NotFound(f"No denial {denial_id}.")
    return denial


# --- the insurer's side: only what was sent -------------------------------------------------------


def intake_list(*, actor: Actor) -> QuerySet[PacketShare]:
    """Packets hospitals sent to the actor's insurer, newest first. Nothing of the hospital's record."""
    require(actor, "intake.review")
    return (
        PacketShare.objects.filter(organization_id=actor.organization_id, active=True)
        .select_related("packet", "packet__organization")
        .order_by(F("reviewed_at").asc(nulls_first=True), "-shared_at", "-pk")
    )


def intake_get(*, actor: Actor, share_id: int) -> PacketShare:
    require(actor, "intake.review")
    share = intake_list(actor=actor).filter(pk=share_id).first()
    if share is None:
        raise NotFound(f"No packet {share_id} in your intake queue.")
    # The hospital's patient is recorded as the subject: the packet is that patient's information.
    audit_record(actor=actor, action="intake.packet.read", subject=share, detail={"packet": share.packet_id})
    return share


# --- reports --------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DenialRateRow:
    payer: str
    decided: int
    denied: int
    appealed: int
    overturned: int

    @property
    def rate(self) -> Decimal | None:
        """Share of decided authorizations with a concurrent denial (fully or partly denied)."""
        if not self.decided:
            return None
        return (Decimal(self.denied) * 100 / self.decided).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)


def denial_rate(*, actor: Actor, since: dt.date, until: dt.date | None = None) -> list[DenialRateRow]:
    """Denial rate by payer: authorizations decided in the period (approved, partly approved, denied, in
    appeal) and how many of them drew a concurrent denial; appeals and overturns beside them."""
    require(actor, "census.view")
    auths = Authorization.objects.filter(organization_id=actor.organization_id).exclude(
        status=AuthorizationStatus.PENDING
    )
    auths = auths.filter(Q(decided_at__date__gte=since) | Q(denials__received_at__date__gte=since))
    if until is not None:
        auths = auths.filter(Q(decided_at__date__lte=until) | Q(denials__received_at__date__lte=until))
    rows = (
        auths.values("payer_name")
        .annotate(
            decided=Count("pk", distinct=True),
            denied=Count("pk", filter=Q(denials__isnull=False), distinct=True),
            appealed=Count("denials", filter=Q(denials__appeal_filed_at__isnull=False), distinct=True),
            overturned=Count(
                "denials", filter=Q(denials__outcome__in=["overturned", "partially_overturned"]), distinct=True
            ),
        )
        .order_by("payer_name")
    )
    result = [
        DenialRateRow(
            payer=r["payer_name"],
            decided=r["decided"],
            denied=r["denied"],
            appealed=r["appealed"],
            overturned=r["overturned"],
        )
        for r in rows
    ]
    if result:
        total = DenialRateRow(
            payer="All payers",
            decided=sum(r.decided for r in result),
            denied=sum(r.denied for r in result),
            appealed=sum(r.appealed for r in result),
            overturned=sum(r.overturned for r in result),
        )
        result.append(total)
    return result
