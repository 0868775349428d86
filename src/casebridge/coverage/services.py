"""Writes for coverage: benefits, prices, care options, negotiations and agreements.

Each service checks permission, runs in one transaction and writes its audit
entry in it; the arithmetic is the pure engine's (benefits, optimizer,
negotiation). Responses to a proposal lock the negotiation row and check the
line's version, so two parties answering at once never lose an update and the
agreement is signed exactly once.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import yaml
from django.db import transaction

from casebridge.accounts.models import Organization, OrganizationType
from casebridge.accounts.permissions import require
from casebridge.audit.recorder import audit_record
from casebridge.careplans.models import Need, NeedStatus
from casebridge.cases.models import Case
from casebridge.coverage import benefits as b
from casebridge.coverage.models import (
    AgreedPayment,
    Agreement,
    AgreementStatus,
    BenefitPlan,
    BenefitTerm,
    CareOption,
    CareOptionLine,
    ContractedRate,
    CoverageNeed,
    CoverageWorkspace,
    DeliveryCost,
    EquipmentCommitment,
    ExceptionAuthorization,
    MemberAccumulator,
    Negotiation,
    NegotiationParty,
    NegotiationStatus,
    Network,
    PriceAgreement,
    Proposal,
    ProposalLine,
    ProposalStatus,
    RateBasis,
    Response,
)
from casebridge.coverage.money import Cents, format_cents
from casebridge.coverage.need_categories import category_of_need
from casebridge.coverage.negotiation import (
    RULES,
    CommitmentKind,
    NegotiationError,
    PartyKind,
    WalkAway,
    allocate_manual,
    home_health_walkaway,
    hospital_walkaway,
    insurer_walkaway,
    patient_walkaway,
    provider_margin_walkaway,
)
from casebridge.coverage.negotiation import Proposal as DomainProposal
from casebridge.coverage.selectors import (
    case_for_planning,
    current_proposal,
    domain_parties,
    negotiations_visible,
    options_evaluate,
    plans_owned,
    provider_label,
    rate_for,
    workspace_of,
)
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import IllegalTransition, NotFound, PermissionDenied, StaleVersion, ValidationFailed
from casebridge.kernel.nesting import TooDeep, parse_within
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version

# --- benefits --------------------------------------------------------------------------------------


def _insurer(actor: Actor) -> Organization:
    if actor.organization.org_type != OrganizationType.INSURER:
        raise PermissionDenied("Only a health insurer keeps benefit plans.")
    return actor.organization


def _schema_failed(exc: b.SchemaError) -> ValidationFailed:
    field_errors: dict[str, list[str]] = {}
    for error in exc.errors:
        path, _, message = error.partition(": ")
        field_errors.setdefault(path, []).append(message)
    return ValidationFailed("; ".join(exc.errors), field_errors=field_errors)


def parse_benefits_text(text: str) -> object:
    """YAML or JSON text (JSON is read as YAML); a syntax error names the document."""
    if not text.strip():
        raise ValidationFailed.on("document", "is empty")
    try:
        return parse_within(yaml.safe_load, text)  # checked before the loader walks it
    except yaml.YAMLError as exc:
        raise ValidationFailed.on("document", f"is not valid YAML or JSON ({exc.__class__.__name__})") from exc
    except TooDeep as exc:
        raise ValidationFailed.on("document", str(exc)) from exc


def _write_terms(plan: BenefitPlan, category: str, terms: b.BenefitTerms) -> None:
    for network, t in ((Network.IN, terms.in_network), (Network.OUT, terms.out_of_network)):
        BenefitTerm.objects.update_or_create(
            plan=plan,
            category=category,
            network=network,
            defaults={
                "covered": t.covered,
                "deductible_applies": t.deductible_applies,
                "coinsurance": t.coinsurance,
                "copay_cents": t.copay,
                "unit_limit": t.unit_limit,
                "prior_auth_required": t.prior_auth_required,
            },
        )


def benefit_plans_import(*, actor: Actor, document: object) -> list[BenefitPlan]:
    """Create or replace the insurer's plans (and member accumulators) from a parsed YAML/JSON document.

    Validation is the pure loader's: every error names the path of the bad value
    (``plans[0].benefits.dme.in_network.coinsurance: must be between 0 and 1``),
    and nothing is written unless the whole document is valid.
    """
    require(actor, "benefit.manage")
    insurer = _insurer(actor)
    try:
        loaded = b.load_plans(document)
    except b.SchemaError as exc:
        raise _schema_failed(exc) from exc
    saved: list[BenefitPlan] = []
    with transaction.atomic():
        for plan in loaded.plans.values():
            row, created = BenefitPlan.objects.select_for_update().get_or_create(
                organization=insurer,
                code=plan.id,
                defaults={"name": plan.name, "deductible_cents": plan.deductible, "oop_max_cents": plan.oop_max},
            )
            if not created:
                row.name, row.deductible_cents, row.oop_max_cents = plan.name, plan.deductible, plan.oop_max
                row.version += 1
                row.save()
                # An import replaces the plan's benefits: categories it omits are no longer covered.
                row.terms.exclude(category__in=list(plan.benefits)).delete()
            for category, terms in plan.benefits.items():
                _write_terms(row, category, terms)
            audit_record(
                actor=actor,
                action="benefit_plan.import",
                subject=row,
                detail={"code": row.code, "categories": sorted(plan.benefits), "created": created},
            )
            saved.append(row)
        by_code = {p.code: p for p in saved}
        for member in loaded.members.values():
            acc = member.accumulators
            MemberAccumulator.objects.update_or_create(
                plan=by_code[member.plan_id],
                member_id=member.id,
                defaults={
                    "deductible_met_cents": acc.deductible_met,
                    "oop_spent_cents": acc.oop_spent,
                    "units_used": dict(acc.units_used),
                },
            )
        if loaded.members:
            audit_record(actor=actor, action="member_accumulator.import", detail={"members": sorted(loaded.members)})
    return saved


@dataclass(frozen=True)
class TermsInput:
    covered: bool
    deductible_applies: bool = True
    coinsurance: Decimal = Decimal(0)
    copay_cents: Cents = 0
    unit_limit: int | None = None
    prior_auth_required: bool = False


def _check_terms(prefix: str, t: TermsInput) -> b.NetworkTerms:
    if not (0 <= t.coinsurance <= 1):
        raise ValidationFailed.on(f"{prefix}.coinsurance", "must be between 0 and 1")
    if t.copay_cents < 0:
        raise ValidationFailed.on(f"{prefix}.copay", "must not be negative")
    if t.unit_limit is not None and t.unit_limit < 0:
        raise ValidationFailed.on(f"{prefix}.unit_limit", "must be 0 or more")
    return b.NetworkTerms(
        t.covered, t.deductible_applies, t.coinsurance, t.copay_cents, t.unit_limit, t.prior_auth_required
    )


def benefit_terms_set(
    *,
    actor: Actor,
    plan_id: int,
    category: str,
    in_network: TermsInput,
    out_of_network: TermsInput,
    version: int | None = None,
) -> BenefitPlan:
    """Edit one service category of a plan (both networks)."""
    require(actor, "benefit.manage")
    _insurer(actor)
    if category not in b.SERVICE_CATEGORIES:
        raise ValidationFailed.on("category", "unknown service category")
    terms = b.BenefitTerms(_check_terms("in_network", in_network), _check_terms("out_of_network", out_of_network))
    with transaction.atomic():
        plan = lock_at_version(plans_owned(actor), plan_id, version, "benefit plan")
        plan.save()
        _write_terms(plan, category, terms)
        audit_record(actor=actor, action="benefit_plan.update", subject=plan, detail={"category": category})
    return plan


def benefit_plan_update(
    *, actor: Actor, plan_id: int, version: int | None, name: str, deductible_cents: Cents, oop_max_cents: Cents
) -> BenefitPlan:
    require(actor, "benefit.manage")
    if deductible_cents < 0:
        raise ValidationFailed.on("deductible", "must not be negative")
    if oop_max_cents < 0:
        raise ValidationFailed.on("oop_max", "must not be negative")
    with transaction.atomic():
        plan = lock_at_version(plans_owned(actor), plan_id, version, "benefit plan")
        plan.name, plan.deductible_cents, plan.oop_max_cents = name.strip(), deductible_cents, oop_max_cents
        validate_model(plan)
        plan.save()
        audit_record(actor=actor, action="benefit_plan.update", subject=plan, detail={"fields": ["plan"]})
    return plan


# --- prices and costs ------------------------------------------------------------------------------


def rate_add(
    *,
    actor: Actor,
    category: str,
    basis: str,
    amount_cents: Cents,
    percent: Decimal | None = None,
    payer_id: int | None = None,
    code: str = "",
) -> ContractedRate:
    """The actor's organization records a rate it is paid (under a payer's contract, or its own price)."""
    require(actor, "price.manage")
    if category not in b.SERVICE_CATEGORIES:
        raise ValidationFailed.on("category", "unknown service category")
    if basis not in RateBasis.values:
        raise ValidationFailed.on("basis", f"must be one of {', '.join(RateBasis.values)}")
    if amount_cents < 0:
        raise ValidationFailed.on("amount", "must not be negative")
    if basis == RateBasis.PERCENT_OF_CHARGES and (percent is None or not (0 < percent <= 1)):
        raise ValidationFailed.on("percent", "percent of charges needs a fraction between 0 and 1")
    payer = None
    if payer_id is not None:
        payer = Organization.objects.filter(pk=payer_id, active=True, org_type=OrganizationType.INSURER).first()
        if payer is None:
            raise ValidationFailed.on("payer_id", f"no health insurer {payer_id}")
    with transaction.atomic():
        rate = ContractedRate.objects.create(
            provider=actor.organization,
            payer=payer,
            category=category,
            basis=basis,
            amount_cents=amount_cents,
            percent=percent if basis == RateBasis.PERCENT_OF_CHARGES else None,
            code=code.strip(),
        )
        audit_record(actor=actor, action="rate.add", subject=rate)
    return rate


def delivery_cost_set(*, actor: Actor, category: str, unit_cost_cents: Cents, note: str = "") -> DeliveryCost:
    """The organization's own cost to deliver a unit (private to it): the basis of its margin."""
    require(actor, "price.manage")
    if category not in b.SERVICE_CATEGORIES:
        raise ValidationFailed.on("category", "unknown service category")
    if unit_cost_cents < 0:
        raise ValidationFailed.on("unit_cost", "must not be negative")
    with transaction.atomic():
        cost, _ = DeliveryCost.objects.update_or_create(
            organization=actor.organization,
            category=category,
            defaults={"unit_cost_cents": unit_cost_cents, "note": note.strip()[:200]},
        )
        audit_record(actor=actor, action="delivery_cost.set", subject=cost)
    return cost


