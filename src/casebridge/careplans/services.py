"""Writes to assessments and care plans.

Every change to a care plan or to one of its needs, goals or interventions
locks the CarePlan row at the version the caller read and bumps it, so a stale
save fails with StaleVersion instead of overwriting someone's change; each save
leaves a django-simple-history record, so earlier versions stay viewable.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.careplans import goal_lifecycle
from casebridge.careplans.instruments import KIND_LABELS, AssessmentKind, needs_from, validate_answers
from casebridge.careplans.models import Assessment, AssessmentStatus, CarePlan, Goal, Intervention, Need, NeedStatus
from casebridge.careplans.plan_lifecycle import check_plan_move
from casebridge.careplans.vocabulary import (
    PAYER_LABELS,
    ActivityStatus,
    CarePlanIntent,
    CarePlanStatus,
    GoalAchievement,
    GoalLifecycle,
    Payer,
)
from casebridge.cases.models import Case
from casebridge.cases.selectors import cases_owned
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError, IllegalTransition, NotFound, ValidationFailed
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version


class CarePlanExists(DomainError):
    status = 409
    title = "Care plan exists"


def _enum(enum: Any, value: Any, field: str) -> Any:
    try:
        return enum(value)
    except ValueError as exc:
        raise ValidationFailed.on(field, f"must be one of {', '.join(m.value for m in enum)}") from exc


def _owned_case(actor: Actor, case_id: int, *, lock: bool = False) -> Case:
    qs = cases_owned(actor)
    if lock:
        qs = qs.select_for_update()
    case = qs.filter(pk=case_id).first()
    if case is None:
        raise NotFound(f"No case {case_id}.")
    return case


def _plans_owned(actor: Actor) -> QuerySet[CarePlan]:
    return CarePlan.objects.filter(case__organization_id=actor.organization_id)


def _lock_plan(actor: Actor, plan_id: int, version: int | None) -> CarePlan:
    plans: QuerySet[CarePlan] = _plans_owned(actor)
    return lock_at_version(plans.select_related("case"), plan_id, version, "care plan")


def _save(obj: Any, actor: Actor, reason: str) -> None:
    """Save with the actor and a readable change reason on its history record."""
    obj._history_user = actor.user
    obj._change_reason = reason[:100]
    obj.save()


def _save_plan(plan: CarePlan, actor: Actor, reason: str) -> None:
    """Saved last in each service, so the plan's history record dates after the parts it describes."""
    plan.updated_at = clock.now()
    _save(plan, actor, reason)


def _new_plan(
    actor: Actor, case: Case, *, title: str = "", status: str = CarePlanStatus.DRAFT, intent: str = "plan"
) -> CarePlan:
    now = clock.now()
    plan = CarePlan(
        case=case,
        title=title.strip(),
        status=status,
        intent=intent,
        created_at=now,
        created_by=actor.user,
        updated_at=now,
    )
    validate_model(plan, exclude=["case"])
    _save(plan, actor, "Care plan started")
    return plan


def _plan_for_write(actor: Actor, case_id: int, version: int | None) -> CarePlan:
    """The case's plan locked at ``version``; a case without a plan gets one (then no version can be stale)."""
    case = _owned_case(actor, case_id, lock=True)
    existing = CarePlan.objects.filter(case=case).values_list("pk", flat=True).first()
    if existing is None:
        plan = _new_plan(actor, case)
        plan.version += 1
        return plan
    return _lock_plan(actor, existing, version)


def careplan_create(
    *, actor: Actor, case_id: int, title: str = "", status: str = CarePlanStatus.DRAFT, intent: str = "plan"
) -> CarePlan:
    require(actor, "careplan.change")
    status = _enum(CarePlanStatus, status, "status")
    intent = _enum(CarePlanIntent, intent, "intent")
    if status not in (CarePlanStatus.DRAFT, CarePlanStatus.ACTIVE):
        raise ValidationFailed.on("status", "a new care plan starts as draft or active")
    with transaction.atomic():
        case = _owned_case(actor, case_id, lock=True)
        if CarePlan.objects.filter(case=case).exists():
            raise CarePlanExists(f"Case {case_id} already has a care plan; change it instead.")
        plan = _new_plan(actor, case, title=title, status=status, intent=intent)
        audit_record(actor=actor, action="careplan.create", subject=plan, patient=case.patient_id)
    return plan


