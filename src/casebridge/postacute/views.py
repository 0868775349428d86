"""Directory, choice list and referral pages. Thin: parse the form, call one service or selector, render."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from casebridge.accounts.permissions import can
from casebridge.accounts.selectors import insurers_on_platform
from casebridge.cases.selectors import case_get
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError, NotFound
from casebridge.kernel.numbers import whole_number
from casebridge.postacute import selectors, services
from casebridge.postacute.choice import NETWORK_LABELS
from casebridge.postacute.forms import (
    AcceptForm,
    AgreementForm,
    ChoiceListForm,
    DeclineForm,
    DirectoryFilterForm,
    InterestForm,
    NetworkForm,
    PresentForm,
    ProviderForm,
    ReferralForm,
    ResponseForm,
    StatusForm,
    WithdrawForm,
    zip_list,
)
from casebridge.postacute.lifecycle import ReferralStatus
from casebridge.postacute.models import Provider, Referral
from casebridge.postacute.vocabulary import (
    MANAGED_CARE_NOTE,
    PRIORITIES,
    PROVIDER_TYPE_LABELS,
    SECTION_LABELS,
    PacketSection,
)
from casebridge.web.errors import actor_required, apply_errors


def _form_errors(form: Any) -> str:
    return "; ".join(f"{f}: {' '.join(str(m) for m in e)}" for f, e in form.errors.items())


def _case_url(case_id: int) -> str:
    return reverse("case_detail", kwargs={"case_id": case_id}) + "#post-acute"


# --- directory -------------------------------------------------------------------------------------------


@actor_required
def directory_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    filters = DirectoryFilterForm(request.GET or None)
    criteria = filters.cleaned_data if filters.is_bound and filters.is_valid() else {}
    providers = selectors.provider_list(
        actor=actor,
        provider_type=criteria.get("provider_type", ""),
        service=criteria.get("service", ""),
        zip_code=criteria.get("zip_code", ""),
    )
    return render(
        request,
        "postacute/directory.html",
        {
            "filters": filters,
            "providers": providers,
            "interests": selectors.financial_interests_of(actor=actor),
            "can_manage": can(actor, "directory.manage"),
            "own_entry": selectors.provider_of_organization(actor=actor),
        },
    )


@actor_required
def provider_create_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = ProviderForm(request.POST or None, organizations=selectors.provider_organizations_unlisted())
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        org_id = data.pop("organization_id")
        if org_id is None and not data["name"]:
            form.add_error("name", "Name the provider, or choose its organization on CaseBridge.")
        else:
            try:
                provider = services.provider_create(actor=actor, organization_id=org_id, **data)
            except DomainError as exc:
                apply_errors(form, exc)
            else:
                messages.success(request, f"{provider.name} added to the directory.")
                return redirect("provider_detail", provider_id=provider.pk)
    return render(request, "postacute/provider_form.html", {"form": form, "title": "Add a provider"})


def _maintains(actor: Any, provider: Provider) -> bool:
    return can(actor, "directory.manage") and actor.organization_id in (
        provider.maintained_by_id,
        provider.organization_id,
    )


@actor_required
def provider_detail_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    provider = selectors.provider_get(actor=actor, provider_id=provider_id)
    maintains = _maintains(actor, provider)
    own = provider.organization_id == actor.organization_id and can(actor, "provider.status")
    interest = selectors.financial_interests_of(actor=actor).get(provider.pk)
    initial = {f: getattr(provider, f) for f in ProviderForm.base_fields if hasattr(provider, f)}
    initial["zip_codes_served"] = " ".join(provider.zip_codes_served)
    return render(
        request,
        "postacute/provider_detail.html",
        {
            "provider": provider,
            "networks": provider.networks.all(),
            "interest": interest,
            "maintains": maintains,
            "edit_form": ProviderForm(initial=initial, editing=True) if maintains else None,
            "status_form": StatusForm(
                initial={"accepting": provider.accepting, "capacity": provider.capacity, "version": provider.version}
            )
            if own
            else None,
            "network_form": NetworkForm(insurers=insurers_on_platform()) if maintains else None,
            "interest_form": InterestForm(initial={"description": interest.description if interest else ""})
            if can(actor, "directory.manage") and actor.organization.org_type == "hospital"
            else None,
        },
    )


@actor_required
def provider_edit_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    provider = selectors.provider_get(actor=actor, provider_id=provider_id)
    form = ProviderForm(request.POST or None, editing=True)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        if not data["name"]:
            data.pop("name")
        try:
            services.provider_update(actor=actor, provider_id=provider.pk, **data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Directory entry saved.")
            return redirect("provider_detail", provider_id=provider.pk)
    return render(request, "postacute/provider_form.html", {"form": form, "title": f"Edit {provider.name}"})


@actor_required
def provider_status_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = StatusForm(request.POST)
        if form.is_valid():
            try:
                services.provider_status_update(actor=actor, provider_id=provider_id, **form.cleaned_data)
                messages.success(request, "Accepting status saved.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, _form_errors(form))
    return redirect("provider_detail", provider_id=provider_id)


@actor_required
def network_add_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = NetworkForm(request.POST, insurers=insurers_on_platform())
        if form.is_valid():
            try:
                services.network_add(actor=actor, provider_id=provider_id, **form.cleaned_data)
                messages.success(request, "Network added.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, _form_errors(form))
    return redirect("provider_detail", provider_id=provider_id)


@actor_required
def interest_view(request: HttpRequest, provider_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = InterestForm(request.POST)
        if form.is_valid():
            try:
                if form.cleaned_data["description"].strip():
                    services.financial_interest_set(
                        actor=actor, provider_id=provider_id, description=form.cleaned_data["description"]
                    )
                    messages.success(request, "Financial interest recorded; it is disclosed on choice lists.")
                else:
                    services.financial_interest_clear(actor=actor, provider_id=provider_id)
                    messages.success(request, "Financial interest removed.")
            except DomainError as exc:
                messages.error(request, exc.detail)
    return redirect("provider_detail", provider_id=provider_id)


# --- choice lists ----------------------------------------------------------------------------------------


@actor_required
def choice_list_new_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    if case.organization_id != actor.organization_id:
        raise NotFound(f"No case {case_id}.")
    form = ChoiceListForm(request.POST or None, initial={"area_zips": case.patient.postal_code[:5]})
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        managed = {"yes": True, "no": False}.get(data["managed_care"])
        eligibility = {
            "inpatient_admitted_on": data["inpatient_admitted_on"],
            "discharge_on": data["discharge_on"],
            "therapy_minutes_by_day": data["therapy_minutes"],
            "therapy_disciplines": data["therapy_disciplines"],
        }
        try:
            cl = services.choice_list_build(
                actor=actor,
                case_id=case.pk,
                provider_type=data["provider_type"],
                service=data["service"],
                area_zips=zip_list(data["area_zips"]),
                priorities=form.priorities(),
                managed_care=managed,
                eligibility_inputs=eligibility,
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            return redirect("choice_list_detail", choice_list_id=cl.pk)
    return render(request, "postacute/choice_list_new.html", {"form": form, "case": case})


@actor_required
def choice_list_detail_view(request: HttpRequest, choice_list_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    cl = selectors.choice_list_get(actor=actor, choice_list_id=choice_list_id)
    entries = list(cl.entries.all())
    can_change = can(actor, "choicelist.change")
    return render(
        request,
        "postacute/choice_list.html",
        {
            "cl": cl,
            "case": cl.case,
            "patient": cl.patient,
            "entries": entries,
            "network_labels": NETWORK_LABELS,
            "priorities": [PRIORITIES[p] for p in cl.priorities],
            "managed_care_note": MANAGED_CARE_NOTE,
            "present_form": PresentForm(entries=entries) if can_change and cl.presented_at is None else None,
            "can_refer": can(actor, "referral.send"),
        },
    )


@actor_required
def choice_list_present_view(request: HttpRequest, choice_list_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    cl = selectors.choice_list_get(actor=actor, choice_list_id=choice_list_id, audit=False)
    if request.method == "POST":
        form = PresentForm(request.POST, entries=cl.entries.all())
        if form.is_valid():
            try:
                services.choice_list_present(
                    actor=actor,
                    choice_list_id=cl.pk,
                    presented_to=form.cleaned_data["presented_to"],
                    representative_name=form.cleaned_data["representative_name"],
                    ranked_provider_ids=form.ranked_provider_ids(),
                    note=form.cleaned_data["note"],
                )
                messages.success(request, "Recorded that the list was presented, with the patient's choices.")
            except DomainError as exc:
                messages.error(request, exc.detail)
        else:
            messages.error(request, _form_errors(form))
    return redirect("choice_list_detail", choice_list_id=cl.pk)


# --- referrals -------------------------------------------------------------------------------------------


def _referral_targets(actor: Any, cl: Any, provider_type: str) -> list[tuple[Provider, str]]:
    """Providers to offer: the choice list's, in the patient's ranked order first; else the directory's."""
    if cl is not None:
        entries = sorted(
            cl.entries.select_related("provider"),
            key=lambda e: (e.patient_rank is None, e.patient_rank or 0, e.position),
        )
        return [
            (
                e.provider,
                f"{e.name}"
                + (f" · patient's choice #{e.patient_rank}" if e.patient_rank else "")
                + ("" if e.provider.on_platform else " · external (print/fax)"),
            )
            for e in entries
        ]
    return [
        (p, p.name + ("" if p.on_platform else " · external (print/fax)"))
        for p in selectors.provider_list(actor=actor, provider_type=provider_type)
    ]


