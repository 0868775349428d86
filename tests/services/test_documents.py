import hashlib
import io
import zipfile

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import override_settings

from casebridge.audit.models import AuditEvent
from casebridge.cases.services import case_open
from casebridge.cases.timeline import case_timeline
from casebridge.communications.errors import FileTooLarge, UnsupportedFileType
from casebridge.communications.models import Document
from casebridge.communications.selectors import (
    document_export,
    document_get,
    document_list_for_case,
    document_list_for_patient,
)
from casebridge.communications.services import document_upload
from casebridge.kernel.errors import NotFound, ValidationFailed

PDF = b"%PDF-1.4\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 32
TIFF = b"II*\x00\x08\x00\x00\x00" + b"\x00" * 32


def docx() -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("[Content_Types].xml", "<Types/>")
        z.writestr("word/document.xml", "<w:document/>")
    return buf.getvalue()


@pytest.fixture
def media(tmp_path):
    root = tmp_path / "media"
    with override_settings(MEDIA_ROOT=str(root)):
        yield root


def files_in(root):
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


@pytest.fixture
def case(cm, patient):
    return case_open(actor=cm, patient_id=patient.pk, case_type="hospital_stay")


def upload(actor, content, name="summary.pdf", content_type="application/pdf", **kw):
    kw.setdefault("document_type", "discharge_summary")
    return document_upload(actor=actor, upload=SimpleUploadedFile(name, content, content_type=content_type), **kw)


