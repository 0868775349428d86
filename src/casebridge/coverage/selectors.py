"""Reads for coverage: scoped to the actor's organization, or to an explicit negotiation-party link.

A negotiation is visible to the organization that runs its case and to each
organization with an *active* :class:`NegotiationParty` row; anyone else gets
404, exactly as for a missing id. A party organization sees the total, its own
line and the lines the case manager chose to disclose, never the rest.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.db.models import Q, QuerySet
from django.utils import timezone

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.cases.models import Case
from casebridge.cases.selectors import case_owned_get
from casebridge.clinical.coding import EncounterClass
from casebridge.coverage import benefits as b
from casebridge.coverage.eligibility import InfusionPlan, OptionEligibility, StayFacts, option_eligibility
from casebridge.coverage.models import (
    AgreedPayment,
    Agreement,
    AgreementStatus,
    BenefitPlan,
    CareOption,
    ContractedRate,
    CoverageNeed,
    CoverageWorkspace,
    DeliveryCost,
    EquipmentCommitment,
    ExceptionAuthorization,
    MemberAccumulator,
    Negotiation,
    NegotiationParty,
    PriceAgreement,
    Proposal,
    ProposalLine,
    ProposalStatus,
)
from casebridge.coverage.money import Cents, format_cents
from casebridge.coverage.negotiation import (
    CommitmentKind,
    Feasibility,
    NegotiationError,
    Party,
    PartyKind,
    WalkAway,
    allocate_manual,
    assess,
)
from casebridge.coverage.negotiation import Proposal as DomainProposal
from casebridge.coverage.optimizer import CareOption as DomainOption
from casebridge.coverage.optimizer import (
    CareOptionChoice,
    HospitalPayment,
    OptionLedger,
    OptionLine,
    choose_care_option,
)
from casebridge.hospital.models import HospitalStay, PostAcuteNeed
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import NotFound

# --- benefits and prices ---------------------------------------------------------------------------


def plans_owned(actor: Actor) -> QuerySet[BenefitPlan]:
    return BenefitPlan.objects.filter(organization_id=actor.organization_id)


def plan_owned_get(*, actor: Actor, plan_id: int) -> BenefitPlan:
    plan = plans_owned(actor).prefetch_related("terms").filter(pk=plan_id).first()
    if plan is None:
        raise NotFound(f"No benefit plan {plan_id}.")
    return plan


def plan_domain(plan: BenefitPlan | None) -> b.Plan:
    """The pure engine's plan. No plan on file means nothing is covered, which the estimate says."""
    if plan is None:
        return b.Plan("none", "no plan on file", 0, 0, {})
    by_category: dict[str, dict[str, b.NetworkTerms]] = defaultdict(dict)
    for term in plan.terms.all():
        by_category[term.category][term.network] = b.NetworkTerms(
            covered=term.covered,
            deductible_applies=term.deductible_applies,
            coinsurance=Decimal(term.coinsurance),
            copay=term.copay_cents,
            unit_limit=term.unit_limit,
            prior_auth_required=term.prior_auth_required,
        )
    benefits = {
        category: b.BenefitTerms(terms.get("in_network", b.NOT_COVERED), terms.get("out_of_network", b.NOT_COVERED))
        for category, terms in by_category.items()
    }
    return b.Plan(plan.code, plan.name, plan.deductible_cents, plan.oop_max_cents, benefits)


def accumulators_for(plan: BenefitPlan | None, member_id: str) -> b.Accumulators:
    row = None if plan is None or not member_id else plan.members.filter(member_id=member_id).first()
    if row is None:
        return b.Accumulators()
    return b.Accumulators(row.deductible_met_cents, row.oop_spent_cents, dict(row.units_used))


def member_accumulator(plan: BenefitPlan | None, member_id: str) -> MemberAccumulator | None:
    return None if plan is None or not member_id else plan.members.filter(member_id=member_id).first()


def rates_visible(actor: Actor) -> QuerySet[ContractedRate]:
    """Contracted rates are shared on the platform for pricing options; costs to deliver are not."""
    return ContractedRate.objects.select_related("provider", "payer")


def rates_owned(actor: Actor) -> QuerySet[ContractedRate]:
    return rates_visible(actor).filter(Q(provider_id=actor.organization_id) | Q(payer_id=actor.organization_id))


def delivery_costs_owned(actor: Actor) -> QuerySet[DeliveryCost]:
    return DeliveryCost.objects.filter(organization_id=actor.organization_id).order_by("category")