@actor_required
def referral_new_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    if case.organization_id != actor.organization_id:
        raise NotFound(f"No case {case_id}.")
    raw_cl = request.POST.get("choice_list_id") or request.GET.get("choice_list", "")
    choice_list_id = whole_number(raw_cl)
    cl = selectors.choice_list_get(actor=actor, choice_list_id=choice_list_id, audit=False) if choice_list_id else None
    if cl is not None and cl.case_id != case.pk:
        raise NotFound(f"No choice list {raw_cl} for this case.")
    provider_type = cl.provider_type if cl else (request.POST.get("provider_type") or request.GET.get("type", ""))
    if provider_type not in PROVIDER_TYPE_LABELS:
        messages.error(request, "Build and present a choice list first, then send referrals from it.")
        return redirect(_case_url(case.pk))
    initial = {
        "provider_type": provider_type,
        "service": cl.service if cl else "",
        "choice_list_id": cl.pk if cl else None,
        "sections": [PacketSection.DEMOGRAPHICS, PacketSection.COVERAGE, PacketSection.DIAGNOSES],
        "response_hours": services.response_hours_default(),
        "provider_ids": [e.provider_id for e in cl.entries.filter(patient_rank__isnull=False)] if cl else [],
    }
    form = ReferralForm(request.POST or None, providers=_referral_targets(actor, cl, provider_type), initial=initial)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            sent = services.referral_send(
                actor=actor,
                case_id=case.pk,
                provider_ids=data["provider_ids"],
                provider_type=provider_type,
                service=data["service"],
                sections=data["sections"],
                note=data["note"],
                choice_list_id=data["choice_list_id"],
                response_hours=data["response_hours"],
                requested_start_on=data["requested_start_on"],
            )
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"Referral sent to {', '.join(r.provider.name for r in sent)}.")
            return redirect(_case_url(case.pk))
    return render(
        request,
        "postacute/referral_new.html",
        {"form": form, "case": case, "cl": cl, "type_label": PROVIDER_TYPE_LABELS[provider_type]},
    )