PLAN_EDITABLE = ("title", "description", "status", "intent")


def careplan_update(*, actor: Actor, case_id: int, version: int | None, **changes: Any) -> CarePlan:
    require(actor, "careplan.change")
    unknown = set(changes) - set(PLAN_EDITABLE)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    if "status" in changes:
        changes["status"] = _enum(CarePlanStatus, changes["status"], "status")
    if "intent" in changes:
        changes["intent"] = _enum(CarePlanIntent, changes["intent"], "intent")
    with transaction.atomic():
        case = _owned_case(actor, case_id)
        plan_id = CarePlan.objects.filter(case=case).values_list("pk", flat=True).first()
        if plan_id is None:
            raise NotFound(f"Case {case_id} has no care plan yet.")
        plan = _lock_plan(actor, plan_id, version)
        if "status" in changes:
            check_plan_move(CarePlanStatus(plan.status), changes["status"])
        for key, value in changes.items():
            setattr(plan, key, value.strip() if isinstance(value, str) and key in ("title", "description") else value)
        validate_model(plan, exclude=["case"])
        _save_plan(plan, actor, "Plan changed: " + ", ".join(sorted(changes)))
        audit_record(
            actor=actor,
            action="careplan.update",
            subject=plan,
            patient=case.patient_id,
            detail={"fields": sorted(changes), "version": plan.version},
        )
    return plan


def need_add(
    *,
    actor: Actor,
    case_id: int,
    label: str,
    domain: str = "",
    code: str = "",
    evidence: str = "",
    version: int | None = None,
) -> Need:
    require(actor, "careplan.change")
    if not label.strip():
        raise ValidationFailed.on("label", "is required")
    with transaction.atomic():
        plan = _plan_for_write(actor, case_id, version)
        need = Need(
            care_plan=plan,
            code=code.strip() or "other",
            label=label.strip(),
            domain=domain.strip(),
            evidence=evidence.strip(),
            identified_at=clock.now(),
        )
        validate_model(need, exclude=["care_plan"])
        _save(need, actor, "Need added")
        _save_plan(plan, actor, f"Need added: {need.label}")
        audit_record(actor=actor, action="need.add", subject=need, patient=plan.case.patient_id)
    return need


def _need_of(plan: CarePlan, need_id: int | None) -> Need | None:
    if need_id is None:
        return None
    need = Need.objects.filter(pk=need_id, care_plan=plan).first()
    if need is None:
        raise ValidationFailed.on("need_id", f"need {need_id} is not on this care plan")
    return need


def goal_add(
    *,
    actor: Actor,
    case_id: int,
    description: str,
    measure: str = "",
    target_value: str = "",
    target_date: dt.date | None = None,
    need_id: int | None = None,
    lifecycle_status: str = GoalLifecycle.PROPOSED,
    version: int | None = None,
) -> Goal:
    """Add a goal to the case's care plan (started on the way if the case has none)."""
    require(actor, "careplan.change")
    if not description.strip():
        raise ValidationFailed.on("description", "is required")
    status = _enum(GoalLifecycle, lifecycle_status, "lifecycle_status")
    if status not in goal_lifecycle.INITIAL:
        raise ValidationFailed.on(
            "lifecycle_status", f"a new goal starts as one of {', '.join(s.value for s in goal_lifecycle.INITIAL)}"
        )
    with transaction.atomic():
        plan = _plan_for_write(actor, case_id, version)
        now = clock.now()
        goal = Goal(
            care_plan=plan,
            need=_need_of(plan, need_id),
            description=description.strip(),
            measure=measure.strip(),
            target_value=target_value.strip(),
            target_date=target_date,
            lifecycle_status=status,
            achievement_status=GoalAchievement.IN_PROGRESS if status == GoalLifecycle.ACTIVE else "",
            created_at=now,
            created_by=actor.user,
        )
        validate_model(goal, exclude=["care_plan"])
        _save(goal, actor, "Goal added")
        _save_plan(plan, actor, f"Goal added: {goal.description}")
        audit_record(
            actor=actor,
            action="goal.add",
            subject=goal,
            patient=plan.case.patient_id,
            detail={"version": plan.version},
        )
    return goal


