"""Writes to the provider directory, choice lists and referrals.

Each service checks permission, runs in one transaction and audits itself with the patient it concerns.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tasks import task

from casebridge.accounts.models import Organization
from casebridge.accounts.permissions import can, require
from casebridge.accounts.selectors import actor_for
from casebridge.audit.recorder import audit_record
from casebridge.cases.domain import STATUS_LABELS, CaseStatus
from casebridge.cases.models import Case, CaseType
from casebridge.cases.selectors import cases_owned
from casebridge.cases.services import case_open, case_transition
from casebridge.hospital.rules.post_acute import irf_intensity, snf_qualifying_stay
from casebridge.kernel import clock
from casebridge.kernel.actor import Actor
from casebridge.kernel.errors import DomainError, NotFound, ValidationFailed
from casebridge.kernel.numbers import ascii_digits
from casebridge.kernel.validation import validate_model
from casebridge.kernel.versioning import lock_at_version
from casebridge.patients.models import Coverage, IdentifierKind, Patient, PatientIdentifier
from casebridge.patients.services import coverage_add, patient_create
from casebridge.postacute.choice import (
    Candidate,
    NetworkRef,
    PlanRef,
    check_priorities,
    is_managed_care,
    network_status,
    order_candidates,
    proximity,
    serves_area,
    zip5,
)
from casebridge.postacute.lifecycle import (
    OPEN,
    RECEIVER_VISIBLE,
    ReferralStatus,
    check_referral_move,
    path_to_transition,
)
from casebridge.postacute.models import (
    ChoiceList,
    ChoiceListEntry,
    FinancialInterest,
    NetworkParticipation,
    PresentedTo,
    Provider,
    Referral,
)
from casebridge.postacute.vocabulary import (
    CHOICE_LIST_REQUIRED,
    DECLINE_REASONS,
    DEFAULT_PRIORITIES,
    ORG_TYPE_FOR_PROVIDER,
    PROVIDER_TYPE_LABELS,
    REQUIRED_SECTIONS,
    SERVICES,
    PacketSection,
    ProviderType,
)
from casebridge.tasks.models import Priority, Task
from casebridge.tasks.services import task_create

DEFAULT_RESPONSE_HOURS = 4
MAX_RESPONSE_HOURS = 24 * 14


def response_hours_default() -> int:
    """How long a provider has to answer before the sender gets a reminder. Configurable in settings."""
    return int(getattr(settings, "CASEBRIDGE_REFERRAL_RESPONSE_HOURS", DEFAULT_RESPONSE_HOURS))


# --- directory -------------------------------------------------------------------------------------------

PROVIDER_FIELDS = (
    "name",
    "provider_type",
    "services",
    "zip_codes_served",
    "address_line",
    "city",
    "state",
    "postal_code",
    "phone",
    "fax",
    "npi",
    "ccn",
    "medicare_participating",
    "star_rating",
    "capacity",
    "accepting",
    "active",
)


def _check_zips(value: Any, field: str = "zip_codes_served") -> list[str]:
    if not isinstance(value, list) or not all(isinstance(z, str) for z in value):
        raise ValidationFailed.on(field, "must be a list of 5-digit ZIP codes")
    cleaned = [z.strip() for z in value if z.strip()]
    bad = [z for z in cleaned if not (len(z) == 5 and ascii_digits(z))]
    if bad:
        raise ValidationFailed.on(field, f"not 5-digit ZIP codes: {', '.join(bad[:5])}")
    return sorted(set(cleaned))


def _check_services(value: Any) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(s, str) for s in value):
        raise ValidationFailed.on("services", "must be a list of service codes")
    unknown = [s for s in value if s not in SERVICES]
    if unknown:
        raise ValidationFailed.on("services", f"unknown services: {', '.join(unknown[:5])}")
    return sorted(set(value))


def _check_provider_type(value: str) -> str:
    if value not in PROVIDER_TYPE_LABELS:
        raise ValidationFailed.on("provider_type", f"must be one of {', '.join(PROVIDER_TYPE_LABELS)}")
    return value


def _clean_provider_fields(fields: dict[str, Any]) -> dict[str, Any]:
    unknown = set(fields) - set(PROVIDER_FIELDS)
    if unknown:
        raise ValidationFailed.on(sorted(unknown)[0], "is not a directory field")
    if "provider_type" in fields:
        _check_provider_type(fields["provider_type"])
    if "services" in fields:
        fields["services"] = _check_services(fields["services"])
    if "zip_codes_served" in fields:
        fields["zip_codes_served"] = _check_zips(fields["zip_codes_served"])
    if fields.get("name") is not None:
        fields["name"] = str(fields["name"]).strip()
    return fields


def _check_platform_organization(organization_id: int, provider_type: str) -> Organization:
    org = Organization.objects.filter(pk=organization_id, active=True).first()
    if org is None:
        raise ValidationFailed.on("organization_id", f"no organization {organization_id}")
    wanted = ORG_TYPE_FOR_PROVIDER.get(provider_type)
    if wanted is not None and org.org_type != wanted:
        raise ValidationFailed.on(
            "organization_id", f"{org.name} is not a {PROVIDER_TYPE_LABELS[provider_type].lower()}"
        )
    if org.org_type in ("hospital", "insurer") and wanted is None:
        raise ValidationFailed.on("organization_id", f"{org.name} is a {org.get_org_type_display().lower()}")
    if Provider.objects.filter(organization=org).exists():
        raise ValidationFailed.on("organization_id", f"{org.name} is already in the directory")
    return org


def provider_create(*, actor: Actor, organization_id: int | None = None, **fields: Any) -> Provider:
    """Add a directory entry: an organization on the platform (referrals reach its intake queue) or an external one."""
    require(actor, "directory.manage")
    fields = _clean_provider_fields(dict(fields))
    provider_type = _check_provider_type(fields.get("provider_type", ""))
    now = clock.now()
    with transaction.atomic():
        org = _check_platform_organization(organization_id, provider_type) if organization_id is not None else None
        if org is not None:
            # Contact details default to what the organization itself keeps.
            for name in ("address_line", "city", "state", "postal_code", "phone", "npi"):
                if not fields.get(name):
                    fields[name] = getattr(org, name)
            fields.setdefault("zip_codes_served", list(org.zip_codes_served))
            fields["name"] = fields.get("name") or org.name
        provider = Provider(
            organization=org,
            maintained_by=actor.organization,
            created_at=now,
            updated_at=now,
            status_updated_at=now,
            **fields,
        )
        validate_model(provider)
        provider.save()
        audit_record(actor=actor, action="directory.provider.create", subject=provider)
    return provider


def _maintained(actor: Actor) -> Any:
    return Provider.objects.filter(organization_id=actor.organization_id) | Provider.objects.filter(
        maintained_by_id=actor.organization_id
    )


def provider_update(*, actor: Actor, provider_id: int, version: int | None = None, **changes: Any) -> Provider:
    """Edit an entry the actor's organization maintains (or its own entry)."""
    require(actor, "directory.manage")
    changes = _clean_provider_fields(dict(changes))
    with transaction.atomic():
        provider = lock_at_version(_maintained(actor), provider_id, version, "directory entry")
        for k, v in changes.items():
            setattr(provider, k, v)
        provider.updated_at = clock.now()
        if {"accepting", "capacity"} & set(changes):
            provider.status_updated_at = provider.updated_at
        validate_model(provider)
        provider.save()
        audit_record(
            actor=actor, action="directory.provider.update", subject=provider, detail={"fields": sorted(changes)}
        )
    return provider