@actor_required
def referral_queue_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    direction = request.GET.get("direction", "")
    if direction not in ("incoming", "outgoing"):
        direction = "outgoing" if actor.organization.org_type == "hospital" else "incoming"
    status = request.GET.get("status", "")
    if status not in {s.value for s in ReferralStatus}:
        status = ""
    referrals = selectors.referral_queue(actor=actor, direction=direction, status=status)
    return render(
        request,
        "postacute/queue.html",
        {"referrals": referrals, "direction": direction, "status": status, "now": clock.now()},
    )


def _detail_context(actor: Any, referral: Referral) -> dict[str, Any]:
    sender = referral.organization_id == actor.organization_id
    receiver = referral.receiving_organization_id == actor.organization_id
    is_open = referral.status == ReferralStatus.REQUESTED
    return {
        "referral": referral,
        "packet": referral.packet,
        "sender": sender,
        "receiver": receiver,
        "now": clock.now(),
        "section_labels": SECTION_LABELS,
        "accept_form": AcceptForm() if receiver and is_open and can(actor, "referral.respond") else None,
        "decline_form": DeclineForm() if receiver and is_open and can(actor, "referral.respond") else None,
        "response_form": ResponseForm()
        if sender and is_open and referral.receiving_organization_id is None and can(actor, "referral.send")
        else None,
        "agreement_form": AgreementForm()
        if sender and referral.status == ReferralStatus.ACCEPTED and can(actor, "referral.send")
        else None,
        "withdraw_form": WithdrawForm() if sender and referral.is_open and can(actor, "referral.send") else None,
    }