GOAL_EDITABLE = ("description", "measure", "target_value", "target_date", "need_id", "achievement_status")


def _goal_for_write(actor: Actor, goal_id: int, version: int | None) -> tuple[Goal, CarePlan]:
    plan_id = (
        Goal.objects.filter(pk=goal_id, care_plan__case__organization_id=actor.organization_id)
        .values_list("care_plan_id", flat=True)
        .first()
    )
    if plan_id is None:
        raise NotFound(f"No goal {goal_id}.")
    plan = _lock_plan(actor, plan_id, version)
    # Read after the plan lock: every writer of this goal holds that lock, so this row is current.
    goal = Goal.objects.get(pk=goal_id)
    goal.care_plan = plan
    return goal, plan


def goal_update(*, actor: Actor, goal_id: int, version: int | None, **changes: Any) -> Goal:
    require(actor, "careplan.change")
    unknown = set(changes) - set(GOAL_EDITABLE)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here; use a status transition")
    if "description" in changes and not str(changes["description"] or "").strip():
        raise ValidationFailed.on("description", "is required")
    if changes.get("achievement_status"):
        changes["achievement_status"] = _enum(GoalAchievement, changes["achievement_status"], "achievement_status")
    with transaction.atomic():
        goal, plan = _goal_for_write(actor, goal_id, version)
        if goal.lifecycle in goal_lifecycle.FINAL:
            raise IllegalTransition(f"A goal that is {goal.lifecycle_status} can no longer be changed.")
        fields = sorted(changes)
        if "need_id" in changes:
            goal.need = _need_of(plan, changes.pop("need_id"))
        for key, value in changes.items():
            setattr(goal, key, value.strip() if isinstance(value, str) else value)
        validate_model(goal, exclude=["care_plan"])
        _save(goal, actor, "Goal changed: " + ", ".join(fields))
        _save_plan(plan, actor, f"Goal changed: {goal.description}")
        audit_record(
            actor=actor,
            action="goal.update",
            subject=goal,
            patient=plan.case.patient_id,
            detail={"fields": fields, "version": plan.version},
        )
    return goal


def goal_transition(
    *,
    actor: Actor,
    goal_id: int,
    to_status: str,
    reason: str = "",
    achievement_status: str | None = None,
    version: int | None = None,
) -> Goal:
    """Move a goal through the FHIR Goal lifecycle; the machine refuses illegal moves."""
    require(actor, "careplan.change")
    target = _enum(GoalLifecycle, to_status, "status")
    achievement = _enum(GoalAchievement, achievement_status, "achievement_status") if achievement_status else None
    with transaction.atomic():
        goal, plan = _goal_for_write(actor, goal_id, version)
        current = goal.lifecycle
        outcome = goal_lifecycle.check_move(current, target, reason=reason, achievement=achievement)
        goal.lifecycle_status = target
        if outcome is not None:
            goal.achievement_status = outcome
        goal.status_reason = reason.strip()
        _save(goal, actor, f"Goal {current.value} -> {target.value}")
        _save_plan(plan, actor, f"Goal {target.value}: {goal.description}")
        audit_record(
            actor=actor,
            action="goal.transition",
            subject=goal,
            patient=plan.case.patient_id,
            detail={"from": current.value, "to": target.value, "version": plan.version},
        )
    return goal


def _check_intervention(iv: Intervention) -> None:
    if iv.estimated_cost is not None and iv.estimated_cost < 0:
        raise ValidationFailed.on("estimated_cost", "cannot be negative")
    if iv.start_date and iv.end_date and iv.end_date < iv.start_date:
        raise ValidationFailed.on("end_date", "is before the start date")
    if iv.payer not in PAYER_LABELS:
        raise ValidationFailed.on("payer", f"must be one of {', '.join(p.value for p in Payer)}")
    _enum(ActivityStatus, iv.status, "status")