def rate_for(provider: Organization | None, category: str, payer: Organization | None) -> ContractedRate | None:
    """The provider's rate under the payer's contract, else its own price; None if neither is on file."""
    if provider is None:
        return None
    rates = ContractedRate.objects.select_related("provider", "payer").filter(provider=provider, category=category)
    contracted = rates.filter(payer=payer).order_by("-created_at").first() if payer is not None else None
    return contracted or rates.filter(payer__isnull=True).order_by("-created_at").first()


def benefit_plans_on_platform() -> QuerySet[BenefitPlan]:
    """Every insurer's plans, for the case manager's plan picker: plan terms are shared for pricing options."""
    return BenefitPlan.objects.select_related("organization").order_by("organization__name", "name")


# --- care options ----------------------------------------------------------------------------------


def case_for_planning(*, actor: Actor, case_id: int) -> Case:
    """The case, if the actor's organization runs it and the actor plans coverage (else 403/404)."""
    require(actor, "coverage.plan")
    return case_owned_get(actor=actor, case_id=case_id)


def workspace_of(case: Case) -> CoverageWorkspace:
    """The saved workspace, or an unsaved default built from the patient's primary coverage."""
    existing = CoverageWorkspace.objects.filter(case=case).select_related("plan", "chosen_option").first()
    if existing is not None:
        return existing
    workspace = CoverageWorkspace(case=case)
    coverage = case.patient.coverages.filter(active=True, insurer__isnull=False).order_by("order").first()
    if coverage is not None and coverage.insurer_id is not None:
        plans = BenefitPlan.objects.filter(organization_id=coverage.insurer_id)
        workspace.plan = (
            plans.filter(Q(name=coverage.plan_name) | Q(code=coverage.plan_name)).first()
            if coverage.plan_name
            else None
        ) or plans.first()
        workspace.member_id = coverage.member_id
    return workspace


def needs_of(case: Case) -> QuerySet[CoverageNeed]:
    return CoverageNeed.objects.filter(case=case)


def options_of(case: Case) -> QuerySet[CareOption]:
    return CareOption.objects.filter(case=case).prefetch_related("lines__provider")


def _latest_details(needs: dict[str, dict[str, Any]], service_type: str) -> dict[str, Any]:
    details = needs.get(service_type)
    return details if isinstance(details, dict) else {}


def _iso_date(value: object) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if isinstance(value, str) and value else None
    except ValueError:
        return None


def _whole_numbers(value: object) -> list[int] | None:
    if isinstance(value, list) and all(isinstance(m, int) and not isinstance(m, bool) for m in value):
        return list(value)
    return None


def stay_facts(case: Case) -> StayFacts | None:
    """The facts the post-acute eligibility rules need, from the case's hospital stay and discharge plan.

    None when the case has no hospital stay (a home health or insurer case): the rules then report
    their facts as missing rather than guess.
    """
    stay = HospitalStay.objects.filter(case=case).select_related("encounter").order_by("-pk").first()
    if stay is None:
        return None
    needs: dict[str, dict[str, Any]] = {}
    for service_type, details in (
        PostAcuteNeed.objects.filter(stay=stay).order_by("pk").values_list("service_type", "details")
    ):
        needs[service_type] = details  # the latest need of each service type wins
    encounter = stay.encounter
    admitted = encounter.admit_at if encounter.encounter_class == EncounterClass.INPATIENT else None
    today = timezone.localdate(clock.now())
    snf = _latest_details(needs, "snf")
    irf = _latest_details(needs, "irf")
    infusion = _latest_details(needs, "home_infusion")
    route, per_dose = infusion.get("route"), infusion.get("minutes_per_administration")
    infusion_plan = None
    if isinstance(route, str) and isinstance(per_dose, int) and not isinstance(per_dose, bool):
        infusion_plan = InfusionPlan(route, per_dose, bool(infusion.get("through_dme_pump")))
    return StayFacts(
        inpatient_admitted_on=timezone.localdate(admitted) if admitted is not None else None,
        observation=encounter.encounter_class == EncounterClass.OBSERVATION,
        discharge_on=stay.expected_discharge_on or today,
        discharge_on_is_today=stay.expected_discharge_on is None,
        snf_admission_on=_iso_date(snf.get("snf_admission_on")),
        irf_minutes_by_day=_whole_numbers(irf.get("therapy_minutes_by_day")),
        irf_disciplines=tuple(str(d) for d in irf.get("therapy_disciplines") or () if isinstance(d, str)),
        infusion=infusion_plan,
    )