def provider_status_update(
    *, actor: Actor, provider_id: int, accepting: bool, capacity: int | None, version: int | None = None
) -> Provider:
    """A provider on the platform reports whether it accepts new patients and how many it can take."""
    require(actor, "provider.status")
    if capacity is not None and capacity < 0:
        raise ValidationFailed.on("capacity", "cannot be negative")
    with transaction.atomic():
        own = Provider.objects.filter(organization_id=actor.organization_id)
        provider = lock_at_version(own, provider_id, version, "directory entry")
        provider.accepting = accepting
        provider.capacity = capacity
        provider.status_updated_at = provider.updated_at = clock.now()
        provider.save()
        audit_record(
            actor=actor,
            action="directory.provider.status",
            subject=provider,
            detail={"accepting": accepting, "capacity": capacity},
        )
    return provider


def network_add(
    *, actor: Actor, provider_id: int, insurer_id: int | None = None, payer_name: str = "", plan_name: str = ""
) -> NetworkParticipation:
    require(actor, "directory.manage")
    insurer = None
    if insurer_id is not None:
        insurer = Organization.objects.filter(pk=insurer_id, org_type="insurer").first()
        if insurer is None:
            raise ValidationFailed.on("insurer_id", f"no health insurer {insurer_id} on the platform")
        payer_name = payer_name.strip() or insurer.name
    if not payer_name.strip():
        raise ValidationFailed.on("payer_name", "name the payer or choose an insurer on the platform")
    with transaction.atomic():
        provider = _maintained(actor).select_for_update().filter(pk=provider_id).first()
        if provider is None:
            raise NotFound(f"No directory entry {provider_id} that {actor.organization.name} maintains.")
        network = NetworkParticipation(
            provider=provider, insurer=insurer, payer_name=payer_name.strip(), plan_name=plan_name.strip()
        )
        validate_model(network)
        network.save()
        audit_record(actor=actor, action="directory.network.add", subject=network, detail={"provider_id": provider.pk})
    return network


def network_remove(*, actor: Actor, network_id: int) -> None:
    require(actor, "directory.manage")
    with transaction.atomic():
        network = NetworkParticipation.objects.filter(pk=network_id, provider__in=_maintained(actor)).first()
        if network is None:
            raise NotFound(f"No network entry {network_id}.")
        audit_record(
            actor=actor, action="directory.network.remove", subject=network, detail={"provider_id": network.provider_id}
        )
        network.delete()


