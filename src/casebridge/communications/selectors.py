"""Reads of communications and documents, scoped to the actor's organization.

Another organization sees a case's contacts and documents only while it is on
that case's care team; documents filed on the patient alone stay with the
organization that filed them.
"""

from __future__ import annotations

from django.db.models import Q, QuerySet

from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.selectors import case_get, linked_case_ids
from casebridge.communications.models import Communication, Document
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound
from casebridge.patients.selectors import patient_get


def communications_visible(actor: Actor) -> QuerySet[Communication]:
    return Communication.objects.filter(
        Q(organization_id=actor.organization_id) | Q(case_id__in=linked_case_ids(actor))
    )


def documents_visible(actor: Actor) -> QuerySet[Document]:
    return Document.objects.filter(Q(organization_id=actor.organization_id) | Q(case_id__in=linked_case_ids(actor)))


def _with_details(qs: QuerySet[Communication]) -> QuerySet[Communication]:
    return qs.select_related("logged_by", "follow_up_task").prefetch_related("parties")


def communication_list_for_case(*, actor: Actor, case_id: int) -> QuerySet[Communication]:
    """The case's contact log, newest first."""
    case = case_get(actor=actor, case_id=case_id, audit=False)
    audit_record(actor=actor, action="communication.list", subject=case, patient=case.patient_id)
    return _with_details(communications_visible(actor).filter(case=case)).order_by("-occurred_at", "-pk")


def communication_get(*, actor: Actor, communication_id: int) -> Communication:
    require(actor, "case.view")
    communication = _with_details(communications_visible(actor)).filter(pk=communication_id).first()
    if communication is None:
        raise NotFound(f"No communication {communication_id}.")
    audit_record(actor=actor, action="communication.read", subject=communication, patient=communication.patient_id)
    return communication


def document_list_for_case(*, actor: Actor, case_id: int) -> QuerySet[Document]:
    case = case_get(actor=actor, case_id=case_id, audit=False)
    audit_record(actor=actor, action="document.list", subject=case, patient=case.patient_id)
    return documents_visible(actor).filter(case=case).select_related("uploaded_by").order_by("-uploaded_at", "-pk")


def document_list_for_patient(*, actor: Actor, patient_id: int) -> QuerySet[Document]:
    """Every visible document of the patient: those filed on the patient and those on the patient's cases."""
    patient = patient_get(actor=actor, patient_id=patient_id, audit=False)
    audit_record(actor=actor, action="document.list", subject=patient, patient=patient)
    return (
        documents_visible(actor)
        .filter(patient=patient)
        .select_related("uploaded_by", "case")
        .order_by("-uploaded_at", "-pk")
    )


def document_get(*, actor: Actor, document_id: int, audit: bool = True) -> Document:
    require(actor, "patient.view")
    document = documents_visible(actor).select_related("uploaded_by").filter(pk=document_id).first()
    if document is None:
        raise NotFound(f"No document {document_id}.")
    if audit:
        audit_record(actor=actor, action="document.read", subject=document, patient=document.patient_id)
    return document


def document_export(*, actor: Actor, document_id: int) -> Document:
    """Fetch a document for download. The file leaves CaseBridge, so this is audited as an export."""
    document = document_get(actor=actor, document_id=document_id, audit=False)
    audit_record(
        actor=actor,
        action="document.export",
        subject=document,
        patient=document.patient_id,
        detail={"sha256": document.sha256, "size": document.size},
    )
    return document