# --- workspace, needs and options ------------------------------------------------------------------


def _workspace_locked(actor: Actor, case_id: int) -> tuple[Case, CoverageWorkspace]:
    """The case's workspace, created on first use, row-locked for the caller's transaction."""
    case = case_for_planning(actor=actor, case_id=case_id)
    workspace = workspace_of(case)
    if workspace.pk is None:
        workspace.save()
    locked = CoverageWorkspace.objects.select_for_update().get(pk=workspace.pk)
    return case, locked


WORKSPACE_FIELDS = (
    "plan_id",
    "member_id",
    "patient_oop_limit_cents",
    "caregiver_available",
    "hospital_paid_per_case",
    "hospital_daily_cost_cents",
)


def workspace_update(*, actor: Actor, case_id: int, version: int | None = None, **changes: Any) -> CoverageWorkspace:
    unknown = set(changes) - set(WORKSPACE_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "cannot be changed here")
    plan_id = changes.get("plan_id")
    if plan_id is not None and not BenefitPlan.objects.filter(pk=plan_id).exists():
        raise ValidationFailed.on("plan_id", f"no benefit plan {changes['plan_id']}")
    for money_field in ("patient_oop_limit_cents", "hospital_daily_cost_cents"):
        if (changes.get(money_field) or 0) < 0:
            raise ValidationFailed.on(money_field, "must not be negative")
    with transaction.atomic():
        case, workspace = _workspace_locked(actor, case_id)
        if version is not None and workspace.version != version:
            raise StaleVersion("coverage workspace")
        for key, value in changes.items():
            setattr(workspace, key, value)
        workspace.version += 1
        workspace.save()
        audit_record(
            actor=actor,
            action="coverage_workspace.update",
            subject=workspace,
            patient=case.patient_id,
            detail={"fields": sorted(changes)},
        )
    return workspace


