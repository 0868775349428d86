import datetime as dt
from decimal import Decimal
from typing import Annotated, Any, Literal

from django.http import HttpRequest
from ninja import Field, Path, Router, Schema, Status

from casebridge.api.base import actor_of
from casebridge.api.types import MAX_ID
from casebridge.coverage import selectors as sel
from casebridge.coverage import services as cov
from casebridge.coverage.models import (
    Agreement,
    BenefitPlan,
    CareOption,
    ContractedRate,
    CoverageNeed,
    Negotiation,
    NegotiationParty,
    ProposalLine,
)

router = Router(tags=["coverage"])

MAX_CENTS = 10**12


def ID_PATH() -> Any:  # noqa: N802  (reads like the constant it stands for)
    """A positive id in the path, bounded like every API id."""
    return Path(..., ge=1, le=MAX_ID)  # type: ignore[type-arg]


CENTS = Field(ge=0, le=MAX_CENTS)


# --- benefits --------------------------------------------------------------------------------------


class BenefitTermOut(Schema):
    category: str
    network: str
    covered: bool
    deductible_applies: bool
    coinsurance: Decimal
    copay_cents: int
    unit_limit: int | None
    prior_auth_required: bool


class BenefitPlanOut(Schema):
    id: int
    code: str
    name: str
    deductible_cents: int
    oop_max_cents: int
    version: int
    terms: list[BenefitTermOut]

    @staticmethod
    def resolve_terms(obj: BenefitPlan) -> list[Any]:
        return list(obj.terms.all())


class BenefitImportIn(Schema):
    document: dict[str, Any] | None = Field(None, description="The parsed plan document (JSON)")
    text: str | None = Field(None, max_length=1_000_000, description="Or the document as YAML/JSON text")


@router.post("/benefit-plans/import", response={201: list[BenefitPlanOut]})
def benefit_plans_import(request: HttpRequest, payload: BenefitImportIn) -> Status[list[BenefitPlan]]:
    """Create or replace the insurer's plans; a bad value gets 422 naming its path, and nothing changes."""
    if payload.document is not None:
        document: object = payload.document
    else:
        document = cov.parse_benefits_text(payload.text or "")
    return Status(201, cov.benefit_plans_import(actor=actor_of(request), document=document))


@router.get("/benefit-plans", response=list[BenefitPlanOut])
def benefit_plans(request: HttpRequest) -> list[BenefitPlan]:
    from casebridge.accounts.permissions import require

    actor = actor_of(request)
    require(actor, "benefit.manage")
    return list(sel.plans_owned(actor).prefetch_related("terms"))


# --- rates -----------------------------------------------------------------------------------------


class RateIn(Schema):
    category: str = Field(max_length=40)
    basis: Literal["per_diem", "per_visit", "per_case", "fee_schedule", "percent_of_charges"]
    amount_cents: int = CENTS
    percent: Decimal | None = Field(None, ge=0, le=1)
    payer_id: int | None = Field(None, ge=1, le=MAX_ID)
    code: str = Field("", max_length=32)


class RateOut(Schema):
    id: int
    provider_id: int
    payer_id: int | None
    category: str
    basis: str
    amount_cents: int
    percent: Decimal | None
    unit_price_cents: int


@router.post("/rates", response={201: RateOut})
def rate_add(request: HttpRequest, payload: RateIn) -> Status[ContractedRate]:
    return Status(201, cov.rate_add(actor=actor_of(request), **payload.dict()))


# --- care options ----------------------------------------------------------------------------------


class CoverageNeedIn(Schema):
    description: str = Field(min_length=1, max_length=300)
    category: str = Field(max_length=40)


class CoverageNeedOut(Schema):
    id: int
    description: str
    category: str
    source: str


@router.post("/cases/{case_id}/coverage/needs", response={201: CoverageNeedOut})
def need_add(request: HttpRequest, payload: CoverageNeedIn, case_id: int = ID_PATH()) -> Status[CoverageNeed]:
    return Status(201, cov.need_add(actor=actor_of(request), case_id=case_id, **payload.dict()))


