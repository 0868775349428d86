"""Demo enricher: the hospital's post-acute provider directory, so a choice list on the demo data has content.

The platform's own home health agency, home infusion pharmacy, IRF and SNF are listed as organizations on the
platform (referrals reach their intake queues); a few external providers serving the demo's central Ohio ZIP
codes fill out the list, one of them with a disclosed hospital financial interest and one not accepting. The
hospital's supervisor keeps the directory, as in the product. Made-up names, no real providers' data.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from casebridge.cases.domain import CaseStatus
from casebridge.clinical.models import Encounter
from casebridge.demo import directory as d
from casebridge.demo.context import DemoContext, recorded_at
from casebridge.demo.people import CITIES
from casebridge.postacute import services
from casebridge.postacute.models import Provider

COLUMBUS = next(zips for city, zips in CITIES if city == "Columbus")
NORTH = tuple(z for city, zips in CITIES if city in ("Westerville", "Worthington", "Delaware", "Dublin") for z in zips)
EAST = tuple(z for city, zips in CITIES if city in ("Reynoldsburg", "Gahanna", "Pickerington", "Newark") for z in zips)

# (directory key, services, star rating, in Summit's network)
PLATFORM: tuple[tuple[str, list[str], int, bool], ...] = (
    (
        d.HOME_HEALTH,
        [
            "skilled_nursing",
            "physical_therapy",
            "occupational_therapy",
            "speech_therapy",
            "medical_social_work",
            "home_health_aide",
            "iv_antibiotics",
            "wound_care",
            "wound_vac",
        ],
        4,
        True,
    ),
    (d.INFUSION, ["iv_antibiotics", "tpn", "infusion_pump"], 4, True),
    (d.IRF, ["physical_therapy", "occupational_therapy", "speech_therapy", "stroke_rehab", "cardiac_rehab"], 5, True),
    (d.SNF, ["skilled_nursing", "physical_therapy", "occupational_therapy", "wound_care", "iv_antibiotics"], 3, True),
)

# External entries: directory fields, plus the ZIP codes served, whether Summit has them in network and any
# hospital financial interest to disclose on the choice list.
EXTERNAL: tuple[dict[str, Any], ...] = (
    {
        "name": "Buckeye Visiting Nurses",
        "provider_type": "home_health",
        "services": ["skilled_nursing", "physical_therapy", "home_health_aide", "iv_antibiotics", "wound_care"],
        "zips": COLUMBUS + NORTH,
        "city": "Columbus",
        "postal_code": "43229",
        "phone": "(614) 555-0201",
        "star_rating": 5,
        "network": True,
    },
    {
        "name": "Scioto Valley Home Care",
        "provider_type": "home_health",
        "services": ["skilled_nursing", "physical_therapy", "occupational_therapy", "iv_antibiotics"],
        "zips": COLUMBUS + EAST,
        "city": "Columbus",
        "postal_code": "43207",
        "phone": "(614) 555-0202",
        "star_rating": 3,
        "network": False,
        "interest": "Riverside General Hospital owns 50% of Scioto Valley Home Care",
    },
    {
        "name": "Olentangy Home Health Partners",
        "provider_type": "home_health",
        "services": ["skilled_nursing", "medical_social_work", "home_health_aide"],
        "zips": NORTH + COLUMBUS[:8],
        "city": "Worthington",
        "postal_code": "43085",
        "phone": "(614) 555-0203",
        "star_rating": 4,
        "accepting": False,
        "network": True,
    },
    {
        "name": "Central Ohio Infusion Services",
        "provider_type": "home_infusion",
        "services": ["iv_antibiotics", "tpn", "infusion_pump"],
        "zips": COLUMBUS + NORTH + EAST,
        "city": "Columbus",
        "postal_code": "43215",
        "phone": "(614) 555-0204",
        "star_rating": None,
        "network": False,
    },
    {
        "name": "Franklin Park Nursing and Rehabilitation",
        "provider_type": "snf",
        "services": ["skilled_nursing", "physical_therapy", "occupational_therapy", "wound_care"],
        "zips": COLUMBUS,
        "city": "Columbus",
        "postal_code": "43205",
        "phone": "(614) 555-0205",
        "star_rating": 2,
        "network": True,
    },
    {
        "name": "Capital City Hospice",
        "provider_type": "hospice",
        "services": ["palliative_care", "skilled_nursing", "medical_social_work"],
        "zips": COLUMBUS + NORTH + EAST,
        "city": "Columbus",
        "postal_code": "43214",
        "phone": "(614) 555-0206",
        "star_rating": 4,
        "network": True,
    },
)


def add_post_acute_directory(ctx: DemoContext) -> None:
    hospital = ctx.organizations.get(d.HOSPITAL)
    insurer = ctx.organizations.get(d.INSURER)
    if hospital is None:
        return
    keeper = ctx.actor("supervisor")
    with recorded_at(ctx.at(-60, 9)):
        for key, offered, stars, in_network in PLATFORM:
            org = ctx.organizations.get(key)
            if org is None:
                continue
            provider = services.provider_create(
                actor=keeper,
                organization_id=org.pk,
                provider_type=org.org_type,
                services=offered,
                star_rating=stars,
                medicare_participating=True,
                state="OH",
            )
            if in_network and insurer is not None:
                services.network_add(actor=keeper, provider_id=provider.pk, insurer_id=insurer.pk)
        for entry in EXTERNAL:
            provider = services.provider_create(
                actor=keeper,
                name=entry["name"],
                provider_type=entry["provider_type"],
                services=entry["services"],
                zip_codes_served=list(entry["zips"]),
                city=entry["city"],
                state="OH",
                postal_code=entry["postal_code"],
                phone=entry["phone"],
                star_rating=entry["star_rating"],
                accepting=entry.get("accepting", True),
                medicare_participating=True,
            )
            if entry["network"] and insurer is not None:
                services.network_add(actor=keeper, provider_id=provider.pk, insurer_id=insurer.pk)
            if entry.get("interest"):
                services.financial_interest_set(actor=keeper, provider_id=provider.pk, description=entry["interest"])


# (provider type, service, platform organization key, external provider name or "")
REFERRALS: tuple[tuple[str, str, str, str], ...] = (
    ("home_health", "skilled_nursing", d.HOME_HEALTH, "Buckeye Visiting Nurses"),
    ("home_infusion", "iv_antibiotics", d.INFUSION, ""),
)
ANSWERED_REFERRAL_CASES = 4


def add_answered_referrals(ctx: DemoContext) -> None:
    """Referrals sent from a few of the hospital's current stays in the last days and answered by the
    providers (on the platform in their intake queue, outside by phone), so the dashboard's referral
    response times and the agencies' queues have a history. None goes as far as the patient's agreement:
    no case changes status and no home health case is opened."""
    hospital = ctx.organizations.get(d.HOSPITAL)
    if hospital is None:
        return
    cm = ctx.actor("cm.hospital")
    rng = ctx.rng("referrals")
    answerers = {d.HOME_HEALTH: "intake.homehealth", d.INFUSION: "pharmacist.infusion"}
    open_statuses = {CaseStatus.ASSESSMENT, CaseStatus.PLANNING, CaseStatus.IMPLEMENTATION}
    admitted: dict[int, dt.datetime] = {
        case_id: admit_at
        for case_id, admit_at in Encounter.objects.filter(
            organization_id=hospital.pk, hospital_case__isnull=False, discharge_at__isnull=True
        ).values_list("hospital_case_id", "admit_at")
        if case_id is not None and admit_at is not None
    }
    cases = [
        c
        for c in ctx.cases
        if c.organization_id == hospital.pk
        and c.case_type == "hospital_stay"
        and CaseStatus(c.status) in open_statuses
        and c.pk in admitted
        and admitted[c.pk] <= ctx.at(-3, 0)
    ][:ANSWERED_REFERRAL_CASES]
    for index, case in enumerate(cases):
        provider_type, service, org_key, external = REFERRALS[index % len(REFERRALS)]
        platform = ctx.organizations.get(org_key)
        if platform is None or answerers[org_key] not in ctx.users:
            continue
        providers = [Provider.objects.get(organization=platform)]
        if external:
            providers.append(Provider.objects.get(name=external, organization__isnull=True))
        sent_at: dt.datetime = max(admitted[case.pk] + dt.timedelta(hours=26), ctx.at(-3, 10))
        with recorded_at(sent_at):
            choice_list_id = None
            if provider_type == "home_health":
                cl = services.choice_list_build(actor=cm, case_id=case.pk, provider_type=provider_type, service=service)
                listed = set(cl.entries.values_list("provider_id", flat=True))
                services.choice_list_present(
                    actor=cm,
                    choice_list_id=cl.pk,
                    presented_to="patient",
                    ranked_provider_ids=[p.pk for p in providers if p.pk in listed],
                )
                choice_list_id = cl.pk
            referrals = services.referral_send(
                actor=cm,
                case_id=case.pk,
                provider_ids=[p.pk for p in providers],
                provider_type=provider_type,
                service=service,
                choice_list_id=choice_list_id,
            )
        for referral in referrals:
            answered_at = sent_at + dt.timedelta(hours=rng.randint(2, 30), minutes=rng.choice((0, 20, 40)))
            if answered_at >= ctx.start_of_today:
                continue
            accept = rng.random() < (0.8 if referral.receiving_organization_id else 0.4)
            with recorded_at(answered_at):
                if referral.receiving_organization_id is None:
                    services.referral_response_record(
                        actor=cm,
                        referral_id=referral.pk,
                        accepted=accept,
                        contact_name="Intake desk",
                        reason_code="" if accept else "no_capacity",
                    )
                elif accept:
                    services.referral_accept(actor=ctx.actor(answerers[org_key]), referral_id=referral.pk)
                else:
                    services.referral_decline(
                        actor=ctx.actor(answerers[org_key]), referral_id=referral.pk, reason_code="no_capacity"
                    )
