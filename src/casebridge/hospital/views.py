from __future__ import annotations

import copy
import datetime as dt
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.middleware.csrf import get_token
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from casebridge.accounts.permissions import can
from casebridge.accounts.roles import CASE_MANAGER, PHYSICIAN_ADVISOR, SUPERVISOR, UR_NURSE
from casebridge.accounts.selectors import staff_with_role
from casebridge.hospital import forms as f
from casebridge.hospital import selectors, services
from casebridge.hospital.census_html import census_rows_html
from casebridge.hospital.dashboard import CHART_WIDTH, LABEL_WIDTH, dashboard
from casebridge.hospital.models import ReviewPacket
from casebridge.kernel import clock
from casebridge.kernel.errors import DomainError, NotFound
from casebridge.web.errors import actor_required, apply_errors

BARRIER_OWNER_ROLES = (CASE_MANAGER, SUPERVISOR, UR_NURSE, PHYSICIAN_ADVISOR)


def _renamed(exc: DomainError) -> DomainError:
    """The service's field names as the form names them. A copy, not a new instance: some errors
    (StaleVersion) take other constructor arguments, and one without field errors is returned as is."""
    if not exc.field_errors:
        return exc
    renamed = copy.copy(exc)
    renamed.field_errors = {f.FIELD_FOR.get(k, k): v for k, v in exc.field_errors.items()}
    return renamed


@actor_required
def census_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        opened = services.stays_sync(actor=actor)
        messages.success(
            request, f"{opened} new admission(s) screened and scored." if opened else "Census is up to date."
        )
        return redirect("census")
    filters = f.CensusFilterForm(request.GET)
    if not filters.is_valid():
        ignored = "; ".join(
            f"{name.replace('_', ' ')}: {' '.join(map(str, errors))}" for name, errors in filters.errors.items()
        )
        messages.error(request, f"Filter ignored ({ignored})")
    chosen = filters.cleaned_data  # the valid filters only: a bad one is dropped, the others still apply
    result = selectors.census(
        actor=actor,
        unit=chosen.get("unit") or "",
        case_manager_id=chosen.get("case_manager"),
        payer=chosen.get("payer") or "",
    )
    return render(
        request,
        "hospital/census.html",
        {
            "census": result,
            "now": clock.now(),
            "today": timezone.localdate(clock.now()),
            "filters": request.GET,
            "can_sync": can(actor, "stay.change"),
            "rows_html": census_rows_html(
                result.rows, can_open=can(actor, "stay.change"), csrf_token=get_token(request)
            ),
        },
    )


def _stay_context(request: HttpRequest, stay_id: int, **forms: Any) -> dict[str, Any]:
    actor = request.actor  # type: ignore[attr-defined]
    stay = selectors.stay_get(actor=actor, stay_id=stay_id)
    plan = selectors.discharge_plan_of(actor=actor, stay=stay)
    staff = [(u.pk, u.get_full_name() or u.username) for u in staff_with_role(actor=actor, roles=BARRIER_OWNER_ROLES)]
    insurers = selectors.insurer_choices(actor=actor)
    drg = selectors.drg_of(actor=actor, code=stay.working_drg)
    auths = list(selectors.authorizations_of(stay))
    auth_forms = forms.pop("auth_update_forms", {})
    context = {
        "stay": stay,
        "encounter": stay.encounter,
        "patient": stay.patient,
        "unit": selectors.unit_of(stay.encounter),
        "drg": drg,
        "plan": plan,
        "risk": stay.risk_detail or {},
        "authorizations": auths,
        "authorization_rows": [
            (a, auth_forms.get(a.pk) or f.AuthorizationUpdateForm.for_authorization(a)) for a in auths
        ],
        "packets": list(stay.packets.order_by("-pk")[:10]),
        "denials": list(stay.denials.select_related("authorization").order_by("-received_at")),
        "barriers": list(stay.barriers.select_related("owner").order_by("resolved_at", "created_at")),
        "needs": list(stay.needs.order_by("pk")),
        "can_change": can(actor, "stay.change"),
        "can_auth": can(actor, "authorization.manage"),
        "can_send": can(actor, "packet.send"),
        "can_plan": can(actor, "discharge.plan"),
        "stay_form": f.StayForm(
            initial={
                "version": stay.version,
                "working_drg": stay.working_drg,
                "expected_discharge_on": stay.expected_discharge_on,
                "readiness": stay.readiness,
                "discharge_service": stay.discharge_service,
                "complex_factors": stay.complex_factors,
                "treatment_plan": stay.treatment_plan,
            }
        ),
        "auth_form": f.AuthorizationForm(),
        "contact_form": f.ContactForm(),
        "denial_form": f.DenialForm(initial={"authorization_id": auths[0].pk} if auths else None),
        "appeal_form": f.AppealForm(),
        "p2p_form": f.PeerToPeerForm(),
        "outcome_form": f.OutcomeForm(),
        "screen_form": f.ScreenForm(),
        "evaluation_form": f.EvaluationForm(
            initial={k: getattr(plan, k) for k in services.EVALUATION_FIELDS} | {"version": plan.version}
            if plan
            else None
        ),
        "barrier_form": f.BarrierForm(staff=staff),
        "need_form": f.NeedForm(),
        "send_insurers": insurers,
    }
    context.update(forms)
    return context


