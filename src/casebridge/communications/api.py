import datetime as dt

from django.http import FileResponse, HttpRequest
from ninja import Field, File, Form, Path, Router, Schema, Status, UploadedFile
from ninja.pagination import paginate

from casebridge.api.base import actor_of
from casebridge.api.pagination import BoundedLimitOffsetPagination
from casebridge.api.types import MAX_ID
from casebridge.communications import selectors, services
from casebridge.communications.models import Channel, Communication, Direction, Document, DocumentType, PartyKind
from casebridge.kernel.errors import NotFound

router = Router(tags=["communications"])


def _pattern(choices: type) -> str:
    return "^(" + "|".join(choices.values) + ")$"  # type: ignore[attr-defined]


class PartyIn(Schema):
    kind: str = Field(pattern=_pattern(PartyKind))
    name: str = Field(min_length=1, max_length=200)
    organization: str = Field("", max_length=200)


class FollowUpIn(Schema):
    title: str = Field(min_length=1, max_length=200)
    due_at: dt.datetime | None = None
    owner_id: int | None = Field(None, ge=1, le=MAX_ID, description="Default: you")


class CommunicationIn(Schema):
    channel: str = Field(pattern=_pattern(Channel))
    direction: str = Field(pattern=_pattern(Direction))
    parties: list[PartyIn] = Field(min_length=1, max_length=services.MAX_PARTIES)
    occurred_at: dt.datetime = Field(description="When the contact happened; not in the future")
    summary: str = Field(min_length=1, max_length=services.SUMMARY_MAX)
    outcome: str = Field("", max_length=300)
    follow_up: FollowUpIn | None = Field(None, description="Creates a follow-up task on the case")


class PartyOut(Schema):
    kind: str
    name: str
    organization: str


class CommunicationOut(Schema):
    id: int
    case_id: int
    patient_id: int
    channel: str
    direction: str
    parties: list[PartyOut]
    occurred_at: dt.datetime
    summary: str
    outcome: str
    follow_up_task_id: int | None
    logged_by_id: int | None
    logged_at: dt.datetime

    @staticmethod
    def resolve_parties(obj: Communication) -> list[object]:
        return list(obj.parties.all())


class DocumentOut(Schema):
    id: int
    patient_id: int
    case_id: int | None
    document_type: str
    title: str
    original_name: str
    content_type: str
    size: int
    sha256: str
    uploaded_by_id: int | None
    uploaded_at: dt.datetime


@router.get("/cases/{case_id}/communications", response=list[CommunicationOut])
@paginate(BoundedLimitOffsetPagination)
def communications(request: HttpRequest, case_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    """The case's contact log, newest first."""
    return selectors.communication_list_for_case(actor=actor_of(request), case_id=case_id)


@router.post("/cases/{case_id}/communications", response={201: CommunicationOut})
def communication_log(
    request: HttpRequest, payload: CommunicationIn, case_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Communication]:
    data = payload.dict()
    follow_up = data.pop("follow_up") or {}
    communication = services.communication_log(
        actor=actor_of(request),
        case_id=case_id,
        follow_up_title=follow_up.get("title", ""),
        follow_up_due_at=follow_up.get("due_at"),
        follow_up_owner_id=follow_up.get("owner_id"),
        **data,
    )
    return Status(201, communication)


@router.get("/communications/{communication_id}", response=CommunicationOut)
def communication_read(request: HttpRequest, communication_id: int = Path(..., ge=1, le=MAX_ID)) -> Communication:
    return selectors.communication_get(actor=actor_of(request), communication_id=communication_id)


DOCUMENT_TYPE_PATTERN = _pattern(DocumentType)


@router.post("/cases/{case_id}/documents", response={201: DocumentOut})
def case_document_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    case_id: int = Path(..., ge=1, le=MAX_ID),
    document_type: str = Form(..., pattern=DOCUMENT_TYPE_PATTERN),
    title: str = Form("", max_length=200),
) -> Status[Document]:
    """Attach a file to the case (multipart: ``file``, ``document_type``, ``title``).

    Accepted: PDF, PNG, JPEG, TIFF, UTF-8 plain text, DOCX, up to DOCUMENT_MAX_BYTES; the file's content
    must match its declared type. Refusals: 413 too large, 415 type not allowed or content mismatch.
    """
    document = services.document_upload(
        actor=actor_of(request), upload=file, document_type=document_type, title=title, case_id=case_id
    )
    return Status(201, document)


@router.get("/cases/{case_id}/documents", response=list[DocumentOut])
@paginate(BoundedLimitOffsetPagination)
def case_documents(request: HttpRequest, case_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    return selectors.document_list_for_case(actor=actor_of(request), case_id=case_id)


@router.post("/patients/{patient_id}/documents", response={201: DocumentOut})
def patient_document_upload(
    request: HttpRequest,
    file: File[UploadedFile],
    patient_id: int = Path(..., ge=1, le=MAX_ID),
    document_type: str = Form(..., pattern=DOCUMENT_TYPE_PATTERN),
    title: str = Form("", max_length=200),
) -> Status[Document]:
    """Attach a file to the patient, outside any case. Same rules as a case upload."""
    document = services.document_upload(
        actor=actor_of(request), upload=file, document_type=document_type, title=title, patient_id=patient_id
    )
    return Status(201, document)


@router.get("/patients/{patient_id}/documents", response=list[DocumentOut])
@paginate(BoundedLimitOffsetPagination)
def patient_documents(request: HttpRequest, patient_id: int = Path(..., ge=1, le=MAX_ID)) -> object:
    """The patient's documents: filed on the patient and on the patient's cases."""
    return selectors.document_list_for_patient(actor=actor_of(request), patient_id=patient_id)


@router.get("/documents/{document_id}", response=DocumentOut)
def document_read(request: HttpRequest, document_id: int = Path(..., ge=1, le=MAX_ID)) -> Document:
    return selectors.document_get(actor=actor_of(request), document_id=document_id)


@router.get(
    "/documents/{document_id}/content",
    response={200: None},
    openapi_extra={
        "responses": {200: {"description": "The file, as an attachment", "content": {"application/octet-stream": {}}}}
    },
)
def document_content(request: HttpRequest, document_id: int = Path(..., ge=1, le=MAX_ID)) -> FileResponse:
    document = selectors.document_export(actor=actor_of(request), document_id=document_id)
    try:
        handle = document.file.open("rb")
    except FileNotFoundError as exc:
        raise NotFound(f"The file of document {document_id} is missing from storage.") from exc
    return FileResponse(
        handle,
        as_attachment=True,
        filename=document.original_name,
        content_type=document.content_type,
    )