def need_add(*, actor: Actor, case_id: int, description: str, category: str, source: str = "entered") -> CoverageNeed:
    if not description.strip():
        raise ValidationFailed.on("description", "is required")
    if category not in b.SERVICE_CATEGORIES:
        raise ValidationFailed.on("category", "unknown service category")
    with transaction.atomic():
        case = case_for_planning(actor=actor, case_id=case_id)
        need = CoverageNeed(
            case=case, description=description.strip(), category=category, source=source, created_by=actor.user
        )
        validate_model(need)
        need.save()
        audit_record(actor=actor, action="coverage_need.add", subject=need, patient=case.patient_id)
    return need


def need_remove(*, actor: Actor, case_id: int, need_id: int) -> None:
    with transaction.atomic():
        case = case_for_planning(actor=actor, case_id=case_id)
        need = CoverageNeed.objects.filter(pk=need_id, case=case).first()
        if need is None:
            raise NotFound(f"No need {need_id}.")
        audit_record(actor=actor, action="coverage_need.remove", subject=need, patient=case.patient_id)
        need.delete()


def care_plan_needs(case: Case) -> list[tuple[str, str]]:
    """(description, service category) for each active need of the case's care plan that a covered service
    meets (see :mod:`casebridge.coverage.need_categories`), in the order the needs were identified.
    The case has already been scoped to the actor's organization by the caller."""
    needs = Need.objects.filter(care_plan__case=case, status=NeedStatus.ACTIVE).order_by("identified_at", "pk")
    out: list[tuple[str, str]] = []
    for need in needs:
        category = category_of_need(need.code)
        if category is not None and (need.label, category) not in out:
            out.append((need.label, category))
    return out


def needs_import_from_care_plan(*, actor: Actor, case_id: int) -> list[CoverageNeed]:
    """Copy the care plan's needs into the coverage workspace (skipping ones already there)."""
    case = case_for_planning(actor=actor, case_id=case_id)
    existing = {(n.description, n.category) for n in CoverageNeed.objects.filter(case=case)}
    return [
        need_add(actor=actor, case_id=case_id, description=d, category=c, source="careplan")
        for d, c in care_plan_needs(case)
        if (d, c) not in existing
    ]


@dataclass(frozen=True)
class LineInput:
    category: str
    units: int
    unit_price_cents: Cents | None = None
    provider_id: int | None = None
    provider_name: str = ""
    description: str = ""
    unit_cost_cents: Cents | None = None
    network: str = Network.IN
    prior_auth_obtained: bool = True
    start_day: int = 1
    end_day: int | None = None


def _line(option: CareOption, index: int, spec: LineInput, payer: Organization | None) -> CareOptionLine:
    where = f"lines[{index}]"
    if spec.category not in b.SERVICE_CATEGORIES:
        raise ValidationFailed.on(f"{where}.category", "unknown service category")
    if spec.units < 1:
        raise ValidationFailed.on(f"{where}.units", "must be 1 or more")
    if spec.network not in Network.values:
        raise ValidationFailed.on(f"{where}.network", "must be in_network or out_of_network")
    provider = None
    if spec.provider_id is not None:
        provider = Organization.objects.filter(pk=spec.provider_id, active=True).first()
        if provider is None:
            raise ValidationFailed.on(f"{where}.provider_id", f"no organization {spec.provider_id}")
    elif not spec.provider_name.strip():
        raise ValidationFailed.on(f"{where}.provider_id", "choose a provider or name one")
    price, source = spec.unit_price_cents, "entered by the case manager"
    if price is None:
        rate = rate_for(provider, spec.category, payer)
        if rate is None:
            raise ValidationFailed.on(f"{where}.unit_price", "no contracted rate on file: enter a price")
        price, source = rate.unit_price_cents, f"contracted rate: {rate.describe()}"
    if price < 0:
        raise ValidationFailed.on(f"{where}.unit_price", "must not be negative")
    if spec.unit_cost_cents is not None and spec.unit_cost_cents < 0:
        raise ValidationFailed.on(f"{where}.unit_cost", "must not be negative")
    end_day = spec.end_day if spec.end_day is not None else spec.start_day
    if spec.start_day < 1 or end_day < spec.start_day:
        raise ValidationFailed.on(f"{where}.end_day", "must be on or after the start day (day 1 = discharge)")
    return CareOptionLine(
        option=option,
        provider=provider,
        provider_name=provider.name if provider else spec.provider_name.strip(),
        category=spec.category,
        description=spec.description.strip() or spec.category.replace("_", " "),
        units=spec.units,
        unit_price_cents=price,
        unit_cost_cents=spec.unit_cost_cents,
        network=spec.network,
        prior_auth_obtained=spec.prior_auth_obtained,
        start_day=spec.start_day,
        end_day=end_day,
        price_source=f"{spec.description or spec.category}: {source}",
    )


def _payer_of(workspace: CoverageWorkspace) -> Organization | None:
    return workspace.plan.organization if workspace.plan is not None else None


def option_create(
    *,
    actor: Actor,
    case_id: int,
    name: str,
    lines: Sequence[LineInput],
    description: str = "",
    clinically_eligible: bool = True,
    provider_accepts: bool = True,
    requires_caregiver: bool = False,
    excluded_by_patient: bool = False,
    proposed_by_system: bool = False,
    eligibility_waiver: str = "",
) -> CareOption:
    """A care option the case manager builds: services from providers over time."""
    if not name.strip():
        raise ValidationFailed.on("name", "is required")
    _check_waiver(eligibility_waiver)
    if not lines:
        raise ValidationFailed.on("lines", "an option needs at least one service")
    with transaction.atomic():
        case, workspace = _workspace_locked(actor, case_id)
        if CareOption.objects.filter(case=case, name=name.strip()).exists():
            raise ValidationFailed.on("name", f"the case already has an option named {name.strip()!r}")
        option = CareOption.objects.create(
            case=case,
            name=name.strip()[:120],
            description=description.strip()[:300],
            clinically_eligible=clinically_eligible,
            provider_accepts=provider_accepts,
            requires_caregiver=requires_caregiver,
            excluded_by_patient=excluded_by_patient,
            proposed_by_system=proposed_by_system,
            eligibility_waiver=eligibility_waiver.strip(),
            created_by=actor.user,
        )
        payer = _payer_of(workspace)
        CareOptionLine.objects.bulk_create([_line(option, i, spec, payer) for i, spec in enumerate(lines)])
        audit_record(actor=actor, action="care_option.create", subject=option, patient=case.patient_id)
    return option


