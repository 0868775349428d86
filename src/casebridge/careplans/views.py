"""Care plan and assessment pages. Thin: parse the form, call one service or selector, render."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from casebridge.accounts.permissions import can
from casebridge.accounts.selectors import organization_list
from casebridge.careplans import selectors, services
from casebridge.careplans.forms import (
    AnswersForm,
    AssessmentStartForm,
    GoalEditForm,
    GoalForm,
    GoalTransitionForm,
    InterventionForm,
    InterventionStatusForm,
)
from casebridge.careplans.instruments import INSTRUMENTS, KIND_LABELS, summary
from casebridge.careplans.models import AssessmentStatus
from casebridge.careplans.vocabulary import GoalLifecycle
from casebridge.cases.selectors import case_get
from casebridge.kernel.errors import DomainError, NotFound, ValidationFailed
from casebridge.web.errors import actor_required, apply_errors


def _plan_url(case_id: int) -> str:
    return reverse("case_detail", kwargs={"case_id": case_id}) + "#care-plan"


def _form_errors(form: object) -> str:
    return "; ".join(f"{f}: {' '.join(e)}" for f, e in form.errors.items())  # type: ignore[attr-defined]


@actor_required
def goal_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    plan = selectors.careplan_find(actor=actor, case_id=case_id, audit=False)
    needs = list(plan.needs.all()) if plan else []
    form = GoalForm(request.POST or None, needs=needs, initial={"version": plan.version if plan else None})
    if request.method == "POST" and form.is_valid():
        try:
            goal = services.goal_add(actor=actor, case_id=case_id, **form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Goal added: {goal.description}")
            return redirect(_plan_url(case_id))
    return render(request, "careplans/goal_form.html", {"form": form, "case": case, "title": "Add goal"})


@actor_required
def goal_edit_view(request: HttpRequest, goal_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    goal = selectors.goal_get(actor=actor, goal_id=goal_id)
    plan = goal.care_plan
    initial = {
        "description": goal.description,
        "measure": goal.measure,
        "target_value": goal.target_value,
        "target_date": goal.target_date,
        "need_id": goal.need_id,
        "achievement_status": goal.achievement_status,
        "version": plan.version,
    }
    form = GoalEditForm(request.POST or None, needs=plan.needs.all(), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.goal_update(actor=actor, goal_id=goal_id, version=version, **data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Goal saved.")
            return redirect(_plan_url(plan.case_id))
    return render(request, "careplans/goal_form.html", {"form": form, "case": plan.case, "title": "Edit goal"})


@actor_required
def goal_transition_view(request: HttpRequest, goal_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    goal = selectors.goal_get(actor=actor, goal_id=goal_id)
    if request.method == "POST":
        form = GoalTransitionForm(request.POST, moves=list(GoalLifecycle))
        if form.is_valid():
            try:
                services.goal_transition(
                    actor=actor,
                    goal_id=goal_id,
                    to_status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    achievement_status=form.cleaned_data["achievement_status"] or None,
                    version=form.cleaned_data["version"],
                )
                messages.success(request, f"Goal is now {form.cleaned_data['status']}.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, _form_errors(form))
    return redirect(_plan_url(goal.care_plan.case_id))


@actor_required
def intervention_add_view(request: HttpRequest, goal_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    goal = selectors.goal_get(actor=actor, goal_id=goal_id)
    form = InterventionForm(
        request.POST or None,
        organizations=organization_list(actor=actor),
        initial={"version": goal.care_plan.version, "payer": "unknown"},
    )
    if request.method == "POST" and form.is_valid():
        try:
            iv = services.intervention_add(actor=actor, goal_id=goal_id, **form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Intervention added: {iv.description}")
            return redirect(_plan_url(goal.care_plan.case_id))
    return render(
        request,
        "careplans/intervention_form.html",
        {"form": form, "goal": goal, "case": goal.care_plan.case},
    )


@actor_required
def intervention_status_view(request: HttpRequest, intervention_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    iv = selectors.intervention_get(actor=actor, intervention_id=intervention_id)
    if request.method == "POST":
        form = InterventionStatusForm(request.POST)
        if form.is_valid():
            try:
                services.intervention_update(
                    actor=actor,
                    intervention_id=intervention_id,
                    version=form.cleaned_data["version"],
                    status=form.cleaned_data["status"],
                )
                messages.success(request, "Intervention updated.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, _form_errors(form))
    return redirect(_plan_url(iv.goal.care_plan.case_id))


@actor_required
def careplan_history_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    plan, versions = selectors.careplan_versions(actor=actor, case_id=case_id, with_snapshots=True)
    raw = request.GET.get("version", "")
    shown = next((v for v in versions if str(v.version) == raw), versions[0] if versions else None)
    return render(
        request,
        "careplans/history.html",
        {"case": case, "plan": plan, "versions": versions, "shown": shown},
    )


@actor_required
def assessment_start_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = AssessmentStartForm(request.POST)
        if form.is_valid():
            try:
                assessment = services.assessment_start(actor=actor, case_id=case_id, kind=form.cleaned_data["kind"])
            except NotFound:
                raise  # another organization's case answers 404, as a missing one does
            except DomainError as exc:
                messages.error(request, exc.detail)
            else:
                return redirect("assessment_detail", assessment_id=assessment.pk)
        else:
            messages.error(request, "Choose an assessment to start.")
    return redirect("case_detail", case_id=case_id)


SUMMARY_LABELS = {
    "safety_score": "Safety score (4-20, positive above 10)",
    "positive_domains": "Positive screens",
    "katz_adl": "Katz ADL index (0-6)",
    "lawton_iadl": "Lawton IADL score (0-8)",
    "needs": "Needs found",
}


def _answer_errors(exc: DomainError) -> DomainError:
    """Service errors name "answers.<question>"; the form's fields are named after the question."""
    if not exc.field_errors:
        return exc
    renamed = {k.removeprefix("answers."): v for k, v in exc.field_errors.items()}
    return ValidationFailed(exc.detail, field_errors=renamed)


