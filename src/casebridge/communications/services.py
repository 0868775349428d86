"""Writes: logging a contact (with its follow-up task) and filing a document."""

from __future__ import annotations

import datetime as dt
import hashlib
import uuid
from collections.abc import Mapping, Sequence
from pathlib import PurePath
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.selectors import cases_owned
from casebridge.communications import filetypes
from casebridge.communications.errors import FileTooLarge, UnsupportedFileType
from casebridge.communications.models import (
    Channel,
    Communication,
    CommunicationParty,
    Direction,
    Document,
    DocumentType,
    PartyKind,
)
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound, ValidationFailed
from casebridge.kernel.validation import validate_model
from casebridge.patients.selectors import patients_owned
from casebridge.tasks.services import task_create

MAX_PARTIES = 20
SUMMARY_MAX = 5000


def _choice(value: str, choices: type, field: str) -> str:
    if value not in choices.values:  # type: ignore[attr-defined]
        raise ValidationFailed.on(field, f"must be one of {', '.join(choices.values)}")  # type: ignore[attr-defined]
    return value


def _aware(value: dt.datetime, field: str) -> dt.datetime:
    if not isinstance(value, dt.datetime):
        raise ValidationFailed.on(field, "must be a date and time")
    return timezone.make_aware(value) if timezone.is_naive(value) else value


def _parties(parties: Sequence[Mapping[str, Any]]) -> list[CommunicationParty]:
    if not parties:
        raise ValidationFailed.on("parties", "name at least one party to the contact")
    if len(parties) > MAX_PARTIES:
        raise ValidationFailed.on("parties", f"at most {MAX_PARTIES} parties")
    out = []
    for i, p in enumerate(parties):
        kind = str(p.get("kind") or "")
        if kind not in PartyKind.values:
            raise ValidationFailed.on(f"parties[{i}].kind", f"must be one of {', '.join(PartyKind.values)}")
        name = str(p.get("name") or "").strip()
        if not name:
            raise ValidationFailed.on(f"parties[{i}].name", "is required")
        if len(name) > 200:
            raise ValidationFailed.on(f"parties[{i}].name", "at most 200 characters")
        organization = str(p.get("organization") or "").strip()
        if len(organization) > 200:
            raise ValidationFailed.on(f"parties[{i}].organization", "at most 200 characters")
        out.append(CommunicationParty(kind=kind, name=name, organization=organization))
    return out


FOLLOW_UP_FIELDS = {"title": "follow_up_title", "due_at": "follow_up_due_at", "owner_id": "follow_up_owner_id"}


def communication_log(
    *,
    actor: Actor,
    case_id: int,
    channel: str,
    direction: str,
    parties: Sequence[Mapping[str, Any]],
    occurred_at: dt.datetime,
    summary: str,
    outcome: str = "",
    follow_up_title: str = "",
    follow_up_due_at: dt.datetime | None = None,
    follow_up_owner_id: int | None = None,
) -> Communication:
    """Log a contact on a case. A follow-up task, if asked for, is created in the same transaction:
    if the task is refused, the contact is not logged either, so nobody believes a follow-up exists."""
    require(actor, "communication.create")
    _choice(channel, Channel, "channel")
    _choice(direction, Direction, "direction")
    occurred_at = _aware(occurred_at, "occurred_at")
    if occurred_at > clock.now():
        raise ValidationFailed.on("occurred_at", "cannot be in the future")
    summary = (summary or "").strip()
    if not summary:
        raise ValidationFailed.on("summary", "is required")
    if len(summary) > SUMMARY_MAX:
        raise ValidationFailed.on("summary", f"at most {SUMMARY_MAX} characters")
    outcome = (outcome or "").strip()
    party_rows = _parties(parties)
    follow_up_title = (follow_up_title or "").strip()
    if not follow_up_title and (follow_up_due_at is not None or follow_up_owner_id is not None):
        raise ValidationFailed.on("follow_up_title", "name the follow-up task to create one")
    if follow_up_due_at is not None:
        follow_up_due_at = _aware(follow_up_due_at, "follow_up_due_at")
    with transaction.atomic():
        case = cases_owned(actor).select_related("patient").filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"No case {case_id}.")
        communication = Communication(
            organization=actor.organization,
            case=case,
            patient=case.patient,
            channel=channel,
            direction=direction,
            occurred_at=occurred_at,
            summary=summary,
            outcome=outcome,
            logged_by=actor.user,
            logged_at=clock.now(),
        )
        validate_model(communication, exclude=["follow_up_task"])
        if follow_up_title:
            try:
                communication.follow_up_task = task_create(
                    actor=actor,
                    title=follow_up_title,
                    case_id=case.pk,
                    due_at=follow_up_due_at,
                    owner_id=follow_up_owner_id,
                    kind="follow_up",
                    description=f"Follow-up of {communication}: {summary[:200]}",
                )
            except ValidationFailed as exc:
                raise _renamed(exc) from exc
        communication.save()
        for party in party_rows:
            party.communication = communication
        CommunicationParty.objects.bulk_create(party_rows)
        audit_record(
            actor=actor,
            action="communication.log",
            subject=communication,
            patient=case.patient_id,
            detail={"channel": channel, "direction": direction, "follow_up_task": communication.follow_up_task_id},
        )
    return communication


