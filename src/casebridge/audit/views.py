from __future__ import annotations

import json

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from casebridge.audit.selectors import audit_events
from casebridge.audit.services import EXPORT_LIMIT, audit_export
from casebridge.web.errors import actor_required


class AuditFilterForm(forms.Form):
    username = forms.CharField(required=False, max_length=150)
    action = forms.CharField(required=False, max_length=64, help_text="e.g. patient.read or case.")
    patient_id = forms.IntegerField(required=False, min_value=1, max_value=2**62, label="Patient ID")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))


def _filters(request: HttpRequest) -> tuple[AuditFilterForm, dict]:
    form = AuditFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_bound and form.is_valid() else {}
    return form, {k: v for k, v in filters.items() if v not in (None, "")}


@actor_required
def audit_log_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    form, filters = _filters(request)
    page = Paginator(audit_events(actor=actor, **filters), 100).get_page(request.GET.get("page"))
    query = request.GET.copy()
    query.pop("page", None)
    return render(request, "audit/log.html", {"form": form, "page": page, "query": query.urlencode()})


@actor_required
def audit_export_view(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    _, filters = _filters(request)
    events = list(audit_events(actor=actor, **filters)[:EXPORT_LIMIT])
    bundle = audit_export(actor=actor, events=events, filters={k: str(v) for k, v in filters.items()})
    response = HttpResponse(json.dumps(bundle, indent=1), content_type="application/fhir+json")
    response["Content-Disposition"] = 'attachment; filename="audit-events.json"'
    return response