@actor_required
def referral_detail_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    referral = selectors.referral_get(actor=actor, referral_id=referral_id)
    return render(request, "postacute/referral_detail.html", _detail_context(actor, referral))


@actor_required
def referral_packet_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    """The print- and fax-ready packet: what the provider receives, on paper."""
    actor = request.actor  # type: ignore[attr-defined]
    referral = selectors.referral_get(actor=actor, referral_id=referral_id)
    return render(request, "postacute/packet_print.html", _detail_context(actor, referral))


def _act(
    request: HttpRequest, referral_id: int, form_class: Any, action: Any, done: str, then: str = ""
) -> HttpResponse:
    """Run one referral action from a posted form; ``then`` is where to go after it succeeded."""
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        form = form_class(request.POST)
        if form.is_valid():
            try:
                result = action(actor, form.cleaned_data)
            except DomainError as exc:
                if exc.status == 404:
                    raise
                messages.error(request, exc.detail)
            else:
                messages.success(request, done)
                if then == "queue":
                    return redirect("referral_queue")
                if then == "case" and result is not None:
                    return redirect(_case_url(result.case_id))
        else:
            messages.error(request, _form_errors(form))
    return redirect("referral_detail", referral_id=referral_id)


@actor_required
def referral_accept_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _act(
        request,
        referral_id,
        AcceptForm,
        lambda a, d: services.referral_accept(actor=a, referral_id=referral_id, **d),
        "Referral accepted. The hospital will confirm once the patient agrees.",
    )


@actor_required
def referral_decline_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _act(
        request,
        referral_id,
        DeclineForm,
        lambda a, d: services.referral_decline(actor=a, referral_id=referral_id, **d),
        "Referral declined.",
        then="queue",
    )


@actor_required
def referral_response_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    def record(actor: Any, d: dict[str, Any]) -> Referral:
        return services.referral_response_record(
            actor=actor,
            referral_id=referral_id,
            accepted=d["decision"] == "accept",
            contact_name=d["contact_name"],
            reason_code=d["reason_code"],
            note=d["note"],
            proposed_start_on=d["proposed_start_on"],
        )

    return _act(request, referral_id, ResponseForm, record, "The provider's answer is recorded.")


@actor_required
def referral_agreement_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _act(
        request,
        referral_id,
        AgreementForm,
        lambda a, d: services.referral_agreement_record(actor=a, referral_id=referral_id, **d),
        "The patient's agreement is recorded, the start of service scheduled, and the case moved to transition.",
        then="case",
    )


@actor_required
def referral_withdraw_view(request: HttpRequest, referral_id: int) -> HttpResponse:
    return _act(
        request,
        referral_id,
        WithdrawForm,
        lambda a, d: services.referral_withdraw(actor=a, referral_id=referral_id, **d),
        "Referral withdrawn.",
    )