#: Planning defaults used when no contracted rate is on file. UNVERIFIED: plausible figures for
#: the reference case (SCENARIOS.md), not market data; every estimate that uses one says so.
PLANNING_PRICES: Mapping[str, Cents] = {
    "inpatient_day": 200_000,
    "snf_day": 65_000,
    "home_infusion_drug": 440_000,
    "home_infusion_equipment": 60_000,
    "home_health_visit_nursing": 18_000,
    "outpatient_infusion": 35_000,
}
#: Case-manager estimates of providers' cost to deliver, for the margin (the provider may correct them).
PLANNING_COSTS: Mapping[str, Cents] = {
    "home_infusion_drug": 290_000,
    "home_infusion_equipment": 60_000,
    "home_health_visit_nursing": 11_000,
}


def _platform_provider(org_type: str) -> Organization | None:
    return Organization.objects.filter(org_type=org_type, active=True).order_by("name").first()


def _standard_line(
    provider: Organization | None,
    fallback_name: str,
    category: str,
    units: int,
    payer: Organization | None,
    description: str,
    days: int,
) -> LineInput:
    rate = rate_for(provider, category, payer)
    return LineInput(
        category=category,
        units=units,
        unit_price_cents=None if rate is not None else PLANNING_PRICES[category],
        provider_id=provider.pk if provider is not None else None,
        provider_name=fallback_name,
        description=description if rate is not None else f"{description} (planning default price, UNVERIFIED)",
        unit_cost_cents=PLANNING_COSTS.get(category),
        end_day=days,
    )


def options_propose_standard(*, actor: Actor, case_id: int, days: int = 21) -> list[CareOption]:
    """The four standard options of the reference case, priced from contracted rates where on file.

    Stay inpatient; skilled nursing facility; home with home health nursing and
    home infusion; daily outpatient infusion. Providers are the case's hospital
    and the first platform organization of each kind; options already on the
    case (by name) are left alone.
    """
    if not (1 <= days <= 365):
        raise ValidationFailed.on("days", "must be between 1 and 365")
    case = case_for_planning(actor=actor, case_id=case_id)
    payer = _payer_of(workspace_of(case))
    hospital = case.organization
    snf = _platform_provider(OrganizationType.SNF)
    pharmacy = _platform_provider(OrganizationType.HOME_INFUSION)
    agency = _platform_provider(OrganizationType.HOME_HEALTH)
    visits = max(1, round(days * 3 / 7))  # SN 3w3 for three weeks: three skilled nursing visits a week
    standard = [
        (
            f"Stay inpatient {days} days",
            "Continue IV therapy in the hospital",
            [_standard_line(hospital, hospital.name, "inpatient_day", days, payer, "inpatient days", days)],
            False,
        ),
        (
            f"SNF {days} days",
            "Skilled nursing facility gives the IV therapy",
            [_standard_line(snf, "Skilled nursing facility", "snf_day", days, payer, "SNF days", days)],
            False,
        ),
        (
            "Home infusion with home health nursing",
            "Home IV antibiotics from a home infusion pharmacy; nurse visits from a home health agency",
            [
                _standard_line(
                    pharmacy, "Home infusion pharmacy", "home_infusion_drug", 1, payer, "IV antibiotic course", days
                ),
                _standard_line(
                    pharmacy,
                    "Home infusion pharmacy",
                    "home_infusion_equipment",
                    1,
                    payer,
                    "IV tubing and infusion pumps",
                    days,
                ),
                _standard_line(
                    agency,
                    "Home health agency",
                    "home_health_visit_nursing",
                    visits,
                    payer,
                    "skilled nursing visits (SN 3w3)",
                    days,
                ),
            ],
            True,
        ),
        (
            "Daily outpatient infusion",
            "Patient travels to the hospital's infusion center daily",
            [
                _standard_line(
                    hospital, hospital.name, "outpatient_infusion", days, payer, "outpatient infusion visits", days
                )
            ],
            False,
        ),
    ]
    existing = set(CareOption.objects.filter(case=case).values_list("name", flat=True))
    created = []
    with transaction.atomic():
        for name, description, lines, needs_caregiver in standard:
            if name in existing:
                continue
            created.append(
                option_create(
                    actor=actor,
                    case_id=case_id,
                    name=name,
                    description=description,
                    lines=lines,
                    requires_caregiver=needs_caregiver,
                    proposed_by_system=True,
                )
            )
    return created


def _check_waiver(waiver: str) -> None:
    if len(waiver.strip()) > 300:
        raise ValidationFailed.on("eligibility_waiver", "at most 300 characters")


def option_set_flags(
    *, actor: Actor, case_id: int, option_id: int, eligibility_waiver: str | None = None, **flags: bool
) -> CareOption:
    """Set the option's feasibility flags and, when given, the waiver of its failed eligibility rules.

    A waiver (the plan waives the SNF 3-day stay, say) keeps a failed rule on display but no longer
    makes the option infeasible; an empty waiver withdraws it.
    """
    allowed = {"clinically_eligible", "provider_accepts", "requires_caregiver", "excluded_by_patient"}
    unknown = set(flags) - allowed
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a feasibility flag")
    if eligibility_waiver is not None:
        _check_waiver(eligibility_waiver)
    with transaction.atomic():
        case = case_for_planning(actor=actor, case_id=case_id)
        option = CareOption.objects.select_for_update().filter(pk=option_id, case=case).first()
        if option is None:
            raise NotFound(f"No care option {option_id}.")
        changes: dict[str, bool | str] = {key: bool(value) for key, value in flags.items()}
        if eligibility_waiver is not None:
            changes["eligibility_waiver"] = eligibility_waiver.strip()
        for key, value in changes.items():
            setattr(option, key, value)
        option.save()
        audit_record(actor=actor, action="care_option.flags", subject=option, patient=case.patient_id, detail=changes)
    return option