def financial_interest_set(*, actor: Actor, provider_id: int, description: str) -> FinancialInterest:
    """Record the actor's hospital's financial interest in a provider (disclosed on choice lists)."""
    require(actor, "directory.manage")
    if actor.organization.org_type != "hospital":
        raise ValidationFailed.on("provider_id", "only hospitals record financial interests for disclosure")
    if not description.strip():
        raise ValidationFailed.on("description", "describe the interest, e.g. the hospital owns the agency")
    with transaction.atomic():
        provider = Provider.objects.filter(pk=provider_id).first()
        if provider is None:
            raise NotFound(f"No provider {provider_id}.")
        interest, _ = FinancialInterest.objects.update_or_create(
            hospital=actor.organization,
            provider=provider,
            defaults={"description": description.strip(), "recorded_at": clock.now()},
        )
        audit_record(actor=actor, action="directory.financial_interest.set", subject=interest)
    return interest


def financial_interest_clear(*, actor: Actor, provider_id: int) -> None:
    require(actor, "directory.manage")
    with transaction.atomic():
        interest = FinancialInterest.objects.filter(hospital_id=actor.organization_id, provider_id=provider_id).first()
        if interest is None:
            raise NotFound(f"No financial interest recorded in provider {provider_id}.")
        audit_record(actor=actor, action="directory.financial_interest.clear", subject=interest)
        interest.delete()


# --- choice lists ----------------------------------------------------------------------------------------


def _primary_coverage(patient: Patient) -> Coverage | None:
    today = clock.today()
    for c in patient.coverages.filter(active=True).order_by("order", "-period_start"):
        if c.period_start <= today and (c.period_end is None or c.period_end >= today):
            return c
    return None


def _eligibility(provider_type: str, inputs: dict[str, Any]) -> dict[str, Any]:
    """Run the Medicare eligibility rule for the service type when its inputs were given (RULES.md)."""
    try:
        if provider_type == ProviderType.SNF and inputs.get("inpatient_admitted_on") and inputs.get("discharge_on"):
            snf = snf_qualifying_stay(
                inpatient_admitted_on=inputs["inpatient_admitted_on"],
                discharged_on=inputs["discharge_on"],
                observation_or_ed_started_on=inputs.get("observation_started_on"),
            )
            rule = "SNF 3-day qualifying inpatient stay (Medicare Part A)"
            return {"rule": rule, "eligible": snf.eligible, "reasons": list(snf.reasons)}
        if provider_type == ProviderType.IRF and inputs.get("therapy_minutes_by_day"):
            irf = irf_intensity(
                therapy_minutes_by_day=list(inputs["therapy_minutes_by_day"]),
                disciplines=list(inputs.get("therapy_disciplines") or []),
            )
            return {"rule": "IRF intensive therapy", "eligible": irf.eligible, "reasons": list(irf.reasons)}
    except ValueError as exc:
        raise ValidationFailed.on("eligibility", str(exc)) from exc
    return {}


def choice_list_build(
    *,
    actor: Actor,
    case_id: int,
    provider_type: str,
    service: str = "",
    area_zips: list[str] | None = None,
    priorities: list[str] | None = None,
    managed_care: bool | None = None,
    eligibility_inputs: dict[str, Any] | None = None,
) -> ChoiceList:
    """List every qualified provider of the service in the patient's area (42 CFR 482.43(c)).

    Qualified: active in the directory, of the needed type, offering the service when one is named, and
    serving the area (HHAs: the patient's home ZIP by default; SNF/IRF/LTCH: the area the patient asks for).
    Network status, Medicare participation, star rating and any financial interest of this hospital are
    shown for each; none of them removes a provider from the list. The patient's priorities set the order.
    """
    require(actor, "choicelist.change")
    _check_provider_type(provider_type)
    if service and service not in SERVICES:
        raise ValidationFailed.on("service", f"unknown service {service!r}")
    try:
        ordered_priorities = check_priorities(list(priorities) if priorities is not None else list(DEFAULT_PRIORITIES))
    except ValueError as exc:
        raise ValidationFailed.on("priorities", str(exc)) from exc
    with transaction.atomic():
        case = cases_owned(actor).select_related("patient").filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"No case {case_id}.")
        patient = case.patient
        area = _check_zips(list(area_zips), "area_zips") if area_zips else []
        if not area and zip5(patient.postal_code):
            area = [zip5(patient.postal_code)]
        if not area:
            raise ValidationFailed.on("area_zips", "the patient has no ZIP code on file: name the area to search")
        eligibility = _eligibility(provider_type, eligibility_inputs or {})
        coverage = _primary_coverage(patient)
        plan = (
            PlanRef(insurer_id=coverage.insurer_id, payer_name=coverage.payer_name, plan_name=coverage.plan_name)
            if coverage
            else None
        )
        if managed_care is None:
            managed_care = coverage is not None and is_managed_care(
                payer_name=coverage.payer_name,
                plan_name=coverage.plan_name,
                insurer_on_platform=bool(coverage.insurer_id),
            )
        interests = {
            fi.provider_id: fi.description for fi in FinancialInterest.objects.filter(hospital=actor.organization)
        }
        providers = [
            p
            for p in Provider.objects.filter(active=True, provider_type=provider_type).prefetch_related("networks")
            if (not service or service in p.services)
            and serves_area(area_zips=area, zip_codes_served=p.zip_codes_served, located_in=p.postal_code)
        ]
        by_id = {p.pk: p for p in providers}
        candidates = [
            Candidate(
                provider_id=p.pk,
                name=p.name,
                network=network_status(
                    plan,
                    [NetworkRef(n.insurer_id, n.payer_name, n.plan_name) for n in p.networks.all()],
                    managed_care=managed_care,
                ),
                star_rating=p.star_rating,
                proximity=proximity(area_zips=area, located_in=p.postal_code, zip_codes_served=p.zip_codes_served),
                accepting=p.accepting,
                medicare_participating=p.medicare_participating,
            )
            for p in providers
        ]
        now = clock.now()
        cl = ChoiceList.objects.create(
            organization=actor.organization,
            case=case,
            patient=patient,
            provider_type=provider_type,
            service=service,
            area_zips=area,
            priorities=ordered_priorities,
            payer_name=coverage.payer_name if coverage else "",
            plan_name=coverage.plan_name if coverage else "",
            managed_care=managed_care,
            eligibility=eligibility,
            created_at=now,
            created_by=actor.user,
        )
        ChoiceListEntry.objects.bulk_create(
            ChoiceListEntry(
                choice_list=cl,
                provider_id=c.provider_id,
                position=i,
                name=c.name,
                location=", ".join(x for x in (by_id[c.provider_id].city, by_id[c.provider_id].postal_code) if x),
                phone=by_id[c.provider_id].phone,
                network_status=c.network,
                medicare_participating=c.medicare_participating,
                star_rating=c.star_rating,
                accepting=c.accepting,
                capacity=by_id[c.provider_id].capacity,
                proximity=c.proximity,
                financial_interest=interests.get(c.provider_id, ""),
            )
            for i, c in enumerate(order_candidates(candidates, ordered_priorities), start=1)
        )
        audit_record(
            actor=actor,
            action="choicelist.build",
            subject=cl,
            patient=patient,
            detail={"provider_type": provider_type, "service": service, "area": area, "count": len(candidates)},
        )
    return cl


