"""REST endpoints of the communication log and documents: isolation, bad input, audit."""

import datetime as dt
import json

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from casebridge.api.types import MAX_ID
from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.communications.models import Communication, CommunicationParty, Document
from casebridge.communications.services import communication_log, document_upload
from casebridge.kernel import clock
from casebridge.tasks.models import Task

PDF = b"%PDF-1.4\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


def files_in(root):
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="insurer_cm")


@pytest.fixture
def contact(cm, case):
    return communication_log(
        actor=cm,
        case_id=case.pk,
        channel="fax",
        direction="inbound",
        parties=[{"kind": "physician", "name": "Dr. Okafor"}],
        occurred_at=clock.now() - dt.timedelta(hours=2),
        summary="H&P received",
    )


@pytest.fixture
def document(cm, case, media):
    upload = SimpleUploadedFile("h&p.pdf", PDF, content_type="application/pdf")
    return document_upload(actor=cm, upload=upload, document_type="clinical_note", case_id=case.pk)


def contact_body(**overrides):
    body = {
        "channel": "phone",
        "direction": "outbound",
        "parties": [{"kind": "insurer_cm", "name": "Dana Ortiz", "organization": "Acme"}],
        "occurred_at": (clock.now() - dt.timedelta(minutes=30)).isoformat(),
        "summary": "Called about SNF authorization",
    }
    body.update(overrides)
    return json.dumps(body)


def post_json(client, url, body):
    return client.post(url, body, content_type="application/json")


def problem_fields(response):
    assert response["Content-Type"] == "application/problem+json"
    return {e["field"] for e in response.json().get("errors", [])}


def snapshot(root=None):
    return (
        Communication.objects.count(),
        CommunicationParty.objects.count(),
        Task.objects.count(),
        Document.objects.count(),
        files_in(root) if root is not None else None,
    )


# --- the contact log -------------------------------------------------------------------------------


def test_log_a_contact_with_a_follow_up_and_read_it_back(cm, api_as, case):
    api = api_as(cm)
    due = (clock.now() + dt.timedelta(days=1)).isoformat()
    r = post_json(
        api,
        f"/api/v1/cases/{case.pk}/communications",
        contact_body(follow_up={"title": "Send clinicals", "due_at": due}),
    )
    assert r.status_code == 201, r.content
    body = r.json()
    task = Task.objects.get()
    assert body["follow_up_task_id"] == task.pk and task.case_id == case.pk
    assert body["parties"] == [{"kind": "insurer_cm", "name": "Dana Ortiz", "organization": "Acme"}]
    r = api.get(f"/api/v1/communications/{body['id']}")
    assert r.status_code == 200 and r.json()["summary"] == "Called about SNF authorization"
    r = api.get(f"/api/v1/cases/{case.pk}/communications")
    assert r.status_code == 200 and [c["id"] for c in r.json()["items"]] == [body["id"]]


def test_contact_log_lists_newest_first(cm, api_as, case, contact):
    later = communication_log(
        actor=cm,
        case_id=case.pk,
        channel="portal",
        direction="outbound",
        parties=[{"kind": "patient", "name": "Ana Rivera"}],
        occurred_at=clock.now() - dt.timedelta(minutes=1),
        summary="Sent reminder",
    )
    r = api_as(cm).get(f"/api/v1/cases/{case.pk}/communications")
    assert [c["id"] for c in r.json()["items"]] == [later.pk, contact.pk]


def test_outsider_cannot_list_the_contact_log(outsider, api_as, case, contact):
    r = api_as(outsider).get(f"/api/v1/cases/{case.pk}/communications")
    assert r.status_code == 404
    assert not AuditEvent.objects.filter(user_id=outsider.user_id, patient_id=case.patient_id).exists()


def test_outsider_cannot_log_a_contact(outsider, api_as, case):
    before = snapshot()
    r = post_json(api_as(outsider), f"/api/v1/cases/{case.pk}/communications", contact_body())
    assert r.status_code == 404
    assert snapshot() == before