def option_choose(*, actor: Actor, case_id: int, option_id: int) -> CoverageWorkspace:
    """The case manager picks an option (usually the optimiser's, but any feasible one)."""
    with transaction.atomic():
        case, workspace = _workspace_locked(actor, case_id)
        option = CareOption.objects.filter(pk=option_id, case=case).first()
        if option is None:
            raise NotFound(f"No care option {option_id}.")
        evaluation = options_evaluate(case, workspace)
        row = next(r for r in evaluation.rows if r.option.pk == option.pk)
        if row.infeasible_reasons:
            raise ValidationFailed.on("option_id", "this option is not feasible: " + "; ".join(row.infeasible_reasons))
        if Negotiation.objects.filter(case=case, status=NegotiationStatus.OPEN).exclude(option=option).exists():
            raise IllegalTransition("A negotiation is open for another option; cancel it before choosing again.")
        workspace.chosen_option = option
        workspace.chosen_by = actor.user
        workspace.chosen_at = clock.now()
        workspace.version += 1
        workspace.save()
        audit_record(
            actor=actor,
            action="care_option.choose",
            subject=option,
            patient=case.patient_id,
            detail={
                "total_cents": row.ledger.total_cost,
                "non_covered_cents": row.ledger.non_covered,
                "optimiser_pick": row.best,
            },
        )
    return workspace


# --- negotiation -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PartySpec:
    key: str
    name: str
    kind: PartyKind
    organization: Organization | None
    walkaway: WalkAway
    figures: dict[str, Any]
    item: str = ""
    hardship: bool = False


def _provider_kind(org: Organization | None) -> PartyKind:
    if org is not None and org.org_type == OrganizationType.HOME_HEALTH:
        return PartyKind.HOME_HEALTH
    if org is not None and org.org_type == OrganizationType.HOME_INFUSION:
        return PartyKind.PHARMACY
    if org is not None and org.org_type == OrganizationType.HOSPITAL:
        return PartyKind.HOSPITAL
    return PartyKind.PROVIDER


def _derive_parties(
    case: Case,
    workspace: CoverageWorkspace,
    option: CareOption,
    *,
    covered_cost: Cents,
    provider_non_covered: Mapping[str, Cents],
    ability_to_pay_cents: Cents,
    hardship: bool,
    avoided_days: int | None,
    inpatient_per_diem_cents: Cents | None,
    item: str,
) -> list[PartySpec]:
    """Each party's walk-away from the case's figures, by the pure engine's formulas."""
    specs: list[PartySpec] = []
    insurer = _payer_of(workspace)
    inpatient = (
        CareOptionLine.objects.filter(option__case=case, category="inpatient_day").order_by("-units", "pk").first()
    )
    days = avoided_days if avoided_days is not None else (inpatient.units if inpatient else 0)
    per_diem = (
        inpatient_per_diem_cents
        if inpatient_per_diem_cents is not None
        else (inpatient.unit_price_cents if inpatient else 0)
    )
    if insurer is not None:
        figures = {"inpatient_per_diem": per_diem, "avoided_days": days, "covered_cost_of_option": covered_cost}
        specs.append(
            PartySpec(
                "insurer",
                insurer.name,
                PartyKind.INSURER,
                insurer,
                insurer_walkaway(inpatient_per_diem=per_diem, avoided_days=days, covered_cost_of_option=covered_cost),
                figures,
            )
        )
    by_provider: dict[str, list[CareOptionLine]] = {}
    for line in option.lines.select_related("provider"):
        by_provider.setdefault(provider_label(line.provider, line.provider_name), []).append(line)
    for label, lines in by_provider.items():
        org = lines[0].provider
        if org is not None and org.pk == case.organization_id:
            continue  # The hospital's own stake is counted below when it is paid per case.
        kind = _provider_kind(org)
        key = f"org{org.pk}" if org is not None else f"provider{lines[0].pk}"
        uncovered = provider_non_covered.get(label, 0)
        visits = [ln for ln in lines if ln.category.startswith("home_health_visit")]
        if kind is PartyKind.HOME_HEALTH and visits:
            count = sum(ln.units for ln in visits)
            revenue = visits[0].unit_price_cents
            cost = visits[0].unit_cost_cents or 0
            figures = {"visits": count, "revenue_per_visit": revenue, "cost_per_visit": cost}
            walkaway = home_health_walkaway(visits=count, revenue_per_visit=revenue, cost_per_visit=cost)
            specs.append(PartySpec(key, label, kind, org, walkaway, figures, item=item))
        elif uncovered > 0:
            costs = {
                ln.description or ln.category: (ln.unit_cost_cents or 0) * ln.units
                for ln in lines
                if ln.unit_cost_cents is not None
            }
            walkaway = provider_margin_walkaway(price=uncovered, costs=costs)
            specs.append(
                PartySpec(
                    key,
                    label,
                    PartyKind.PHARMACY if kind is PartyKind.PHARMACY else PartyKind.PROVIDER,
                    org,
                    walkaway,
                    {"price": uncovered, "costs": costs},
                )
            )
    if workspace.hospital_paid_per_case:
        hospital_figures = {
            "paid_per_case": True,
            "daily_cost": workspace.hospital_daily_cost_cents,
            "avoided_days": days,
        }
        specs.append(
            PartySpec(
                "hospital",
                case.organization.name,
                PartyKind.HOSPITAL,
                case.organization,
                hospital_walkaway(
                    paid_per_case=True, daily_cost=workspace.hospital_daily_cost_cents, avoided_days=days
                ),
                hospital_figures,
                item="the unfunded balance",
            )
        )
    specs.append(
        PartySpec(
            "patient",
            case.patient.display_name,
            PartyKind.PATIENT,
            None,
            patient_walkaway(ability_to_pay=ability_to_pay_cents, hardship=hardship),
            {"ability_to_pay": ability_to_pay_cents, "hardship": hardship},
            hardship=hardship,
        )
    )
    return specs


