"""Writes of utilization review. Each service checks permission, runs in one transaction and audits itself.

The rules come from pure modules: review clocks (hospital/rules/ur_clock.py), the Two-Midnight list
(hospital/rules/two_midnight.py), 482.30(d) determinations (hospital/rules/ur_determination.py), MOON
and condition code 44 (hospital/rules/observation.py) and the criteria engine (utilization/criteria.py).
"""

from __future__ import annotations

import datetime as dt
import functools
import json
import re
from collections.abc import Mapping
from typing import Any

from django.db import IntegrityError, transaction
from django.utils import timezone

from casebridge.accounts import roles
from casebridge.accounts.permissions import can, require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import CareTeamMember
from casebridge.clinical.coding import EncounterClass
from casebridge.clinical.models import Encounter
from casebridge.hospital.rules import observation, ur_clock, ur_determination
from casebridge.hospital.rules.two_midnight import example_inpatient_only_list_codes
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, PermissionDenied, ValidationFailed
from casebridge.kernel.versioning import lock_at_version
from casebridge.patients.models import Coverage
from casebridge.tasks.domain import FINAL, TaskStatus
from casebridge.tasks.models import Priority, Task, WorkQueue
from casebridge.tasks.services import task_complete, task_create, task_transition, task_update
from casebridge.utilization import criteria
from casebridge.utilization.fhir_records import patient_records
from casebridge.utilization.models import (
    TASK_KIND,
    AvoidableDay,
    AvoidableDayReason,
    ConditionCode44,
    ConditionCode44Status,
    CriteriaSet,
    CriteriaSetVersion,
    Determination,
    DeterminationNotice,
    DeterminationReviewer,
    DeterminationScope,
    DeterminationStatus,
    MoonNotice,
    PayerReviewPolicy,
    ResponsibleParty,
    ReviewDecision,
    ReviewKind,
    ReviewStatus,
    UtilizationReview,
)

ADVISOR_QUEUE_NAME = "Physician advisors"
ADVISOR_RESPONSE = dt.timedelta(hours=8)  # CaseBridge default for an escalated review; not a regulation
REVIEW_TITLES = {ReviewKind.INITIAL: "Initial utilization review", ReviewKind.CONTINUED_STAY: "Continued-stay review"}
PHYSICIAN_ROLES = (roles.PHYSICIAN_ADVISOR, roles.MEDICAL_DIRECTOR)
# Levels that keep the patient in the hospital, so another continued-stay review is due.
HOSPITAL_LEVELS = (criteria.LevelOfCare.INPATIENT.value, criteria.LevelOfCare.OBSERVATION.value)

DEFAULT_AVOIDABLE_REASONS = [
    ("awaiting_post_acute_bed", "Awaiting post-acute bed (SNF, IRF, LTCH)"),
    ("awaiting_authorization", "Awaiting payer authorization"),
    ("awaiting_test_or_procedure", "Awaiting test or procedure"),
    ("family_or_caregiver", "Family or caregiver issue"),
    ("physician_delay", "Physician delay (orders, discharge, consult)"),
    ("awaiting_home_services", "Awaiting home health, home infusion or DME"),
    ("placement_or_guardianship", "Placement, guardianship or social issue"),
]


# --- helpers ------------------------------------------------------------------------------------------


def policies_for(organization_id: int) -> ur_clock.ReviewPolicies:
    """The organization's UR plan: its saved default and per-payer rows, else the shipped default (24 h / 24 h)."""
    rows = list(PayerReviewPolicy.objects.filter(organization_id=organization_id))
    shipped = ur_clock.default_policies()
    default = next(
        (ur_clock.ReviewPolicy(r.initial_review_hours, r.continued_stay_interval_hours) for r in rows if r.payer == ""),
        shipped.default,
    )
    payers = {
        r.payer.casefold(): ur_clock.ReviewPolicy(r.initial_review_hours, r.continued_stay_interval_hours)
        for r in rows
        if r.payer
    }
    return ur_clock.ReviewPolicies(default=default, payers={**shipped.payers, **payers})


def payer_of(patient_id: int) -> str:
    """The payer whose review interval applies: the patient's primary active coverage."""
    cov = (
        Coverage.objects.filter(patient_id=patient_id, active=True)
        .order_by("order", "-period_start", "pk")
        .values_list("payer_name", flat=True)
        .first()
    )
    return cov or ""


def _policy(organization_id: int, payer: str) -> ur_clock.ReviewPolicy:
    return policies_for(organization_id).for_payer(payer.casefold() if payer else None)


def _encounter(actor: Actor, encounter_id: int, *, lock: bool = False) -> Encounter:
    qs = Encounter.objects.filter(organization_id=actor.organization_id)
    if lock:
        qs = qs.select_for_update()
    encounter = qs.filter(pk=encounter_id).first()
    if encounter is None:
        raise NotFound(f"No encounter {encounter_id}.")
    return encounter


def _review(actor: Actor, review_id: int, version: int | None = None) -> UtilizationReview:
    qs = UtilizationReview.objects.filter(organization_id=actor.organization_id)
    return lock_at_version(qs, review_id, version, "review")


def _task_target(encounter: Encounter) -> dict[str, Any]:
    if encounter.hospital_case_id is not None:
        return {"case_id": encounter.hospital_case_id}
    return {"patient_id": encounter.patient_id}


def _require_any(actor: Actor, *permissions: str) -> None:
    if not any(can(actor, p) for p in permissions):
        raise PermissionDenied(f"Your role in {actor.organization.name} does not allow {' or '.join(permissions)}.")


def _close_task(actor: Actor, task_id: int | None, note: str) -> None:
    if task_id is None:
        return
    task = Task.objects.filter(pk=task_id, organization_id=actor.organization_id).first()
    if task is not None and TaskStatus(task.status) not in FINAL:
        if task.status == TaskStatus.ON_HOLD:
            task_transition(actor=actor, task_id=task.pk, to_status=TaskStatus.IN_PROGRESS)
        task_complete(actor=actor, task_id=task.pk, note=note[:300])


# --- review policies (the UR plan) ---------------------------------------------------------------------


