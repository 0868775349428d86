"""REST API for the provider directory, patient choice lists and referrals.

A referral is visible to the hospital that sent it and, while it is open (or once it took the patient on),
to the organization it was sent to; anyone else gets 404. The receiver sees the packet only: the hospital's
case and patient ids are left out of what it reads.
"""

import datetime as dt
from typing import Annotated, Any

from django.http import HttpRequest
from ninja import Field, Path, Query, Router, Schema, Status
from ninja.pagination import paginate

from casebridge.api.base import actor_of
from casebridge.api.pagination import BoundedLimitOffsetPagination, PatientAuditedPagination
from casebridge.api.types import MAX_ID, IdItem
from casebridge.kernel import clock
from casebridge.kernel.errors import ValidationFailed
from casebridge.postacute import selectors, services
from casebridge.postacute.lifecycle import ReferralStatus
from casebridge.postacute.models import ChoiceList, FinancialInterest, NetworkParticipation, Provider, Referral
from casebridge.postacute.vocabulary import (
    DECLINE_REASONS,
    MANAGED_CARE_NOTE,
    PRIORITIES,
    PROVIDER_TYPE_LABELS,
    SERVICES,
    PacketSection,
)

router = Router(tags=["post-acute"])

TYPE_PATTERN = "^(" + "|".join(PROVIDER_TYPE_LABELS) + ")$"
SERVICE_PATTERN = "^(" + "|".join(SERVICES) + ")$"
ZIP_PATTERN = r"^[0-9]{5}$"  # not \d: pydantic's regular expressions match every Unicode digit with it
SECTION_PATTERN = "^(" + "|".join(s.value for s in PacketSection) + ")$"
PRIORITY_PATTERN = "^(" + "|".join(PRIORITIES) + ")$"
DECLINE_PATTERN = "^(" + "|".join(DECLINE_REASONS) + ")$"
STATUS_PATTERN = "^(" + "|".join(s.value for s in ReferralStatus) + ")$"

Id = Path(..., ge=1, le=MAX_ID)


# --- directory -------------------------------------------------------------------------------------------


class NetworkOut(Schema):
    id: int
    insurer_id: int | None
    payer_name: str
    plan_name: str


class ProviderOut(Schema):
    id: int
    organization_id: int | None
    on_platform: bool
    name: str
    provider_type: str
    services: list[str]
    zip_codes_served: list[str]
    address_line: str
    city: str
    state: str
    postal_code: str
    phone: str
    fax: str
    npi: str
    ccn: str
    medicare_participating: bool
    star_rating: int | None
    capacity: int | None
    accepting: bool
    status_updated_at: dt.datetime | None
    active: bool
    networks: list[NetworkOut]
    financial_interest: str | None = Field(None, description="Your hospital's financial interest, when recorded")
    version: int

    @staticmethod
    def resolve_networks(obj: Provider) -> list[NetworkParticipation]:
        return list(obj.networks.all())

    @staticmethod
    def resolve_financial_interest(obj: Provider, context: Any) -> str | None:
        actor = context["request"].auth
        fi = FinancialInterest.objects.filter(hospital_id=actor.organization_id, provider=obj).first()
        return fi.description if fi else None


class ProviderFilters(Schema):
    provider_type: str | None = Field(None, pattern=TYPE_PATTERN)
    service: str | None = Field(None, pattern=SERVICE_PATTERN)
    zip_code: str | None = Field(None, pattern=ZIP_PATTERN)


@router.get("/directory/providers", response=list[ProviderOut])
@paginate(BoundedLimitOffsetPagination)
def providers(request: HttpRequest, filters: Query[ProviderFilters]) -> object:
    f = filters.dict()
    return selectors.provider_list(
        actor=actor_of(request),
        provider_type=f["provider_type"] or "",
        service=f["service"] or "",
        zip_code=f["zip_code"] or "",
    )


class ProviderIn(Schema):
    organization_id: int | None = Field(None, ge=1, le=MAX_ID, description="An organization on the platform")
    name: str = Field("", max_length=200)
    provider_type: str = Field(pattern=TYPE_PATTERN)
    services: list[str] = Field(default_factory=list, max_length=len(SERVICES))
    zip_codes_served: list[str] = Field(default_factory=list, max_length=2000)
    address_line: str = Field("", max_length=200)
    city: str = Field("", max_length=100)
    state: str = Field("", max_length=2)
    postal_code: str = Field("", max_length=10)
    phone: str = Field("", max_length=32)
    fax: str = Field("", max_length=32)
    npi: str = Field("", max_length=10)
    ccn: str = Field("", max_length=10)
    medicare_participating: bool = True
    star_rating: int | None = Field(None, ge=1, le=5)
    capacity: int | None = Field(None, ge=0, le=100000)
    accepting: bool = True