def _renamed(exc: ValidationFailed) -> ValidationFailed:
    """The task service names its own fields; on this form they are the follow-up fields."""
    fields = {FOLLOW_UP_FIELDS.get(f, f"follow_up_{f}"): msgs for f, msgs in exc.field_errors.items()}
    detail = "; ".join(f"{f}: {' '.join(m)}" for f, m in fields.items()) or exc.detail
    return ValidationFailed(detail, field_errors=fields)


def _check_upload(upload: File) -> tuple[str, str, int]:
    """Refuse anything not on the allow-list, too large, or whose bytes are not what it claims to be.
    Returns (content type, SHA-256, size). Runs before anything is written."""
    size = upload.size or 0
    if size == 0:
        raise ValidationFailed.on("file", "the file is empty")
    limit = settings.DOCUMENT_MAX_BYTES
    if size > limit:
        raise FileTooLarge.on(
            "file",
            f"too large: the file is {filetypes.format_mb(size)} MB, {filetypes.format_mb(size - limit)} MB over "
            f"the {filetypes.format_mb(limit)} MB limit",
        )
    name = PurePath(upload.name or "").name
    declared = filetypes.declared_type(getattr(upload, "content_type", ""), name)
    if declared not in filetypes.ALLOWED:
        raise UnsupportedFileType.on(
            "file", f"type not allowed: {declared} is not accepted (allowed: {filetypes.allowed_list()})"
        )
    upload.seek(0)
    head = upload.read(filetypes.HEAD_BYTES)
    upload.seek(0)
    found = filetypes.magic_type(head)
    if declared == filetypes.TEXT:
        matches = found is None and filetypes.is_utf8_text(upload.chunks())
        upload.seek(0)
    elif declared == filetypes.DOCX:
        matches = found == "application/zip" and filetypes.is_docx(upload)
    else:
        matches = found == declared
    if not matches:
        actual = filetypes.describe(found) if found else "not recognisable as any allowed type"
        raise UnsupportedFileType.on(
            "file",
            f"content does not match: declared {filetypes.describe(declared)}, but the file's content is {actual}",
        )
    digest = hashlib.sha256()
    for chunk in upload.chunks():
        digest.update(chunk)
    upload.seek(0)
    return declared, digest.hexdigest(), size


EXTENSION_FOR = {v: k for k, v in reversed(filetypes.EXTENSIONS.items())}


def document_upload(
    *,
    actor: Actor,
    upload: File,
    document_type: str,
    title: str = "",
    case_id: int | None = None,
    patient_id: int | None = None,
) -> Document:
    """File a document on a case (and so its patient) or on a patient alone.

    Every check runs before the file is written; if saving the row fails the written file is removed,
    so a refused upload leaves nothing behind.
    """
    require(actor, "document.upload")
    _choice(document_type, DocumentType, "document_type")
    if case_id is None and patient_id is None:
        raise ValidationFailed.on("case_id", "attach the document to a case or a patient")
    original_name = PurePath(upload.name or "").name[:255] or "document"
    title = (title or "").strip() or original_name
    if len(title) > 200:
        raise ValidationFailed.on("title", "at most 200 characters")
    stored_name = ""
    try:
        with transaction.atomic():
            case = None
            if case_id is not None:
                case = cases_owned(actor).select_related("patient").filter(pk=case_id).first()
                if case is None:
                    raise NotFound(f"No case {case_id}.")
                if patient_id is not None and case.patient_id != patient_id:
                    raise ValidationFailed.on("patient_id", "is not the case's patient")
                patient = case.patient
            else:
                if patient_id is None:
                    raise ValidationFailed.on("patient_id", "attach the document to a case or a patient")
                found = patients_owned(actor).filter(pk=patient_id).first()
                if found is None:
                    raise NotFound(f"No patient {patient_id}.")
                patient = found
            content_type, sha256, size = _check_upload(upload)
            now = clock.now()
            document = Document(
                organization=actor.organization,
                patient=patient,
                case=case,
                document_type=document_type,
                title=title,
                original_name=original_name,
                content_type=content_type,
                size=size,
                sha256=sha256,
                uploaded_by=actor.user,
                uploaded_at=now,
            )
            validate_model(document, exclude=["file"])
            extension = EXTENSION_FOR[content_type]
            stored_name = default_storage.save(
                f"documents/{actor.organization_id}/{now:%Y/%m}/{uuid.uuid4().hex}{extension}", upload
            )
            document.file.name = stored_name
            document.save()
            audit_record(
                actor=actor,
                action="document.upload",
                subject=document,
                patient=patient,
                detail={"sha256": sha256, "size": size, "content_type": content_type},
            )
    except BaseException:
        # The file system is not part of the transaction: undo the write by hand.
        if stored_name:
            default_storage.delete(stored_name)
        raise
    return document