def choice_list_present(
    *,
    actor: Actor,
    choice_list_id: int,
    presented_to: str,
    representative_name: str = "",
    ranked_provider_ids: list[int] | None = None,
    note: str = "",
) -> ChoiceList:
    """Record that the list was presented: by whom, when, to whom, and the patient's ranked choices.

    A presented list is a record of what the patient saw; it is not changed afterwards (build a new one).
    """
    require(actor, "choicelist.change")
    if presented_to not in PresentedTo.values:
        raise ValidationFailed.on("presented_to", f"must be one of {', '.join(PresentedTo.values)}")
    if presented_to == PresentedTo.REPRESENTATIVE and not representative_name.strip():
        raise ValidationFailed.on("representative_name", "name the representative the list was presented to")
    ranked = list(ranked_provider_ids or [])
    if len(set(ranked)) != len(ranked):
        raise ValidationFailed.on("ranked_provider_ids", "a provider is ranked twice")
    with transaction.atomic():
        cl = ChoiceList.objects.select_for_update().filter(pk=choice_list_id, organization=actor.organization).first()
        if cl is None:
            raise NotFound(f"No choice list {choice_list_id}.")
        if cl.presented_at is not None:
            raise ValidationFailed.on("choice_list", "this list was already presented; build a new one to change it")
        entries = {e.provider_id: e for e in cl.entries.all()}
        missing = [pid for pid in ranked if pid not in entries]
        if missing:
            raise ValidationFailed.on("ranked_provider_ids", f"not on this list: {', '.join(map(str, missing))}")
        for rank, pid in enumerate(ranked, start=1):
            entries[pid].patient_rank = rank
            entries[pid].save(update_fields=["patient_rank"])
        cl.presented_at = clock.now()
        cl.presented_by = actor.user
        cl.presented_to = presented_to
        cl.representative_name = representative_name.strip()
        cl.presentation_note = note.strip()[:500]
        cl.save()
        audit_record(
            actor=actor,
            action="choicelist.present",
            subject=cl,
            patient=cl.patient_id,
            detail={"presented_to": presented_to, "ranked_provider_ids": ranked},
        )
    return cl


# --- referrals -------------------------------------------------------------------------------------------


def _hospital_mrns(patient: Patient, hospital: Organization) -> list[str]:
    return list(patient.identifiers.filter(kind=IdentifierKind.MRN, assigner=hospital).values_list("value", flat=True))


def _care_plan_summary(case: Case) -> dict[str, Any]:
    plan = getattr(case, "care_plan", None)
    if plan is None:
        return {"status": "none", "needs": [], "goals": []}
    return {
        "title": plan.title,
        "status": plan.status,
        "needs": [n.label for n in plan.needs.filter(status="active").order_by("identified_at")],
        "goals": [
            {
                "description": g.description,
                "target": " ".join(x for x in (g.target_value, g.measure) if x),
                "target_date": g.target_date.isoformat() if g.target_date else "",
                "status": g.lifecycle_status,
                "interventions": [
                    {"description": i.description, "discipline": i.discipline, "frequency": i.frequency}
                    for i in g.interventions.all()
                ],
            }
            for g in plan.goals.all().order_by("created_at")
        ],
    }


