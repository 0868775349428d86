"""Bad input gets a clear error and saves nothing partial; one bad resource never stops the others."""

from __future__ import annotations

import json

from fhir_data import BULK

from casebridge.clinical.models import Encounter
from casebridge.interop.models import ImportRun, SourceRecord
from casebridge.interop.services import fhir_import_files
from casebridge.patients.models import Patient

PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": "urn:mrn", "value": "MRN-77"}],
    "name": [{"family": "Okafor", "given": ["Ada"]}],
    "gender": "female",
    "birthDate": "1948-02-03",
}


def _only_reason(report) -> str:
    assert report.rejected_total == 1, report.as_text()
    return report.rejections[0].reason


def test_truncated_bundle_is_rejected_whole_and_saves_nothing(intake, tmp_path):
    bundle = {"resourceType": "Bundle", "type": "batch", "entry": [{"resource": PATIENT}]}
    text = json.dumps(bundle)
    (tmp_path / "cut.json").write_text(text[: len(text) // 2])
    reason = _only_reason(fhir_import_files(actor=intake, paths=[str(tmp_path / "cut.json")]))
    assert "not valid JSON" in reason and "truncated" in reason
    assert not Patient.objects.exists()


def test_truncated_ndjson_line_is_rejected_and_the_other_lines_import(intake, tmp_path):
    lines = (BULK / "Patient.000.ndjson").read_text().splitlines()[:3]
    lines[2] = lines[2][:100]
    (tmp_path / "Patient.ndjson").write_text("\n".join(lines))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    reason = _only_reason(report)
    assert report.rejections[0].where == "line 3"
    assert "not valid JSON" in reason and "truncated" in reason
    assert Patient.objects.count() == 2


def test_wrong_resource_type_in_a_bulk_file_is_rejected(intake, tmp_path):
    other = dict(PATIENT, resourceType="Patientt")
    enc = {"resourceType": "Encounter", "id": "e1", "status": "finished", "class": {"code": "AMB"}}
    (tmp_path / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n" + json.dumps(enc) + "\n" + json.dumps(other))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.rejected_total == 2
    reasons = [r.reason for r in report.rejections]
    assert "resourceType Encounter in a bulk file of Patient resources (one type per file)" in reasons
    assert any("Patientt" in r for r in reasons)
    assert Patient.objects.count() == 1 and not Encounter.objects.exists()


def test_a_resource_failing_validation_is_rejected_with_the_field(intake, tmp_path):
    bad = dict(PATIENT, id="p2", birthDate="03/02/1948")
    (tmp_path / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n" + json.dumps(bad) + "\n")
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    reason = _only_reason(report)
    assert reason.startswith("does not validate as FHIR R4: Patient.birthDate")
    assert Patient.objects.count() == 1


def test_an_unresolvable_reference_rejects_that_resource(intake, tmp_path):
    enc = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": {"reference": "Patient/nobody"},
    }
    (tmp_path / "Encounter.ndjson").write_text(json.dumps(enc) + "\n")
    reason = _only_reason(fhir_import_files(actor=intake, paths=[str(tmp_path)]))
    assert "unresolvable reference" in reason and "Patient/nobody" in reason
    assert not Encounter.objects.exists() and not SourceRecord.objects.exists()


def test_binary_garbage_is_rejected_with_a_clear_error(intake, tmp_path):
    (tmp_path / "Patient.ndjson").write_bytes(bytes(range(256)) * 40)
    (tmp_path / "bundle.json").write_bytes(b"\xff\xfe\x00garbage" * 100)
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.rejected_total == 2
    assert all("binary data" in r.reason for r in report.rejections)
    assert not Patient.objects.exists()


def test_a_file_over_the_limit_is_refused_before_reading(intake, tmp_path):
    (tmp_path / "Patient.ndjson").write_text((json.dumps(PATIENT) + "\n") * 50)
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)], max_bytes=1024)
    reason = _only_reason(report)
    assert "larger than the import limit of 1.0 KiB" in reason
    assert not Patient.objects.exists()


def test_a_missing_path_is_an_input_problem(intake, tmp_path):
    import pytest

    from casebridge.interop.fhir.sources import InputProblem

    with pytest.raises(InputProblem, match="no such file or folder"):
        fhir_import_files(actor=intake, paths=[str(tmp_path / "nope")])


def test_a_bundle_of_an_unsupported_type_is_refused(intake, tmp_path):
    (tmp_path / "doc.json").write_text(json.dumps({"resourceType": "Bundle", "type": "document", "entry": []}))
    reason = _only_reason(fhir_import_files(actor=intake, paths=[str(tmp_path)]))
    assert "Bundle type 'document' is not accepted" in reason