def review_policy_set(
    *, actor: Actor, payer: str = "", initial_review_hours: int, continued_stay_interval_hours: int
) -> PayerReviewPolicy:
    """Set the review clock for one payer (blank: the organization's default)."""
    require(actor, "criteria.manage")
    payer = payer.strip()
    if len(payer) > 200:
        raise ValidationFailed.on("payer", "must be at most 200 characters")
    for name, value in (
        ("initial_review_hours", initial_review_hours),
        ("continued_stay_interval_hours", continued_stay_interval_hours),
    ):
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= 24 * 30:
            raise ValidationFailed.on(name, "must be a whole number of hours from 1 to 720")
    ur_clock.ReviewPolicy(initial_review_hours, continued_stay_interval_hours)  # the rule's own check
    with transaction.atomic():
        row, _ = PayerReviewPolicy.objects.update_or_create(
            organization=actor.organization,
            payer=payer,
            defaults={
                "initial_review_hours": initial_review_hours,
                "continued_stay_interval_hours": continued_stay_interval_hours,
            },
        )
        audit_record(
            actor=actor,
            action="ur_policy.set",
            subject=row,
            detail={"payer": payer, "initial": initial_review_hours, "interval": continued_stay_interval_hours},
        )
    return row


# --- reviews --------------------------------------------------------------------------------------------


def _new_review(
    actor: Actor, encounter: Encounter, kind: ReviewKind, due_at: dt.datetime, payer: str, task: Task | None = None
) -> UtilizationReview:
    if task is None:
        task = task_create(
            actor=actor,
            title=REVIEW_TITLES[kind],
            kind=TASK_KIND[kind],
            due_at=due_at,
            description=f"Utilization review of the {encounter.get_encounter_class_display().lower()} stay "
            f"admitted {encounter.admit_at:%Y-%m-%d %H:%M}" + (f" ({payer})" if payer else ""),
            **_task_target(encounter),
        )
    review = UtilizationReview.objects.create(
        organization=actor.organization,
        patient_id=encounter.patient_id,
        case_id=encounter.hospital_case_id,
        encounter=encounter,
        task=task,
        kind=kind,
        payer=payer,
        due_at=due_at,
        created_at=clock.now(),
    )
    audit_record(
        actor=actor,
        action="review.schedule",
        subject=review,
        patient=encounter.patient_id,
        detail={"kind": kind.value, "due_at": due_at.isoformat(), "payer": payer},
    )
    return review


def review_schedule_initial(*, actor: Actor, encounter_id: int) -> UtilizationReview:
    """Schedule the initial review of an inpatient or observation stay, due per the payer's policy
    (default 24 hours after admission). Idempotent; adopts the initial-review task the admission opened."""
    require(actor, "review.perform")
    with transaction.atomic():
        encounter = _encounter(actor, encounter_id, lock=True)
        existing = UtilizationReview.objects.filter(encounter=encounter).order_by("created_at", "pk").first()
        if existing is not None:
            return existing
        if encounter.encounter_class not in (EncounterClass.INPATIENT, EncounterClass.OBSERVATION):
            raise ValidationFailed.on("encounter_id", "utilization review covers inpatient and observation stays")
        if encounter.admit_at is None:
            raise ValidationFailed.on("encounter_id", "the encounter has no admission time")
        payer = payer_of(encounter.patient_id)
        due = ur_clock.next_review_due(
            admitted_at=encounter.admit_at, last_review_at=None, policy=_policy(actor.organization_id, payer)
        ).due_at
        adopted = None
        if encounter.hospital_case_id is not None:
            adopted = (
                Task.objects.filter(
                    case_id=encounter.hospital_case_id,
                    kind=TASK_KIND[ReviewKind.INITIAL],
                    organization=actor.organization,
                )
                .exclude(status__in=[s.value for s in FINAL])
                .order_by("pk")
                .first()
            )
            if adopted is not None and adopted.due_at != due:
                adopted = task_update(actor=actor, task_id=adopted.pk, version=None, due_at=due)
        return _new_review(actor, encounter, ReviewKind.INITIAL, due, payer, task=adopted)


def review_schedule_next(*, actor: Actor, review_id: int) -> UtilizationReview | None:
    """After a completed review, schedule the continued-stay review one payer interval later.

    Returns the open review the stay already has if there is one, and None once the patient is discharged.
    """
    _require_any(actor, "review.perform", "review.decide")
    with transaction.atomic():
        review = UtilizationReview.objects.filter(organization_id=actor.organization_id, pk=review_id).first()
        if review is None:
            raise NotFound(f"No review {review_id}.")
        if review.status != ReviewStatus.COMPLETED or review.completed_at is None:
            raise ValidationFailed.on("review_id", "the next review is scheduled once this one is completed")
        encounter = _encounter(actor, review.encounter_id, lock=True)
        open_review = UtilizationReview.objects.filter(
            encounter=encounter, status__in=[ReviewStatus.PENDING, ReviewStatus.ESCALATED]
        ).first()
        if open_review is not None:
            return open_review
        if encounter.discharge_at is not None or encounter.admit_at is None:
            return None
        payer = payer_of(encounter.patient_id)
        due = ur_clock.next_review_due(
            admitted_at=encounter.admit_at,
            last_review_at=max(review.completed_at, encounter.admit_at),
            policy=_policy(actor.organization_id, payer),
        ).due_at
        return _new_review(actor, encounter, ReviewKind.CONTINUED_STAY, due, payer)


def _active_versions(organization_id: int) -> list[tuple[CriteriaSet, CriteriaSetVersion]]:
    sets = CriteriaSet.objects.filter(organization_id=organization_id, active=True).order_by("key")
    versions = {
        (v.criteria_set_id, v.version): v
        for v in CriteriaSetVersion.objects.filter(criteria_set__in=sets).only(
            "id", "criteria_set_id", "version", "definition", "title"
        )
    }
    return [(s, versions[(s.pk, s.current_version)]) for s in sets if (s.pk, s.current_version) in versions]


def _answers_of(stored: Mapping[str, Any]) -> dict[str, criteria.Answer]:
    return {
        cid: criteria.Answer(
            value=criteria.Status(a.get("value", "unknown")),
            note=a.get("note", ""),
            by=a.get("by", ""),
            at=a.get("at", ""),
        )
        for cid, a in stored.items()
    }