@actor_required
def assessment_detail_view(request: HttpRequest, assessment_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    assessment = selectors.assessment_get(actor=actor, assessment_id=assessment_id, audit=request.method != "POST")
    questions = INSTRUMENTS[assessment.kind_enum]
    initial = {**assessment.answers, "version": assessment.version}
    form = AnswersForm(request.POST or None, questions=questions, initial=initial)
    in_progress = assessment.status == AssessmentStatus.IN_PROGRESS
    owned = assessment.case.organization_id == actor.organization_id
    if request.method == "POST" and form.is_valid():
        complete = request.POST.get("action") == "complete"
        try:
            if complete:
                _, needs = services.assessment_complete(
                    actor=actor,
                    assessment_id=assessment_id,
                    answers=form.answers(),
                    version=form.cleaned_data["version"],
                )
                messages.success(
                    request,
                    f"Assessment completed. {len(needs)} need(s) added to the care plan."
                    if needs
                    else "Assessment completed. No new needs identified.",
                )
                return redirect(_plan_url(assessment.case_id))
            services.assessment_answer(
                actor=actor, assessment_id=assessment_id, answers=form.answers(), version=form.cleaned_data["version"]
            )
            messages.success(request, "Answers saved.")
            return redirect("assessment_detail", assessment_id=assessment_id)
        except DomainError as exc:
            apply_errors(form, _answer_errors(exc))
    return render(
        request,
        "careplans/assessment.html",
        {
            "assessment": assessment,
            "case": assessment.case,
            "form": form,
            "kind_label": KIND_LABELS[assessment.kind_enum],
            "summary": [
                (SUMMARY_LABELS.get(k, k), v) for k, v in summary(assessment.kind_enum, assessment.answers).items()
            ],
            "can_answer": in_progress and owned and can(actor, "assessment.change"),
            "needs": assessment.identified_needs.all(),
        },
    )