def eligibility_of(option: CareOption, facts: StayFacts | None) -> OptionEligibility:
    return option_eligibility(
        [line.category for line in option.lines.all()],
        facts,
        today=timezone.localdate(clock.now()),
        waiver=option.eligibility_waiver,
    )


def provider_label(line_provider: Organization | None, provider_name: str) -> str:
    return line_provider.name if line_provider is not None else provider_name


def option_domain(option: CareOption, eligibility: OptionEligibility | None = None) -> DomainOption:
    lines = [
        OptionLine(
            provider_label(line.provider, line.provider_name),
            b.ServiceLine(line.category, line.units, line.unit_price_cents, line.network, line.prior_auth_obtained),  # type: ignore[arg-type]
            line.unit_cost_cents,
        )
        for line in option.lines.all()
    ]
    return DomainOption(
        option.name,
        lines,
        clinically_eligible=option.clinically_eligible,
        provider_accepts=option.provider_accepts,
        requires_caregiver=option.requires_caregiver,
        excluded_by_patient=option.excluded_by_patient,
        ineligible_reasons=eligibility.ineligible_reasons if eligibility is not None else (),
    )


@dataclass(frozen=True)
class OptionRow:
    option: CareOption
    ledger: OptionLedger
    rank: int
    verdict: str
    best: bool
    chosen: bool
    infeasible_reasons: tuple[str, ...]
    price_notes: tuple[str, ...]
    eligibility: OptionEligibility = field(default_factory=lambda: OptionEligibility(()))


@dataclass(frozen=True)
class OptionsEvaluation:
    case: Case
    workspace: CoverageWorkspace
    rows: tuple[OptionRow, ...]
    result: CareOptionChoice | None
    assumptions: tuple[str, ...]
    providers: tuple[str, ...] = field(default=())

    @property
    def chosen_row(self) -> OptionRow | None:
        return next((r for r in self.rows if r.chosen), None)


def hospital_payment(workspace: CoverageWorkspace) -> HospitalPayment:
    return HospitalPayment(per_case=workspace.hospital_paid_per_case, daily_cost=workspace.hospital_daily_cost_cents)


def options_evaluate(case: Case, workspace: CoverageWorkspace | None = None) -> OptionsEvaluation:
    """Price every option per party through the plan and pick the least-cost feasible one (MILP)."""
    workspace = workspace or workspace_of(case)
    options = list(options_of(case))
    plan = plan_domain(workspace.plan)
    accumulators = accumulators_for(workspace.plan, workspace.member_id)
    assumptions = [
        f"benefits from {plan.name}" + (f", member {workspace.member_id}" if workspace.member_id else ""),
        f"accumulators: deductible met {format_cents(accumulators.deductible_met)},"
        f" out-of-pocket spent {format_cents(accumulators.oop_spent)}",
        "each option is priced on its own from today's accumulators",
    ]
    if workspace.plan is None:
        assumptions.append("no benefit plan on file for the patient's insurer: every service is shown as non-covered")
    if workspace.patient_oop_limit_cents is not None:
        assumptions.append(
            f"patient's out-of-pocket limit {format_cents(workspace.patient_oop_limit_cents)}"
            " applies to cost sharing plus the non-covered part"
        )
    if not options:
        return OptionsEvaluation(case, workspace, (), None, tuple(assumptions))
    facts = stay_facts(case)
    eligibility = {o.pk: eligibility_of(o, facts) for o in options}
    choice = choose_care_option(
        plan,
        accumulators,
        [option_domain(o, eligibility[o.pk]) for o in options],
        patient_oop_limit=workspace.patient_oop_limit_cents,
        caregiver_available=workspace.caregiver_available,
        hospital=hospital_payment(workspace),
    )
    by_name = {o.name: o for o in options}
    rows = []
    for rank, (name, verdict) in enumerate(choice.ranking, start=1):
        option = by_name[name]
        rows.append(
            OptionRow(
                option=option,
                ledger=choice.ledgers[name],
                rank=rank,
                verdict=verdict,
                best=name == choice.chosen,
                chosen=workspace.chosen_option_id == option.pk,
                infeasible_reasons=tuple(choice.result.excluded.get(name, ())),
                price_notes=tuple(line.price_source for line in option.lines.all() if line.price_source),
                eligibility=eligibility[option.pk],
            )
        )
    return OptionsEvaluation(case, workspace, tuple(rows), choice, tuple(assumptions))


# --- negotiations ----------------------------------------------------------------------------------


def negotiations_visible(actor: Actor) -> QuerySet[Negotiation]:
    party_of = NegotiationParty.objects.filter(organization_id=actor.organization_id, active=True).values(
        "negotiation_id"
    )
    return Negotiation.objects.filter(Q(case__organization_id=actor.organization_id) | Q(pk__in=party_of))


