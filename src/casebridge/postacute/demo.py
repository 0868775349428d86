"""Demo enricher: the hospital's post-acute provider directory, so a choice list on the demo data has content.

The platform's own home health agency, home infusion pharmacy, IRF and SNF are listed as organizations on the
platform (referrals reach their intake queues); a few external providers serving the demo's central Ohio ZIP
codes fill out the list, one of them with a disclosed hospital financial interest and one not accepting. The
hospital's supervisor keeps the directory, as in the product. Made-up names, no real providers' data.
"""

from __future__ import annotations

from typing import Any

from casebridge.demo import directory as d
from casebridge.demo.context import DemoContext, recorded_at
from casebridge.demo.people import CITIES
from casebridge.postacute import services

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