def test_transaction_bundle_with_one_bad_entry_saves_nothing(intake, tmp_path):
    good_enc = {
        "resourceType": "Encounter",
        "status": "in-progress",
        "class": {"code": "IMP"},
        "subject": {"reference": "urn:uuid:p"},
    }
    bad_enc = dict(good_enc, subject={"reference": "Patient/ghost"})
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"fullUrl": "urn:uuid:p", "resource": PATIENT, "request": {"method": "POST", "url": "Patient"}},
            {"fullUrl": "urn:uuid:e1", "resource": good_enc, "request": {"method": "POST", "url": "Encounter"}},
            {"fullUrl": "urn:uuid:e2", "resource": bad_enc, "request": {"method": "POST", "url": "Encounter"}},
        ],
    }
    (tmp_path / "tx.json").write_text(json.dumps(bundle))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.changed == 0
    assert any("transaction rolled back" in r.reason and "entry 2" in r.reason for r in report.rejections)
    assert not Patient.objects.exists() and not Encounter.objects.exists() and not SourceRecord.objects.exists()
    # Fixed, the same bundle commits whole.
    bundle["entry"][2]["resource"] = dict(good_enc, subject={"reference": "urn:uuid:p"}, id="e2")
    (tmp_path / "tx.json").write_text(json.dumps(bundle))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.rejected_total == 0 and report.total("created") == 3
    assert Encounter.objects.filter(patient__family_name="Okafor").count() == 2


def test_batch_bundle_with_one_bad_entry_saves_the_rest(intake, tmp_path):
    bad = dict(PATIENT, id="p2", gender=5)
    other = dict(PATIENT, id="p3", identifier=[], name=[{"family": "Lind", "given": ["Bo"]}])
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [{"resource": PATIENT}, {"resource": bad}, {"resource": other}],
    }
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert _only_reason(report).startswith("does not validate")
    assert report.rejections[0].where == "entry 1"
    assert sorted(Patient.objects.values_list("family_name", flat=True)) == ["Lind", "Okafor"]


def test_malformed_entries_of_a_batch_are_rejected_each_and_the_rest_imports(intake, tmp_path):
    """Entries whose parts have the wrong JSON type (found by mutating bundles): each is one rejection
    with its reason, never an error for the whole request."""
    other = dict(PATIENT, id="p3", identifier=[], name=[{"family": "Lind", "given": ["Bo"]}])
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            {"resource": PATIENT, "request": "POST Patient"},
            {"resource": dict(PATIENT, resourceType=1.5), "request": {"method": "DELETE", "url": "Patient/p1"}},
            {"resource": PATIENT, "fullUrl": {"not": "a uri"}},
            {"resource": other, "search": "match", "request": {"method": "POST", "url": "Patient"}},
        ],
    }
    (tmp_path / "b.json").write_text(json.dumps(bundle))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert [(r.where, r.reason) for r in report.rejections] == [
        ("entry 0", "entry.request is not an object (method and url)"),
        ("entry 1", "request method DELETE is not supported by import"),
        ("entry 2", "entry.fullUrl is not a string"),
    ]
    assert set(report.counts_dict()) == {"Patient"}  # the numeric resourceType is not counted as a type
    assert list(Patient.objects.values_list("family_name", flat=True)) == ["Lind"]


def test_a_nul_character_rejects_the_resource_with_its_path(intake, tmp_path):
    """FHIR strings may not hold control characters, and PostgreSQL cannot store a NUL: the resource is
    rejected by name and path (on both databases), the others import, and the stored report holds it."""
    nul_name = dict(PATIENT, id="p2", name=[{"family": "Oka\u0000for", "given": ["Ada"]}])
    nul_id = dict(PATIENT, id="p\u00003")
    plain_text = dict(PATIENT, id="p4", identifier=[], name=[{"family": "C:\\u0000", "given": ["Bo"]}])
    lines = [json.dumps(PATIENT), json.dumps(nul_name), json.dumps(nul_id), json.dumps(plain_text)]
    (tmp_path / "Patient.ndjson").write_text("\n".join(lines) + "\n")
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert [(r.where, r.source_id, r.reason) for r in report.rejections] == [
        ("line 2", "p2", "Patient.name[0].family holds a NUL character (U+0000), which FHIR strings may not contain"),
        ("line 3", "p\\u00003", "Patient.id holds a NUL character (U+0000), which FHIR strings may not contain"),
    ]
    # A backslash followed by "u0000" is plain text, not a NUL: that patient imports.
    assert sorted(Patient.objects.values_list("family_name", flat=True)) == ["C:\\u0000", "Okafor"]
    assert ImportRun.objects.get(pk=report.run_id).rejections[1]["id"] == "p\\u00003"


