from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casebridge.accounts.permissions import can
from casebridge.accounts.selectors import insurers_on_platform
from casebridge.cases.selectors import case_list
from casebridge.kernel.errors import DomainError
from casebridge.kernel.numbers import whole_number
from casebridge.patients import services
from casebridge.patients.forms import ContactForm, CoverageForm, PatientForm, SearchForm
from casebridge.patients.selectors import patient_get, patient_search
from casebridge.web.errors import actor_required, apply_errors

PAGE = 50
MAX_PAGE = 2000


@actor_required
def patient_search_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = SearchForm(request.GET or None)
    results = None
    raw_page = request.GET.get("page", "1")
    # The cap keeps the offset a small integer.
    page = min(max(1, whole_number(raw_page, maximum=None) or 1), MAX_PAGE)
    if form.is_bound and form.is_valid() and any(form.cleaned_data.values()):
        results = patient_search(actor=actor, **form.cleaned_data, limit=PAGE + 1, offset=(page - 1) * PAGE)
    has_next = results is not None and len(results) > PAGE
    context = {
        "form": form,
        "results": results[:PAGE] if results else results,
        "page": page,
        "has_next": has_next,
        "can_create": can(actor, "patient.create"),
        "query": request.GET.urlencode(),
    }
    template = "patients/_results.html" if request.htmx else "patients/search.html"  # type: ignore[attr-defined]
    return render(request, template, context)


@actor_required
def patient_create_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form = PatientForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = {k: v for k, v in form.cleaned_data.items() if k != "version"}
        try:
            patient = services.patient_create(actor=actor, **data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, f"{patient.display_name} registered.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render(request, "patients/form.html", {"form": form, "title": "Register a patient"})


@actor_required
def patient_edit_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = patient_get(actor=actor, patient_id=patient_id)
    form = PatientForm(request.POST or None, instance=patient, initial={"version": patient.version})
    form.fields.pop("mrn")
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        version = data.pop("version")
        try:
            services.patient_update(actor=actor, patient_id=patient.pk, version=version, **data)
        except DomainError as exc:
            apply_errors(form, exc)
        else:
            messages.success(request, "Patient saved.")
            return redirect("patient_detail", patient_id=patient.pk)
    return render(
        request, "patients/form.html", {"form": form, "title": f"Edit {patient.display_name}", "patient": patient}
    )


@actor_required
def patient_detail_view(request: HttpRequest, patient_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    patient = patient_get(actor=actor, patient_id=patient_id)
    insurers = insurers_on_platform()
    contact_form = ContactForm(prefix="contact")
    coverage_form = CoverageForm(prefix="coverage", insurers=insurers)
    if request.method == "POST":
        try:
            if "contact-name" in request.POST:
                contact_form = ContactForm(request.POST, prefix="contact")
                if contact_form.is_valid():
                    services.contact_add(actor=actor, patient_id=patient.pk, **contact_form.cleaned_data)
                    messages.success(request, "Contact added.")
                    return redirect("patient_detail", patient_id=patient.pk)
            else:
                coverage_form = CoverageForm(request.POST, prefix="coverage", insurers=insurers)
                if coverage_form.is_valid():
                    services.coverage_add(actor=actor, patient_id=patient.pk, **coverage_form.cleaned_data)
                    messages.success(request, "Coverage added.")
                    return redirect("patient_detail", patient_id=patient.pk)
        except DomainError as exc:
            apply_errors(contact_form if "contact-name" in request.POST else coverage_form, exc)
    return render(
        request,
        "patients/detail.html",
        {
            "patient": patient,
            "identifiers": patient.identifiers.select_related("assigner"),
            "contacts": patient.contacts.all(),
            "coverages": patient.coverages.select_related("insurer"),
            "cases": case_list(actor=actor, patient_id=patient.pk),
            "contact_form": contact_form,
            "coverage_form": coverage_form,
            "can_change": can(actor, "patient.change") and patient.organization_id == actor.organization_id,
            "can_open_case": can(actor, "case.create") and patient.organization_id == actor.organization_id,
        },
    )
