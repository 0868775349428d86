from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casebridge.accounts.permissions import can
from casebridge.accounts.roles import CASE_MANAGER, SUPERVISOR, UR_NURSE
from casebridge.accounts.selectors import organization_list, staff_with_role
from casebridge.cases import services
from casebridge.cases.domain import STATUS_LABELS, CaseStatus, allowed_moves
from casebridge.cases.forms import AssignForm, CareTeamForm, CaseOpenForm, TransitionForm
from casebridge.cases.selectors import care_team_of, case_get
from casebridge.cases.timeline import case_timeline
from casebridge.kernel.errors import DomainError
from casebridge.kernel.numbers import whole_number
from casebridge.patients.selectors import patient_get
from casebridge.web.errors import actor_required, apply_errors

PROCESS = [
    CaseStatus.REFERRAL,
    CaseStatus.ASSESSMENT,
    CaseStatus.PLANNING,
    CaseStatus.IMPLEMENTATION,
    CaseStatus.MONITORING,
    CaseStatus.TRANSITION,
    CaseStatus.CLOSED,
]
# Forward along the process first; holds and cancellation last, so the likely choice is near the top.
MOVE_ORDER = [*PROCESS, CaseStatus.ON_HOLD, CaseStatus.CANCELLED]


@actor_required
def case_create_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    staff = staff_with_role(actor=actor, roles=(CASE_MANAGER, SUPERVISOR, UR_NURSE))
    raw_patient = request.POST.get("patient_id") or request.GET.get("patient", "")
    patient_id = whole_number(raw_patient)
    patient = patient_get(actor=actor, patient_id=patient_id) if patient_id is not None else None
    if patient is None:
        messages.error(request, "Choose a patient first, then open a case from their page.")
        return redirect("patient_search")
    form = CaseOpenForm(
        request.POST or None, staff=staff, initial={"patient_id": patient.pk, "assigned_to_id": actor.user_id}
    )
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        diagnoses = (
            [{"code": data["diagnosis_code"], "display": data["diagnosis_display"]}] if data["diagnosis_code"] else []
        )
        try:
            case = services.case_open(
                actor=actor,
                patient_id=patient.pk,
                case_type=data["case_type"],
                reason=data["reason"],
                diagnoses=diagnoses,
                assigned_to_id=data["assigned_to_id"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Case #{case.pk} opened.")
            return redirect("case_detail", case_id=case.pk)
    return render(request, "cases/open.html", {"form": form, "patient": patient})


@actor_required
def case_detail_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id)
    owned = case.organization_id == actor.organization_id
    allowed = allowed_moves(case.status_enum, CaseStatus(case.held_from) if case.held_from else None)
    moves = [s for s in MOVE_ORDER if s in allowed]
    status_index = PROCESS.index(case.status_enum) if case.status_enum in PROCESS else -1
    return render(
        request,
        "cases/detail.html",
        {
            "case": case,
            "patient": case.patient,
            "owned": owned,
            "process": [(s, STATUS_LABELS[s], i < status_index, i == status_index) for i, s in enumerate(PROCESS)],
            "transition_form": TransitionForm(moves=moves, initial={"version": case.version}) if moves else None,
            "care_team": care_team_of(case),
            "careteam_form": CareTeamForm(organizations=organization_list(actor=actor)),
            "assign_form": AssignForm(
                staff=staff_with_role(actor=actor, roles=(CASE_MANAGER, SUPERVISOR)),
                initial={"user_id": case.assigned_to_id},
            ),
            "timeline": case_timeline(case),
            "can_change": owned and can(actor, "case.change"),
            "can_team": owned and can(actor, "careteam.change"),
            "can_assign": owned and can(actor, "case.assign"),
            "can_plan": owned and can(actor, "careplan.change"),
            "coverages": case.patient.coverages.filter(active=True),
        },
    )


@actor_required
def case_transition_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = TransitionForm(request.POST, moves=list(CaseStatus))
        if form.is_valid():
            try:
                services.case_transition(
                    actor=actor,
                    case_id=case_id,
                    to_status=form.cleaned_data["status"],
                    reason=form.cleaned_data["reason"],
                    version=form.cleaned_data["version"],
                )
                messages.success(request, f"Case moved to {STATUS_LABELS[CaseStatus(form.cleaned_data['status'])]}.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, "Choose a status to move to.")
    return redirect("case_detail", case_id=case_id)


@actor_required
def careteam_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = CareTeamForm(request.POST, organizations=organization_list(actor=actor))
        if form.is_valid():
            try:
                services.careteam_add(actor=actor, case_id=case_id, **form.cleaned_data)
                messages.success(request, "Care-team member added.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, "; ".join(f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items()))
    return redirect("case_detail", case_id=case_id)


@actor_required
def case_assign_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = AssignForm(request.POST, staff=staff_with_role(actor=actor, roles=(CASE_MANAGER, SUPERVISOR)))
        if form.is_valid():
            try:
                services.case_assign(actor=actor, case_id=case_id, user_id=form.cleaned_data["user_id"])
                messages.success(request, "Case reassigned.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, "Choose a case manager.")
    return redirect("case_detail", case_id=case_id)