def build_packet(
    *,
    actor: Actor,
    case: Case,
    sections: list[str],
    provider_type: str,
    service: str,
    note: str,
    requested_start_on: dt.date | None,
) -> dict[str, Any]:
    """The referral packet: only the sections chosen are copied; the receiver sees this and nothing else."""
    patient = case.patient
    packet: dict[str, Any] = {
        "referring": {
            "organization": actor.organization.name,
            "phone": actor.organization.phone,
            "case_manager": actor.user.get_full_name() or actor.user.username,
            "case_manager_phone": actor.user.phone,
        },
        "need": {
            "provider_type": provider_type,
            "provider_type_label": PROVIDER_TYPE_LABELS[provider_type],
            "service": service,
            "service_label": SERVICES.get(service, ""),
            "requested_start_on": requested_start_on.isoformat() if requested_start_on else "",
        },
    }
    if PacketSection.DEMOGRAPHICS in sections:
        packet["demographics"] = {
            "family_name": patient.family_name,
            "given_name": patient.given_name,
            "birth_date": patient.birth_date.isoformat(),
            "sex": patient.sex,
            "address_line": patient.address_line,
            "city": patient.city,
            "state": patient.state,
            "postal_code": patient.postal_code,
            "phone": patient.phone,
            "language": patient.language,
            "interpreter_needed": patient.interpreter_needed,
            "hospital_mrn": ", ".join(_hospital_mrns(patient, actor.organization)),
        }
    if PacketSection.COVERAGE in sections:
        packet["coverage"] = [
            {
                "payer_name": c.payer_name,
                "plan_name": c.plan_name,
                "member_id": c.member_id,
                "order": c.get_order_display(),
                "period_start": c.period_start.isoformat(),
                "insurer_id": c.insurer_id,
            }
            for c in patient.coverages.filter(active=True)
        ]
    if PacketSection.DIAGNOSES in sections:
        packet["diagnoses"] = list(case.diagnoses)
    if PacketSection.CARE_PLAN in sections:
        packet["care_plan"] = _care_plan_summary(case)
    if PacketSection.NOTES in sections:
        packet["notes"] = note.strip()
    return packet


def _check_sections(sections: list[str] | None) -> list[str]:
    chosen = list(dict.fromkeys(sections or []))
    unknown = [s for s in chosen if s not in {p.value for p in PacketSection}]
    if unknown:
        raise ValidationFailed.on("sections", f"unknown sections: {', '.join(unknown)}")
    for required in REQUIRED_SECTIONS:
        if required not in chosen:
            chosen.insert(0, required.value)
    return chosen


def referral_send(
    *,
    actor: Actor,
    case_id: int,
    provider_ids: list[int],
    provider_type: str,
    service: str = "",
    sections: list[str] | None = None,
    note: str = "",
    choice_list_id: int | None = None,
    response_hours: int | None = None,
    requested_start_on: dt.date | None = None,
) -> list[Referral]:
    """Send the same referral packet to one or several providers at once.

    For HHA, SNF, IRF and LTCH care the patient must first have been presented a choice list of that type
    (42 CFR 482.43(c)); the patient may still choose a provider that is not on it.
    """
    require(actor, "referral.send")
    _check_provider_type(provider_type)
    if service and service not in SERVICES:
        raise ValidationFailed.on("service", f"unknown service {service!r}")
    if not provider_ids:
        raise ValidationFailed.on("provider_ids", "choose at least one provider")
    if len(set(provider_ids)) != len(provider_ids):
        raise ValidationFailed.on("provider_ids", "a provider is named twice")
    chosen_sections = _check_sections(sections)
    if PacketSection.NOTES in chosen_sections and not note.strip():
        raise ValidationFailed.on("note", "write the note, or leave the note section out")
    hours = response_hours if response_hours is not None else response_hours_default()
    if not 1 <= hours <= MAX_RESPONSE_HOURS:
        raise ValidationFailed.on("response_hours", f"must be between 1 and {MAX_RESPONSE_HOURS}")
    with transaction.atomic():
        case = cases_owned(actor).select_related("patient").select_for_update(of=("self",)).filter(pk=case_id).first()
        if case is None:
            raise NotFound(f"No case {case_id}.")
        if case.status_enum in (CaseStatus.CLOSED, CaseStatus.CANCELLED):
            raise ValidationFailed.on("case_id", f"the case is {STATUS_LABELS[case.status_enum].lower()}")
        choice_list = None
        if choice_list_id is not None:
            choice_list = ChoiceList.objects.filter(pk=choice_list_id, case=case).first()
            if choice_list is None:
                raise ValidationFailed.on("choice_list_id", f"no choice list {choice_list_id} for this case")
        if provider_type in CHOICE_LIST_REQUIRED:
            presented = ChoiceList.objects.filter(case=case, provider_type=provider_type, presented_at__isnull=False)
            if not presented.exists():
                raise ValidationFailed.on(
                    "choice_list_id",
                    f"present the patient a choice list ({PROVIDER_TYPE_LABELS[provider_type].lower()}) "
                    "and record it before referring (42 CFR 482.43(c))",
                )
            if choice_list is None:
                choice_list = presented.order_by("-presented_at").first()
        providers = {p.pk: p for p in Provider.objects.filter(pk__in=provider_ids, active=True)}
        missing = [pid for pid in provider_ids if pid not in providers]
        if missing:
            raise ValidationFailed.on("provider_ids", f"no active provider {', '.join(map(str, missing))}")
        wrong_type = [p.name for p in providers.values() if p.provider_type != provider_type]
        if wrong_type:
            raise ValidationFailed.on(
                "provider_ids", f"not a {PROVIDER_TYPE_LABELS[provider_type].lower()}: {', '.join(wrong_type)}"
            )
        already = Referral.objects.filter(case=case, provider_id__in=provider_ids, status__in=list(OPEN))
        if already.exists():
            names = ", ".join(sorted({r.provider.name for r in already.select_related("provider")}))
            raise ValidationFailed.on("provider_ids", f"an open referral already goes to {names}")
        packet = build_packet(
            actor=actor,
            case=case,
            sections=chosen_sections,
            provider_type=provider_type,
            service=service,
            note=note,
            requested_start_on=requested_start_on,
        )
        now = clock.now()
        referrals = []
        for pid in provider_ids:
            provider = providers[pid]
            referral = Referral.objects.create(
                organization=actor.organization,
                case=case,
                patient=case.patient,
                choice_list=choice_list,
                provider=provider,
                receiving_organization_id=provider.organization_id,
                provider_type=provider_type,
                service=service,
                sections=chosen_sections,
                packet=packet,
                sent_at=now,
                sent_by=actor.user,
                response_due_at=now + dt.timedelta(hours=hours),
            )
            audit_record(
                actor=actor,
                action="referral.send",
                subject=referral,
                patient=case.patient,
                detail={
                    "provider_id": pid,
                    "receiving_organization_id": provider.organization_id,
                    "sections": chosen_sections,
                },
            )
            referrals.append(referral)
    return referrals