def negotiation_open(
    *,
    actor: Actor,
    case_id: int,
    ability_to_pay_cents: Cents,
    hardship: bool = False,
    avoided_days: int | None = None,
    inpatient_per_diem_cents: Cents | None = None,
    item: str = "infusion pumps",
) -> Negotiation:
    """Open a negotiation when the chosen option leaves an unfunded amount (its non-covered part).

    Parties: the patient's insurer, each provider in the option (the pharmacy whose
    price is not covered, the home health agency), the hospital when paid per case,
    and the patient, represented by the case manager.
    """
    if ability_to_pay_cents < 0:
        raise ValidationFailed.on("ability_to_pay", "must not be negative")
    if avoided_days is not None and avoided_days < 0:
        raise ValidationFailed.on("avoided_days", "must not be negative")
    if inpatient_per_diem_cents is not None and inpatient_per_diem_cents < 0:
        raise ValidationFailed.on("inpatient_per_diem", "must not be negative")
    with transaction.atomic():
        case, workspace = _workspace_locked(actor, case_id)
        option = workspace.chosen_option
        if option is None:
            raise ValidationFailed.on("option", "choose a care option first")
        if Negotiation.objects.filter(case=case, status=NegotiationStatus.OPEN).exists():
            raise IllegalTransition("A negotiation is already open for this case.")
        evaluation = options_evaluate(case, workspace)
        row = next(r for r in evaluation.rows if r.option.pk == option.pk)
        gap = row.ledger.non_covered
        if gap <= 0:
            raise ValidationFailed.on("option", "the chosen option leaves nothing unfunded: no negotiation is needed")
        specs = _derive_parties(
            case,
            workspace,
            option,
            covered_cost=row.ledger.insurer,
            provider_non_covered=row.ledger.provider_non_covered,
            ability_to_pay_cents=ability_to_pay_cents,
            hardship=hardship,
            avoided_days=avoided_days,
            inpatient_per_diem_cents=inpatient_per_diem_cents,
            item=item,
        )
        negotiation = Negotiation.objects.create(
            case=case, option=option, gap_cents=gap, opened_by=actor.user, opened_at=clock.now()
        )
        _create_parties(negotiation, specs)
        audit_record(
            actor=actor,
            action="negotiation.open",
            subject=negotiation,
            patient=case.patient_id,
            detail={"gap_cents": gap, "parties": [s.key for s in specs]},
        )
    return negotiation


def _create_parties(negotiation: Negotiation, specs: Sequence[PartySpec]) -> None:
    from casebridge.coverage.negotiation import DEFAULT_COMMITMENT

    NegotiationParty.objects.bulk_create(
        NegotiationParty(
            negotiation=negotiation,
            organization=spec.organization,
            key=spec.key,
            name=spec.name,
            kind=spec.kind.value,
            commitment=DEFAULT_COMMITMENT[spec.kind].value,
            item=spec.item,
            figures=spec.figures,
            computed_cents=spec.walkaway.computed,
            derivation=list(spec.walkaway.derivation),
            override_cents=spec.walkaway.override,
            override_reason=spec.walkaway.override_reason,
            hardship=spec.hardship,
            position=position,
        )
        for position, spec in enumerate(specs)
    )


def _negotiation_locked(actor: Actor, negotiation_id: int) -> Negotiation:
    """Lock the negotiation row: every write to a negotiation queues here first."""
    negotiation = (
        negotiations_visible(actor)
        .select_for_update(of=("self",))
        .select_related("case__patient", "case__organization", "option")
        .filter(pk=negotiation_id)
        .first()
    )
    if negotiation is None:
        raise NotFound(f"No negotiation {negotiation_id}.")
    return negotiation


def _running(actor: Actor, negotiation_id: int) -> Negotiation:
    require(actor, "coverage.plan")
    negotiation = _negotiation_locked(actor, negotiation_id)
    if negotiation.case.organization_id != actor.organization_id:
        raise NotFound(f"No negotiation {negotiation_id}.")  # a party cannot run another's negotiation
    return negotiation


def _require_open(negotiation: Negotiation) -> None:
    if negotiation.status != NegotiationStatus.OPEN:
        raise IllegalTransition(f"The negotiation is {negotiation.get_status_display().lower()}: no more changes.")


def proposal_send(
    *,
    actor: Actor,
    negotiation_id: int,
    rule: str,
    locks: Mapping[str, Cents] | None = None,
    complete_with: str = "proportional_to_gain",
    disclosed: Sequence[str] = (),
    patient_agrees: bool = False,
    note: str = "",
) -> Proposal:
    """Send (or revise) a proposal under a named rule; the shares always sum to the gap exactly."""
    if rule not in (*RULES, "manual"):
        raise ValidationFailed.on("rule", f"must be one of {', '.join((*RULES, 'manual'))}")
    with transaction.atomic():
        negotiation = _running(actor, negotiation_id)
        _require_open(negotiation)
        parties = domain_parties(negotiation)
        keys = {p.id for p in parties}
        for key in disclosed:
            if key not in keys:
                raise ValidationFailed.on("disclosed", f"no party {key!r} in this negotiation")
        try:
            if rule == "manual":
                if not locks:
                    raise ValidationFailed.on("locks", "a manual proposal needs at least one locked amount")
                domain: DomainProposal = allocate_manual(parties, negotiation.gap_cents, dict(locks), complete_with)
            else:
                domain = RULES[rule](parties, negotiation.gap_cents)
        except NegotiationError as exc:
            raise ValidationFailed.on("locks" if rule == "manual" else "rule", str(exc)) from exc
        previous = negotiation.proposals.select_for_update().filter(status=ProposalStatus.SENT)
        previous.update(status=ProposalStatus.REVISED)
        number = (negotiation.proposals.order_by("-number").values_list("number", flat=True).first() or 0) + 1
        now = clock.now()
        proposal = Proposal.objects.create(
            negotiation=negotiation,
            number=number,
            rule=domain.rule,
            math=list(domain.math),
            note=note.strip()[:500],
            sent_by=actor.user,
            sent_at=now,
        )
        rows = {p.key: p for p in negotiation.parties.filter(active=True)}
        for line in domain.lines:
            party = rows[line.party_id]
            agreed = patient_agrees and party.kind == PartyKind.PATIENT
            ProposalLine.objects.create(
                proposal=proposal,
                party=party,
                share_cents=line.share,
                walkaway_cents=line.walkaway,
                locked=line.locked,
                disclosed=line.party_id in disclosed,
                response=Response.ACCEPTED if agreed else Response.PENDING,
                reason="agreed by the patient, recorded by the case manager" if agreed else "",
                responded_by=actor.user if agreed else None,
                responded_at=now if agreed else None,
            )
        negotiation.version += 1
        negotiation.save(update_fields=["version"])
        audit_record(
            actor=actor,
            action="proposal.send",
            subject=proposal,
            patient=negotiation.case.patient_id,
            detail={"number": number, "rule": domain.rule, "shares": domain.shares, "disclosed": sorted(disclosed)},
        )
        _sign_if_all_accepted(actor, negotiation, proposal)
    return proposal


