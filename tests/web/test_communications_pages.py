"""The case page's contact log and documents, the pages behind their forms, and downloads."""

import datetime as dt

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings
from django.utils import timezone

from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.communications.models import Communication, Document
from casebridge.communications.services import communication_log, document_upload
from casebridge.kernel import clock
from casebridge.tasks.models import Task

PDF = b"%PDF-1.4\n%%EOF\n"


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay")


def local(moment):
    """What a datetime-local input sends: wall-clock time in the site's time zone."""
    return timezone.localtime(moment).strftime("%Y-%m-%dT%H:%M")


def form_data(**overrides):
    data = {
        "contact-channel": "phone",
        "contact-direction": "inbound",
        "contact-occurred_at": local(clock.now() - dt.timedelta(hours=1)),
        "contact-party_kind": "family",
        "contact-party_name": "Luis Rivera",
        "contact-party_organization": "",
        "contact-summary": "Son can stay with her for two weeks after discharge.",
        "contact-outcome": "Home with family support",
        "contact-follow_up_title": "",
        "contact-follow_up_due_at": "",
        "contact-follow_up_owner_id": "",
    }
    data.update(overrides)
    return data


def test_case_page_shows_the_log_newest_first_and_the_labelled_forms(cm, web_as, case, media):
    for hours, summary in [(5, "First call"), (1, "Second call")]:
        communication_log(
            actor=cm,
            case_id=case.pk,
            channel="phone",
            direction="outbound",
            parties=[{"kind": "insurer_cm", "name": "Dana"}],
            occurred_at=clock.now() - dt.timedelta(hours=hours),
            summary=summary,
        )
    document_upload(
        actor=cm,
        upload=SimpleUploadedFile("ds.pdf", PDF, content_type="application/pdf"),
        document_type="discharge_summary",
        title="Discharge summary",
        case_id=case.pk,
    )
    html = web_as(cm).get(f"/cases/{case.pk}/").content.decode()
    assert html.index("Second call") < html.index("First call")
    assert "Log a contact" in html and 'for="id_contact-summary"' in html
    assert 'enctype="multipart/form-data"' in html and 'for="id_doc-file"' in html
    assert "Discharge summary" in html and f"/documents/{Document.objects.get().pk}/download" in html


def test_logging_a_contact_from_the_page_with_a_follow_up(cm, web_as, case):
    due = local(clock.now() + dt.timedelta(days=1))
    r = web_as(cm).post(
        f"/cases/{case.pk}/communications/new",
        form_data(**{"contact-follow_up_title": "Confirm son's schedule", "contact-follow_up_due_at": due}),
    )
    assert r.status_code == 302 and r["Location"].endswith(f"/cases/{case.pk}/#communications")
    c = Communication.objects.get()
    assert c.follow_up_task == Task.objects.get(title="Confirm son's schedule")
    assert [p.name for p in c.parties.all()] == ["Luis Rivera"]


@pytest.mark.parametrize(
    ("overrides", "field", "message"),
    [
        ({"contact-summary": ""}, "contact-summary", "This field is required."),
        ({"contact-party_name": ""}, "contact-party_name", "This field is required."),
        ({"contact-occurred_at": "2999-01-01T10:00"}, "contact-occurred_at", "cannot be in the future"),
        ({"contact-follow_up_due_at": "2999-01-01T10:00"}, "contact-follow_up_title", "name the follow-up task"),
    ],
)
def test_a_bad_contact_shows_the_error_on_its_field_and_saves_nothing(cm, web_as, case, overrides, field, message):
    r = web_as(cm).post(f"/cases/{case.pk}/communications/new", form_data(**overrides))
    assert r.status_code == 422
    html = r.content.decode()
    assert f'id="id_{field}_error"' in html and message in html
    assert Communication.objects.count() == 0 and Task.objects.count() == 0


def test_uploading_from_the_case_page(cm, web_as, case, media):
    f = SimpleUploadedFile("consent.pdf", PDF, content_type="application/pdf")
    r = web_as(cm).post(f"/cases/{case.pk}/documents/new", {"doc-document_type": "consent", "doc-file": f})
    assert r.status_code == 302
    assert Document.objects.get().document_type == "consent"


def test_a_refused_upload_says_why_on_the_file_field_and_saves_nothing(cm, web_as, case, media):
    f = SimpleUploadedFile("consent.pdf", b"\x89PNG\r\n\x1a\n0000", content_type="application/pdf")
    r = web_as(cm).post(f"/cases/{case.pk}/documents/new", {"doc-document_type": "consent", "doc-file": f})
    assert r.status_code == 422
    html = r.content.decode()
    assert 'id="id_doc-file_error"' in html and "content does not match" in html
    assert Document.objects.count() == 0
    assert not media.exists() or not any(p.is_file() for p in media.rglob("*"))


def test_patient_documents_page_lists_and_accepts_patient_level_documents(cm, web_as, case, media):
    client = web_as(cm)
    f = SimpleUploadedFile("ad.pdf", PDF, content_type="application/pdf")
    r = client.post(
        f"/patients/{case.patient_id}/documents/",
        {"doc-document_type": "advance_directive", "doc-title": "POLST", "doc-file": f},
    )
    assert r.status_code == 302
    doc = Document.objects.get()
    assert doc.case_id is None
    assert "POLST" in client.get(f"/patients/{case.patient_id}/documents/").content.decode()


def test_download_streams_an_attachment_and_is_audited(cm, web_as, case, media):
    doc = document_upload(
        actor=cm,
        upload=SimpleUploadedFile("ds.pdf", PDF, content_type="application/pdf"),
        document_type="discharge_summary",
        case_id=case.pk,
    )
    r = web_as(cm).get(f"/documents/{doc.pk}/download")
    assert r.status_code == 200
    assert r["Content-Disposition"] == 'attachment; filename="ds.pdf"'
    assert b"".join(r.streaming_content) == PDF
    assert AuditEvent.objects.filter(action="document.export", object_id=str(doc.pk), user_id=cm.user_id).count() == 1


def test_other_organizations_get_404_on_every_page(cm, outsider, web_as, case, media):
    doc = document_upload(
        actor=cm,
        upload=SimpleUploadedFile("ds.pdf", PDF, content_type="application/pdf"),
        document_type="discharge_summary",
        case_id=case.pk,
    )
    client = web_as(outsider)
    assert client.get(f"/documents/{doc.pk}/download").status_code == 404
    assert client.get(f"/patients/{case.patient_id}/documents/").status_code == 404
    assert client.post(f"/cases/{case.pk}/communications/new", form_data()).status_code == 404
    f = SimpleUploadedFile("x.pdf", PDF, content_type="application/pdf")
    assert (
        client.post(f"/cases/{case.pk}/documents/new", {"doc-document_type": "other", "doc-file": f}).status_code == 404
    )
    assert Communication.objects.count() == 0 and Document.objects.count() == 1