@pytest.mark.parametrize(
    ("content", "name", "content_type"),
    [
        (PDF, "summary.pdf", "application/pdf"),
        (PNG, "card.png", "image/png"),
        (JPEG, "card.jpg", "image/jpeg"),
        (TIFF, "fax.tif", "image/tiff"),
        ("Nota: paciente prefiere español.\n".encode(), "note.txt", "text/plain"),
        (docx(), "plan.docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ],
)
def test_each_allowed_type_is_stored_with_its_checksum(cm, case, media, content, name, content_type):
    doc = upload(cm, content, name=name, content_type=content_type, case_id=case.pk, title="Scan")
    doc.refresh_from_db()
    assert (doc.case_id, doc.patient_id, doc.content_type, doc.size) == (
        case.pk,
        case.patient_id,
        content_type,
        len(content),
    )
    assert doc.sha256 == hashlib.sha256(content).hexdigest()
    assert doc.original_name == name
    stored = files_in(media)
    assert len(stored) == 1 and stored[0].read_bytes() == content
    assert name not in stored[0].name  # the client's file name never becomes a path
    event = AuditEvent.objects.get(action="document.upload")
    assert event.patient_id == case.patient_id and event.detail["sha256"] == doc.sha256


def test_title_defaults_to_the_file_name(cm, case, media):
    assert upload(cm, PDF, name="Discharge summary.pdf", case_id=case.pk).title == "Discharge summary.pdf"


def test_a_document_can_be_filed_on_the_patient_alone(cm, patient, media):
    doc = upload(cm, PDF, patient_id=patient.pk, document_type="advance_directive")
    assert doc.case_id is None and doc.patient_id == patient.pk


def assert_nothing_saved(media):
    assert Document.objects.count() == 0
    assert files_in(media) == []
    assert not AuditEvent.objects.filter(action="document.upload").exists()


def test_a_type_outside_the_allow_list_is_refused_saying_so(cm, case, media):
    with pytest.raises(UnsupportedFileType) as err:
        upload(cm, b"GIF89a" + b"\x00" * 20, name="x.gif", content_type="image/gif", case_id=case.pk)
    assert err.value.status == 415
    assert err.value.field_errors["file"][0].startswith("type not allowed: image/gif is not accepted")
    assert_nothing_saved(media)


@override_settings(DOCUMENT_MAX_BYTES=1024 * 1024)
def test_an_oversize_file_is_refused_with_its_size_and_the_limit(cm, case, media):
    big = PDF + b"0" * (int(1.5 * 1024 * 1024) - len(PDF))
    with pytest.raises(FileTooLarge) as err:
        upload(cm, big, case_id=case.pk)
    assert err.value.status == 413
    assert err.value.field_errors["file"] == ["too large: the file is 1.5 MB, 0.50 MB over the 1 MB limit"]
    assert_nothing_saved(media)


@pytest.mark.parametrize(
    ("content", "name", "content_type", "says"),
    [
        (PNG, "summary.pdf", "application/pdf", "declared PDF, but the file's content is PNG"),
        (b"MZ\x90\x00 an executable", "summary.pdf", "application/pdf", "not recognisable"),
        (PDF, "note.txt", "text/plain", "declared plain text, but the file's content is PDF"),
        (b"caf\xe9 au lait", "note.txt", "text/plain", "declared plain text"),
        (JPEG, "card.png", "image/png", "content is JPEG"),
    ],
)
def test_content_that_does_not_match_its_declared_type_is_refused(cm, case, media, content, name, content_type, says):
    with pytest.raises(UnsupportedFileType) as err:
        upload(cm, content, name=name, content_type=content_type, case_id=case.pk)
    reason = err.value.field_errors["file"][0]
    assert reason.startswith("content does not match") and says in reason
    assert_nothing_saved(media)


def test_a_plain_zip_is_not_accepted_as_a_docx(cm, case, media):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        z.writestr("evil.sh", "rm -rf /")
    with pytest.raises(UnsupportedFileType):
        upload(
            cm,
            buf.getvalue(),
            name="plan.docx",
            content_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            case_id=case.pk,
        )
    assert_nothing_saved(media)


@pytest.mark.parametrize(
    ("kw", "field"),
    [
        ({"document_type": "selfie"}, "document_type"),
        ({"title": "x" * 201}, "title"),
        ({"case_id": None}, "case_id"),
    ],
)
def test_bad_fields_are_refused_naming_the_field(cm, case, media, kw, field):
    with pytest.raises(ValidationFailed) as err:
        upload(cm, PDF, **{"case_id": case.pk, **kw})
    assert field in err.value.field_errors
    assert_nothing_saved(media)


def test_an_empty_file_is_refused(cm, case, media):
    with pytest.raises(ValidationFailed) as err:
        upload(cm, b"", case_id=case.pk)
    assert err.value.field_errors == {"file": ["the file is empty"]}
    assert_nothing_saved(media)


def test_if_saving_the_row_fails_the_written_file_is_removed(cm, case, media, monkeypatch):
    import casebridge.communications.services as services

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "audit_record", boom)
    with pytest.raises(RuntimeError):
        upload(cm, PDF, case_id=case.pk)
    assert_nothing_saved(media)


def test_another_organization_cannot_upload_to_the_case_or_patient(outsider, case, patient, media):
    with pytest.raises(NotFound):
        upload(outsider, PDF, case_id=case.pk)
    with pytest.raises(NotFound):
        upload(outsider, PDF, patient_id=patient.pk)
    assert_nothing_saved(media)


def test_reads_are_scoped_and_audited(cm, outsider, case, media):
    doc = upload(cm, PDF, case_id=case.pk)
    assert list(document_list_for_case(actor=cm, case_id=case.pk)) == [doc]
    assert list(document_list_for_patient(actor=cm, patient_id=case.patient_id)) == [doc]
    assert document_get(actor=cm, document_id=doc.pk) == doc
    assert AuditEvent.objects.filter(action="document.read", object_id=str(doc.pk)).count() == 1
    assert document_export(actor=cm, document_id=doc.pk) == doc
    export = AuditEvent.objects.get(action="document.export")
    assert (export.patient_id, export.object_id, export.user_id) == (case.patient_id, str(doc.pk), cm.user_id)
    for read in (
        lambda: document_get(actor=outsider, document_id=doc.pk),
        lambda: document_export(actor=outsider, document_id=doc.pk),
        lambda: document_list_for_case(actor=outsider, case_id=case.pk),
        lambda: document_list_for_patient(actor=outsider, patient_id=case.patient_id),
    ):
        with pytest.raises(NotFound):
            read()
    assert not AuditEvent.objects.filter(user_id=outsider.user_id, action__startswith="document.").exists()


def test_documents_appear_on_the_case_timeline(cm, case, media):
    upload(cm, PDF, case_id=case.pk, title="Discharge summary 3/10")
    assert [e.text for e in case_timeline(case) if e.kind == "document"] == [
        "Discharge summary added: Discharge summary 3/10"
    ]