def builtin_variables() -> dict[str, Any]:
    """Variables every expression may use: the rule module's EXAMPLE inpatient-only CPT list."""
    return {"inpatientOnlyCodes": sorted(example_inpatient_only_list_codes())}


def evaluate_review_sets(
    *,
    sets: list[tuple[str, criteria.CriteriaDefinition]],
    prepared: criteria.PreparedRecord,
    answers: Mapping[str, Mapping[str, Any]],
) -> tuple[list[tuple[str, criteria.SetResult]], criteria.Recommendation]:
    variables = builtin_variables()
    results = [
        (key, criteria.evaluate_set(d, prepared, answers=_answers_of(answers.get(key, {})), variables=variables))
        for key, d in sets
    ]
    return results, criteria.recommend([r for _, r in results])


def _check_answers(
    answers: Mapping[str, Any], definitions: Mapping[str, criteria.CriteriaDefinition]
) -> dict[str, dict[str, dict[str, str]]]:
    clean: dict[str, dict[str, dict[str, str]]] = {}
    for key, by_criterion in answers.items():
        if key not in definitions:
            raise ValidationFailed.on("answers", f"{key!r} is not a criteria set of this review")
        if not isinstance(by_criterion, Mapping):
            raise ValidationFailed.on("answers", f"{key}: must map criterion ids to answers")
        for cid, answer in by_criterion.items():
            try:
                criterion = definitions[key].criterion(cid)
            except KeyError as exc:
                raise ValidationFailed.on("answers", f"{key}.{cid}: no such criterion") from exc
            if criterion.kind != "manual":
                raise ValidationFailed.on("answers", f"{key}.{cid}: is evaluated from the record, not answered")
            value = answer.get("value") if isinstance(answer, Mapping) else answer
            if value not in [s.value for s in criteria.Status]:
                raise ValidationFailed.on("answers", f"{key}.{cid}: must be met, not_met or unknown")
            note = str(answer.get("note", "") if isinstance(answer, Mapping) else "")[:1000]
            clean.setdefault(key, {})[cid] = {"value": str(value), "note": note}
    return clean


@functools.lru_cache(maxsize=256)
def _parse_canonical(text: str) -> criteria.CriteriaDefinition:
    return criteria.parse_definition(json.loads(text))


def _parsed_definition(definition: Any) -> criteria.CriteriaDefinition:
    """A stored definition, parsed and its FHIRPath checked once per process per distinct content.

    Parsing checks every FHIRPath expression with the ANTLR parser, which cost more than evaluating the
    criteria; the cache is keyed by the definition's canonical JSON, so an edited set is parsed anew.
    """
    return _parse_canonical(json.dumps(definition, sort_keys=True, separators=(",", ":")))


def review_evaluate(
    *,
    actor: Actor,
    review_id: int,
    set_keys: list[str] | None = None,
    answers: Mapping[str, Any] | None = None,
    version: int | None = None,
) -> UtilizationReview:
    """Evaluate the criteria for a review: the sets that apply to the stay (or the ones named), with the
    reviewer's answers to manual criteria. Stores each criterion's result with its evidence and the
    recommended level of care, with the set versions used."""
    _require_any(actor, "review.perform", "review.decide")
    with transaction.atomic():
        review = _review(actor, review_id, version)
        if review.status in (ReviewStatus.COMPLETED, ReviewStatus.CANCELLED):
            raise ValidationFailed.on("status", f"a {review.status} review cannot be re-evaluated")
        encounter = Encounter.objects.get(pk=review.encounter_id)
        available = _active_versions(actor.organization_id)
        if not available:
            raise ValidationFailed.on(
                "set_keys", "the organization has no criteria sets: install the starter library or add a set"
            )
        by_key = {s.key: (s, v) for s, v in available}
        prepared = patient_records(encounter=encounter, as_of=clock.now())
        definitions = {k: _parsed_definition(v.definition) for k, (_, v) in by_key.items()}
        if set_keys is not None:
            unknown = [k for k in set_keys if k not in by_key]
            if unknown:
                raise ValidationFailed.on("set_keys", f"no active criteria set {unknown[0]!r}")
            chosen = list(dict.fromkeys(set_keys))
        elif review.criteria_versions:
            used = {v.pk for _, v in available}
            chosen = [k for k, (_, v) in by_key.items() if v.pk in used and v.pk in review.criteria_versions]
            chosen = chosen or [k for k in by_key if criteria.applies(definitions[k], prepared)]
        else:
            chosen = [k for k in by_key if criteria.applies(definitions[k], prepared)]
        if not chosen:
            raise ValidationFailed.on("set_keys", "no criteria set applies to this stay: choose one")
        stored = dict(review.answers or {})
        if answers:
            now = clock.now().isoformat()
            for key, by_criterion in _check_answers(answers, {k: definitions[k] for k in chosen}).items():
                for cid, a in by_criterion.items():
                    stored.setdefault(key, {})[cid] = {**a, "by": str(actor.user), "at": now}
        results, rec = evaluate_review_sets(
            sets=[(k, definitions[k]) for k in chosen], prepared=prepared, answers=stored
        )
        review.answers = stored
        review.criteria_versions = [by_key[k][1].pk for k in chosen]
        review.results = [
            {"key": key, "version": by_key[key][1].version, "version_id": by_key[key][1].pk, **r.as_dict()}
            for key, r in results
        ]
        review.recommendation = rec.as_dict()
        review.recommended_level = rec.level.value if rec.level else ""
        review.evaluated_at = clock.now()
        review.save()
        audit_record(
            actor=actor,
            action="review.evaluate",
            subject=review,
            patient=review.patient_id,
            detail={"sets": chosen, "recommended": review.recommended_level, "answered": bool(answers)},
        )
    return review