def _provider(organization_id: int | None) -> Organization | None:
    if organization_id is None:
        return None
    org = Organization.objects.filter(pk=organization_id, active=True).first()
    if org is None:
        raise ValidationFailed.on("provider_organization_id", f"no organization {organization_id}")
    return org


def intervention_add(
    *,
    actor: Actor,
    goal_id: int,
    description: str,
    discipline: str = "",
    provider_organization_id: int | None = None,
    provider_name: str = "",
    frequency: str = "",
    start_date: dt.date | None = None,
    end_date: dt.date | None = None,
    estimated_cost: Decimal | None = None,
    payer: str = Payer.UNKNOWN,
    status: str = ActivityStatus.NOT_STARTED,
    version: int | None = None,
) -> Intervention:
    require(actor, "careplan.change")
    if not description.strip():
        raise ValidationFailed.on("description", "is required")
    if status not in (ActivityStatus.NOT_STARTED, ActivityStatus.SCHEDULED, ActivityStatus.IN_PROGRESS):
        raise ValidationFailed.on("status", "a new intervention starts as not-started, scheduled or in-progress")
    with transaction.atomic():
        goal, plan = _goal_for_write(actor, goal_id, version)
        if goal.lifecycle in goal_lifecycle.FINAL:
            raise IllegalTransition(f"A goal that is {goal.lifecycle_status} takes no new interventions.")
        iv = Intervention(
            goal=goal,
            description=description.strip(),
            discipline=discipline.strip(),
            provider_organization=_provider(provider_organization_id),
            provider_name=provider_name.strip(),
            frequency=frequency.strip(),
            start_date=start_date,
            end_date=end_date,
            estimated_cost=estimated_cost,
            payer=payer,
            status=status,
            created_at=clock.now(),
            created_by=actor.user,
        )
        _check_intervention(iv)
        validate_model(iv, exclude=["goal"])
        _save(iv, actor, "Intervention added")
        _save_plan(plan, actor, f"Intervention added: {iv.description}")
        audit_record(
            actor=actor,
            action="intervention.add",
            subject=iv,
            patient=plan.case.patient_id,
            detail={"goal_id": goal.pk, "version": plan.version},
        )
    return iv


INTERVENTION_EDITABLE = (
    "description",
    "discipline",
    "provider_organization_id",
    "provider_name",
    "frequency",
    "start_date",
    "end_date",
    "estimated_cost",
    "payer",
    "status",
)


def intervention_update(*, actor: Actor, intervention_id: int, version: int | None, **changes: Any) -> Intervention:
    require(actor, "careplan.change")
    unknown = set(changes) - set(INTERVENTION_EDITABLE)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    if "description" in changes and not str(changes["description"] or "").strip():
        raise ValidationFailed.on("description", "is required")
    with transaction.atomic():
        goal_id = (
            Intervention.objects.filter(
                pk=intervention_id, goal__care_plan__case__organization_id=actor.organization_id
            )
            .values_list("goal_id", flat=True)
            .first()
        )
        if goal_id is None:
            raise NotFound(f"No intervention {intervention_id}.")
        goal, plan = _goal_for_write(actor, goal_id, version)
        iv = Intervention.objects.get(pk=intervention_id)
        iv.goal = goal
        previous_status = iv.status
        if "provider_organization_id" in changes:
            iv.provider_organization = _provider(changes.pop("provider_organization_id"))
        for key, value in changes.items():
            setattr(iv, key, value.strip() if isinstance(value, str) else value)
        _check_intervention(iv)
        validate_model(iv, exclude=["goal"])
        what = f"status {previous_status} -> {iv.status}" if iv.status != previous_status else "details"
        _save(iv, actor, f"Intervention {what}")
        _save_plan(plan, actor, f"Intervention changed: {iv.description}")
        audit_record(
            actor=actor,
            action="intervention.update",
            subject=iv,
            patient=plan.case.patient_id,
            detail={"fields": sorted(changes), "version": plan.version},
        )
    return iv