def _incoming_locked(actor: Actor, referral_id: int, version: int | None) -> Referral:
    qs = Referral.objects.filter(receiving_organization_id=actor.organization_id, status__in=list(RECEIVER_VISIBLE))
    return lock_at_version(qs, referral_id, version, "referral")


def _outgoing_locked(actor: Actor, referral_id: int, version: int | None) -> Referral:
    return lock_at_version(
        Referral.objects.filter(organization_id=actor.organization_id), referral_id, version, "referral"
    )


def _answer(
    referral: Referral,
    *,
    actor: Actor,
    accept: bool,
    reason_code: str,
    note: str,
    proposed_start_on: dt.date | None,
) -> None:
    target = ReferralStatus.ACCEPTED if accept else ReferralStatus.REJECTED
    check_referral_move(referral.status_enum, target)
    if not accept:
        if reason_code not in DECLINE_REASONS:
            raise ValidationFailed.on("reason_code", f"must be one of {', '.join(DECLINE_REASONS)}")
        if reason_code == "other" and not note.strip():
            raise ValidationFailed.on("note", "say why the referral is declined")
    if accept and proposed_start_on is not None and proposed_start_on < clock.today():
        raise ValidationFailed.on("proposed_start_on", "is in the past")
    referral.status = target
    referral.responded_at = clock.now()
    referral.responded_by = actor.user
    referral.decline_reason = "" if accept else reason_code
    referral.response_note = note.strip()[:500]
    referral.proposed_start_on = proposed_start_on if accept else None


def referral_accept(
    *,
    actor: Actor,
    referral_id: int,
    proposed_start_on: dt.date | None = None,
    note: str = "",
    version: int | None = None,
) -> Referral:
    """The receiving organization accepts the patient. Nothing starts until the patient agrees."""
    require(actor, "referral.respond")
    with transaction.atomic():
        referral = _incoming_locked(actor, referral_id, version)
        _answer(referral, actor=actor, accept=True, reason_code="", note=note, proposed_start_on=proposed_start_on)
        referral.save()
        audit_record(actor=actor, action="referral.accept", subject=referral, patient=referral.patient_id)
    return referral


def referral_decline(
    *, actor: Actor, referral_id: int, reason_code: str, note: str = "", version: int | None = None
) -> Referral:
    require(actor, "referral.respond")
    with transaction.atomic():
        referral = _incoming_locked(actor, referral_id, version)
        _answer(referral, actor=actor, accept=False, reason_code=reason_code, note=note, proposed_start_on=None)
        referral.save()
        audit_record(
            actor=actor,
            action="referral.decline",
            subject=referral,
            patient=referral.patient_id,
            detail={"reason_code": reason_code},
        )
    return referral


def referral_response_record(
    *,
    actor: Actor,
    referral_id: int,
    accepted: bool,
    contact_name: str,
    reason_code: str = "",
    note: str = "",
    proposed_start_on: dt.date | None = None,
    version: int | None = None,
) -> Referral:
    """The hospital records an external provider's answer, given by phone or fax."""
    require(actor, "referral.send")
    if not contact_name.strip():
        raise ValidationFailed.on("contact_name", "name who answered for the provider")
    with transaction.atomic():
        referral = _outgoing_locked(actor, referral_id, version)
        if referral.receiving_organization_id is not None:
            raise ValidationFailed.on(
                "referral", f"{referral.provider.name} works on CaseBridge and answers in its own intake queue"
            )
        _answer(
            referral,
            actor=actor,
            accept=accepted,
            reason_code=reason_code,
            note=note,
            proposed_start_on=proposed_start_on,
        )
        referral.response_recorded_manually = True
        referral.response_contact = contact_name.strip()[:200]
        referral.save()
        audit_record(
            actor=actor,
            action="referral.response.record",
            subject=referral,
            patient=referral.patient_id,
            detail={"accepted": accepted, "reason_code": reason_code},
        )
    return referral