@router.post("/directory/providers", response={201: ProviderOut})
def provider_create(request: HttpRequest, payload: ProviderIn) -> Status[Provider]:
    data = payload.dict()
    if data["organization_id"] is None and not data["name"].strip():
        raise ValidationFailed.on("name", "is required for a provider outside the platform")
    return Status(201, services.provider_create(actor=actor_of(request), **data))


@router.get("/directory/providers/{provider_id}", response=ProviderOut)
def provider_read(request: HttpRequest, provider_id: int = Id) -> Provider:
    return selectors.provider_get(actor=actor_of(request), provider_id=provider_id)


class ProviderPatch(Schema):
    version: int | None = Field(None, ge=1, le=MAX_ID)
    name: str | None = Field(None, min_length=1, max_length=200)
    services: list[str] | None = Field(None, max_length=len(SERVICES))
    zip_codes_served: list[str] | None = Field(None, max_length=2000)
    address_line: str | None = Field(None, max_length=200)
    city: str | None = Field(None, max_length=100)
    state: str | None = Field(None, max_length=2)
    postal_code: str | None = Field(None, max_length=10)
    phone: str | None = Field(None, max_length=32)
    fax: str | None = Field(None, max_length=32)
    medicare_participating: bool | None = None
    star_rating: int | None = Field(None, ge=1, le=5)
    capacity: int | None = Field(None, ge=0, le=100000)
    accepting: bool | None = None
    active: bool | None = None


@router.patch("/directory/providers/{provider_id}", response=ProviderOut)
def provider_update(request: HttpRequest, payload: ProviderPatch, provider_id: int = Id) -> Provider:
    changes = payload.dict(exclude_unset=True)
    version = changes.pop("version", None)
    return services.provider_update(actor=actor_of(request), provider_id=provider_id, version=version, **changes)


class StatusIn(Schema):
    accepting: bool
    capacity: int | None = Field(None, ge=0, le=100000)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/directory/providers/{provider_id}/status", response=ProviderOut)
def provider_status(request: HttpRequest, payload: StatusIn, provider_id: int = Id) -> Provider:
    return services.provider_status_update(actor=actor_of(request), provider_id=provider_id, **payload.dict())


class NetworkIn(Schema):
    insurer_id: int | None = Field(None, ge=1, le=MAX_ID)
    payer_name: str = Field("", max_length=200)
    plan_name: str = Field("", max_length=200)


@router.post("/directory/providers/{provider_id}/networks", response={201: NetworkOut})
def network_add(request: HttpRequest, payload: NetworkIn, provider_id: int = Id) -> Status[NetworkParticipation]:
    return Status(201, services.network_add(actor=actor_of(request), provider_id=provider_id, **payload.dict()))


@router.delete("/directory/networks/{network_id}", response={204: None})
def network_remove(request: HttpRequest, network_id: int = Id) -> Status[None]:
    services.network_remove(actor=actor_of(request), network_id=network_id)
    return Status(204, None)


class InterestIn(Schema):
    description: str = Field(min_length=1, max_length=300)


class InterestOut(Schema):
    provider_id: int
    description: str
    recorded_at: dt.datetime


@router.put("/directory/providers/{provider_id}/financial-interest", response=InterestOut)
def financial_interest_set(request: HttpRequest, payload: InterestIn, provider_id: int = Id) -> FinancialInterest:
    return services.financial_interest_set(
        actor=actor_of(request), provider_id=provider_id, description=payload.description
    )


@router.delete("/directory/providers/{provider_id}/financial-interest", response={204: None})
def financial_interest_clear(request: HttpRequest, provider_id: int = Id) -> Status[None]:
    services.financial_interest_clear(actor=actor_of(request), provider_id=provider_id)
    return Status(204, None)


# --- choice lists ----------------------------------------------------------------------------------------


class EntryOut(Schema):
    provider_id: int
    position: int
    name: str
    location: str
    phone: str
    network_status: str
    medicare_participating: bool
    star_rating: int | None
    accepting: bool
    capacity: int | None
    financial_interest: str
    patient_rank: int | None


