"""Organization admins' page: upload FHIR files, read import reports, set the admission case rule."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from casebridge.accounts.permissions import require
from casebridge.clinical.coding import EncounterClass
from casebridge.clinical.models import AdmissionCaseMode
from casebridge.clinical.services import admission_rule_for, admission_rule_set
from casebridge.interop.hl7v2.outcome_text import describe
from casebridge.interop.selectors import (
    LOG_PAGE,
    hl7_feed_summary,
    hl7_messages,
    import_run_get,
    import_runs_recent,
)
from casebridge.interop.services import fhir_import_upload
from casebridge.kernel.errors import DomainError
from casebridge.web.errors import actor_required, apply_errors


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class MultipleFileField(forms.FileField):
    def clean(self, data, initial=None):  # type: ignore[no-untyped-def]
        files = data if isinstance(data, list | tuple) else [data]
        return [super(MultipleFileField, self).clean(f, initial) for f in files if f]


class UploadForm(forms.Form):
    files = MultipleFileField(  # type: ignore[assignment]  # the form field the page posts, not BaseForm.files
        widget=MultipleFileInput(attrs={"accept": ".json,.ndjson,.jsonl"}),
        help_text="FHIR R4 Bundles (.json) or bulk-data NDJSON files named for their type (Patient.ndjson)",
    )


class Hl7LogFilterForm(forms.Form):
    outcome = forms.ChoiceField(
        label="Acknowledgement",
        required=False,
        choices=[
            ("", "All messages"),
            ("refused", "Refused (AE or AR)"),
            ("AA", "AA accepted"),
            ("AE", "AE error"),
            ("AR", "AR rejected"),
        ],
    )
    control_id = forms.CharField(label="Message control ID", max_length=200, required=False)
    # Set by the "Older messages" link only, so not rendered: a new filter starts from the newest.
    before = forms.IntegerField(required=False, min_value=1, max_value=2**63 - 1, widget=forms.HiddenInput)


class AdmissionRuleForm(forms.Form):
    mode = forms.ChoiceField(
        choices=AdmissionCaseMode.choices,
        label="Open a hospital case",
        widget=forms.Select(attrs={"class": "wide"}),  # its options are sentences: two grid columns
    )
    encounter_classes = forms.MultipleChoiceField(
        choices=EncounterClass.CHOICES, widget=forms.CheckboxSelectMultiple, required=False, label="Admission classes"
    )
    condition_codes = forms.CharField(
        required=False,
        label="Conditions (for the listed-conditions mode)",
        help_text="ICD-10-CM codes or categories (I50 covers I50.9) or SNOMED CT codes, separated by spaces",
    )
    review_due_hours = forms.IntegerField(
        min_value=1, max_value=336, label="Initial review due (hours after admission)"
    )


@actor_required
def import_page(request: HttpRequest) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    require(actor, "organization.manage")
    rule = admission_rule_for(actor.organization)
    upload = UploadForm()
    rule_form = AdmissionRuleForm(
        initial={
            "mode": rule.mode,
            "encounter_classes": rule.encounter_classes,
            "condition_codes": " ".join(rule.condition_codes or ()),
            "review_due_hours": rule.review_due_hours,
        }
    )
    if request.method == "POST" and "save_rule" in request.POST:
        rule_form = AdmissionRuleForm(request.POST)
        if rule_form.is_valid():
            data = rule_form.cleaned_data
            try:
                admission_rule_set(
                    actor=actor,
                    mode=data["mode"],
                    encounter_classes=data["encounter_classes"],
                    condition_codes=data["condition_codes"].replace(",", " ").split(),
                    review_due_hours=data["review_due_hours"],
                )
            except DomainError as exc:
                apply_errors(rule_form, exc)
            else:
                messages.success(request, "Admission rule saved.")
                return redirect("fhir_import")
    elif request.method == "POST":
        upload = UploadForm(request.POST, request.FILES)
        if upload.is_valid():
            files = upload.cleaned_data["files"]
            run = fhir_import_upload(actor=actor, uploads=[(f.name or "", f.chunks()) for f in files])
            return redirect("fhir_import_run", run_id=run.pk)
    runs = import_runs_recent(actor)
    return render(
        request, "interop/import.html", {"upload": upload, "rule_form": rule_form, "runs": runs, "rule": rule}
    )


@actor_required
def import_run_page(request: HttpRequest, run_id: int) -> HttpResponse:
    actor = request.actor  # type: ignore[attr-defined]
    run = import_run_get(actor, run_id)
    outcomes = ("created", "updated", "unchanged", "rejected", "skipped")
    rows = [(rtype, [counts.get(o, 0) for o in outcomes]) for rtype, counts in sorted(run.counts.items())]
    totals = [sum(counts.get(o, 0) for counts in run.counts.values()) for o in outcomes]
    return render(
        request,
        "interop/run.html",
        {"run": run, "rows": rows, "totals": totals, "outcomes": outcomes},
    )


@actor_required
def hl7_log_page(request: HttpRequest) -> HttpResponse:
    """The ADT feed's message log for the interface analyst: what arrived, what was refused and why."""
    actor = request.actor  # type: ignore[attr-defined]
    form = Hl7LogFilterForm(request.GET or None)
    filters = form.cleaned_data if form.is_valid() else {}
    outcome = filters.get("outcome") or ""
    messages_ = hl7_messages(
        actor, outcome=outcome, control_id=(filters.get("control_id") or "").strip(), before=filters.get("before")
    )
    older = None
    if len(messages_) == LOG_PAGE:
        older = request.GET.copy()
        older["before"] = str(messages_[-1].pk)
    return render(
        request,
        "interop/hl7_log.html",
        {
            "form": form,
            "rows": [(m, describe(m.summary)) for m in messages_],
            "summary": hl7_feed_summary(actor),
            "older": older.urlencode() if older is not None else "",
        },
    )