def _party_for(actor: Actor, negotiation: Negotiation, party_key: str | None) -> NegotiationParty:
    """The party the actor answers for: its organization's, or the patient's when it runs the case."""
    if negotiation.case.organization_id == actor.organization_id:
        require(actor, "coverage.plan")
        key = party_key or "patient"
        party = negotiation.parties.filter(key=key, active=True).first()
        if party is None or (party.organization_id is not None and party.organization_id != actor.organization_id):
            raise PermissionDenied("The case manager answers only for the patient (and her own organization).")
        return party
    require(actor, "negotiation.respond")
    party = negotiation.parties.filter(organization_id=actor.organization_id, active=True).first()
    if party is None:
        raise NotFound(f"No negotiation {negotiation.pk}.")
    return party


def proposal_respond(
    *,
    actor: Actor,
    negotiation_id: int,
    action: str,
    version: int | None = None,
    amount_cents: Cents | None = None,
    reason: str = "",
    party_key: str | None = None,
) -> ProposalLine:
    """A party accepts its line, counters with an amount, or declines with a reason.

    Locks the negotiation row, then checks the line's version: a stale answer
    gets 409 instead of overwriting someone else's. When every line is accepted
    the agreement is signed in the same transaction.
    """
    if action not in ("accept", "counter", "decline"):
        raise ValidationFailed.on("action", "must be accept, counter or decline")
    if action == "counter" and (amount_cents is None or amount_cents < 0):
        raise ValidationFailed.on("amount", "a counter-offer needs an amount of 0 or more")
    if action == "decline" and not reason.strip():
        raise ValidationFailed.on("reason", "say why you decline")
    with transaction.atomic():
        negotiation = _negotiation_locked(actor, negotiation_id)
        party = _party_for(actor, negotiation, party_key)
        _require_open(negotiation)
        proposal = current_proposal(negotiation)
        if proposal is None or proposal.status != ProposalStatus.SENT:
            raise IllegalTransition("There is no proposal awaiting an answer.")
        line_id = proposal.lines.filter(party=party).values_list("pk", flat=True).first()
        if line_id is None:
            raise NotFound("Your organization has no line in this proposal.")
        line = lock_at_version(ProposalLine.objects.all(), line_id, version, "proposal line")
        if line.response != Response.PENDING:
            raise IllegalTransition(f"You already answered this proposal ({line.get_response_display().lower()}).")
        line.response = {"accept": Response.ACCEPTED, "counter": Response.COUNTERED, "decline": Response.DECLINED}[
            action
        ]
        line.counter_cents = amount_cents if action == "counter" else None
        line.reason = reason.strip()[:500]
        line.responded_by = actor.user
        line.responded_at = clock.now()
        line.save()
        audit_record(
            actor=actor,
            action=f"proposal.{action}",
            subject=line,
            patient=negotiation.case.patient_id,
            detail={"negotiation": negotiation.pk, "party": party.key, "share_cents": line.share_cents}
            | ({"counter_cents": amount_cents} if action == "counter" else {}),
        )
        _sign_if_all_accepted(actor, negotiation, proposal)
    return line


def walkaway_correct(
    *, actor: Actor, negotiation_id: int, amount_cents: Cents, reason: str, party_key: str | None = None
) -> NegotiationParty:
    """A party states its own walk-away; the computed one is kept beside it for reference."""
    if amount_cents < 0:
        raise ValidationFailed.on("amount", "must not be negative")
    if not reason.strip():
        raise ValidationFailed.on("reason", "say where your figure comes from")
    with transaction.atomic():
        negotiation = _negotiation_locked(actor, negotiation_id)
        party = _party_for(actor, negotiation, party_key)
        _require_open(negotiation)
        party = lock_at_version(NegotiationParty.objects.all(), party.pk, None, "party")
        party.override_cents = amount_cents
        party.override_reason = reason.strip()[:300]
        party.override_by = actor.user
        party.save()
        audit_record(
            actor=actor,
            action="walkaway.correct",
            subject=party,
            patient=negotiation.case.patient_id,
            detail={"party": party.key, "computed_cents": party.computed_cents, "stated_cents": amount_cents},
        )
    return party


def negotiation_cancel(*, actor: Actor, negotiation_id: int, reason: str) -> Negotiation:
    if not reason.strip():
        raise ValidationFailed.on("reason", "is required")
    with transaction.atomic():
        negotiation = _running(actor, negotiation_id)
        _require_open(negotiation)
        negotiation.status = NegotiationStatus.CANCELLED
        negotiation.version += 1
        negotiation.save(update_fields=["status", "version"])
        audit_record(
            actor=actor,
            action="negotiation.cancel",
            subject=negotiation,
            patient=negotiation.case.patient_id,
            detail={"reason": reason.strip()},
        )
    return negotiation


# --- agreement -------------------------------------------------------------------------------------