class ChoiceListOut(Schema):
    id: int
    case_id: int
    provider_type: str
    service: str
    area_zips: list[str]
    priorities: list[str]
    payer_name: str
    plan_name: str
    managed_care: bool
    managed_care_note: str
    eligibility: dict[str, Any]
    created_at: dt.datetime
    presented_at: dt.datetime | None
    presented_by_id: int | None
    presented_to: str
    representative_name: str
    entries: list[EntryOut]

    @staticmethod
    def resolve_entries(obj: ChoiceList) -> list[Any]:
        return list(obj.entries.all())

    @staticmethod
    def resolve_managed_care_note(obj: ChoiceList) -> str:
        return MANAGED_CARE_NOTE if obj.managed_care else ""


MinutesInADay = Annotated[int, Field(ge=0, le=24 * 60)]


class EligibilityIn(Schema):
    inpatient_admitted_on: dt.date | None = None
    discharge_on: dt.date | None = None
    observation_started_on: dt.date | None = None
    therapy_minutes_by_day: list[MinutesInADay] | None = Field(None, min_length=7, max_length=7)
    therapy_disciplines: list[str] | None = Field(None, max_length=4)


class ChoiceListIn(Schema):
    provider_type: str = Field(pattern=TYPE_PATTERN)
    service: str = Field("", pattern="^$|" + SERVICE_PATTERN)
    area_zips: list[str] = Field(default_factory=list, max_length=50)
    priorities: list[str] | None = Field(None, max_length=len(PRIORITIES))
    managed_care: bool | None = None
    eligibility: EligibilityIn | None = None


@router.post("/cases/{case_id}/choice-lists", response={201: ChoiceListOut})
def choice_list_build(request: HttpRequest, payload: ChoiceListIn, case_id: int = Id) -> Status[ChoiceList]:
    data = payload.dict()
    eligibility = data.pop("eligibility") or {}
    cl = services.choice_list_build(actor=actor_of(request), case_id=case_id, eligibility_inputs=eligibility, **data)
    return Status(201, cl)


@router.get("/choice-lists/{choice_list_id}", response=ChoiceListOut)
def choice_list_read(request: HttpRequest, choice_list_id: int = Id) -> ChoiceList:
    return selectors.choice_list_get(actor=actor_of(request), choice_list_id=choice_list_id)


class PresentIn(Schema):
    presented_to: str = Field(pattern="^(patient|representative)$")
    representative_name: str = Field("", max_length=200)
    ranked_provider_ids: list[IdItem] = Field(default_factory=list, max_length=200)
    note: str = Field("", max_length=500)


@router.post("/choice-lists/{choice_list_id}/present", response=ChoiceListOut)
def choice_list_present(request: HttpRequest, payload: PresentIn, choice_list_id: int = Id) -> ChoiceList:
    return services.choice_list_present(actor=actor_of(request), choice_list_id=choice_list_id, **payload.dict())


# --- referrals -------------------------------------------------------------------------------------------


class ReferralOut(Schema):
    id: int
    direction: str
    referring_organization_id: int
    referring_organization: str
    provider_id: int
    provider_name: str
    receiving_organization_id: int | None
    case_id: int | None = Field(None, description="The hospital's case; only the sender sees it")
    patient_id: int | None = Field(None, description="The hospital's patient; only the sender sees it")
    provider_type: str
    service: str
    status: str
    sections: list[str]
    packet: dict[str, Any]
    sent_at: dt.datetime
    response_due_at: dt.datetime
    overdue: bool
    responded_at: dt.datetime | None
    decline_reason: str
    response_note: str
    response_recorded_manually: bool
    response_contact: str
    proposed_start_on: dt.date | None
    patient_agreed_at: dt.datetime | None
    start_of_service_on: dt.date | None
    home_health_case_id: int | None
    version: int

    @staticmethod
    def _sender(obj: Referral, context: Any) -> bool:
        return bool(obj.organization_id == context["request"].auth.organization_id)

    @staticmethod
    def resolve_direction(obj: Referral, context: Any) -> str:
        return "outgoing" if ReferralOut._sender(obj, context) else "incoming"

    @staticmethod
    def resolve_referring_organization_id(obj: Referral) -> int:
        return obj.organization_id

    @staticmethod
    def resolve_referring_organization(obj: Referral) -> str:
        return obj.organization.name

    @staticmethod
    def resolve_provider_name(obj: Referral) -> str:
        return obj.provider.name

    @staticmethod
    def resolve_case_id(obj: Referral, context: Any) -> int | None:
        return obj.case_id if ReferralOut._sender(obj, context) else None

    @staticmethod
    def resolve_patient_id(obj: Referral, context: Any) -> int | None:
        return obj.patient_id if ReferralOut._sender(obj, context) else None

    @staticmethod
    def resolve_overdue(obj: Referral) -> bool:
        return obj.status == ReferralStatus.REQUESTED and obj.response_due_at <= clock.now()


