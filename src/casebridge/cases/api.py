import datetime as dt

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from casebridge.api.base import actor_of
from casebridge.api.pagination import PatientAuditedPagination
from casebridge.api.types import MAX_ID
from casebridge.cases import services
from casebridge.cases.domain import CaseStatus
from casebridge.cases.models import CareTeamMember, Case, CaseType
from casebridge.cases.selectors import care_team_of, case_get, case_list

router = Router(tags=["cases"])

STATUS_PATTERN = "^(" + "|".join(s.value for s in CaseStatus) + ")$"
TYPE_PATTERN = "^(" + "|".join(CaseType.values) + ")$"


class Coding(Schema):
    system: str = Field("http://hl7.org/fhir/sid/icd-10-cm", max_length=200)
    code: str = Field(min_length=1, max_length=32)
    display: str = Field("", max_length=300)


class CareTeamMemberOut(Schema):
    id: int
    organization_id: int
    user_id: int | None
    name: str
    role: str
    active: bool


class CaseOut(Schema):
    id: int
    organization_id: int
    patient_id: int
    case_type: str
    status: str
    fhir_status: str
    assigned_to_id: int | None
    reason: str
    diagnoses: list[Coding]
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closure_reason: str
    version: int


class CaseDetail(CaseOut):
    care_team: list[CareTeamMemberOut]

    @staticmethod
    def resolve_care_team(obj: Case) -> list[CareTeamMember]:
        return list(care_team_of(obj))


class CaseFilters(Schema):
    status: str | None = Field(None, pattern=STATUS_PATTERN)
    case_type: str | None = Field(None, pattern=TYPE_PATTERN)
    assigned_to_id: int | None = Field(None, ge=1, le=MAX_ID)
    patient_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get("", response=list[CaseOut])
@paginate(PatientAuditedPagination, audit_action="case.list")
def cases(request: HttpRequest, filters: Query[CaseFilters]) -> object:
    return case_list(actor=actor_of(request), **filters.dict())


class CaseIn(Schema):
    patient_id: int = Field(ge=1, le=MAX_ID)
    case_type: str = Field(pattern=TYPE_PATTERN)
    reason: str = Field("", max_length=300)
    diagnoses: list[Coding] = Field(default_factory=list, max_length=50)
    assigned_to_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("", response={201: CaseDetail})
def case_open(request: HttpRequest, payload: CaseIn) -> Status[Case]:
    return Status(201, services.case_open(actor=actor_of(request), **payload.dict()))


@router.get("/{case_id}", response=CaseDetail)
def case_read(request: HttpRequest, case_id: int = Path(..., ge=1, le=MAX_ID)) -> Case:
    return case_get(actor=actor_of(request), case_id=case_id)


class CasePatch(Schema):
    version: int = Field(ge=1, le=MAX_ID, description="The version you read; a stale one gets 409")
    reason: str | None = Field(None, max_length=300)
    diagnoses: list[Coding] | None = Field(None, max_length=50)


@router.patch("/{case_id}", response=CaseDetail)
def case_update(request: HttpRequest, payload: CasePatch, case_id: int = Path(..., ge=1, le=MAX_ID)) -> Case:
    changes = payload.dict(exclude_unset=True, exclude_none=True)
    version = changes.pop("version")
    return services.case_update(actor=actor_of(request), case_id=case_id, version=version, **changes)


class CaseTransitionIn(Schema):
    status: str = Field(pattern=STATUS_PATTERN)
    reason: str = Field("", max_length=300)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/{case_id}/transition", response=CaseDetail)
def case_transition(request: HttpRequest, payload: CaseTransitionIn, case_id: int = Path(..., ge=1, le=MAX_ID)) -> Case:
    return services.case_transition(
        actor=actor_of(request),
        case_id=case_id,
        to_status=payload.status,
        reason=payload.reason,
        version=payload.version,
    )


class AssignIn(Schema):
    user_id: int = Field(ge=1, le=MAX_ID)


@router.post("/{case_id}/assign", response=CaseDetail)
def case_assign(request: HttpRequest, payload: AssignIn, case_id: int = Path(..., ge=1, le=MAX_ID)) -> Case:
    return services.case_assign(actor=actor_of(request), case_id=case_id, user_id=payload.user_id)


class CareTeamIn(Schema):
    role: str = Field(min_length=1, max_length=100)
    organization_id: int | None = Field(None, ge=1, le=MAX_ID)
    user_id: int | None = Field(None, ge=1, le=MAX_ID)
    name: str = Field("", max_length=200)
    phone: str = Field("", max_length=32)


@router.post("/{case_id}/care-team", response={201: CareTeamMemberOut})
def careteam_add(
    request: HttpRequest, payload: CareTeamIn, case_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[CareTeamMember]:
    return Status(201, services.careteam_add(actor=actor_of(request), case_id=case_id, **payload.dict()))


@router.delete("/{case_id}/care-team/{member_id}", response={204: None})
def careteam_end(
    request: HttpRequest, case_id: int = Path(..., ge=1, le=MAX_ID), member_id: int = Path(..., ge=1, le=MAX_ID)
) -> Status[None]:
    services.careteam_end(actor=actor_of(request), case_id=case_id, member_id=member_id)
    return Status(204, None)