class LineIn(Schema):
    category: str = Field(max_length=40)
    units: int = Field(ge=1, le=10_000)
    unit_price_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    provider_id: int | None = Field(None, ge=1, le=MAX_ID)
    provider_name: str = Field("", max_length=200)
    description: str = Field("", max_length=200)
    unit_cost_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    network: Literal["in_network", "out_of_network"] = "in_network"
    prior_auth_obtained: bool = True
    start_day: int = Field(1, ge=1, le=3650)
    end_day: int | None = Field(None, ge=1, le=3650)


class OptionIn(Schema):
    name: str = Field(min_length=1, max_length=120)
    description: str = Field("", max_length=300)
    lines: list[LineIn] = Field(min_length=1, max_length=50)
    clinically_eligible: bool = True
    provider_accepts: bool = True
    requires_caregiver: bool = False
    excluded_by_patient: bool = False
    eligibility_waiver: str = Field("", max_length=300)


class OptionCreated(Schema):
    id: int
    name: str


@router.post("/cases/{case_id}/coverage/options", response={201: OptionCreated})
def option_create(request: HttpRequest, payload: OptionIn, case_id: int = ID_PATH()) -> Status[CareOption]:
    data = payload.dict()
    lines = [cov.LineInput(**line) for line in data.pop("lines")]
    return Status(201, cov.option_create(actor=actor_of(request), case_id=case_id, lines=lines, **data))


class ProposeIn(Schema):
    days: int = Field(21, ge=1, le=365)


@router.post("/cases/{case_id}/coverage/options/propose", response={201: list[OptionCreated]})
def options_propose(request: HttpRequest, payload: ProposeIn, case_id: int = ID_PATH()) -> Status[list[CareOption]]:
    return Status(201, cov.options_propose_standard(actor=actor_of(request), case_id=case_id, days=payload.days))


class LedgerOut(Schema):
    total_cost_cents: int
    insurer_cents: int
    patient_oop_cents: int
    non_covered_cents: int
    hospital_cost_cents: int
    provider_revenue_cents: dict[str, int]
    provider_margin_cents: dict[str, int | None]
    assumptions: list[str]


class EligibilityCheckOut(Schema):
    rule: str
    eligible: bool | None = Field(description="null when the record lacks the facts the rule needs")
    blocking: bool = Field(description="a failure makes the option infeasible unless waived")
    reasons: list[str]


class OptionEvaluated(Schema):
    id: int
    name: str
    rank: int
    verdict: str
    least_cost: bool
    chosen: bool
    infeasible_reasons: list[str]
    eligibility_checks: list[EligibilityCheckOut]
    eligibility_waiver: str
    costs: LedgerOut


class OptionsOut(Schema):
    options: list[OptionEvaluated]
    assumptions: list[str]
    explanation: list[str]


@router.get("/cases/{case_id}/coverage/options", response=OptionsOut)
def options_evaluate(request: HttpRequest, case_id: int = ID_PATH()) -> dict[str, Any]:
    """Every option priced per party, ranked by the optimiser, with the reason each lost."""
    case = sel.case_for_planning(actor=actor_of(request), case_id=case_id)
    evaluation = sel.options_evaluate(case)
    return {
        "options": [
            {
                "id": row.option.pk,
                "name": row.option.name,
                "rank": row.rank,
                "verdict": row.verdict,
                "least_cost": row.best,
                "chosen": row.chosen,
                "infeasible_reasons": list(row.infeasible_reasons),
                "eligibility_checks": [
                    {"rule": c.rule, "eligible": c.eligible, "blocking": c.blocking, "reasons": list(c.reasons)}
                    for c in row.eligibility.checks
                ],
                "eligibility_waiver": row.option.eligibility_waiver,
                "costs": {
                    "total_cost_cents": row.ledger.total_cost,
                    "insurer_cents": row.ledger.insurer,
                    "patient_oop_cents": row.ledger.patient_oop,
                    "non_covered_cents": row.ledger.non_covered,
                    "hospital_cost_cents": row.ledger.hospital_cost,
                    "provider_revenue_cents": dict(row.ledger.provider_revenue),
                    "provider_margin_cents": dict(row.ledger.provider_margin),
                    "assumptions": [*row.price_notes, *row.ledger.assumptions],
                },
            }
            for row in evaluation.rows
        ],
        "assumptions": list(evaluation.assumptions),
        "explanation": list(evaluation.result.result.explanation) if evaluation.result else [],
    }


class ChooseOut(Schema):
    case_id: int
    chosen_option_id: int | None
    version: int