def party_of(negotiation: Negotiation, actor: Actor) -> NegotiationParty | None:
    """The actor organization's active party row in this negotiation (None for the running organization)."""
    return negotiation.parties.filter(organization_id=actor.organization_id, active=True).first()


def runs(negotiation: Negotiation, actor: Actor) -> bool:
    return bool(negotiation.case.organization_id == actor.organization_id)


def domain_parties(negotiation: Negotiation) -> list[Party]:
    parties = []
    for row in negotiation.parties.filter(active=True):
        walkaway = WalkAway(row.computed_cents, tuple(row.derivation))
        if row.override_cents is not None:
            walkaway = walkaway.with_override(row.override_cents, row.override_reason)
        parties.append(
            Party(
                row.key, row.name, PartyKind(row.kind), walkaway, CommitmentKind(row.commitment), row.item, row.hardship
            )
        )
    return parties


@dataclass(frozen=True)
class Analysis:
    feasibility: Feasibility
    proposals: tuple[DomainProposal, ...]


def negotiation_analysis(negotiation: Negotiation) -> Analysis:
    """Feasibility and a proposal under each named rule, with the math (pure engine)."""
    from casebridge.coverage.negotiation import RULES

    parties = domain_parties(negotiation)
    feasibility = assess(parties, negotiation.gap_cents)
    proposals = [rule(parties, negotiation.gap_cents) for rule in RULES.values()] if feasibility.feasible else []
    return Analysis(feasibility, tuple(proposals))


def manual_preview(negotiation: Negotiation, locks: dict[str, Cents], complete_with: str) -> DomainProposal:
    try:
        return allocate_manual(domain_parties(negotiation), negotiation.gap_cents, locks, complete_with)
    except NegotiationError as exc:
        from casebridge.kernel.errors import ValidationFailed

        raise ValidationFailed.on("locks", str(exc)) from exc


def current_proposal(negotiation: Negotiation) -> Proposal | None:
    return (
        negotiation.proposals.exclude(status=ProposalStatus.REVISED)
        .prefetch_related("lines__party", "lines__responded_by")
        .order_by("-number")
        .first()
    )


@dataclass(frozen=True)
class NegotiationView:
    """What the actor may see of one negotiation."""

    negotiation: Negotiation
    runs: bool
    party: NegotiationParty | None
    parties: tuple[NegotiationParty, ...]
    proposal: Proposal | None
    lines: tuple[ProposalLine, ...]
    own_line: ProposalLine | None
    analysis: Analysis | None
    agreement: Agreement | None
    history: tuple[Proposal, ...]

    @property
    def total_cents(self) -> int:
        return int(self.negotiation.gap_cents)


def negotiation_get(*, actor: Actor, negotiation_id: int, audit: bool = True) -> NegotiationView:
    negotiation = (
        negotiations_visible(actor)
        .select_related("case__patient", "case__organization", "option")
        .filter(pk=negotiation_id)
        .first()
    )
    if negotiation is None:
        raise NotFound(f"No negotiation {negotiation_id}.")
    running = runs(negotiation, actor)
    if running:
        require(actor, "coverage.plan")
    else:
        require(actor, "negotiation.respond")
    party = None if running else party_of(negotiation, actor)
    proposal = current_proposal(negotiation)
    all_lines = tuple(proposal.lines.all()) if proposal is not None else ()
    own_line = next((ln for ln in all_lines if party is not None and ln.party_id == party.pk), None)
    if running:
        lines = all_lines
        parties = tuple(negotiation.parties.all())
        analysis = negotiation_analysis(negotiation)
        history = tuple(negotiation.proposals.order_by("-number"))
    else:
        lines = tuple(ln for ln in all_lines if ln.disclosed or ln is own_line)
        parties = (party,) if party is not None else ()
        analysis = None
        history = ()
    agreement = Agreement.objects.filter(negotiation=negotiation).first()
    if audit:
        audit_record(actor=actor, action="negotiation.read", subject=negotiation, patient=negotiation.case.patient_id)
    return NegotiationView(
        negotiation, running, party, parties, proposal, lines, own_line, analysis, agreement, history
    )


def negotiation_list(*, actor: Actor) -> QuerySet[Negotiation]:
    return negotiations_visible(actor).select_related("case__patient", "case__organization", "option")