def _sign_if_all_accepted(actor: Actor, negotiation: Negotiation, proposal: Proposal) -> Agreement | None:
    lines = list(proposal.lines.select_related("party__organization", "responded_by"))
    if not lines or any(line.response != Response.ACCEPTED for line in lines):
        return None
    now = clock.now()
    case = negotiation.case
    terms = [
        {
            "party": line.party.name,
            "party_key": line.party.key,
            "kind": line.party.kind,
            "commitment": line.party.commitment,
            "item": line.party.item,
            "organization_id": line.party.organization_id,
            "share_cents": line.share_cents,
            "walkaway_cents": line.walkaway_cents,
            "accepted_by": str(line.responded_by) if line.responded_by else "",
            "disclosed": line.disclosed,
        }
        for line in lines
    ]
    agreement = Agreement.objects.create(
        negotiation=negotiation,
        proposal=proposal,
        case=case,
        patient=case.patient,
        option_name=negotiation.option.name,
        total_cents=negotiation.gap_cents,
        terms=terms,
        signed_at=now,
    )
    proposal.status = ProposalStatus.ACCEPTED
    proposal.save(update_fields=["status"])
    negotiation.status = NegotiationStatus.AGREED
    negotiation.version += 1
    negotiation.save(update_fields=["status", "version"])
    if negotiation.supersedes_id is not None:
        old = Agreement.objects.filter(negotiation_id=negotiation.supersedes_id).first()
        if old is not None:
            old.superseded_by = agreement
            old.save(update_fields=["superseded_by"])
    audit_record(
        actor=actor,
        action="agreement.sign",
        subject=agreement,
        patient=case.patient_id,
        detail={"negotiation": negotiation.pk, "shares": {t["party_key"]: t["share_cents"] for t in terms}},
    )
    for line in lines:
        record = _commitment_record(agreement, negotiation, line, now)
        if record is not None:
            audit_record(
                actor=actor,
                action=f"{record._meta.model_name}.create",
                subject=record,
                patient=case.patient_id,
                detail={"organization_id": record.organization_id, "amount_cents": record.amount_cents},
            )
    return agreement


def _commitment_record(
    agreement: Agreement, negotiation: Negotiation, line: ProposalLine, now: Any
) -> ExceptionAuthorization | PriceAgreement | EquipmentCommitment | AgreedPayment | None:
    """Write the party's commitment on its own side. A zero share, or a party off the platform, has none."""
    party = line.party
    if line.share_cents <= 0:
        return None
    common: dict[str, Any] = {
        "agreement": agreement,
        "patient": agreement.patient,
        "amount_cents": line.share_cents,
        "approver": line.responded_by,
        "recorded_at": now,
    }
    commitment = CommitmentKind(party.commitment)
    if commitment is CommitmentKind.PATIENT_PAYMENT:
        return AgreedPayment.objects.create(organization=negotiation.case.organization, **common)
    if party.organization is None:
        return None
    if commitment is CommitmentKind.EXCEPTION_PAYMENT:
        days = int(party.figures.get("avoided_days", 0))
        per_diem = int(party.figures.get("inpatient_per_diem", 0))
        covered = int(party.figures.get("covered_cost_of_option", 0))
        savings = days * per_diem - covered - line.share_cents
        return ExceptionAuthorization.objects.create(
            organization=party.organization,
            service_description=f"{negotiation.option.name}: non-covered services beyond benefits",
            avoided_days=days,
            per_diem_cents=per_diem,
            expected_savings_cents=savings,
            justification=(
                f"Avoids {days} inpatient days at {format_cents(per_diem)} = {format_cents(days * per_diem)};"
                f" minus covered cost of the option {format_cents(covered)} and this exception"
                f" {format_cents(line.share_cents)}: expected savings {format_cents(savings)}."
            ),
            **common,
        )
    if commitment is CommitmentKind.PRICE_REDUCTION:
        price = int(party.figures.get("price", line.share_cents))
        return PriceAgreement.objects.create(
            organization=party.organization,
            list_price_cents=price,
            agreed_price_cents=price - line.share_cents,
            **common,
        )
    return EquipmentCommitment.objects.create(organization=party.organization, item=party.item or "equipment", **common)


def agreement_supersede(*, actor: Actor, agreement_id: int, reason: str) -> Negotiation:
    """A signed agreement is never edited: it is superseded, and a new negotiation opens with the same parties."""
    if not reason.strip():
        raise ValidationFailed.on("reason", "say why the agreement is superseded")
    with transaction.atomic():
        agreement = Agreement.objects.select_for_update().filter(pk=agreement_id).first()
        if agreement is None:
            raise NotFound(f"No agreement {agreement_id}.")
        old = _running(actor, agreement.negotiation_id)
        if agreement.status != AgreementStatus.SIGNED:
            raise IllegalTransition("This agreement is already superseded.")
        agreement.status = AgreementStatus.SUPERSEDED
        agreement.save(update_fields=["status"])
        for model in (ExceptionAuthorization, PriceAgreement, EquipmentCommitment, AgreedPayment):
            for record in model.objects.select_for_update().filter(agreement=agreement):
                record.status = AgreementStatus.SUPERSEDED
                record.save(update_fields=["status"])
        old.status = NegotiationStatus.SUPERSEDED
        old.version += 1
        old.save(update_fields=["status", "version"])
        new = Negotiation.objects.create(
            case=old.case,
            option=old.option,
            gap_cents=old.gap_cents,
            opened_by=actor.user,
            opened_at=clock.now(),
            supersedes=old,
        )
        for party in old.parties.filter(active=True):
            party.pk = None
            party.negotiation = new
            party.version = 1
            party.save()
        audit_record(
            actor=actor,
            action="agreement.supersede",
            subject=agreement,
            patient=old.case.patient_id,
            detail={"reason": reason.strip(), "new_negotiation": new.pk},
        )
    return new


def party_unlink(*, actor: Actor, negotiation_id: int, party_key: str) -> NegotiationParty:
    """End an organization's link to the negotiation: its users no longer see it (404)."""
    with transaction.atomic():
        negotiation = _running(actor, negotiation_id)
        party = negotiation.parties.filter(key=party_key, active=True).first()
        if party is None:
            raise NotFound(f"No active party {party_key!r}.")
        party.active = False
        party.save(update_fields=["active"])
        audit_record(actor=actor, action="negotiation.unlink", subject=party, patient=negotiation.case.patient_id)
    return party