@router.post("/cases/{case_id}/coverage/options/{option_id}/choose", response=ChooseOut)
def option_choose(
    request: HttpRequest,
    case_id: int = ID_PATH(),
    option_id: int = ID_PATH(),
) -> Any:
    return cov.option_choose(actor=actor_of(request), case_id=case_id, option_id=option_id)


class FeasibilityIn(Schema):
    """Only the fields given change; an empty waiver withdraws it."""

    clinically_eligible: bool | None = None
    provider_accepts: bool | None = None
    requires_caregiver: bool | None = None
    excluded_by_patient: bool | None = None
    eligibility_waiver: str | None = Field(
        None, max_length=300, description="why failed eligibility rules do not apply (e.g. the plan waives them)"
    )


class FeasibilityOut(Schema):
    id: int
    clinically_eligible: bool
    provider_accepts: bool
    requires_caregiver: bool
    excluded_by_patient: bool
    eligibility_waiver: str


@router.post("/cases/{case_id}/coverage/options/{option_id}/feasibility", response=FeasibilityOut)
def option_feasibility(
    request: HttpRequest, payload: FeasibilityIn, case_id: int = ID_PATH(), option_id: int = ID_PATH()
) -> CareOption:
    """Set the option's feasibility flags and the waiver of its failed eligibility rules."""
    given = payload.dict(exclude_none=True)
    waiver = given.pop("eligibility_waiver", None)
    return cov.option_set_flags(
        actor=actor_of(request), case_id=case_id, option_id=option_id, eligibility_waiver=waiver, **given
    )


# --- negotiation -----------------------------------------------------------------------------------


class NegotiationOpenIn(Schema):
    ability_to_pay_cents: int = CENTS
    hardship: bool = False
    avoided_days: int | None = Field(None, ge=0, le=3650)
    inpatient_per_diem_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    item: str = Field("infusion pumps", min_length=1, max_length=200)


class NegotiationPartyOut(Schema):
    key: str
    name: str
    kind: str
    organization_id: int | None
    commitment: str
    item: str
    walkaway_cents: int
    computed_cents: int
    override_cents: int | None
    override_reason: str
    derivation: list[str]
    hardship: bool
    active: bool


class LineOut(Schema):
    party_key: str
    party_name: str
    share_cents: int
    response: str
    counter_cents: int | None
    reason: str
    version: int
    locked: bool

    @staticmethod
    def resolve_party_key(obj: ProposalLine) -> str:
        return str(obj.party.key)

    @staticmethod
    def resolve_party_name(obj: ProposalLine) -> str:
        return str(obj.party.name)


class NegotiationOut(Schema):
    id: int
    case_id: int
    option_name: str
    total_cents: int
    status: str
    version: int
    runs: bool
    parties: list[NegotiationPartyOut]
    proposal_number: int | None
    proposal_rule: str | None
    lines: list[LineOut]
    own_party_key: str | None
    agreement_id: int | None


def _negotiation_out(view: sel.NegotiationView) -> dict[str, Any]:
    n = view.negotiation
    return {
        "id": n.pk,
        "case_id": n.case_id,
        "option_name": n.option.name,
        "total_cents": n.gap_cents,
        "status": n.status,
        "version": n.version,
        "runs": view.runs,
        "parties": list(view.parties),
        "proposal_number": view.proposal.number if view.proposal else None,
        "proposal_rule": view.proposal.rule if view.proposal else None,
        "lines": list(view.lines),
        "own_party_key": view.party.key if view.party else None,
        "agreement_id": view.agreement.pk if view.agreement else None,
    }


def _read(request: HttpRequest, negotiation_id: int) -> dict[str, Any]:
    return _negotiation_out(sel.negotiation_get(actor=actor_of(request), negotiation_id=negotiation_id))


@router.post("/cases/{case_id}/negotiations", response={201: NegotiationOut})
def negotiation_open(
    request: HttpRequest, payload: NegotiationOpenIn, case_id: int = ID_PATH()
) -> Status[dict[str, Any]]:
    negotiation: Negotiation = cov.negotiation_open(actor=actor_of(request), case_id=case_id, **payload.dict())
    return Status(201, _read(request, negotiation.pk))


