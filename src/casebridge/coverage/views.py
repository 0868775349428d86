"""Coverage pages: thin views over the coverage services and selectors."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from casebridge.accounts.models import OrganizationType
from casebridge.accounts.permissions import can, require
from casebridge.accounts.selectors import insurers_on_platform, organizations_except_insurers
from casebridge.coverage import selectors as sel
from casebridge.coverage import services as cov
from casebridge.coverage.forms import (
    BenefitImportForm,
    BenefitTermsForm,
    CostForm,
    FlagsForm,
    NeedForm,
    NegotiationOpenForm,
    OptionForm,
    PlanForm,
    ProposalForm,
    RateForm,
    ReasonForm,
    RespondForm,
    WalkawayForm,
    WorkspaceForm,
    cents,
)
from casebridge.coverage.models import (
    CATEGORY_CHOICES,
    BenefitPlan,
    BenefitTerm,
    NegotiationStatus,
    ProposalStatus,
    Response,
)
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError
from casebridge.web.errors import actor_required, apply_errors


def _actor(request: HttpRequest) -> Actor:
    actor = request.actor  # type: ignore[attr-defined]
    assert isinstance(actor, Actor)
    return actor


def _form_problems(form: Any) -> str:
    return "; ".join(f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items())


# --- hub -------------------------------------------------------------------------------------------


@actor_required
def coverage_home_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    negotiations = list(sel.negotiation_list(actor=actor)[:100]) if can(actor, "negotiation.respond") else []
    return render(
        request,
        "coverage/home.html",
        {
            "running": [n for n in negotiations if n.case.organization_id == actor.organization_id],
            "party_to": [n for n in negotiations if n.case.organization_id != actor.organization_id],
            "commitments": sel.commitments_of(actor=actor) if can(actor, "negotiation.respond") else None,
            "is_insurer": actor.organization.org_type == OrganizationType.INSURER,
            "can_benefits": can(actor, "benefit.manage"),
            "can_prices": can(actor, "price.manage"),
            "can_report": can(actor, "coverage.report"),
        },
    )


# --- benefits --------------------------------------------------------------------------------------


@actor_required
def benefit_plans_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require(actor, "benefit.manage")
    form = BenefitImportForm(request.POST or None, request.FILES or None)
    errors: list[str] = []
    if request.method == "POST" and form.is_valid():
        try:
            document = cov.parse_benefits_text(form.cleaned_data["document_text"])
            plans = cov.benefit_plans_import(actor=actor, document=document)
        except DomainError as exc:
            errors = [f"{field}: {m}" for field, msgs in exc.field_errors.items() for m in msgs] or [exc.detail]
        else:
            messages.success(request, f"Imported {len(plans)} plan(s): {', '.join(p.name for p in plans)}.")
            return redirect("coverage_benefits")
    return render(
        request,
        "coverage/benefits.html",
        {"plans": sel.plans_owned(actor).prefetch_related("terms"), "form": form, "import_errors": errors},
    )


def _terms_initial(plan: BenefitPlan, category: str) -> dict[str, Any]:
    initial: dict[str, Any] = {"version": plan.version}
    for prefix, network in (("in", "in_network"), ("out", "out_of_network")):
        term = plan.terms.filter(category=category, network=network).first() or BenefitTerm(covered=False)
        initial |= {
            f"{prefix}_covered": term.covered,
            f"{prefix}_deductible_applies": term.deductible_applies,
            f"{prefix}_coinsurance": term.coinsurance,
            f"{prefix}_copay": term.copay_cents / 100,
            f"{prefix}_unit_limit": term.unit_limit,
            f"{prefix}_prior_auth_required": term.prior_auth_required,
        }
    return initial


@actor_required
def benefit_plan_view(request: HttpRequest, plan_id: int) -> HttpResponse:
    actor = _actor(request)
    require(actor, "benefit.manage")
    plan = sel.plan_owned_get(actor=actor, plan_id=plan_id)
    categories = dict(CATEGORY_CHOICES)
    category = request.GET.get("category") or request.POST.get("category") or ""
    terms_form = None
    plan_form = PlanForm(
        request.POST if request.POST.get("form") == "plan" else None,
        initial={
            "version": plan.version,
            "name": plan.name,
            "deductible": plan.deductible_cents / 100,
            "oop_max": plan.oop_max_cents / 100,
        },
    )
    if category in categories:
        terms_form = BenefitTermsForm(
            request.POST if request.POST.get("form") == "terms" else None, initial=_terms_initial(plan, category)
        )
    if request.method == "POST":
        try:
            if request.POST.get("form") == "plan" and plan_form.is_valid():
                d = plan_form.cleaned_data
                cov.benefit_plan_update(
                    actor=actor,
                    plan_id=plan.pk,
                    version=d["version"],
                    name=d["name"],
                    deductible_cents=cents(d["deductible"]) or 0,
                    oop_max_cents=cents(d["oop_max"]) or 0,
                )
                messages.success(request, "Plan saved.")
                return redirect("coverage_benefit_plan", plan_id=plan.pk)
            if terms_form is not None and request.POST.get("form") == "terms" and terms_form.is_valid():
                d = terms_form.cleaned_data
                networks = {
                    prefix: cov.TermsInput(
                        covered=d[f"{prefix}_covered"],
                        deductible_applies=d[f"{prefix}_deductible_applies"],
                        coinsurance=d[f"{prefix}_coinsurance"],
                        copay_cents=cents(d[f"{prefix}_copay"]) or 0,
                        unit_limit=d[f"{prefix}_unit_limit"],
                        prior_auth_required=d[f"{prefix}_prior_auth_required"],
                    )
                    for prefix in ("in", "out")
                }
                cov.benefit_terms_set(
                    actor=actor,
                    plan_id=plan.pk,
                    category=category,
                    in_network=networks["in"],
                    out_of_network=networks["out"],
                    version=d["version"],
                )
                messages.success(request, f"{categories[category]} saved.")
                return redirect("coverage_benefit_plan", plan_id=plan.pk)
        except DomainError as exc:
            target = terms_form if request.POST.get("form") == "terms" and terms_form is not None else plan_form
            apply_errors(target, exc)
    rows = []
    terms = {(t.category, t.network): t for t in plan.terms.all()}
    for key, name in CATEGORY_CHOICES:
        rows.append((key, name, terms.get((key, "in_network")), terms.get((key, "out_of_network"))))
    return render(
        request,
        "coverage/plan.html",
        {
            "plan": plan,
            "rows": rows,
            "category": category,
            "category_label": categories.get(category, ""),
            "terms_form": terms_form,
            "plan_form": plan_form,
            "members": plan.members.order_by("member_id")[:200],
        },
    )


# --- prices ----------------------------------------------------------------------------------------


@actor_required
def prices_view(request: HttpRequest) -> HttpResponse:
    actor = _actor(request)
    require(actor, "price.manage")
    payers = insurers_on_platform()
    rate_form = RateForm(request.POST if request.POST.get("form") == "rate" else None, payers=payers)
    cost_form = CostForm(request.POST if request.POST.get("form") == "cost" else None)
    if request.method == "POST":
        try:
            if request.POST.get("form") == "rate" and rate_form.is_valid():
                d = rate_form.cleaned_data
                cov.rate_add(
                    actor=actor,
                    category=d["category"],
                    basis=d["basis"],
                    amount_cents=cents(d["amount"]) or 0,
                    percent=d["percent"],
                    payer_id=d["payer_id"],
                    code=d["code"],
                )
                messages.success(request, "Rate added.")
                return redirect("coverage_prices")
            if request.POST.get("form") == "cost" and cost_form.is_valid():
                d = cost_form.cleaned_data
                cov.delivery_cost_set(
                    actor=actor, category=d["category"], unit_cost_cents=cents(d["unit_cost"]) or 0, note=d["note"]
                )
                messages.success(request, "Cost saved.")
                return redirect("coverage_prices")
        except DomainError as exc:
            apply_errors(rate_form if request.POST.get("form") == "rate" else cost_form, exc)
    return render(
        request,
        "coverage/prices.html",
        {
            "rates": sel.rates_owned(actor),
            "costs": sel.delivery_costs_owned(actor),
            "rate_form": rate_form,
            "cost_form": cost_form,
        },
    )


# --- case workspace --------------------------------------------------------------------------------


def _providers() -> Any:
    return organizations_except_insurers()


@actor_required
def workspace_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    case = sel.case_for_planning(actor=actor, case_id=case_id)
    workspace = sel.workspace_of(case)
    evaluation = sel.options_evaluate(case, workspace)
    chosen = evaluation.chosen_row
    open_negotiation = case.negotiations.filter(status=NegotiationStatus.OPEN).first()
    return render(
        request,
        "coverage/workspace.html",
        {
            "case": case,
            "patient": case.patient,
            "workspace": workspace,
            "evaluation": evaluation,
            "chosen": chosen,
            "needs": sel.needs_of(case),
            "negotiations": case.negotiations.all(),
            "open_negotiation": open_negotiation,
            "workspace_form": WorkspaceForm(
                initial={
                    "version": workspace.version if workspace.pk else None,
                    "plan_id": workspace.plan_id,
                    "member_id": workspace.member_id,
                    "patient_oop_limit": cents_to_dollars(workspace.patient_oop_limit_cents),
                    "caregiver_available": workspace.caregiver_available,
                    "hospital_paid_per_case": workspace.hospital_paid_per_case,
                    "hospital_daily_cost": cents_to_dollars(workspace.hospital_daily_cost_cents),
                },
                plans=sel.benefit_plans_on_platform(),
            ),
            "need_form": NeedForm(),
            "open_form": NegotiationOpenForm(),
        },
    )


def cents_to_dollars(value: int | None) -> float | None:
    return None if value is None else value / 100


@require_POST
@actor_required
def workspace_settings_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    form = WorkspaceForm(request.POST, plans=sel.benefit_plans_on_platform())
    if form.is_valid():
        d = form.cleaned_data
        try:
            cov.workspace_update(
                actor=actor,
                case_id=case_id,
                version=d["version"],
                plan_id=d["plan_id"],
                member_id=d["member_id"],
                patient_oop_limit_cents=cents(d["patient_oop_limit"]),
                caregiver_available=d["caregiver_available"],
                hospital_paid_per_case=d["hospital_paid_per_case"],
                hospital_daily_cost_cents=cents(d["hospital_daily_cost"]) or 0,
            )
            messages.success(request, "Coverage settings saved.")
        except DomainError as exc:
            messages.error(request, exc.detail)
    else:
        messages.error(request, _form_problems(form))
    return redirect("coverage_workspace", case_id=case_id)


@require_POST
@actor_required
def need_add_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    form = NeedForm(request.POST)
    if form.is_valid():
        try:
            cov.need_add(actor=actor, case_id=case_id, **form.cleaned_data)
            messages.success(request, "Need added.")
        except DomainError as exc:
            messages.error(request, exc.detail)
    else:
        messages.error(request, _form_problems(form))
    return redirect("coverage_workspace", case_id=case_id)


@require_POST
@actor_required
def needs_import_view(request: HttpRequest, case_id: int) -> HttpResponse:
    imported = cov.needs_import_from_care_plan(actor=_actor(request), case_id=case_id)
    if imported:
        messages.success(request, f"Imported {len(imported)} need(s) from the care plan.")
    else:
        messages.warning(request, "No new care-plan need that a covered service meets: nothing imported.")
    return redirect("coverage_workspace", case_id=case_id)


@require_POST
@actor_required
def options_propose_view(request: HttpRequest, case_id: int) -> HttpResponse:
    created = cov.options_propose_standard(actor=_actor(request), case_id=case_id)
    messages.success(request, f"Proposed {len(created)} standard option(s)." if created else "No new options.")
    return redirect("coverage_workspace", case_id=case_id)


@actor_required
def option_create_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = _actor(request)
    case = sel.case_for_planning(actor=actor, case_id=case_id)
    form = OptionForm(request.POST or None, providers=_providers())
    if request.method == "POST" and form.is_valid():
        d = form.cleaned_data
        try:
            cov.option_create(
                actor=actor,
                case_id=case_id,
                name=d["name"],
                description=d["description"],
                requires_caregiver=d["requires_caregiver"],
                lines=[cov.LineInput(**line) for line in form.lines()],
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Option added.")
            return redirect("coverage_workspace", case_id=case_id)
    return render(request, "coverage/option_form.html", {"case": case, "form": form})


@require_POST
@actor_required
def option_flags_view(request: HttpRequest, case_id: int, option_id: int) -> HttpResponse:
    form = FlagsForm(request.POST, prefix=f"o{option_id}")
    if not form.is_valid():
        for field_name, errors in form.errors.items():
            reasons = " ".join(str(e) for e in errors)
            messages.error(request, f"{form.fields[field_name].label or field_name}: {reasons}")
        return redirect("coverage_workspace", case_id=case_id)
    try:
        cov.option_set_flags(actor=_actor(request), case_id=case_id, option_id=option_id, **form.cleaned_data)
        messages.success(request, "Feasibility updated.")
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("coverage_workspace", case_id=case_id)


@require_POST
@actor_required
def option_choose_view(request: HttpRequest, case_id: int, option_id: int) -> HttpResponse:
    try:
        workspace = cov.option_choose(actor=_actor(request), case_id=case_id, option_id=option_id)
        messages.success(request, f"Chosen: {workspace.chosen_option}.")
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("coverage_workspace", case_id=case_id)


@require_POST
@actor_required
def negotiation_open_view(request: HttpRequest, case_id: int) -> HttpResponse:
    form = NegotiationOpenForm(request.POST)
    if not form.is_valid():
        messages.error(request, _form_problems(form))
        return redirect("coverage_workspace", case_id=case_id)
    d = form.cleaned_data
    try:
        negotiation = cov.negotiation_open(
            actor=_actor(request),
            case_id=case_id,
            ability_to_pay_cents=cents(d["ability_to_pay"]) or 0,
            hardship=d["hardship"],
            item=d["item"],
            avoided_days=d["avoided_days"],
            inpatient_per_diem_cents=cents(d["inpatient_per_diem"]),
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("coverage_workspace", case_id=case_id)
    messages.success(request, "Negotiation opened.")
    return redirect("coverage_negotiation", negotiation_id=negotiation.pk)


# --- negotiation -----------------------------------------------------------------------------------


@actor_required
def negotiation_view(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    actor = _actor(request)
    view = sel.negotiation_get(actor=actor, negotiation_id=negotiation_id)
    negotiation = view.negotiation
    context: dict[str, Any] = {"view": view, "negotiation": negotiation, "patient": negotiation.case.patient}
    is_open = negotiation.status == NegotiationStatus.OPEN
    awaiting = view.proposal is not None and view.proposal.status == ProposalStatus.SENT
    if view.runs:
        context["proposal_form"] = ProposalForm(parties=view.parties) if is_open else None
        patient_line = next((ln for ln in view.lines if ln.party.key == "patient"), None)
        if is_open and awaiting and patient_line is not None and patient_line.response == Response.PENDING:
            context["patient_form"] = RespondForm(initial={"version": patient_line.version, "party_key": "patient"})
        context["reason_form"] = ReasonForm()
    else:
        own = view.own_line
        if is_open and awaiting and own is not None and own.response == Response.PENDING:
            context["respond_form"] = RespondForm(initial={"version": own.version})
        context["walkaway_form"] = WalkawayForm() if is_open else None
    return render(request, "coverage/negotiation.html", context)


@require_POST
@actor_required
def proposal_send_view(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    actor = _actor(request)
    view = sel.negotiation_get(actor=actor, negotiation_id=negotiation_id, audit=False)
    form = ProposalForm(request.POST, parties=view.parties)
    if form.is_valid():
        d = form.cleaned_data
        try:
            proposal = cov.proposal_send(
                actor=actor,
                negotiation_id=negotiation_id,
                rule=d["rule"],
                locks=form.locks(),
                complete_with=d["complete_with"],
                disclosed=form.disclosed(),
                patient_agrees=d["patient_agrees"],
                note=d["note"],
            )
            messages.success(request, f"Proposal {proposal.number} sent to the parties.")
        except DomainError as exc:
            messages.error(request, exc.detail)
    else:
        messages.error(request, _form_problems(form))
    return redirect("coverage_negotiation", negotiation_id=negotiation_id)


@require_POST
@actor_required
def proposal_respond_view(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    form = RespondForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            line = cov.proposal_respond(
                actor=_actor(request),
                negotiation_id=negotiation_id,
                action=d["action"],
                version=d["version"],
                amount_cents=cents(d["amount"]),
                reason=d["reason"],
                party_key=d["party_key"] or None,
            )
            messages.success(request, f"Your answer is recorded: {line.get_response_display().lower()}.")
        except DomainError as exc:
            messages.error(request, exc.detail)
    else:
        messages.error(request, _form_problems(form))
    return redirect("coverage_negotiation", negotiation_id=negotiation_id)


@require_POST
@actor_required
def walkaway_view(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    form = WalkawayForm(request.POST)
    if form.is_valid():
        d = form.cleaned_data
        try:
            cov.walkaway_correct(
                actor=_actor(request),
                negotiation_id=negotiation_id,
                amount_cents=cents(d["amount"]) or 0,
                reason=d["reason"],
                party_key=d["party_key"] or None,
            )
            messages.success(request, "Your walk-away is recorded.")
        except DomainError as exc:
            messages.error(request, exc.detail)
    else:
        messages.error(request, _form_problems(form))
    return redirect("coverage_negotiation", negotiation_id=negotiation_id)


@require_POST
@actor_required
def negotiation_cancel_view(request: HttpRequest, negotiation_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        cov.negotiation_cancel(
            actor=_actor(request),
            negotiation_id=negotiation_id,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
        messages.success(request, "Negotiation cancelled.")
    except DomainError as exc:
        messages.error(request, exc.detail)
    return redirect("coverage_negotiation", negotiation_id=negotiation_id)


# --- agreements, commitments, savings --------------------------------------------------------------


@actor_required
def agreement_view(request: HttpRequest, agreement_id: int) -> HttpResponse:
    actor = _actor(request)
    agreement = sel.agreement_get(actor=actor, agreement_id=agreement_id)
    return render(
        request,
        "coverage/agreement.html",
        {
            "agreement": agreement,
            "terms": sel.agreement_terms_for(agreement, actor),
            "runs": agreement.case.organization_id == actor.organization_id,
            "reason_form": ReasonForm(),
        },
    )


@require_POST
@actor_required
def agreement_supersede_view(request: HttpRequest, agreement_id: int) -> HttpResponse:
    form = ReasonForm(request.POST)
    try:
        new = cov.agreement_supersede(
            actor=_actor(request),
            agreement_id=agreement_id,
            reason=form.cleaned_data["reason"] if form.is_valid() else "",
        )
    except DomainError as exc:
        messages.error(request, exc.detail)
        return redirect("coverage_agreement", agreement_id=agreement_id)
    messages.success(request, "Agreement superseded; a new negotiation is open with the same parties.")
    return redirect("coverage_negotiation", negotiation_id=new.pk)


@actor_required
def savings_view(request: HttpRequest) -> HttpResponse:
    report = sel.savings_report(actor=_actor(request))
    return render(request, "coverage/savings.html", {"report": report})