def review_complete(
    *,
    actor: Actor,
    review_id: int,
    decision: str,
    level: str = "",
    reason: str = "",
    version: int | None = None,
) -> UtilizationReview:
    """The reviewer confirms the recommended level of care or overrides it with a reason; the review's task
    completes and, while the patient stays in the hospital, the next continued-stay review is scheduled."""
    if decision not in (ReviewDecision.CONFIRMED, ReviewDecision.OVERRIDDEN):
        raise ValidationFailed.on("decision", "must be confirmed or overridden")
    reason = reason.strip()
    with transaction.atomic():
        review = _review(actor, review_id, version)
        if review.status == ReviewStatus.ESCALATED:
            require(actor, "review.decide")
        else:
            _require_any(actor, "review.perform", "review.decide")
        if review.status not in (ReviewStatus.PENDING, ReviewStatus.ESCALATED):
            raise ValidationFailed.on("status", f"a {review.status} review cannot be completed")
        if review.evaluated_at is None:
            raise ValidationFailed.on("decision", "evaluate the criteria before deciding")
        if decision == ReviewDecision.CONFIRMED:
            if not review.recommended_level:
                raise ValidationFailed.on("decision", "there is no recommendation to confirm: override with a level")
            if level and level != review.recommended_level:
                raise ValidationFailed.on("level", "a confirmation keeps the recommended level; override to change it")
            decided = review.recommended_level
        else:
            if level not in criteria.LEVEL_ORDER:
                raise ValidationFailed.on("level", f"must be one of {', '.join(criteria.LEVEL_ORDER)}")
            if len(reason) < 10:
                raise ValidationFailed.on("reason", "an override needs the reason (at least 10 characters)")
            if level == review.recommended_level:
                raise ValidationFailed.on("level", "is the recommended level: confirm it instead")
            decided = level
        now = clock.now()
        review.decision = decision
        review.decided_level = decided
        review.override_reason = reason if decision == ReviewDecision.OVERRIDDEN else ""
        review.status = ReviewStatus.COMPLETED
        review.completed_at = now
        review.completed_by = actor.user
        review.save()
        note = f"{decision}: {decided}" + (f" — {reason}" if reason else "")
        _close_task(actor, review.task_id, note)
        _close_task(actor, review.advisor_task_id, note)
        audit_record(
            actor=actor,
            action="review.complete",
            subject=review,
            patient=review.patient_id,
            detail={"decision": decision, "level": decided, "recommended": review.recommended_level},
        )
        if decided in HOSPITAL_LEVELS:
            review_schedule_next(actor=actor, review_id=review.pk)
    return review


def _advisor_queue(actor: Actor) -> WorkQueue:
    queue, created = WorkQueue.objects.get_or_create(organization=actor.organization, name=ADVISOR_QUEUE_NAME)
    if created:
        audit_record(actor=actor, action="queue.create", subject=queue, detail={"by": "review.escalate"})
    return queue


def review_escalate(*, actor: Actor, review_id: int, reason: str, version: int | None = None) -> UtilizationReview:
    """Send a review to the physician advisors (their team queue) when the criteria do not support the stay
    or the reviewer needs a physician's judgment."""
    require(actor, "review.perform")
    reason = reason.strip()
    if len(reason) < 5:
        raise ValidationFailed.on("reason", "say why the review needs a physician advisor")
    with transaction.atomic():
        review = _review(actor, review_id, version)
        if review.status != ReviewStatus.PENDING:
            raise ValidationFailed.on("status", f"a {review.status} review cannot be escalated")
        now = clock.now()
        encounter = Encounter.objects.get(pk=review.encounter_id)
        task = task_create(
            actor=actor,
            title="Physician advisor review",
            kind="physician_advisor_review",
            description=reason[:5000],
            priority=Priority.URGENT,
            queue_id=_advisor_queue(actor).pk,
            due_at=now + ADVISOR_RESPONSE,
            **_task_target(encounter),
        )
        review.status = ReviewStatus.ESCALATED
        review.escalated_at = now
        review.escalated_by = actor.user
        review.escalation_reason = reason
        review.advisor_task = task
        review.save()
        audit_record(actor=actor, action="review.escalate", subject=review, patient=review.patient_id)
    return review


# --- 482.30(d) determinations ------------------------------------------------------------------------------


def _determination(actor: Actor, determination_id: int, version: int | None = None) -> Determination:
    qs = Determination.objects.filter(organization_id=actor.organization_id)
    return lock_at_version(qs, determination_id, version, "determination")


def _open(det: Determination) -> None:
    if det.status != DeterminationStatus.OPEN:
        raise ValidationFailed.on("status", f"the determination is {det.status}")


def determination_open(*, actor: Actor, review_id: int, scope: str, rationale: str) -> Determination:
    """A physician advisor proposes that the admission or continued stay is not medically necessary.
    42 CFR 482.30(d): nothing is decided until the attending has been consulted."""
    require(actor, "review.decide")
    if scope not in DeterminationScope.values:
        raise ValidationFailed.on("scope", f"must be one of {', '.join(DeterminationScope.values)}")
    rationale = rationale.strip()
    if len(rationale) < 10:
        raise ValidationFailed.on("rationale", "state why the stay is not medically necessary (at least 10 characters)")
    with transaction.atomic():
        review = _review(actor, review_id, None)
        if review.status not in (ReviewStatus.PENDING, ReviewStatus.ESCALATED):
            raise ValidationFailed.on("review_id", f"the review is {review.status}")
        if Determination.objects.filter(review=review, status=DeterminationStatus.OPEN).exists():
            raise ValidationFailed.on("review_id", "this review already has an open determination")
        review.save()
        encounter = Encounter.objects.get(pk=review.encounter_id)
        det = Determination.objects.create(
            organization=actor.organization,
            review=review,
            patient_id=review.patient_id,
            scope=scope,
            rationale=rationale,
            attending_view=ur_determination.AttendingView.NOT_CONSULTED,
            attending_name=encounter.attending_name or (str(encounter.attending) if encounter.attending else ""),
            opened_by=actor.user,
            created_at=clock.now(),
        )
        audit_record(actor=actor, action="determination.open", subject=det, patient=det.patient_id)
    return det