@actor_required
def stay_detail_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    return render(request, "hospital/stay.html", _stay_context(request, stay_id))


@actor_required
def stay_for_encounter_view(request: HttpRequest, encounter_id: int) -> HttpResponse:
    """Census rows without a stay record yet: open it (screen and score), then show it."""
    if request.method != "POST":
        raise NotFound("Open the stay from the census.")
    stay = services.stay_open(actor=request.actor, encounter_id=encounter_id)  # type: ignore[attr-defined]
    return redirect("hospital_stay", stay_id=stay.pk)


def _post_form(
    request: HttpRequest, stay_id: int, form: Any, name: str, call: Any, anchor: str, success: str
) -> HttpResponse:
    if form.is_valid():
        try:
            call(form.cleaned_data)
        except DomainError as exc:
            apply_errors(form, _renamed(exc))
        else:
            messages.success(request, success)
            return redirect(reverse("hospital_stay", args=[stay_id]) + anchor)
    return render(request, "hospital/stay.html", _stay_context(request, stay_id, **{name: form}), status=422)


@actor_required
@require_POST
def stay_update_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]

    def call(data: dict[str, Any]) -> None:
        version = data.pop("version", None)
        services.stay_update(actor=actor, stay_id=stay_id, version=version, **data)

    return _post_form(request, stay_id, f.StayForm(request.POST), "stay_form", call, "#stay", "Stay updated.")


@actor_required
@require_POST
def risk_refresh_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    services.stay_risk_refresh(actor=request.actor, stay_id=stay_id)  # type: ignore[attr-defined]
    messages.success(request, "Readmission risk recomputed from the record.")
    return redirect(reverse("hospital_stay", args=[stay_id]) + "#risk")


@actor_required
@require_POST
def authorization_add_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return _post_form(
        request,
        stay_id,
        f.AuthorizationForm(request.POST),
        "auth_form",
        lambda d: services.authorization_add(
            actor=actor, stay_id=stay_id, **{k: v for k, v in d.items() if v is not None}
        ),
        "#payer",
        "Authorization recorded.",
    )


@actor_required
@require_POST
def authorization_update_view(request: HttpRequest, authorization_id: int) -> HttpResponse:
    """The payer answered: record the authorization's new status, what was approved and the next review date."""
    actor = request.actor  # type: ignore[attr-defined]
    auth = selectors.authorization_get(actor=actor, authorization_id=authorization_id)
    form = f.AuthorizationUpdateForm(request.POST, prefix=f"auth{auth.pk}")
    if form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.authorization_update(actor=actor, authorization_id=auth.pk, version=version, **data)
        except DomainError as exc:
            apply_errors(form, _renamed(exc))
        else:
            messages.success(request, "Authorization updated.")
            return redirect(reverse("hospital_stay", args=[auth.stay_id]) + "#payer")
    context = _stay_context(request, auth.stay_id, auth_update_forms={auth.pk: form})
    return render(request, "hospital/stay.html", context, status=422)


@actor_required
@require_POST
def payer_contact_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return _post_form(
        request,
        stay_id,
        f.ContactForm(request.POST),
        "contact_form",
        lambda d: services.payer_contact_log(actor=actor, stay_id=stay_id, **d),
        "#payer",
        "Call logged, with a reminder for tomorrow's update.",
    )


