"""Utilization review pages: reviews, the review page, physician advisor queue, determinations, MOON,
condition code 44, criteria library and avoidable days. Thin: parse, call one service or selector, render."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from casebridge.accounts.permissions import can, require
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError, NotFound, PermissionDenied
from casebridge.utilization import criteria, selectors, services
from casebridge.utilization.forms import (
    AttendingResponseForm,
    AvoidableDayForm,
    AvoidableReasonForm,
    CC44Form,
    CompleteForm,
    ConcurForm,
    CriteriaSetForm,
    CriteriaVersionForm,
    DeterminationForm,
    EscalateForm,
    EvaluateForm,
    MoonDeliveryForm,
    NoticeForm,
    PolicyForm,
)
from casebridge.utilization.models import CriteriaSetVersion, ReviewStatus, UtilizationReview
from casebridge.web.errors import actor_required, apply_errors
from casebridge.web.navigation import next_url


def _actor(request: HttpRequest) -> Any:
    return request.actor  # type: ignore[attr-defined]


def _attempt(request: HttpRequest, form: forms.Form | None, call: Callable[[], Any]) -> bool:
    """Run a service; a refusal becomes form errors (or a message). Not-found and forbidden stay 404/403."""
    try:
        call()
    except (NotFound, PermissionDenied):
        raise
    except DomainError as exc:
        if form is not None:
            apply_errors(form, exc)
        else:
            messages.error(request, exc.detail)
        return False
    return True


# --- reviews --------------------------------------------------------------------------------------------


@actor_required
def review_list_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    status = request.GET.get("status") or "open"
    if status not in ("open", "pending", "escalated", "completed"):
        status = "open"
    rows = selectors.reviews_listed(actor=actor, status=status, limit=300)
    return render(request, "utilization/reviews.html", {"reviews": rows, "status": status, "now": clock.now()})


def _manual(review: UtilizationReview) -> list[tuple[str, str, str, str]]:
    out = []
    for result in review.results:
        for c in result["criteria"]:
            if c["kind"] == "manual":
                current = review.answers.get(result["key"], {}).get(c["id"], {}).get("value", "unknown")
                out.append((result["key"], c["id"], c["text"], current))
    return out


def _evaluate_form(actor: Any, review: UtilizationReview, data: Any = None) -> EvaluateForm:
    sets = [(s.key, v.title if v else s.key) for s, v in selectors.criteria_sets(actor=actor) if s.active]
    chosen = [r["key"] for r in review.results]
    return EvaluateForm(
        data, sets=sets, manual=_manual(review), chosen=chosen, initial={"version": review.version}, auto_id="ev_%s"
    )


@actor_required
def review_detail_view(request: HttpRequest, review_id: int) -> HttpResponse:
    actor = _actor(request)
    review = selectors.review_get(actor=actor, review_id=review_id)
    evaluate_form = _evaluate_form(actor, review)
    complete_form = CompleteForm(initial={"version": review.version}, auto_id="c_%s")
    escalate_form = EscalateForm(initial={"version": review.version}, auto_id="e_%s")
    if request.method == "POST":
        action = request.POST.get("action")
        if action == "evaluate":
            evaluate_form = _evaluate_form(actor, review, request.POST)
            if evaluate_form.is_valid() and _attempt(
                request,
                evaluate_form,
                lambda: services.review_evaluate(
                    actor=actor,
                    review_id=review.pk,
                    set_keys=evaluate_form.cleaned_data["set_keys"] or None,
                    answers=evaluate_form.answers() or None,
                    version=evaluate_form.cleaned_data["version"],
                ),
            ):
                messages.success(request, "Criteria evaluated.")
                return redirect("ur_review", review.pk)
        elif action == "complete":
            complete_form = CompleteForm(request.POST, auto_id="c_%s")
            if complete_form.is_valid() and _attempt(
                request,
                complete_form,
                lambda: services.review_complete(actor=actor, review_id=review.pk, **complete_form.cleaned_data),
            ):
                messages.success(request, "Review completed; the next review is scheduled while the stay continues.")
                return redirect("ur_review", review.pk)
        elif action == "escalate":
            escalate_form = EscalateForm(request.POST, auto_id="e_%s")
            if escalate_form.is_valid() and _attempt(
                request,
                escalate_form,
                lambda: services.review_escalate(actor=actor, review_id=review.pk, **escalate_form.cleaned_data),
            ):
                messages.success(request, "Sent to the physician advisor queue.")
                return redirect("ur_review", review.pk)
    open_review = review.status in (ReviewStatus.PENDING, ReviewStatus.ESCALATED)
    return render(
        request,
        "utilization/review.html",
        {
            "review": review,
            "encounter": review.encounter,
            "patient": review.patient,
            "level_labels": {k.value: v for k, v in criteria.LEVEL_LABELS.items()},
            "evaluate_form": evaluate_form,
            "complete_form": complete_form,
            "escalate_form": escalate_form,
            "determination_form": DeterminationForm(auto_id="d_%s"),
            "determinations": list(review.determinations.order_by("-created_at")),
            "can_review": open_review
            and (can(actor, "review.perform") or can(actor, "review.decide"))
            and (review.status == ReviewStatus.PENDING or can(actor, "review.decide")),
            "can_escalate": review.status == ReviewStatus.PENDING and can(actor, "review.perform"),
            "can_decide": open_review and can(actor, "review.decide"),
            "now": clock.now(),
        },
    )


@actor_required
@require_POST
def review_schedule_view(request: HttpRequest, encounter_id: int) -> HttpResponse:
    actor = _actor(request)
    result: dict[str, UtilizationReview] = {}

    def call() -> None:
        result["r"] = services.review_schedule_initial(actor=actor, encounter_id=encounter_id)

    if _attempt(request, None, call):
        return redirect("ur_review", result["r"].pk)
    return redirect(next_url(request, reverse("ur_reviews")))


# --- physician advisor and determinations ---------------------------------------------------------------


@actor_required
def advisor_queue_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    queue = selectors.advisor_queue(actor=actor, audit=True)
    return render(request, "utilization/advisor_queue.html", {**queue, "now": clock.now()})


@actor_required
@require_POST
def determination_open_view(request: HttpRequest, review_id: int) -> HttpResponse:
    actor = _actor(request)
    form = DeterminationForm(request.POST)
    result: dict[str, Any] = {}
    if form.is_valid():

        def call() -> None:
            result["d"] = services.determination_open(actor=actor, review_id=review_id, **form.cleaned_data)

        if _attempt(request, None, call):
            return redirect("ur_determination", result["d"].pk)
    else:
        messages.error(request, "; ".join(f"{k}: {' '.join(str(m) for m in v)}" for k, v in form.errors.items()))
    return redirect("ur_review", review_id)


@actor_required
def determination_view(request: HttpRequest, determination_id: int) -> HttpResponse:
    actor = _actor(request)
    det = selectors.determination_get(actor=actor, determination_id=determination_id)
    response_form = AttendingResponseForm(auto_id="ar_%s")
    concur_form = ConcurForm(auto_id="cc_%s")
    notice_form = NoticeForm(auto_id="n_%s")
    if request.method == "POST":
        action = request.POST.get("action")
        ok = False
        if action == "consult":
            ok = _attempt(
                request,
                None,
                lambda: services.determination_attending_consult(actor=actor, determination_id=det.pk),
            )
        elif action == "respond":
            response_form = AttendingResponseForm(request.POST, auto_id="ar_%s")
            ok = response_form.is_valid() and _attempt(
                request,
                response_form,
                lambda: services.determination_attending_respond(
                    actor=actor, determination_id=det.pk, **response_form.cleaned_data
                ),
            )
        elif action == "concur":
            concur_form = ConcurForm(request.POST, auto_id="cc_%s")
            ok = concur_form.is_valid() and _attempt(
                request,
                concur_form,
                lambda: services.determination_concur(actor=actor, determination_id=det.pk, **concur_form.cleaned_data),
            )
        elif action == "decide":
            ok = _attempt(request, None, lambda: services.determination_decide(actor=actor, determination_id=det.pk))
        elif action == "notice":
            notice_form = NoticeForm(request.POST, auto_id="n_%s")
            ok = notice_form.is_valid() and _attempt(
                request,
                notice_form,
                lambda: services.determination_notice_record(
                    actor=actor, determination_id=det.pk, **notice_form.cleaned_data
                ),
            )
        if ok:
            return redirect("ur_determination", det.pk)
        det = selectors.determination_get(actor=actor, determination_id=determination_id)
    return render(
        request,
        "utilization/determination.html",
        {
            "det": det,
            "state": selectors.determination_state(det),
            "reviewers": list(det.reviewers.select_related("user")),
            "notices": list(det.notices.all()),
            "response_form": response_form,
            "concur_form": concur_form,
            "notice_form": notice_form,
            "can_decide": can(actor, "review.decide"),
            "can_record": can(actor, "review.perform") or can(actor, "review.decide"),
        },
    )


# --- MOON and condition code 44 ------------------------------------------------------------------------


@actor_required
@require_POST
def moon_start_view(request: HttpRequest, encounter_id: int) -> HttpResponse:
    actor = _actor(request)
    result: dict[str, Any] = {}

    def call() -> None:
        result["m"] = services.moon_start(actor=actor, encounter_id=encounter_id)

    if _attempt(request, None, call):
        return redirect("ur_moon", result["m"].pk)
    return redirect(next_url(request, reverse("ur_reviews")))


@actor_required
def moon_view(request: HttpRequest, moon_id: int) -> HttpResponse:
    actor = _actor(request)
    moon = selectors.moon_get(actor=actor, moon_id=moon_id)
    form = MoonDeliveryForm(auto_id="m_%s")
    if request.method == "POST":
        form = MoonDeliveryForm(request.POST, auto_id="m_%s")
        if form.is_valid() and _attempt(
            request, form, lambda: services.moon_record_delivery(actor=actor, moon_id=moon.pk, **form.cleaned_data)
        ):
            messages.success(request, "MOON delivery recorded.")
            return redirect("ur_moon", moon.pk)
    return render(
        request,
        "utilization/moon.html",
        {"moon": moon, "state": selectors.moon_state(moon), "form": form, "can_record": can(actor, "review.perform")},
    )


@actor_required
@require_POST
def cc44_start_view(request: HttpRequest, encounter_id: int) -> HttpResponse:
    actor = _actor(request)
    result: dict[str, Any] = {}

    def call() -> None:
        result["c"] = services.cc44_start(actor=actor, encounter_id=encounter_id)

    if _attempt(request, None, call):
        return redirect("ur_cc44", result["c"].pk)
    return redirect(next_url(request, reverse("ur_reviews")))


@actor_required
def cc44_view(request: HttpRequest, cc44_id: int) -> HttpResponse:
    actor = _actor(request)
    row = selectors.cc44_get(actor=actor, cc44_id=cc44_id)
    initial = {f: getattr(row, f) for f in services.CC44_FIELDS} | {"version": row.version}
    form = CC44Form(initial=initial, auto_id="cc44_%s")
    if request.method == "POST":
        form = CC44Form(request.POST, auto_id="cc44_%s")
        if form.is_valid():
            data = dict(form.cleaned_data)
            version = data.pop("version")
            complete = request.POST.get("action") == "complete"

            def call() -> None:
                updated = services.cc44_update(actor=actor, cc44_id=row.pk, version=version, **data)
                if complete:
                    services.cc44_complete(actor=actor, cc44_id=row.pk, version=updated.version)

            if _attempt(request, form, call):
                messages.success(request, "Condition code 44 completed." if complete else "Saved.")
                return redirect("ur_cc44", row.pk)
        row = selectors.cc44_get(actor=actor, cc44_id=cc44_id)
    return render(
        request,
        "utilization/cc44.html",
        {"row": row, "check": services.cc44_check(row), "form": form, "can_record": can(actor, "review.perform")},
    )


# --- criteria library ---------------------------------------------------------------------------------------


@actor_required
def criteria_library_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    form = CriteriaSetForm(auto_id="cs_%s")
    policy_form = PolicyForm(auto_id="pol_%s")
    if request.method == "POST":
        require(actor, "criteria.manage")
        action = request.POST.get("action")
        if action == "install":
            if _attempt(request, None, lambda: services.criteria_library_install_starter(actor=actor)):
                messages.success(request, f"Starter library installed ({criteria.STARTER_LABEL.lower()}).")
                return redirect("ur_criteria")
        elif action == "create":
            form = CriteriaSetForm(request.POST, auto_id="cs_%s")
            if form.is_valid() and _attempt(
                request, form, lambda: services.criteria_set_create(actor=actor, **form.cleaned_data)
            ):
                return redirect("ur_criteria")
        elif action == "policy":
            policy_form = PolicyForm(request.POST, auto_id="pol_%s")
            if policy_form.is_valid() and _attempt(
                request, policy_form, lambda: services.review_policy_set(actor=actor, **policy_form.cleaned_data)
            ):
                messages.success(request, "Review clock saved.")
                return redirect("ur_criteria")
    return render(
        request,
        "utilization/criteria_library.html",
        {
            "sets": selectors.criteria_sets(actor=actor),
            "policies": selectors.review_policies(actor=actor),
            "form": form,
            "policy_form": policy_form,
            "can_manage": can(actor, "criteria.manage"),
            "starter_label": criteria.STARTER_LABEL,
        },
    )


@actor_required
def criteria_set_view(request: HttpRequest, set_id: int) -> HttpResponse:
    actor = _actor(request)
    cset, versions = selectors.criteria_set_get(actor=actor, set_id=set_id)
    current: CriteriaSetVersion | None = next((v for v in versions if v.version == cset.current_version), None)
    form = CriteriaVersionForm(
        initial={
            "fmt": current.fmt if current else "yaml",
            "text": current.source_text if current else "",
            "expected_version": cset.current_version,
        },
        auto_id="v_%s",
    )
    if request.method == "POST":
        form = CriteriaVersionForm(request.POST, auto_id="v_%s")
        if form.is_valid() and _attempt(
            request, form, lambda: services.criteria_set_new_version(actor=actor, set_id=cset.pk, **form.cleaned_data)
        ):
            messages.success(request, "New version saved; reviews keep the version they used.")
            return redirect("ur_criteria_set", cset.pk)
    return render(
        request,
        "utilization/criteria_set.html",
        {
            "cset": cset,
            "versions": versions,
            "current": current,
            "form": form,
            "can_manage": can(actor, "criteria.manage"),
        },
    )


# --- avoidable days -----------------------------------------------------------------------------------------


def _avoidable_days_page(
    request: HttpRequest, *, form: forms.Form | None = None, reason_form: forms.Form | None = None, status: int = 200
) -> HttpResponse:
    actor = _actor(request)
    reasons = [(r.code, r.label) for r in selectors.avoidable_reasons(actor=actor)]
    if form is None:
        initial: dict[str, Any] = {"day": clock.today()}
        if request.GET.get("encounter"):
            initial["encounter_id"] = request.GET["encounter"]
        form = AvoidableDayForm(
            initial=initial, encounters=selectors.stays_to_pick(actor=actor), reasons=reasons, auto_id="ad_%s"
        )
    report = selectors.avoidable_day_report(actor=actor)
    days = selectors.avoidable_days_listed(actor=actor, action="avoidable_days.view", limit=100)
    return render(
        request,
        "utilization/avoidable_days.html",
        {
            "form": form,
            "reason_form": reason_form or AvoidableReasonForm(auto_id="ar_%s"),
            "reasons": reasons,
            "report": report,
            "charts": [
                ("By reason", report.by_reason),
                ("By payer", report.by_payer),
                ("By provider", report.by_provider),
                ("By responsible party", report.by_party),
            ],
            "days": days,
            "can_log": can(actor, "review.perform"),
            "can_configure": can(actor, "criteria.manage"),
        },
        status=status,
    )


@actor_required
def avoidable_days_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    if request.method != "POST":
        return _avoidable_days_page(request)
    reasons = [(r.code, r.label) for r in selectors.avoidable_reasons(actor=actor)]
    form = AvoidableDayForm(
        request.POST, encounters=selectors.stays_to_pick(actor=actor), reasons=reasons, auto_id="ad_%s"
    )
    if form.is_valid() and _attempt(
        request, form, lambda: services.avoidable_day_log(actor=actor, **form.cleaned_data)
    ):
        messages.success(request, "Avoidable day logged.")
        return redirect("ur_avoidable_days")
    return _avoidable_days_page(request, form=form)


@actor_required
@require_POST
def avoidable_reason_add_view(request: HttpRequest) -> HttpResponse:
    """Add a reason to the organization's list of avoidable-day reasons (medical director, admin)."""
    actor = _actor(request)
    form = AvoidableReasonForm(request.POST, auto_id="ar_%s")
    if form.is_valid() and _attempt(
        request, form, lambda: services.avoidable_reason_add(actor=actor, **form.cleaned_data)
    ):
        messages.success(request, f"Reason added: {form.cleaned_data['label']}.")
        return redirect("ur_avoidable_days")
    return _avoidable_days_page(request, reason_form=form, status=422)