def agreement_get(*, actor: Actor, agreement_id: int) -> Agreement:
    agreement = (
        Agreement.objects.select_related("case__organization", "patient", "negotiation").filter(pk=agreement_id).first()
    )
    if agreement is None:
        raise NotFound(f"No agreement {agreement_id}.")
    # Same visibility as its negotiation.
    negotiation_get(actor=actor, negotiation_id=agreement.negotiation_id, audit=False)
    audit_record(actor=actor, action="agreement.read", subject=agreement, patient=agreement.patient_id)
    return agreement


def agreement_terms_for(agreement: Agreement, actor: Actor) -> list[dict[str, object]]:
    """The running organization sees every term; a party sees its own and the disclosed ones."""
    if agreement.case.organization_id == actor.organization_id:
        return list(agreement.terms)
    return [t for t in agreement.terms if t.get("organization_id") == actor.organization_id or t.get("disclosed")]


@dataclass(frozen=True)
class Commitments:
    exceptions: QuerySet[ExceptionAuthorization]
    price_agreements: QuerySet[PriceAgreement]
    equipment: QuerySet[EquipmentCommitment]
    payments: QuerySet[AgreedPayment]

    @property
    def empty(self) -> bool:
        return not any(qs.exists() for qs in (self.exceptions, self.price_agreements, self.equipment, self.payments))


def commitments_of(*, actor: Actor) -> Commitments:
    """The commitment records on the actor organization's own side."""
    require(actor, "negotiation.respond")
    org = actor.organization_id
    related = ("patient", "approver", "agreement")
    return Commitments(
        ExceptionAuthorization.objects.filter(organization_id=org).select_related(*related),
        PriceAgreement.objects.filter(organization_id=org).select_related(*related),
        EquipmentCommitment.objects.filter(organization_id=org).select_related(*related),
        AgreedPayment.objects.filter(organization_id=org).select_related(*related),
    )


# --- savings ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class SavingsRow:
    period: str
    insurer: str
    discharges: int
    avoided_cost_cents: int
    exception_cents: int

    @property
    def savings_cents(self) -> int:
        return self.avoided_cost_cents - self.exception_cents


@dataclass(frozen=True)
class SavingsReport:
    by_period: tuple[SavingsRow, ...]
    by_insurer: tuple[SavingsRow, ...]
    rows: tuple[SavingsRow, ...]

    @property
    def total_savings_cents(self) -> int:
        return sum(r.savings_cents for r in self.rows)

    @property
    def max_abs_savings_cents(self) -> int:
        return max((abs(r.savings_cents) for r in (*self.by_period, *self.by_insurer)), default=0)


def _rollup(rows: list[SavingsRow], key: str) -> tuple[SavingsRow, ...]:
    groups: dict[str, list[SavingsRow]] = defaultdict(list)
    for row in rows:
        groups[getattr(row, key)].append(row)
    out = []
    for name in sorted(groups):
        group = groups[name]
        out.append(
            SavingsRow(
                period=name if key == "period" else "all",
                insurer=name if key == "insurer" else "all",
                discharges=sum(r.discharges for r in group),
                avoided_cost_cents=sum(r.avoided_cost_cents for r in group),
                exception_cents=sum(r.exception_cents for r in group),
            )
        )
    return tuple(out)


def savings_report(*, actor: Actor, start: dt.date | None = None, end: dt.date | None = None) -> SavingsReport:
    """Savings from negotiated discharges: avoided inpatient days at their rate minus exception payments.

    Covers signed exception authorizations the actor's organization granted (an insurer) or
    negotiated (the hospital running the case), grouped by month and by insurer.
    """
    require(actor, "coverage.report")
    org = actor.organization_id
    qs = ExceptionAuthorization.objects.filter(status=AgreementStatus.SIGNED).filter(
        Q(organization_id=org) | Q(agreement__case__organization_id=org)
    )
    if start:
        qs = qs.filter(recorded_at__date__gte=start)
    if end:
        qs = qs.filter(recorded_at__date__lte=end)
    grouped: dict[tuple[str, str], list[ExceptionAuthorization]] = defaultdict(list)
    for ea in qs.select_related("organization"):
        grouped[(ea.recorded_at.strftime("%Y-%m"), ea.organization.name)].append(ea)
    rows = [
        SavingsRow(
            period=period,
            insurer=insurer,
            discharges=len(items),
            avoided_cost_cents=sum(i.avoided_days * i.per_diem_cents for i in items),
            exception_cents=sum(i.amount_cents for i in items),
        )
        for (period, insurer), items in sorted(grouped.items())
    ]
    return SavingsReport(_rollup(rows, "period"), _rollup(rows, "insurer"), tuple(rows))
