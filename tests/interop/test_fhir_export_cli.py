"""``casebridge export``: a patient or a case as a FHIR Bundle, as a named user."""

from __future__ import annotations

import json

import test_fhir_export_support as support

from casebridge.audit.models import AuditEvent
from casebridge.cli import main

agency = support.agency
demo_case = support.demo_case


def test_export_writes_the_case_bundle_as_the_user_and_audits_it(cm, demo_case, tmp_path):
    out = tmp_path / "case.json"
    assert main(["export", "--case", str(demo_case.case.pk), "--as", cm.user.username, "--out", str(out)]) == 0
    bundle = json.loads(out.read_text())
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "collection"
    assert AuditEvent.objects.filter(action="case.export", username=cm.user.username).count() == 1


def test_export_of_a_patient_to_standard_output(cm, demo_case, capsys):
    assert main(["export", "--patient", str(demo_case.patient.pk), "--as", cm.user.username]) == 0
    bundle = json.loads(capsys.readouterr().out)
    assert bundle["entry"][0]["resource"]["id"] == f"casebridge-patient-{demo_case.patient.pk}"


def test_export_refuses_an_unknown_user_and_an_out_of_scope_case(outsider, demo_case, capsys):
    assert main(["export", "--case", str(demo_case.case.pk), "--as", "nobody"]) == 2
    assert "no active user" in capsys.readouterr().err
    assert main(["export", "--case", str(demo_case.case.pk), "--as", outsider.user.username]) == 2
    assert f"No case {demo_case.case.pk}" in capsys.readouterr().err
    assert not AuditEvent.objects.filter(action="case.export").exists()