def determination_attending_consult(*, actor: Actor, determination_id: int, note: str = "") -> Determination:
    """Record that the attending was consulted and offered the chance to present views (482.30(d)(1))."""
    _require_any(actor, "review.decide", "review.perform")
    with transaction.atomic():
        det = _determination(actor, determination_id)
        _open(det)
        if det.attending_consulted_at is not None:
            raise ValidationFailed.on("attending_view", "the attending has already been consulted")
        det.attending_consulted_at = clock.now()
        det.attending_view = ur_determination.AttendingView.AWAITING_VIEW
        det.attending_note = note.strip()
        det.save()
        audit_record(actor=actor, action="determination.attending_consult", subject=det, patient=det.patient_id)
    return det


ATTENDING_RESPONSES = (
    ur_determination.AttendingView.CONCURS,
    ur_determination.AttendingView.DISAGREES,
    ur_determination.AttendingView.NO_VIEW_WHEN_OFFERED,
)


def determination_attending_respond(*, actor: Actor, determination_id: int, view: str, note: str = "") -> Determination:
    """Record the attending's answer: concurs, disagrees, or gave no view when offered the opportunity."""
    _require_any(actor, "review.decide", "review.perform")
    if view not in ATTENDING_RESPONSES:
        raise ValidationFailed.on("view", f"must be one of {', '.join(v.value for v in ATTENDING_RESPONSES)}")
    with transaction.atomic():
        det = _determination(actor, determination_id)
        _open(det)
        if det.attending_consulted_at is None:
            raise ValidationFailed.on("view", "consult the attending first (482.30(d)(1))")
        det.attending_view = view
        det.attending_responded_at = clock.now()
        if note.strip():
            det.attending_note = note.strip()
        det.save()
        audit_record(
            actor=actor,
            action="determination.attending_respond",
            subject=det,
            patient=det.patient_id,
            detail={"view": view},
        )
    return det


def reviewer_of(
    actor: Actor, det: Determination, *, professionally_involved: bool, direct_financial_interest: bool
) -> ur_determination.Reviewer:
    """The acting physician as a 482.30(b) reviewer. Committee members are the organization's physician
    advisors and medical directors; anyone on the case's care team counts as professionally involved."""
    physician = actor.has_role(*PHYSICIAN_ROLES)
    involved = professionally_involved
    if det.review.case_id is not None:
        involved = (
            involved
            or CareTeamMember.objects.filter(case_id=det.review.case_id, user_id=actor.user_id, active=True).exists()
        )
    return ur_determination.Reviewer(
        reviewer_id=actor.user.username,
        committee_member=physician,
        physician=physician,
        professionally_involved=involved,
        direct_financial_interest=direct_financial_interest,
    )


def determination_concur(
    *,
    actor: Actor,
    determination_id: int,
    professionally_involved: bool,
    direct_financial_interest: bool,
    note: str = "",
) -> DeterminationReviewer:
    """A committee physician concurs. 482.30(b)(6): a reviewer professionally involved in the case or with a
    direct financial interest may not take part, and is refused."""
    require(actor, "review.decide")
    with transaction.atomic():
        det = _determination(actor, determination_id)
        _open(det)
        reviewer = reviewer_of(
            actor,
            det,
            professionally_involved=professionally_involved,
            direct_financial_interest=direct_financial_interest,
        )
        problems = ur_determination.reviewer_problems(reviewer)
        if problems:
            raise PermissionDenied("You may not review this case: " + "; ".join(problems) + " (42 CFR 482.30(b)).")
        if det.reviewers.filter(user=actor.user).exists():
            raise ValidationFailed.on("reviewer", "you have already concurred")
        row = DeterminationReviewer.objects.create(
            determination=det,
            user=actor.user,
            physician=reviewer.physician,
            committee_member=reviewer.committee_member,
            professionally_involved=reviewer.professionally_involved,
            direct_financial_interest=reviewer.direct_financial_interest,
            concurred_at=clock.now(),
            note=note.strip(),
        )
        det.save()
        audit_record(actor=actor, action="determination.concur", subject=det, patient=det.patient_id)
    return row


def determination_check(det: Determination) -> ur_determination.DeterminationCheck:
    reviewers = [
        ur_determination.Reviewer(
            reviewer_id=r.user.username,
            committee_member=r.committee_member,
            physician=r.physician,
            professionally_involved=r.professionally_involved,
            direct_financial_interest=r.direct_financial_interest,
        )
        for r in det.reviewers.select_related("user").order_by("concurred_at", "pk")
    ]
    return ur_determination.not_medically_necessary_check(
        attending=ur_determination.AttendingView(det.attending_view), concurring_reviewers=reviewers
    )


def determination_decide(*, actor: Actor, determination_id: int, version: int | None = None) -> Determination:
    """Decide "not medically necessary" when 482.30(d) allows it: one physician member if the attending
    concurs or gave no view when offered, otherwise two members. Written notices to the hospital, patient
    and practitioner are then due within 2 days, tracked by a task."""
    require(actor, "review.decide")
    with transaction.atomic():
        det = _determination(actor, determination_id, version)
        _open(det)
        check = determination_check(det)
        if not check.allowed:
            raise ValidationFailed(
                "The determination cannot be made yet: " + "; ".join(check.reasons),
                field_errors={"reviewers": list(check.reasons)},
            )
        now = clock.now()
        det.status = DeterminationStatus.DECIDED
        det.decided_at = now
        det.path = check.path.value if check.path else ""
        det.notice_due_at = ur_determination.notice_due_by(now)
        review = det.review
        encounter = Encounter.objects.get(pk=review.encounter_id)
        det.notice_task = task_create(
            actor=actor,
            title="Written notices: not medically necessary (hospital, patient, practitioner)",
            kind="ur_determination_notice",
            priority=Priority.URGENT,
            due_at=det.notice_due_at,
            **_task_target(encounter),
        )
        det.save()
        review.status = ReviewStatus.COMPLETED
        review.decision = ReviewDecision.NOT_MEDICALLY_NECESSARY
        review.completed_at = now
        review.completed_by = actor.user
        review.save()
        _close_task(actor, review.task_id, "not medically necessary (42 CFR 482.30(d))")
        _close_task(actor, review.advisor_task_id, "not medically necessary (42 CFR 482.30(d))")
        audit_record(
            actor=actor,
            action="determination.decide",
            subject=det,
            patient=det.patient_id,
            detail={"path": det.path, "notice_due_at": det.notice_due_at.isoformat()},
        )
    return det