def test_outsider_cannot_read_a_contact(outsider, api_as, contact):
    r = api_as(outsider).get(f"/api/v1/communications/{contact.pk}")
    assert r.status_code == 404
    assert not AuditEvent.objects.filter(user_id=outsider.user_id, action="communication.read").exists()


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"channel": "telegram"}, "channel"),
        ({"direction": "up"}, "direction"),
        ({"summary": ""}, "summary"),
        ({"parties": []}, "parties"),
        ({"parties": [{"kind": "physician", "name": ""}]}, "parties.0.name"),
        ({"occurred_at": "yesterday-ish"}, "occurred_at"),
        ({"occurred_at": "2999-01-01T00:00:00Z"}, "occurred_at"),
        ({"follow_up": {"title": "Call back", "owner_id": MAX_ID}}, "follow_up_owner_id"),
    ],
)
def test_bad_contact_input_gets_422_naming_the_field_and_changes_nothing(cm, api_as, case, overrides, field):
    before = snapshot()
    r = post_json(api_as(cm), f"/api/v1/cases/{case.pk}/communications", contact_body(**overrides))
    assert r.status_code == 422, r.content
    assert field in problem_fields(r)
    assert snapshot() == before


def test_malformed_json_is_a_400_not_a_500(cm, api_as, case):
    r = post_json(api_as(cm), f"/api/v1/cases/{case.pk}/communications", "{not json")
    assert r.status_code == 400
    assert Communication.objects.count() == 0


@pytest.mark.parametrize("bad", ["0", str(MAX_ID + 1), "-3"])
def test_out_of_range_ids_are_refused_naming_the_parameter(cm, api_as, bad):
    api = api_as(cm)
    for url, field in [
        (f"/api/v1/cases/{bad}/communications", "case_id"),
        (f"/api/v1/communications/{bad}", "communication_id"),
        (f"/api/v1/cases/{bad}/documents", "case_id"),
        (f"/api/v1/patients/{bad}/documents", "patient_id"),
        (f"/api/v1/documents/{bad}", "document_id"),
        (f"/api/v1/documents/{bad}/content", "document_id"),
    ]:
        r = api.get(url)
        assert r.status_code == 422, url
        assert problem_fields(r) == {field}, url
    assert not AuditEvent.objects.filter(user_id=cm.user_id, action__startswith="document.").exists()


def test_unknown_ids_answer_404(cm, api_as):
    api = api_as(cm)
    for url in ("/api/v1/communications/999999", "/api/v1/documents/999999", "/api/v1/documents/999999/content"):
        assert api.get(url).status_code == 404, url


# --- documents -------------------------------------------------------------------------------------


def upload_to(client, url, content, name="summary.pdf", content_type="application/pdf", **fields):
    data = {"document_type": "discharge_summary", **fields}
    if content is not None:
        data["file"] = SimpleUploadedFile(name, content, content_type=content_type)
    return client.post(url, data)


@pytest.mark.parametrize("target", ["case", "patient"])
def test_upload_then_list_read_and_download(cm, api_as, case, media, target):
    api = api_as(cm)
    url = f"/api/v1/cases/{case.pk}/documents" if target == "case" else f"/api/v1/patients/{case.patient_id}/documents"
    r = upload_to(api, url, PDF, title="Discharge summary")
    assert r.status_code == 201, r.content
    doc = r.json()
    assert (doc["title"], doc["content_type"], doc["size"]) == ("Discharge summary", "application/pdf", len(PDF))
    assert doc["case_id"] == (case.pk if target == "case" else None)
    listed = api.get(url).json()["items"]
    assert [d["id"] for d in listed] == [doc["id"]]
    assert api.get(f"/api/v1/documents/{doc['id']}").json()["sha256"] == doc["sha256"]
    r = api.get(f"/api/v1/documents/{doc['id']}/content")
    assert r.status_code == 200
    assert r["Content-Disposition"].startswith("attachment;")
    assert r["Content-Type"] == "application/pdf"
    assert b"".join(r.streaming_content) == PDF


def test_downloading_a_document_is_audited_as_an_export(cm, api_as, document):
    r = api_as(cm).get(f"/api/v1/documents/{document.pk}/content")
    assert r.status_code == 200
    b"".join(r.streaming_content)
    event = AuditEvent.objects.get(action="document.export")
    assert (event.user_id, event.patient_id, event.object_id) == (cm.user_id, document.patient_id, str(document.pk))
    assert event.client_ip == "127.0.0.1"
    r = api_as(cm).get(f"/api/v1/documents/{document.pk}")
    assert AuditEvent.objects.filter(action="document.read", object_id=str(document.pk)).count() == 1