def referral_withdraw(*, actor: Actor, referral_id: int, reason: str, version: int | None = None) -> Referral:
    """The hospital withdraws a referral; the receiver loses sight of the packet."""
    require(actor, "referral.send")
    if not reason.strip():
        raise ValidationFailed.on("reason", "is required")
    with transaction.atomic():
        referral = _outgoing_locked(actor, referral_id, version)
        check_referral_move(referral.status_enum, ReferralStatus.CANCELLED)
        referral.status = ReferralStatus.CANCELLED
        referral.closed_reason = reason.strip()[:300]
        referral.save()
        audit_record(actor=actor, action="referral.withdraw", subject=referral, patient=referral.patient_id)
    return referral


HOSPITAL_MRN_SYSTEM = "urn:casebridge:organization:{org_id}:mrn"


def _agency_patient(agency_actor: Actor, referral: Referral) -> Patient:
    """The agency's own record of the patient, created from the packet (or found from an earlier referral)."""
    demo = referral.packet.get("demographics", {})
    mrn = (demo.get("hospital_mrn") or "").split(",")[0].strip()
    system = HOSPITAL_MRN_SYSTEM.format(org_id=referral.organization_id)
    if mrn:
        known = PatientIdentifier.objects.filter(
            kind=IdentifierKind.OTHER,
            value=mrn,
            system=system,
            patient__organization_id=agency_actor.organization_id,
        ).first()
        if known is not None:
            return known.patient
    identifiers = []
    if mrn:
        # Identifiers are unique per (kind, value, assigner, system) platform-wide; when another agency already
        # keeps this hospital MRN, the system URI still names the hospital that assigned it.
        taken = PatientIdentifier.objects.filter(
            kind=IdentifierKind.OTHER, value=mrn, assigner_id=referral.organization_id
        ).exists()
        identifiers.append(
            {
                "kind": IdentifierKind.OTHER,
                "value": mrn,
                "assigner": None if taken else referral.organization,
                "system": system,
            }
        )
    fields = {
        k: demo[k]
        for k in ("family_name", "given_name", "sex", "address_line", "city", "state", "postal_code", "phone")
        if demo.get(k)
    }
    if demo.get("language"):
        fields["language"] = demo["language"]
    fields["interpreter_needed"] = bool(demo.get("interpreter_needed"))
    patient = patient_create(
        actor=agency_actor,
        birth_date=dt.date.fromisoformat(demo["birth_date"]),
        identifiers=identifiers,
        **fields,
    )
    for c in referral.packet.get("coverage", []):
        coverage_add(
            actor=agency_actor,
            patient_id=patient.pk,
            insurer_id=c.get("insurer_id"),
            payer_name=c.get("payer_name", ""),
            plan_name=c.get("plan_name", ""),
            member_id=c.get("member_id", ""),
            period_start=dt.date.fromisoformat(c["period_start"]),
            order={"Primary": 1, "Secondary": 2, "Tertiary": 3}.get(c.get("order", ""), 1),
        )
    return patient


def _open_home_health_case(*, hospital_actor: Actor, referral: Referral, start_on: dt.date) -> Case:
    """The agency's acceptance, once the patient agrees, opens a home health case in the agency's organization.

    It is opened in the name of the agency user who accepted the referral: the agency decided to take the
    patient on, the hospital only recorded the patient's agreement (noted in the agency's audit entry).
    """
    acceptor = referral.responded_by
    agency_actor = (
        actor_for(acceptor, organization_id=referral.receiving_organization_id) if acceptor is not None else None
    )
    if agency_actor is None or not (can(agency_actor, "patient.create") and can(agency_actor, "case.create")):
        raise DomainError(
            f"{referral.provider.name}: the user who accepted this referral can no longer open cases there. "
            "Ask the agency to accept it again."
        )
    patient = _agency_patient(agency_actor, referral)
    need = referral.packet.get("need", {})
    reason = f"Referral #{referral.pk} from {referral.organization.name}"
    if need.get("service_label"):
        reason += f": {need['service_label']}"
    hh_case = case_open(
        actor=agency_actor,
        patient_id=patient.pk,
        case_type=CaseType.HOME_HEALTH,
        reason=reason[:300],
        diagnoses=list(referral.packet.get("diagnoses", [])),
    )
    due = timezone.make_aware(dt.datetime.combine(start_on, dt.time(9, 0)))
    task_create(
        actor=agency_actor,
        title=f"Start-of-care visit: {patient.display_name}",
        case_id=hh_case.pk,
        kind="start_of_care",
        due_at=due,
        description=f"Start of service scheduled for {start_on.isoformat()} ({reason}).",
    )
    audit_record(
        actor=agency_actor,
        action="referral.home_health_case.open",
        subject=hh_case,
        patient=patient,
        detail={
            "referral_id": referral.pk,
            "hospital_id": referral.organization_id,
            "hospital_case_id": referral.case_id,
            "agreement_recorded_by": hospital_actor.user_id,
        },
    )
    return hh_case