def assessment_start(*, actor: Actor, case_id: int, kind: str, answers: dict[str, Any] | None = None) -> Assessment:
    require(actor, "assessment.change")
    kind_enum = _enum(AssessmentKind, kind, "kind")
    cleaned = validate_answers(kind_enum, answers or {})
    with transaction.atomic():
        case = _owned_case(actor, case_id)
        assessment = Assessment.objects.create(
            case=case, kind=kind_enum, answers=cleaned, started_at=clock.now(), started_by=actor.user
        )
        audit_record(
            actor=actor, action="assessment.start", subject=assessment, patient=case.patient_id, detail={"kind": kind}
        )
    return assessment


def _lock_assessment(actor: Actor, assessment_id: int, version: int | None) -> Assessment:
    qs = Assessment.objects.filter(case__organization_id=actor.organization_id).select_related("case")
    assessment = lock_at_version(qs, assessment_id, version, "assessment")
    if assessment.status != AssessmentStatus.IN_PROGRESS:
        raise IllegalTransition(f"Assessment {assessment_id} is completed; start a new one to reassess.")
    return assessment


def assessment_answer(
    *, actor: Actor, assessment_id: int, answers: dict[str, Any], version: int | None = None
) -> Assessment:
    """Record answers (merged into those already given) on an assessment in progress."""
    require(actor, "assessment.change")
    with transaction.atomic():
        assessment = _lock_assessment(actor, assessment_id, version)
        cleaned = validate_answers(assessment.kind_enum, answers)
        cleared = {k for k, v in answers.items() if v in (None, "", [])}
        merged = {k: v for k, v in assessment.answers.items() if k not in cleared}
        merged.update(cleaned)
        assessment.answers = merged
        assessment.save()
        audit_record(
            actor=actor,
            action="assessment.answer",
            subject=assessment,
            patient=assessment.case.patient_id,
            detail={"questions": sorted(answers)},
        )
    return assessment


def assessment_complete(
    *, actor: Actor, assessment_id: int, answers: dict[str, Any] | None = None, version: int | None = None
) -> tuple[Assessment, list[Need]]:
    """Complete an assessment: every question answered; the needs it identifies join the case's care plan.

    A need already active on the plan (same code) is not added twice.
    """
    require(actor, "assessment.change")
    with transaction.atomic():
        assessment = _lock_assessment(actor, assessment_id, version)
        merged = dict(assessment.answers)
        if answers:
            cleared = {k for k, v in answers.items() if v in (None, "", [])}
            merged = {k: v for k, v in merged.items() if k not in cleared}
            merged.update(answers)
        cleaned = validate_answers(assessment.kind_enum, merged, complete=True)
        now = clock.now()
        assessment.answers = cleaned
        assessment.status = AssessmentStatus.COMPLETED
        assessment.completed_at = now
        assessment.completed_by = actor.user
        assessment.save()
        identified = needs_from(assessment.kind_enum, cleaned)
        added: list[Need] = []
        if identified:
            plan = _plan_for_write(actor, assessment.case_id, None)
            active = set(plan.needs.filter(status=NeedStatus.ACTIVE).values_list("code", flat=True))
            for found in identified:
                if found.code in active:
                    continue
                need = Need(
                    care_plan=plan,
                    code=found.code,
                    label=found.label,
                    domain=found.domain,
                    evidence=found.evidence[:500],
                    assessment=assessment,
                    identified_at=now,
                )
                _save(need, actor, "Need identified by assessment")
                added.append(need)
            if added:
                _save_plan(plan, actor, f"{len(added)} need(s) from {KIND_LABELS[assessment.kind_enum]}")
        audit_record(
            actor=actor,
            action="assessment.complete",
            subject=assessment,
            patient=assessment.case.patient_id,
            detail={"needs": [n.code for n in added]},
        )
    return assessment, added
