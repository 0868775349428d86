import datetime as dt

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status

from casebridge.api.base import actor_of
from casebridge.api.types import MAX_ID
from casebridge.patients import services
from casebridge.patients.models import Contact, Coverage, Patient, PatientIdentifier
from casebridge.patients.selectors import patient_get, patient_search

router = Router(tags=["patients"])

Sex = Field("unknown", pattern="^(female|male|other|unknown)$")


class IdentifierOut(Schema):
    id: int
    kind: str
    value: str
    assigner_id: int | None


class ContactOut(Schema):
    id: int
    name: str
    relationship: str
    phone: str
    is_caregiver: bool
    able_to_give_care: bool
    availability: str
    lives_with_patient: bool
    is_emergency_contact: bool


class CoverageOut(Schema):
    id: int
    insurer_id: int | None
    payer_name: str
    plan_name: str
    member_id: str
    subscriber_name: str
    subscriber_relationship: str
    period_start: dt.date
    period_end: dt.date | None
    order: int
    active: bool


class PatientSummary(Schema):
    id: int
    family_name: str
    given_name: str
    birth_date: dt.date
    sex: str
    version: int


class PatientOut(PatientSummary):
    organization_id: int
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    language: str
    interpreter_needed: bool
    goals_in_own_words: str
    advance_directive_on_file: bool
    consent_to_share: bool
    deceased: bool
    identifiers: list[IdentifierOut]
    contacts: list[ContactOut]
    coverages: list[CoverageOut]

    @staticmethod
    def resolve_identifiers(obj: Patient) -> list[PatientIdentifier]:
        return list(obj.identifiers.all())

    @staticmethod
    def resolve_contacts(obj: Patient) -> list[Contact]:
        return list(obj.contacts.all())

    @staticmethod
    def resolve_coverages(obj: Patient) -> list[Coverage]:
        return list(obj.coverages.all())


class PatientFields(Schema):
    address_line: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=2)
    postal_code: str = Field("", max_length=10)
    phone: str = Field("", max_length=32)
    language: str = Field("English", max_length=40)
    interpreter_needed: bool = False
    goals_in_own_words: str = Field("", max_length=4000)
    advance_directive_on_file: bool = False
    consent_to_share: bool = False


class PatientIn(PatientFields):
    family_name: str = Field(min_length=1, max_length=100)
    given_name: str = Field(min_length=1, max_length=100)
    birth_date: dt.date
    sex: str = Sex
    mrn: str = Field("", max_length=64)


class PatientPatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description="The version you read; a stale one gets 409")
    family_name: str | None = Field(None, min_length=1, max_length=100)
    given_name: str | None = Field(None, min_length=1, max_length=100)
    birth_date: dt.date | None = None
    sex: str | None = Field(None, pattern="^(female|male|other|unknown)$")
    address_line: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=2)
    postal_code: str | None = Field(None, max_length=10)
    phone: str | None = Field(None, max_length=32)
    language: str | None = Field(None, max_length=40)
    interpreter_needed: bool | None = None
    goals_in_own_words: str | None = Field(None, max_length=4000)
    advance_directive_on_file: bool | None = None
    consent_to_share: bool | None = None
    deceased: bool | None = None


class SearchFilters(Schema):
    name: str = Field("", max_length=200, description="Last name, 'Last, First' or 'First Last' (prefixes)")
    birth_date: dt.date | None = None
    identifier: str = Field("", max_length=64, description="MRN, member ID or MBI")
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0, le=100000)


@router.get("", response=list[PatientSummary], summary="Search patients")
def patients(request: HttpRequest, filters: Query[SearchFilters]) -> list[Patient]:
    return patient_search(actor=actor_of(request), **filters.dict())


@router.post("", response={201: PatientOut})
def patient_create(request: HttpRequest, payload: PatientIn) -> Status[Patient]:
    return Status(201, services.patient_create(actor=actor_of(request), **payload.dict()))


@router.get("/{patient_id}", response=PatientOut)
def patient_read(request: HttpRequest, patient_id: int = Path(..., ge=1, le=MAX_ID)) -> Patient:
    return patient_get(actor=actor_of(request), patient_id=patient_id)


@router.patch("/{patient_id}", response=PatientOut)
def patient_update(
    request: HttpRequest, payload: PatientPatch, patient_id: int = Path(..., ge=1, le=MAX_ID)
) -> Patient:
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    version = changes.pop("version")
    return services.patient_update(actor=actor_of(request), patient_id=patient_id, version=version, **changes)


class IdentifierIn(Schema):
    kind: str = Field(pattern="^(mrn|member_id|mbi|other)$")
    value: str = Field(min_length=1, max_length=64)
    assigner_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/{patient_id}/identifiers", response={201: IdentifierOut})
def identifier_add(
    request: HttpRequest, payload: IdentifierIn, patient_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[PatientIdentifier]:
    return Status(201, services.identifier_add(actor=actor_of(request), patient_id=patient_id, **payload.dict()))


class ContactIn(Schema):
    name: str = Field(min_length=1, max_length=200)
    relationship: str = Field(pattern="^(spouse|child|parent|sibling|friend|guardian|poa|other)$")
    phone: str = Field("", max_length=32)
    is_caregiver: bool = False
    able_to_give_care: bool = False
    availability: str = Field("", max_length=200)
    lives_with_patient: bool = False
    is_emergency_contact: bool = False


@router.post("/{patient_id}/contacts", response={201: ContactOut})
def contact_add(
    request: HttpRequest, payload: ContactIn, patient_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Contact]:
    return Status(201, services.contact_add(actor=actor_of(request), patient_id=patient_id, **payload.dict()))


class CoverageIn(Schema):
    insurer_id: int | None = Field(
        None, ge=1, le=MAX_ID, description="The insurer's organization, when on the platform"
    )
    payer_name: str = Field("", max_length=200)
    plan_name: str = Field("", max_length=200)
    member_id: str = Field(min_length=1, max_length=64)
    subscriber_name: str = Field("", max_length=200)
    subscriber_relationship: str = Field("self", pattern="^(self|spouse|child|other)$")
    period_start: dt.date
    period_end: dt.date | None = None
    order: int = Field(1, ge=1, le=3)


@router.post("/{patient_id}/coverages", response={201: CoverageOut})
def coverage_add(
    request: HttpRequest, payload: CoverageIn, patient_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[Coverage]:
    return Status(201, services.coverage_add(actor=actor_of(request), patient_id=patient_id, **payload.dict()))