@pytest.mark.parametrize("target", ["case", "patient"])
def test_outsider_cannot_upload(outsider, api_as, case, media, target):
    url = f"/api/v1/cases/{case.pk}/documents" if target == "case" else f"/api/v1/patients/{case.patient_id}/documents"
    before = snapshot(media)
    r = upload_to(api_as(outsider), url, PDF)
    assert r.status_code == 404
    assert snapshot(media) == before


@pytest.mark.parametrize("target", ["case", "patient"])
def test_outsider_cannot_list_documents(outsider, api_as, case, document, target):
    url = f"/api/v1/cases/{case.pk}/documents" if target == "case" else f"/api/v1/patients/{case.patient_id}/documents"
    assert api_as(outsider).get(url).status_code == 404


@pytest.mark.parametrize("suffix", ["", "/content"])
def test_outsider_cannot_read_or_download_a_document(outsider, api_as, document, suffix):
    r = api_as(outsider).get(f"/api/v1/documents/{document.pk}{suffix}")
    assert r.status_code == 404
    assert b"%PDF" not in r.content
    assert not AuditEvent.objects.filter(user_id=outsider.user_id, action__startswith="document.").exists()


@override_settings(DOCUMENT_MAX_BYTES=1024)
def test_oversize_upload_gets_413_naming_the_file_and_saves_nothing(cm, api_as, case, media):
    before = snapshot(media)
    r = upload_to(api_as(cm), f"/api/v1/cases/{case.pk}/documents", PDF + b"0" * 2048)
    assert r.status_code == 413, r.content
    assert problem_fields(r) == {"file"}
    assert "over the 0.01 MB limit" in r.json()["detail"]
    assert snapshot(media) == before


@pytest.mark.parametrize(
    ("content", "name", "content_type", "reason"),
    [
        (b"GIF89a....", "x.gif", "image/gif", "type not allowed"),
        (b"#!/bin/sh\n", "run.sh", "application/x-sh", "type not allowed"),
        (PNG, "summary.pdf", "application/pdf", "content does not match"),
        (PDF, "card.png", "image/png", "content does not match"),
    ],
)
def test_refused_file_types_get_415_saying_why_and_save_nothing(
    cm, api_as, case, media, content, name, content_type, reason
):
    before = snapshot(media)
    r = upload_to(api_as(cm), f"/api/v1/cases/{case.pk}/documents", content, name=name, content_type=content_type)
    assert r.status_code == 415, r.content
    assert problem_fields(r) == {"file"}
    assert reason in r.json()["detail"]
    assert snapshot(media) == before


@pytest.mark.parametrize(
    ("fields", "content", "field"),
    [
        ({"document_type": "selfie"}, PDF, "document_type"),
        ({"title": "t" * 201}, PDF, "title"),
        ({}, None, "file"),
    ],
)
def test_bad_upload_fields_get_422_naming_the_field(cm, api_as, case, media, fields, content, field):
    before = snapshot(media)
    r = upload_to(api_as(cm), f"/api/v1/cases/{case.pk}/documents", content, **fields)
    assert r.status_code == 422, r.content
    assert any(f.endswith(field) for f in problem_fields(r)), problem_fields(r)
    assert snapshot(media) == before


def test_a_refused_upload_to_the_patient_saves_nothing(cm, api_as, patient, media):
    before = snapshot(media)
    r = upload_to(api_as(cm), f"/api/v1/patients/{patient.pk}/documents", PNG, name="a.pdf")
    assert r.status_code == 415
    assert snapshot(media) == before


def test_the_endpoints_are_in_the_openapi_document(client):
    paths = client.get("/api/v1/openapi.json").json()["paths"]
    for p in (
        "/api/v1/cases/{case_id}/communications",
        "/api/v1/communications/{communication_id}",
        "/api/v1/cases/{case_id}/documents",
        "/api/v1/documents/{document_id}",
        "/api/v1/documents/{document_id}/content",
    ):
        assert p in paths