def referral_agreement_record(
    *,
    actor: Actor,
    referral_id: int,
    start_of_service_on: dt.date,
    note: str = "",
    version: int | None = None,
) -> Referral:
    """The patient agrees to an accepted provider: schedule the start of service and move the case to transition.

    The hospital case walks forward along legal moves to transition (see lifecycle.path_to_transition); a case on
    hold, closed or cancelled is refused with a message. Other open referrals for the same service are withdrawn,
    so those providers stop seeing the packet. A home health agency on the platform gets its own case.
    """
    require(actor, "referral.send")
    require(actor, "case.change")
    if start_of_service_on < clock.today():
        raise ValidationFailed.on("start_of_service_on", "is in the past")
    with transaction.atomic():
        referral = _outgoing_locked(actor, referral_id, version)
        check_referral_move(referral.status_enum, ReferralStatus.COMPLETED)
        case = Case.objects.select_for_update().get(pk=referral.case_id)
        steps = path_to_transition(case.status_enum)
        now = clock.now()
        referral.status = ReferralStatus.COMPLETED
        referral.patient_agreed_at = now
        referral.agreement_recorded_by = actor.user
        referral.start_of_service_on = start_of_service_on
        if note.strip():
            referral.closed_reason = note.strip()[:300]
        others = (
            Referral.objects.select_for_update()
            .filter(case_id=referral.case_id, provider_type=referral.provider_type, status__in=list(OPEN))
            .exclude(pk=referral.pk)
        )
        withdrawn = []
        for other in others:
            other.status = ReferralStatus.CANCELLED
            other.closed_reason = f"Patient chose {referral.provider.name}"
            other.version += 1
            other.save()
            withdrawn.append(other.pk)
        for step in steps:
            case_transition(
                actor=actor,
                case_id=case.pk,
                to_status=step,
                reason=f"Post-acute service arranged: referral #{referral.pk} to {referral.provider.name}",
            )
        is_agency = (
            referral.provider_type == ProviderType.HOME_HEALTH
            and referral.receiving_organization_id is not None
            and referral.receiving_organization is not None
            and referral.receiving_organization.org_type == "home_health"
        )
        if is_agency:
            referral.home_health_case = _open_home_health_case(
                hospital_actor=actor, referral=referral, start_on=start_of_service_on
            )
        referral.save()
        audit_record(
            actor=actor,
            action="referral.agreement",
            subject=referral,
            patient=referral.patient_id,
            detail={
                "start_of_service_on": start_of_service_on.isoformat(),
                "case_steps": [s.value for s in steps],
                "withdrawn_referral_ids": withdrawn,
                "home_health_case_id": referral.home_health_case_id,
            },
        )
    return referral


# --- response-time reminders -----------------------------------------------------------------------------


def remind_overdue_referrals(*, now: dt.datetime | None = None) -> list[int]:
    """Give the sender a task for each referral whose answer is overdue, once per referral. Idempotent."""
    moment = now or clock.now()
    reminded: list[int] = []
    due = Referral.objects.filter(
        status=ReferralStatus.REQUESTED, response_due_at__lte=moment, reminder_task__isnull=True
    ).values_list("pk", flat=True)
    for referral_id in list(due):
        with transaction.atomic():
            referral = (
                Referral.objects.select_for_update(of=("self",))
                .select_related("provider", "case", "sent_by", "organization")
                .filter(pk=referral_id, status=ReferralStatus.REQUESTED, reminder_task__isnull=True)
                .first()
            )
            if referral is None:
                continue
            owner_actor = None
            for user in (referral.sent_by, referral.case.assigned_to):
                if user is not None:
                    owner_actor = actor_for(user, organization_id=referral.organization_id)
                    if owner_actor is not None and can(owner_actor, "task.change"):
                        break
                    owner_actor = None
            if owner_actor is None:
                continue  # nobody left to remind at the hospital; the referral list still shows it overdue
            reminder: Task = task_create(
                actor=owner_actor,
                title=f"No answer yet from {referral.provider.name} (referral #{referral.pk})",
                case_id=referral.case_id,
                kind="referral_follow_up",
                priority=Priority.URGENT,
                due_at=referral.response_due_at,
                description=(
                    f"Sent {timezone.localtime(referral.sent_at):%m/%d %H:%M}; the answer was due "
                    f"{timezone.localtime(referral.response_due_at):%m/%d %H:%M}. Call the provider "
                    f"{referral.provider.phone or ''} or refer elsewhere."
                ).replace("  ", " "),
            )
            referral.reminder_task = reminder
            referral.save(update_fields=["reminder_task"])
            reminded.append(referral.pk)
    return reminded


@task()
def remind_overdue_referrals_job() -> int:
    """Background entry point for the worker's timers; returns how many reminders it created."""
    return len(remind_overdue_referrals())
