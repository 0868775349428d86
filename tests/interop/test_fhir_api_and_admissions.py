"""POST /fhir/r4, the upload page, and hospital cases opened from incoming admissions."""

from __future__ import annotations

import datetime as dt
import json

from django.core.files.uploadedfile import SimpleUploadedFile
from fhir_data import BULK

from casebridge.accounts import roles
from casebridge.cases.models import Case
from casebridge.clinical.models import Encounter
from casebridge.clinical.services import admission_rule_set, case_open_for_admission, encounter_upsert
from casebridge.interop.models import ImportRun
from casebridge.patients.models import Patient
from casebridge.tasks.models import Task

FHIR = "application/fhir+json"
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [{"type": {"coding": [{"code": "MR"}]}, "system": "urn:mrn", "value": "MRN-77"}],
    "name": [{"family": "Okafor", "given": ["Ada"]}],
    "birthDate": "1948-02-03",
}
ADMIT = "2026-03-02T08:30:00+00:00"


def _admission(**extra):
    enc = {
        "resourceType": "Encounter",
        "id": "adm1",
        "identifier": [{"system": "urn:visits", "value": "V100"}],
        "status": "in-progress",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "IMP"},
        "subject": {"reference": "urn:uuid:p1"},
        "period": {"start": ADMIT},
        "hospitalization": {
            "admitSource": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/admit-source", "code": "emd"}]}
        },
        "reasonCode": [{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I50.9"}]}],
    }
    enc.update(extra)
    return enc


def _bundle(btype, *resources):
    return {
        "resourceType": "Bundle",
        "type": btype,
        "entry": [
            {"fullUrl": f"urn:uuid:{r['id']}", "resource": r, "request": {"method": "POST", "url": r["resourceType"]}}
            for r in resources
        ],
    }


def _post(client, body):
    return client.post("/fhir/r4", json.dumps(body), content_type=FHIR)


def test_post_transaction_bundle_answers_a_transaction_response(intake, api_as):
    r = _post(api_as(intake), _bundle("transaction", PATIENT, _admission()))
    assert r.status_code == 200, r.content
    assert r["Content-Type"] == FHIR
    body = r.json()
    assert body["type"] == "transaction-response"
    assert [e["response"]["status"] for e in body["entry"]] == ["201 Created", "201 Created"]
    patient = Patient.objects.get(family_name="Okafor")
    assert body["entry"][0]["response"]["location"] == f"Patient/{patient.pk}"
    enc = Encounter.objects.get(patient=patient)
    assert enc.encounter_class == "inpatient" and enc.admission_source["code"] == "emd"
    again = _post(api_as(intake), _bundle("transaction", PATIENT, _admission())).json()
    assert [e["response"]["status"] for e in again["entry"]] == ["200 OK", "200 OK"]
    assert Patient.objects.count() == 1


def test_post_transaction_with_a_bad_entry_is_an_operation_outcome_and_saves_nothing(intake, api_as):
    bad = _admission(subject={"reference": "Patient/ghost"})
    r = _post(api_as(intake), _bundle("transaction", PATIENT, bad))
    assert r.status_code == 422
    assert r["Content-Type"] == FHIR
    outcome = r.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert any("Patient/ghost" in i["diagnostics"] for i in outcome["issue"])
    assert not Patient.objects.exists() and not Encounter.objects.exists()


def test_post_batch_with_a_bad_entry_saves_the_rest(intake, api_as):
    bad = dict(PATIENT, id="p2", birthDate="yesterday")
    r = _post(api_as(intake), _bundle("batch", PATIENT, bad))
    assert r.status_code == 200
    statuses = [e["response"]["status"] for e in r.json()["entry"]]
    assert statuses == ["201 Created", "422 Unprocessable Entity"]
    assert "birthDate" in r.json()["entry"][1]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert Patient.objects.count() == 1


def test_post_needs_a_token_and_fhir_json(intake, api_as, client):
    r = client.post("/fhir/r4", json.dumps(_bundle("batch", PATIENT)), content_type=FHIR)
    assert r.status_code == 401 and r.json()["resourceType"] == "OperationOutcome"
    api = api_as(intake)
    assert api.post("/fhir/r4", "x", content_type="text/plain").status_code == 415
    r = api.post("/fhir/r4", b"\x00\x01garbage", content_type=FHIR)
    assert r.status_code == 400 and "binary" in r.json()["issue"][0]["diagnostics"]
    r = api.post("/fhir/r4", '{"resourceType": "Bundle", "type": "batch", "entry": [', content_type=FHIR)
    assert r.status_code == 400 and "truncated" in r.json()["issue"][0]["diagnostics"]
    r = _post(api, PATIENT)
    assert r.status_code == 400 and "send a Bundle of type transaction or batch" in r.json()["issue"][0]["diagnostics"]
    # Nesting past the json module's stack was a 500; nesting past fhir.resources' one, too.
    deep = '{"resourceType": "Bundle", "type": "batch", "entry": ' + "[" * 5000 + "]" * 5000 + "}"
    r = api.post("/fhir/r4", deep, content_type=FHIR)
    assert r.status_code == 400 and "nested too deeply" in r.json()["issue"][0]["diagnostics"]
    extension: dict = {"url": "http://example.org/x", "valueString": "v"}
    for _ in range(300):
        extension = {"url": "http://example.org/x", "extension": [extension]}
    r = _post(api, _bundle("batch", dict(PATIENT, extension=[extension])))
    outcome = r.json()["entry"][0]["response"]["outcome"]["issue"][0]["diagnostics"]
    assert r.status_code == 200 and "more than 100 levels deep" in outcome
    assert not Patient.objects.exists()


def test_a_role_that_may_not_register_patients_cannot_import(make_actor, hospital, api_as):
    auditor = make_actor(hospital, roles.AUDITOR)
    r = _post(api_as(auditor), _bundle("batch", PATIENT))
    assert r.status_code == 403 and r.json()["issue"][0]["code"] == "forbidden"


def test_another_organizations_token_cannot_touch_or_see_our_patients(intake, api_as, make_actor, insurer):
    _post(api_as(intake), _bundle("transaction", PATIENT, _admission()))
    ours = Patient.objects.get()
    other = make_actor(insurer, roles.INTAKE_COORDINATOR, username="ins-intake")
    # Referring to our patient by its source id or CaseBridge id finds nothing in their organization.
    enc = _admission(id="x1", subject={"reference": "Patient/p1"})
    r = _post(api_as(other), _bundle("batch", enc, _admission(id="x2", subject={"reference": f"Patient/{ours.pk}"})))
    assert [e["response"]["status"] for e in r.json()["entry"]] == ["422 Unprocessable Entity"] * 2
    # Sending the same Patient creates their own copy; ours is untouched.
    changed = dict(PATIENT, name=[{"family": "Hijacked", "given": ["X"]}])
    r = _post(api_as(other), _bundle("batch", changed))
    assert r.json()["entry"][0]["response"]["status"] == "201 Created"
    ours.refresh_from_db()
    assert ours.family_name == "Okafor" and ours.version == 1
    assert Patient.objects.filter(organization=insurer).get().family_name == "Hijacked"
    assert Encounter.objects.filter(organization=insurer).count() == 0


def test_every_inpatient_admission_opens_a_case_with_review_due_24_hours_after_admit(intake, api_as):
    r = _post(api_as(intake), _bundle("transaction", PATIENT, _admission()))
    assert r.status_code == 200
    enc = Encounter.objects.get()
    case = Case.objects.get(pk=enc.hospital_case_id)
    assert case.case_type == "hospital_stay" and case.organization_id == intake.organization_id
    assert case.diagnoses[0]["code"] == "I50.9"
    task = Task.objects.get(case=case)
    assert task.title == "Initial utilization review" and task.kind == "initial_review"
    assert task.due_at == dt.datetime.fromisoformat(ADMIT) + dt.timedelta(hours=24)
    # Importing again opens no second case.
    _post(api_as(intake), _bundle("transaction", PATIENT, _admission(status="in-progress", period={"start": ADMIT})))
    assert Case.objects.count() == 1 and Task.objects.count() == 1


def test_listed_conditions_rule_and_configurable_hours(intake, admin, api_as):
    admission_rule_set(actor=admin, mode="listed_conditions", condition_codes=["J44"], review_due_hours=48)
    _post(api_as(intake), _bundle("batch", PATIENT, _admission()))
    assert not Case.objects.exists()  # I50.9 is not listed
    copd = _admission(
        id="adm2",
        identifier=[{"system": "urn:visits", "value": "V101"}],
        reasonCode=[{"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "J44.1"}]}],
    )
    _post(api_as(intake), _bundle("batch", PATIENT, copd))
    task = Task.objects.get()
    assert task.due_at == dt.datetime.fromisoformat(ADMIT) + dt.timedelta(hours=48)


def test_history_does_not_open_cases(intake):
    from casebridge.interop.services import fhir_import_files

    report = fhir_import_files(actor=intake, paths=[str(BULK)])
    assert report.cases_opened == 0  # 49 inpatient stays, all finished years ago
    assert not Case.objects.exists()


def test_hl7_style_services_upsert_an_encounter_then_open_its_case(intake):
    from casebridge.patients.services import patient_create

    patient = patient_create(actor=intake, family_name="Lee", given_name="Min", birth_date=dt.date(1950, 1, 2))
    admit = dt.datetime(2026, 5, 1, 22, 0, tzinfo=dt.UTC)
    enc, created = encounter_upsert(
        actor=intake,
        patient_id=patient.pk,
        identifier_system="urn:pv1-19",
        identifier_value="A1",
        status="in-progress",
        encounter_class="observation",
        admit_at=admit,
        location_text="4W^401^B",
    )
    assert created
    case = case_open_for_admission(actor=intake, encounter_id=enc.pk)
    assert case is not None
    # An observation admission: the initial review due in 24 hours, and the MOON notice within 36.
    due = dict(Task.objects.filter(case=case).values_list("kind", "due_at"))
    assert due == {"initial_review": admit + dt.timedelta(hours=24), "moon_notice": admit + dt.timedelta(hours=36)}
    again, created = encounter_upsert(
        actor=intake,
        patient_id=patient.pk,
        identifier_system="urn:pv1-19",
        identifier_value="A1",
        status="finished",
        discharge_at=admit + dt.timedelta(days=2),
    )
    assert not created and again.pk == enc.pk and again.location_text == "4W^401^B"
    assert case_open_for_admission(actor=intake, encounter_id=enc.pk) == case


def test_upload_page_is_for_organization_admins_and_shows_the_report(admin, intake, web_as):
    assert web_as(intake).get("/admin/import").status_code == 403
    page = web_as(admin)
    assert page.get("/admin/import").status_code == 200
    upload = SimpleUploadedFile("Patient.000.ndjson", (BULK / "Patient.000.ndjson").read_bytes())
    r = page.post("/admin/import", {"files": [upload]})
    assert r.status_code == 302
    run = ImportRun.objects.get()
    assert run.channel == "upload" and run.counts["Patient"]["created"] == 13
    report = page.get(r["Location"])
    assert report.status_code == 200 and b"Patient" in report.content and b"13" in report.content
    r = page.post(
        "/admin/import",
        {
            "save_rule": "1",
            "mode": "off",
            "encounter_classes": ["inpatient"],
            "condition_codes": "",
            "review_due_hours": "24",
        },
    )
    assert r.status_code == 302


def test_the_admission_classes_are_a_labelled_group_of_checkboxes(admin, web_as):
    html = web_as(admin).get("/admin/import").content.decode()
    group = html.split('<fieldset class="field choices"')[1].split("</fieldset>")[0]
    assert "<legend>Admission classes</legend>" in group
    # each class is a checkbox with its own label; the group's name is not a dangling <label for="">
    assert group.count('type="checkbox"') == 7 and "Home health" in group
    assert '<label for="">' not in html
    assert '<select name="mode" class="wide"' in html  # its sentence-long options get two grid columns