@router.get("/negotiations/{negotiation_id}", response=NegotiationOut)
def negotiation_read(request: HttpRequest, negotiation_id: int = ID_PATH()) -> dict[str, Any]:
    """The running organization sees everything; a party sees the total, its line and what was disclosed."""
    return _read(request, negotiation_id)


class ProposalIn(Schema):
    rule: Literal["patient_protecting", "proportional_to_gain", "nash", "manual"]
    locks: dict[str, Annotated[int, Field(ge=0, le=MAX_CENTS)]] = Field(default_factory=dict)
    complete_with: Literal["patient_protecting", "proportional_to_gain", "nash"] = "proportional_to_gain"
    disclosed: list[str] = Field(default_factory=list, max_length=50)
    patient_agrees: bool = False
    note: str = Field("", max_length=500)


@router.post("/negotiations/{negotiation_id}/proposals", response={201: NegotiationOut})
def proposal_send(request: HttpRequest, payload: ProposalIn, negotiation_id: int = ID_PATH()) -> Status[dict[str, Any]]:
    cov.proposal_send(actor=actor_of(request), negotiation_id=negotiation_id, **payload.dict())
    return Status(201, _read(request, negotiation_id))


class RespondIn(Schema):
    action: Literal["accept", "counter", "decline"]
    version: int | None = Field(None, ge=1, le=MAX_ID, description="The line version you read; stale gets 409")
    amount_cents: int | None = Field(None, ge=0, le=MAX_CENTS)
    reason: str = Field("", max_length=500)
    party_key: str | None = Field(None, max_length=32, description="The case manager answering for the patient")


@router.post("/negotiations/{negotiation_id}/respond", response=NegotiationOut)
def proposal_respond(request: HttpRequest, payload: RespondIn, negotiation_id: int = ID_PATH()) -> dict[str, Any]:
    cov.proposal_respond(actor=actor_of(request), negotiation_id=negotiation_id, **payload.dict())
    return _read(request, negotiation_id)


class WalkawayIn(Schema):
    amount_cents: int = CENTS
    reason: str = Field(min_length=1, max_length=300)
    party_key: str | None = Field(None, max_length=32)


@router.post("/negotiations/{negotiation_id}/walkaway", response=NegotiationPartyOut)
def walkaway_correct(request: HttpRequest, payload: WalkawayIn, negotiation_id: int = ID_PATH()) -> NegotiationParty:
    return cov.walkaway_correct(actor=actor_of(request), negotiation_id=negotiation_id, **payload.dict())


class TermOut(Schema):
    party: str
    commitment: str
    item: str
    share_cents: int


class AgreementOut(Schema):
    id: int
    negotiation_id: int
    option_name: str
    total_cents: int
    status: str
    signed_at: dt.datetime
    superseded_by_id: int | None
    terms: list[TermOut]


@router.get("/agreements/{agreement_id}", response=AgreementOut)
def agreement_read(request: HttpRequest, agreement_id: int = ID_PATH()) -> dict[str, Any]:
    actor = actor_of(request)
    agreement: Agreement = sel.agreement_get(actor=actor, agreement_id=agreement_id)
    return {
        "id": agreement.pk,
        "negotiation_id": agreement.negotiation_id,
        "option_name": agreement.option_name,
        "total_cents": agreement.total_cents,
        "status": agreement.status,
        "signed_at": agreement.signed_at,
        "superseded_by_id": agreement.superseded_by_id,
        "terms": sel.agreement_terms_for(agreement, actor),
    }


class SavingsRowOut(Schema):
    period: str
    insurer: str
    discharges: int
    avoided_cost_cents: int
    exception_cents: int
    savings_cents: int


class SavingsOut(Schema):
    rows: list[SavingsRowOut]
    by_period: list[SavingsRowOut]
    by_insurer: list[SavingsRowOut]
    total_savings_cents: int


@router.get("/coverage/savings", response=SavingsOut)
def savings(request: HttpRequest, start: dt.date | None = None, end: dt.date | None = None) -> dict[str, Any]:
    report = sel.savings_report(actor=actor_of(request), start=start, end=end)

    def rows(items: Any) -> list[dict[str, Any]]:
        return [r.__dict__ | {"savings_cents": r.savings_cents} for r in items]

    return {
        "rows": rows(report.rows),
        "by_period": rows(report.by_period),
        "by_insurer": rows(report.by_insurer),
        "total_savings_cents": report.total_savings_cents,
    }