def determination_notice_record(
    *,
    actor: Actor,
    determination_id: int,
    recipient: str,
    delivered_at: dt.datetime | None = None,
    method: str = "",
) -> DeterminationNotice:
    """Record one written notice; when all three are given the notice task completes."""
    _require_any(actor, "review.perform", "review.decide")
    try:
        who = ur_determination.NoticeRecipient(recipient)
    except ValueError as exc:
        raise ValidationFailed.on("recipient", "must be hospital, patient or practitioner") from exc
    now = clock.now()
    at = delivered_at or now
    if at > now + dt.timedelta(minutes=5):
        raise ValidationFailed.on("delivered_at", "cannot be in the future")
    with transaction.atomic():
        det = _determination(actor, determination_id)
        if det.status != DeterminationStatus.DECIDED or det.decided_at is None:
            raise ValidationFailed.on("status", "notices follow a decided determination")
        if at < det.decided_at:
            raise ValidationFailed.on("delivered_at", "cannot precede the determination")
        try:
            with transaction.atomic():
                notice = DeterminationNotice.objects.create(
                    determination=det,
                    recipient=who,
                    delivered_at=at,
                    method=method.strip()[:100],
                    recorded_by=actor.user,
                )
        except IntegrityError as exc:
            raise ValidationFailed.on("recipient", f"the {who.value} notice is already recorded") from exc
        det.save()
        delivered = {ur_determination.NoticeRecipient(n.recipient): n.delivered_at for n in det.notices.all()}
        status = ur_determination.notice_status(decided_at=det.decided_at, delivered=delivered, as_of=now)
        if status.complete:
            _close_task(actor, det.notice_task_id, "all three written notices given")
        audit_record(
            actor=actor,
            action="determination.notice",
            subject=det,
            patient=det.patient_id,
            detail={"recipient": who.value, "late": who in status.late},
        )
    return notice


# --- MOON and condition code 44 ---------------------------------------------------------------------------


def moon_start(*, actor: Actor, encounter_id: int, observation_started_at: dt.datetime | None = None) -> MoonNotice:
    """Open the MOON notice task for an observation stay, due 36 hours after observation began (or at release)."""
    require(actor, "review.perform")
    with transaction.atomic():
        encounter = _encounter(actor, encounter_id, lock=True)
        if encounter.encounter_class != EncounterClass.OBSERVATION:
            raise ValidationFailed.on("encounter_id", "the MOON notice is for observation stays")
        existing = MoonNotice.objects.filter(encounter=encounter).first()
        if existing is not None:
            return existing
        start = observation_started_at or encounter.admit_at
        if start is None:
            raise ValidationFailed.on("observation_started_at", "is required: the encounter has no start time")
        if start > clock.now() + dt.timedelta(minutes=5):
            raise ValidationFailed.on("observation_started_at", "cannot be in the future")
        return _moon_open(actor, encounter, start)


def moon_open_for_observation_admission(*, actor: Actor, encounter: Encounter, **_: Any) -> MoonNotice | None:
    """``admission_case_opened`` receiver: an observation admission gets its MOON task at once, so the
    36-hour clock runs from the start of observation, not from whenever someone opens it by hand.

    The admission rule, not a user, decided this, so no reviewer permission is asked of the feed's actor.
    An admission without a start time or already noticed is left alone (``moon_start`` covers it by hand).
    """
    if encounter.encounter_class != EncounterClass.OBSERVATION or encounter.admit_at is None:
        return None
    if MoonNotice.objects.filter(encounter=encounter).exists():
        return None
    return _moon_open(actor, encounter, min(encounter.admit_at, clock.now()))


def _moon_open(actor: Actor, encounter: Encounter, start: dt.datetime) -> MoonNotice:
    """The MOON task and record, due 36 hours after ``start``; inside the caller's transaction."""
    with transaction.atomic():
        due = observation.moon_due_at(observation_started_at=start, released_at=encounter.discharge_at)
        task = task_create(
            actor=actor,
            title="MOON notice (Medicare Outpatient Observation Notice)",
            kind="moon_notice",
            description="Deliver the MOON with an oral explanation and obtain the signature, "
            "no later than 36 hours after observation began (NOTICE Act).",
            due_at=due,
            **_task_target(encounter),
        )
        moon = MoonNotice.objects.create(
            organization=actor.organization,
            patient_id=encounter.patient_id,
            encounter=encounter,
            observation_started_at=start,
            due_at=due,
            task=task,
            created_at=clock.now(),
        )
        audit_record(actor=actor, action="moon.start", subject=moon, patient=moon.patient_id)
    return moon


def moon_record_delivery(
    *,
    actor: Actor,
    moon_id: int,
    delivered_at: dt.datetime | None = None,
    oral_explanation: bool,
    signed_by: str = "",
    signed_at: dt.datetime | None = None,
    signature_refused: bool = False,
    witness: str = "",
) -> MoonNotice:
    """Record that the MOON was delivered with its oral explanation and signed (or the refusal witnessed)."""
    require(actor, "review.perform")
    now = clock.now()
    delivered = delivered_at or now
    if delivered > now + dt.timedelta(minutes=5):
        raise ValidationFailed.on("delivered_at", "cannot be in the future")
    if not oral_explanation:
        raise ValidationFailed.on("oral_explanation", "the MOON is delivered with an oral explanation")
    if signature_refused:
        if not witness.strip():
            raise ValidationFailed.on("witness", "a refused signature is recorded with the staff witness")
    elif not signed_by.strip():
        raise ValidationFailed.on("signed_by", "name who signed (the patient or representative)")
    with transaction.atomic():
        moon = MoonNotice.objects.select_for_update().filter(pk=moon_id, organization=actor.organization).first()
        if moon is None:
            raise NotFound(f"No MOON notice {moon_id}.")
        if moon.delivered_at is not None:
            raise ValidationFailed.on("delivered_at", "the MOON delivery is already recorded")
        if delivered < moon.observation_started_at:
            raise ValidationFailed.on("delivered_at", "cannot precede the start of observation")
        moon.delivered_at = delivered
        moon.oral_explanation = True
        moon.signature_refused = signature_refused
        moon.signed_by = signed_by.strip()[:200]
        moon.signed_at = None if signature_refused else (signed_at or delivered)
        moon.witness = witness.strip()[:200]
        moon.recorded_by = actor.user
        moon.save()
        _close_task(actor, moon.task_id, "MOON delivered" + (" late" if delivered > moon.due_at else ""))
        audit_record(
            actor=actor,
            action="moon.deliver",
            subject=moon,
            patient=moon.patient_id,
            detail={"late": delivered > moon.due_at, "refused": signature_refused},
        )
    return moon