class ReferralFilters(Schema):
    direction: str = Field("outgoing", pattern="^(incoming|outgoing)$")
    status: str | None = Field(None, pattern=STATUS_PATTERN)
    case_id: int | None = Field(None, ge=1, le=MAX_ID)


@router.get("/referrals", response=list[ReferralOut])
@paginate(PatientAuditedPagination, audit_action="referral.list")
def referrals(request: HttpRequest, filters: Query[ReferralFilters]) -> object:
    f = filters.dict()
    return selectors.referral_list(
        actor=actor_of(request), direction=f["direction"], status=f["status"] or "", case_id=f["case_id"]
    )


class ReferralIn(Schema):
    provider_ids: list[IdItem] = Field(min_length=1, max_length=20)
    provider_type: str = Field(pattern=TYPE_PATTERN)
    service: str = Field("", pattern="^$|" + SERVICE_PATTERN)
    sections: list[str] = Field(default_factory=lambda: ["demographics"], max_length=len(PacketSection))
    note: str = Field("", max_length=4000)
    choice_list_id: int | None = Field(None, ge=1, le=MAX_ID)
    response_hours: int | None = Field(None, ge=1, le=services.MAX_RESPONSE_HOURS)
    requested_start_on: dt.date | None = None


@router.post("/cases/{case_id}/referrals", response={201: list[ReferralOut]})
def referral_send(request: HttpRequest, payload: ReferralIn, case_id: int = Id) -> Status[list[Referral]]:
    return Status(201, services.referral_send(actor=actor_of(request), case_id=case_id, **payload.dict()))


@router.get("/referrals/{referral_id}", response=ReferralOut)
def referral_read(request: HttpRequest, referral_id: int = Id) -> Referral:
    return selectors.referral_get(actor=actor_of(request), referral_id=referral_id)


class AcceptIn(Schema):
    proposed_start_on: dt.date | None = None
    note: str = Field("", max_length=500)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/referrals/{referral_id}/accept", response=ReferralOut)
def referral_accept(request: HttpRequest, payload: AcceptIn, referral_id: int = Id) -> Referral:
    return services.referral_accept(actor=actor_of(request), referral_id=referral_id, **payload.dict())


class DeclineIn(Schema):
    reason_code: str = Field(pattern=DECLINE_PATTERN)
    note: str = Field("", max_length=500)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/referrals/{referral_id}/decline", response=ReferralOut)
def referral_decline(request: HttpRequest, payload: DeclineIn, referral_id: int = Id) -> Referral:
    return services.referral_decline(actor=actor_of(request), referral_id=referral_id, **payload.dict())


class ResponseIn(Schema):
    accepted: bool
    contact_name: str = Field(min_length=1, max_length=200)
    reason_code: str = Field("", pattern="^$|" + DECLINE_PATTERN)
    note: str = Field("", max_length=500)
    proposed_start_on: dt.date | None = None
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/referrals/{referral_id}/response", response=ReferralOut)
def referral_response_record(request: HttpRequest, payload: ResponseIn, referral_id: int = Id) -> Referral:
    return services.referral_response_record(actor=actor_of(request), referral_id=referral_id, **payload.dict())


class AgreementIn(Schema):
    start_of_service_on: dt.date
    note: str = Field("", max_length=300)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/referrals/{referral_id}/agreement", response=ReferralOut)
def referral_agreement(request: HttpRequest, payload: AgreementIn, referral_id: int = Id) -> Referral:
    return services.referral_agreement_record(actor=actor_of(request), referral_id=referral_id, **payload.dict())


class WithdrawIn(Schema):
    reason: str = Field(min_length=1, max_length=300)
    version: int | None = Field(None, ge=1, le=MAX_ID)


@router.post("/referrals/{referral_id}/withdraw", response=ReferralOut)
def referral_withdraw(request: HttpRequest, payload: WithdrawIn, referral_id: int = Id) -> Referral:
    return services.referral_withdraw(actor=actor_of(request), referral_id=referral_id, **payload.dict())