@actor_required
@require_POST
def packet_build_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    packet = services.packet_build(actor=request.actor, stay_id=stay_id)  # type: ignore[attr-defined]
    return redirect("hospital_packet", packet_id=packet.pk)


@actor_required
def packet_view(request: HttpRequest, packet_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    packet = selectors.packet_get(actor=actor, packet_id=packet_id)
    insurers = selectors.insurer_choices(actor=actor)
    form = f.SendForm(request.POST or None, insurers=insurers)
    status = 200
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            services.packet_send(
                actor=actor,
                packet_id=packet.pk,
                insurer_id=int(data["insurer"]) if data.get("insurer") else None,
                recipient_name=data.get("recipient_name") or "",
                channel=data.get("channel") or "",
                acknowledge_missing=bool(data.get("acknowledge_missing")),
            )
        except DomainError as exc:
            apply_errors(form, _renamed(exc))
            status = 422
        else:
            messages.success(request, "Packet sent and logged; a reminder for the daily update is on your worklist.")
            return redirect("hospital_packet", packet_id=packet.pk)
    elif request.method == "POST":
        status = 422
    return render(
        request,
        "hospital/packet.html",
        {
            "packet": packet,
            "content": packet.content,
            "form": form,
            "can_send": can(actor, "packet.send"),
            "shares": selectors.packet_shares(actor=actor, packet=packet),
        },
        status=status,
    )


@actor_required
@require_POST
def packet_share_end_view(request: HttpRequest, packet_id: int) -> HttpResponse:
    ended = services.packet_share_end(actor=request.actor, packet_id=packet_id)  # type: ignore[attr-defined]
    if ended:
        messages.success(request, "Sharing ended: the insurer no longer sees this packet.")
    else:
        messages.info(request, "This packet was not being shared.")
    return redirect("hospital_packet", packet_id=packet_id)


@actor_required
def packet_bundle_view(request: HttpRequest, packet_id: int) -> HttpResponse:
    packet: ReviewPacket = selectors.packet_get(actor=request.actor, packet_id=packet_id)  # type: ignore[attr-defined]
    if not packet.fhir_bundle:
        raise NotFound("This packet was not sent outside the platform: it has no FHIR Bundle.")
    response = JsonResponse(packet.fhir_bundle, json_dumps_params={"indent": 2})
    response["Content-Type"] = "application/fhir+json"
    response["Content-Disposition"] = f'attachment; filename="review-packet-{packet.pk}.json"'
    return response


@actor_required
@require_POST
def denial_add_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return _post_form(
        request,
        stay_id,
        f.DenialForm(request.POST),
        "denial_form",
        lambda d: services.denial_record(actor=actor, **{k: v for k, v in d.items() if v not in (None, "")}),
        "#denials",
        "Denial recorded; a peer-to-peer task was created.",
    )


@actor_required
@require_POST
def denial_peer_to_peer_view(request: HttpRequest, denial_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    denial = selectors.denial_get(actor=actor, denial_id=denial_id)
    return _post_form(
        request,
        denial.stay_id,
        f.PeerToPeerForm(request.POST),
        "p2p_form",
        lambda d: services.denial_peer_to_peer(actor=actor, denial_id=denial_id, **d),
        "#denials",
        "Peer-to-peer result recorded.",
    )


@actor_required
@require_POST
def denial_appeal_view(request: HttpRequest, denial_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    denial = selectors.denial_get(actor=actor, denial_id=denial_id)
    return _post_form(
        request,
        denial.stay_id,
        f.AppealForm(request.POST),
        "appeal_form",
        lambda d: services.denial_appeal(actor=actor, denial_id=denial_id, **d),
        "#denials",
        "Appeal filed.",
    )


@actor_required
@require_POST
def denial_outcome_view(request: HttpRequest, denial_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    denial = selectors.denial_get(actor=actor, denial_id=denial_id)
    return _post_form(
        request,
        denial.stay_id,
        f.OutcomeForm(request.POST),
        "outcome_form",
        lambda d: services.denial_outcome(actor=actor, denial_id=denial_id, **d),
        "#denials",
        "Outcome recorded.",
    )


@actor_required
@require_POST
def screen_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    return _post_form(
        request,
        stay_id,
        f.ScreenForm(request.POST),
        "screen_form",
        lambda d: services.discharge_screen(actor=actor, stay_id=stay_id, **d),
        "#discharge",
        "Screen recorded.",
    )


@actor_required
@require_POST
def evaluation_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]

    def call(data: dict[str, Any]) -> None:
        complete = data.pop("complete", False)
        version = data.pop("version", None)
        if data.get("discussed_with_patient_at") is None:
            data.pop("discussed_with_patient_at", None)
        services.discharge_evaluation_record(actor=actor, stay_id=stay_id, complete=complete, version=version, **data)

    return _post_form(
        request, stay_id, f.EvaluationForm(request.POST), "evaluation_form", call, "#discharge", "Evaluation saved."
    )


@actor_required
@require_POST
def barrier_add_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    staff = [(u.pk, u.get_full_name() or u.username) for u in staff_with_role(actor=actor, roles=BARRIER_OWNER_ROLES)]

    def call(data: dict[str, Any]) -> None:
        owner = data.pop("owner", "")
        services.barrier_add(actor=actor, stay_id=stay_id, owner_id=int(owner) if owner else None, **data)

    return _post_form(
        request, stay_id, f.BarrierForm(request.POST, staff=staff), "barrier_form", call, "#discharge", "Barrier added."
    )


@actor_required
@require_POST
def barrier_resolve_view(request: HttpRequest, barrier_id: int) -> HttpResponse:
    barrier = services.barrier_resolve(actor=request.actor, barrier_id=barrier_id)  # type: ignore[attr-defined]
    messages.success(request, "Barrier resolved.")
    return redirect(reverse("hospital_stay", args=[barrier.stay_id]) + "#discharge")


@actor_required
@require_POST
def need_add_view(request: HttpRequest, stay_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = f.NeedForm(request.POST)
    return _post_form(
        request,
        stay_id,
        form,
        "need_form",
        lambda d: services.need_add(actor=actor, stay_id=stay_id, **form.service_arguments()),
        "#discharge",
        "Post-acute need recorded with its eligibility check.",
    )


@actor_required
def dashboard_view(request: HttpRequest) -> HttpResponse:
    charts = dashboard(actor=request.actor)  # type: ignore[attr-defined]
    return render(
        request,
        "hospital/dashboard.html",
        {"charts": charts, "chart_width": CHART_WIDTH, "label_width": LABEL_WIDTH},
    )


@actor_required
def denial_report_view(request: HttpRequest) -> HttpResponse:
    today = timezone.localdate(clock.now())
    try:
        since = (
            dt.date.fromisoformat(request.GET.get("since", ""))
            if request.GET.get("since")
            else today - dt.timedelta(days=90)
        )
    except ValueError:
        since = today - dt.timedelta(days=90)
        messages.warning(request, "The start date was not a date; showing the last 90 days.")
    rows = selectors.denial_rate(actor=request.actor, since=since)  # type: ignore[attr-defined]
    return render(request, "hospital/denial_report.html", {"rows": rows, "since": since})


@actor_required
def intake_view(request: HttpRequest) -> HttpResponse:
    shares = list(selectors.intake_list(actor=request.actor)[:200])  # type: ignore[attr-defined]
    return render(request, "hospital/intake.html", {"shares": shares})


@actor_required
def intake_detail_view(request: HttpRequest, share_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    if request.method == "POST":
        services.intake_review(actor=actor, share_id=share_id, note=request.POST.get("note", "")[:500])
        messages.success(request, "Marked as reviewed.")
        return redirect("hospital_intake_detail", share_id=share_id)
    share = selectors.intake_get(actor=actor, share_id=share_id)
    return render(
        request,
        "hospital/intake_detail.html",
        {"share": share, "content": share.packet.content, "from_org": share.packet.organization.name},
    )


@actor_required
def drg_upload_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = f.DrgUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            if upload.size > 2_000_000:
                raise DomainError("The file is larger than 2 MB.", field_errors={"file": ["larger than 2 MB"]})
            text = upload.read().decode("utf-8-sig")
            count = services.drg_import(actor=actor, text=text, source=form.cleaned_data["source"])
        except UnicodeDecodeError:
            form.add_error("file", "The file is not UTF-8 text.")
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{count} DRG rows imported.")
            return redirect("hospital_drg_upload")
    rows = selectors.drg_table(actor=actor)
    return render(
        request,
        "hospital/drg_upload.html",
        {"form": form, "rows": rows, "can_import": can(actor, "drg.import")},
        status=422 if form.errors else 200,
    )