def test_a_nested_resource_of_an_unknown_type_is_a_validation_rejection(intake, tmp_path):
    contained = dict(PATIENT, id="p2", contained=[{"resourceType": "Pateint", "id": "x"}])
    (tmp_path / "Patient.ndjson").write_text(json.dumps(PATIENT) + "\n" + json.dumps(contained) + "\n")
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert _only_reason(report) == (
        "does not validate as FHIR R4: a nested resource has an unknown resourceType 'Pateint'"
    )
    assert Patient.objects.count() == 1


def test_a_required_reference_to_a_contained_resource_is_unresolvable(intake, tmp_path):
    enc = {
        "resourceType": "Encounter",
        "id": "e1",
        "status": "finished",
        "class": {"code": "IMP"},
        "subject": {"reference": "#p1"},
        "contained": [dict(PATIENT, id="p1")],
    }
    (tmp_path / "Encounter.ndjson").write_text(json.dumps(enc) + "\n")
    reason = _only_reason(fhir_import_files(actor=intake, paths=[str(tmp_path)]))
    assert reason == (
        "unresolvable reference: Encounter.subject #p1 points inside the resource; send the target as an entry"
    )
    assert not Encounter.objects.exists()


def test_an_import_interrupted_midway_finishes_on_rerun_without_duplicates(intake, tmp_path, monkeypatch):
    from casebridge.interop.fhir import importer

    original = importer.FhirImporter._write
    calls = {"n": 0}

    def crash_on_second_encounter_chunk(self, spec, pending):
        if spec.resource_type == "Encounter":
            calls["n"] += 1
            if calls["n"] == 2:
                raise KeyboardInterrupt
        return original(self, spec, pending)

    files = [
        str(BULK / f"{t}.000.ndjson") for t in ("Encounter", "Organization", "Location", "Practitioner", "Patient")
    ]
    monkeypatch.setattr(importer.FhirImporter, "_write", crash_on_second_encounter_chunk)
    import pytest

    with pytest.raises(KeyboardInterrupt):
        fhir_import_files(actor=intake, paths=files, chunk_size=500)
    partial = Encounter.objects.count()
    assert partial == 500
    monkeypatch.setattr(importer.FhirImporter, "_write", original)
    report = fhir_import_files(actor=intake, paths=files, chunk_size=500)
    assert report.rejected_total == 0
    assert report.counts["Encounter"]["unchanged"] == partial
    assert report.counts["Encounter"]["created"] == 1215 - partial
    assert Encounter.objects.count() == 1215 and Patient.objects.count() == 13


def _nested_extensions(levels: int) -> dict:
    extension: dict = {"url": "http://example.org/x", "valueString": "v"}
    for _ in range(levels):
        extension = {"url": "http://example.org/x", "extension": [extension]}
    return dict(PATIENT, id="deep", extension=[extension])


def test_deeply_nested_input_is_rejected_by_name_and_the_other_lines_import(intake, tmp_path):
    # 300 nested extensions validated by recursion ran out of Python stack (RecursionError: the whole
    # import stopped); 5000 nested arrays ran the json module out of stack before that.
    too_deep_to_parse = '{"resourceType": "Patient", "extension": ' + "[" * 5000 + "]" * 5000 + "}"
    lines = [json.dumps(PATIENT), json.dumps(_nested_extensions(300)), too_deep_to_parse]
    (tmp_path / "Patient.ndjson").write_text("\n".join(lines))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.rejected_total == 2, report.as_text()
    by_line = {r.where: r.reason for r in report.rejections}
    assert "more than 100 levels deep" in by_line["line 2"]
    assert "nested too deeply to read" in by_line["line 3"]
    assert list(Patient.objects.values_list("family_name", flat=True)) == ["Okafor"]


def test_a_bundle_file_nested_too_deeply_to_parse_is_rejected(intake, tmp_path):
    (tmp_path / "deep.json").write_text('{"resourceType": "Bundle", "entry": ' + "[" * 5000 + "]" * 5000 + "}")
    reason = _only_reason(fhir_import_files(actor=intake, paths=[str(tmp_path / "deep.json")]))
    assert "nested too deeply to read" in reason
    assert not Patient.objects.exists()


def test_a_resource_nested_as_deep_as_real_data_still_imports(intake, tmp_path):
    # 45 nested extensions: 93 levels, within the limit of 100 (real data nests 18 at most).
    (tmp_path / "Patient.ndjson").write_text(json.dumps(_nested_extensions(45)))
    report = fhir_import_files(actor=intake, paths=[str(tmp_path)])
    assert report.rejected_total == 0, report.as_text()
    assert Patient.objects.count() == 1
