from __future__ import annotations

from django.contrib import messages
from django.http import FileResponse, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse

from casebridge.accounts.permissions import can
from casebridge.accounts.roles import CASE_MANAGER, HH_CLINICIAN, SUPERVISOR, UR_NURSE
from casebridge.accounts.selectors import staff_with_role
from casebridge.cases.selectors import case_get
from casebridge.communications import selectors, services
from casebridge.communications.forms import FIELD_FOR, CommunicationForm, DocumentForm
from casebridge.kernel.errors import DomainError, NotFound
from casebridge.patients.selectors import patient_get
from casebridge.web.errors import actor_required, apply_errors

FOLLOW_UP_OWNER_ROLES = (CASE_MANAGER, SUPERVISOR, UR_NURSE, HH_CLINICIAN)


def _renamed(exc: DomainError) -> DomainError:
    renamed = {FIELD_FOR.get(f, f): msgs for f, msgs in exc.field_errors.items()}
    return type(exc)(exc.detail, field_errors=renamed)


def contact_form(actor, data=None) -> CommunicationForm:  # type: ignore[no-untyped-def]
    return CommunicationForm(data, staff=staff_with_role(actor=actor, roles=FOLLOW_UP_OWNER_ROLES))


@actor_required
def communication_log_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    form = contact_form(actor, request.POST if request.method == "POST" else None)
    if request.method == "POST" and form.is_valid():
        try:
            services.communication_log(actor=actor, case_id=case.pk, **form.service_arguments())
        except DomainError as exc:
            apply_errors(form, _renamed(exc))
        else:
            messages.success(request, "Contact logged.")
            return redirect(reverse("case_detail", args=[case.pk]) + "#communications")
    status = 422 if form.errors else 200
    return render(request, "communications/log.html", {"case": case, "form": form}, status=status)


def _upload(request: HttpRequest, form: DocumentForm, **target: int) -> bool:
    if not form.is_valid():
        return False
    try:
        services.document_upload(
            actor=request.actor,  # type: ignore[attr-defined]
            upload=form.cleaned_data["file"],
            document_type=form.cleaned_data["document_type"],
            title=form.cleaned_data["title"],
            **target,
        )
    except DomainError as exc:
        apply_errors(form, exc)
        return False
    messages.success(request, "Document added.")
    return True


@actor_required
def case_document_upload_view(request: HttpRequest, case_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    case = case_get(actor=actor, case_id=case_id, audit=False)
    form = DocumentForm(request.POST or None, request.FILES or None) if request.method == "POST" else DocumentForm()
    if request.method == "POST" and _upload(request, form, case_id=case.pk):
        return redirect(reverse("case_detail", args=[case.pk]) + "#documents")
    status = 422 if form.errors else 200
    return render(request, "communications/upload.html", {"case": case, "form": form}, status=status)


@actor_required
def patient_documents_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = patient_get(actor=actor, patient_id=patient_id, audit=False)
    form = DocumentForm(request.POST or None, request.FILES or None) if request.method == "POST" else DocumentForm()
    if request.method == "POST" and _upload(request, form, patient_id=patient.pk):
        return redirect("patient_documents", patient_id=patient.pk)
    documents = selectors.document_list_for_patient(actor=actor, patient_id=patient.pk)
    return render(
        request,
        "communications/patient_documents.html",
        {
            "patient": patient,
            "documents": documents,
            "form": form,
            "can_upload": patient.organization_id == actor.organization_id and can(actor, "document.upload"),
        },
        status=422 if form.errors else 200,
    )


@actor_required
def document_download_view(request: HttpRequest, document_id: int) -> FileResponse:
    document = selectors.document_export(actor=request.actor, document_id=document_id)  # type: ignore[attr-defined]
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(f"The file of document {document_id} is missing from storage.") from exc
    return FileResponse(handle, as_attachment=True, filename=document.original_name, content_type=document.content_type)