CC44_FIELDS = (
    "status_changed_at",
    "inpatient_claim_submitted",
    "ur_committee_decided",
    "attending_concurs",
    "concurrence_documented",
    "concurrence_note",
)


def cc44_start(*, actor: Actor, encounter_id: int) -> ConditionCode44:
    """Start a condition code 44 change (inpatient to outpatient) for an inpatient stay."""
    require(actor, "review.perform")
    with transaction.atomic():
        encounter = _encounter(actor, encounter_id, lock=True)
        if encounter.encounter_class != EncounterClass.INPATIENT:
            raise ValidationFailed.on("encounter_id", "condition code 44 changes an inpatient stay to outpatient")
        row, created = ConditionCode44.objects.get_or_create(
            encounter=encounter,
            defaults={
                "organization": actor.organization,
                "patient_id": encounter.patient_id,
                "created_at": clock.now(),
            },
        )
        if created:
            audit_record(actor=actor, action="cc44.start", subject=row, patient=row.patient_id)
    return row


def cc44_update(*, actor: Actor, cc44_id: int, version: int | None = None, **changes: Any) -> ConditionCode44:
    """Record the facts the four conditions are checked against."""
    require(actor, "review.perform")
    unknown = set(changes) - set(CC44_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    for name in ("inpatient_claim_submitted", "ur_committee_decided", "attending_concurs", "concurrence_documented"):
        if name in changes and not isinstance(changes[name], bool):
            raise ValidationFailed.on(name, "must be true or false")
    when = changes.get("status_changed_at")
    if when is not None and when > clock.now() + dt.timedelta(minutes=5):
        raise ValidationFailed.on("status_changed_at", "cannot be in the future")
    with transaction.atomic():
        row = lock_at_version(
            ConditionCode44.objects.filter(organization_id=actor.organization_id), cc44_id, version, "condition code 44"
        )
        if row.status == ConditionCode44Status.COMPLETED:
            raise ValidationFailed.on("status", "a completed condition code 44 change is a record and stays as it was")
        for k, v in changes.items():
            setattr(row, k, v.strip() if isinstance(v, str) else v)
        row.save()
        audit_record(
            actor=actor, action="cc44.update", subject=row, patient=row.patient_id, detail={"fields": sorted(changes)}
        )
    return row


def cc44_check(row: ConditionCode44) -> observation.ConditionCode44Check:
    return observation.condition_code_44_check(
        status_changed_at=row.status_changed_at,
        discharged_at=row.encounter.discharge_at,
        inpatient_claim_submitted=row.inpatient_claim_submitted,
        ur_committee_decided=row.ur_committee_decided,
        attending_concurs=row.attending_concurs,
        concurrence_documented=row.concurrence_documented,
    )


def cc44_complete(*, actor: Actor, cc44_id: int, version: int | None = None) -> ConditionCode44:
    """Complete the change to outpatient. Refused unless all four conditions of CMS IOM 100-04 ch.1 50.3 hold."""
    require(actor, "review.perform")
    with transaction.atomic():
        row = lock_at_version(
            ConditionCode44.objects.filter(organization_id=actor.organization_id).select_related("encounter"),
            cc44_id,
            version,
            "condition code 44",
        )
        if row.status == ConditionCode44Status.COMPLETED:
            raise ValidationFailed.on("status", "already completed")
        check = cc44_check(row)
        if not check.allowed:
            raise ValidationFailed(
                "Condition code 44 cannot be used: " + "; ".join(check.reasons),
                field_errors={name: [reason] for name, reason in zip(check.failing, check.reasons, strict=True)},
            )
        row.status = ConditionCode44Status.COMPLETED
        row.completed_at = clock.now()
        row.completed_by = actor.user
        row.save()
        audit_record(actor=actor, action="cc44.complete", subject=row, patient=row.patient_id)
    return row


# --- avoidable days -------------------------------------------------------------------------------------------


def avoidable_reasons_ensure(organization_id: int) -> None:
    """Give an organization the default reason list the first time it is needed (then it is theirs to change)."""
    if AvoidableDayReason.objects.filter(organization_id=organization_id).exists():
        return
    AvoidableDayReason.objects.bulk_create(
        [
            AvoidableDayReason(organization_id=organization_id, code=code, label=label, position=i)
            for i, (code, label) in enumerate(DEFAULT_AVOIDABLE_REASONS)
        ],
        ignore_conflicts=True,
    )


def avoidable_reason_add(*, actor: Actor, label: str, code: str = "") -> AvoidableDayReason:
    require(actor, "criteria.manage")
    label = label.strip()
    if not label or len(label) > 120:
        raise ValidationFailed.on("label", "is required (at most 120 characters)")
    code = code.strip() or re.sub(r"[^a-z0-9]+", "_", label.lower()).strip("_")[:40]
    if not re.fullmatch(r"[a-z0-9_-]{1,40}", code):
        raise ValidationFailed.on("code", "use lower-case letters, digits, - and _")
    with transaction.atomic():
        avoidable_reasons_ensure(actor.organization_id)
        if AvoidableDayReason.objects.filter(organization=actor.organization, code=code).exists():
            raise ValidationFailed.on("code", f"a reason with code {code!r} already exists")
        last = AvoidableDayReason.objects.filter(organization=actor.organization).count()
        row = AvoidableDayReason.objects.create(organization=actor.organization, code=code, label=label, position=last)
        audit_record(actor=actor, action="avoidable_reason.add", subject=row, detail={"code": code})
    return row


def avoidable_day_log(
    *,
    actor: Actor,
    encounter_id: int,
    day: dt.date,
    reason_code: str,
    responsible_party: str,
    note: str = "",
    provider: str | None = None,
) -> AvoidableDay:
    """Log one day of the stay without medical need, with its reason and who is responsible."""
    require(actor, "review.perform")
    if responsible_party not in ResponsibleParty.values:
        raise ValidationFailed.on("responsible_party", f"must be one of {', '.join(ResponsibleParty.values)}")
    with transaction.atomic():
        encounter = _encounter(actor, encounter_id)
        avoidable_reasons_ensure(actor.organization_id)
        reason = AvoidableDayReason.objects.filter(
            organization=actor.organization, code=reason_code, active=True
        ).first()
        if reason is None:
            raise ValidationFailed.on("reason_code", f"{reason_code!r} is not one of the organization's reasons")
        if encounter.admit_at is None:
            raise ValidationFailed.on("encounter_id", "the encounter has no admission time")
        first = timezone.localdate(encounter.admit_at)
        last = timezone.localdate(encounter.discharge_at) if encounter.discharge_at else clock.today()
        if not first <= day <= last:
            raise ValidationFailed.on("day", f"must fall within the stay ({first:%Y-%m-%d} to {last:%Y-%m-%d})")
        if AvoidableDay.objects.filter(encounter=encounter, day=day).exists():
            raise ValidationFailed.on("day", f"{day:%Y-%m-%d} is already logged for this stay")
        row = AvoidableDay.objects.create(
            organization=actor.organization,
            patient_id=encounter.patient_id,
            encounter=encounter,
            day=day,
            reason=reason,
            responsible_party=responsible_party,
            payer=payer_of(encounter.patient_id),
            provider=(provider if provider is not None else encounter.attending_name).strip()[:200],
            note=note.strip(),
            recorded_by=actor.user,
            recorded_at=clock.now(),
        )
        audit_record(
            actor=actor,
            action="avoidable_day.log",
            subject=row,
            patient=row.patient_id,
            detail={"day": day.isoformat(), "reason": reason.code, "responsible": responsible_party},
        )
    return row


# --- criteria library --------------------------------------------------------------------------------------


def _parse(text: str, fmt: str) -> criteria.CriteriaDefinition:
    if len(text) > 200_000:
        raise ValidationFailed.on("text", "is larger than 200,000 characters")
    try:
        return criteria.parse_text(text, fmt)
    except criteria.CriteriaFormatError as exc:
        field = "fmt" if exc.field == "format" else "text"
        raise ValidationFailed(f"{field}: {exc}", field_errors={field: [str(exc)]}) from exc


def _as_json(definition: criteria.CriteriaDefinition, text: str, fmt: str) -> dict[str, Any]:
    data = criteria.load_text(text, fmt)
    return dict(data)


def _version(
    actor: Actor,
    cset: CriteriaSet,
    version: int,
    text: str,
    fmt: str,
    definition: criteria.CriteriaDefinition,
    note: str,
) -> CriteriaSetVersion:
    return CriteriaSetVersion.objects.create(
        criteria_set=cset,
        version=version,
        fmt=fmt,
        source_text=text,
        definition=_as_json(definition, text, fmt),
        title=definition.title,
        citation=definition.citation,
        evidence=definition.evidence,
        level_of_care=definition.level_of_care.value,
        example=definition.example,
        change_note=note.strip()[:300],
        created_at=clock.now(),
        created_by=actor.user,
    )


def criteria_set_create(*, actor: Actor, key: str, text: str, fmt: str = "yaml", change_note: str = "") -> CriteriaSet:
    """Author a new criteria set (version 1)."""
    require(actor, "criteria.manage")
    key = key.strip()
    if not re.fullmatch(r"[a-z0-9][a-z0-9_-]{0,63}", key):
        raise ValidationFailed.on("key", "use 1-64 lower-case letters, digits, - and _")
    definition = _parse(text, fmt)
    with transaction.atomic():
        if CriteriaSet.objects.filter(organization=actor.organization, key=key).exists():
            raise ValidationFailed.on("key", f"a criteria set {key!r} already exists: add a version to it")
        cset = CriteriaSet.objects.create(
            organization=actor.organization, key=key, current_version=1, created_at=clock.now()
        )
        _version(actor, cset, 1, text, fmt, definition, change_note or "first version")
        audit_record(actor=actor, action="criteria_set.create", subject=cset, detail={"key": key})
    return cset


def criteria_set_new_version(
    *, actor: Actor, set_id: int, text: str, fmt: str = "yaml", change_note: str, expected_version: int | None = None
) -> CriteriaSetVersion:
    """Editing a set creates a new version; earlier versions stay as they were, and reviews keep the one they used."""
    require(actor, "criteria.manage")
    if not change_note.strip():
        raise ValidationFailed.on("change_note", "say what changed")
    with transaction.atomic():
        cset = CriteriaSet.objects.select_for_update().filter(pk=set_id, organization=actor.organization).first()
        if cset is None:
            raise NotFound(f"No criteria set {set_id}.")
        definition = _parse(text, fmt)
        if expected_version is not None and expected_version != cset.current_version:
            raise ValidationFailed.on(
                "expected_version", f"the set is at version {cset.current_version}; reload and apply your change again"
            )
        cset.current_version += 1
        cset.save(update_fields=["current_version"])
        row = _version(actor, cset, cset.current_version, text, fmt, definition, change_note)
        audit_record(actor=actor, action="criteria_set.version", subject=cset, detail={"version": cset.current_version})
    return row


def criteria_library_install_starter(*, actor: Actor) -> list[CriteriaSet]:
    """Install the shipped example sets the organization does not have yet (labelled as examples)."""
    require(actor, "criteria.manage")
    created = []
    with transaction.atomic():
        have = set(CriteriaSet.objects.filter(organization=actor.organization).values_list("key", flat=True))
        for starter in criteria.starter_library():
            if starter.key in have:
                continue
            created.append(
                criteria_set_create(
                    actor=actor,
                    key=starter.key,
                    text=starter.text,
                    fmt=starter.fmt,
                    change_note=f"starter library: {criteria.STARTER_LABEL}",
                )
            )
    return created
