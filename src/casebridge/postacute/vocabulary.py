"""Words of the post-acute area: provider types, services, referral sections and decline reasons. Pure data."""

from __future__ import annotations

from enum import StrEnum


class ProviderType(StrEnum):
    HOME_HEALTH = "home_health"
    HOME_INFUSION = "home_infusion"
    IRF = "irf"
    SNF = "snf"
    LTCH = "ltch"
    HOSPICE = "hospice"
    DME = "dme"
    OUTPATIENT_THERAPY = "outpatient_therapy"


PROVIDER_TYPE_LABELS: dict[str, str] = {
    ProviderType.HOME_HEALTH: "Home health agency",
    ProviderType.HOME_INFUSION: "Home infusion pharmacy",
    ProviderType.IRF: "Inpatient rehabilitation facility",
    ProviderType.SNF: "Skilled nursing facility",
    ProviderType.LTCH: "Long-term care hospital",
    ProviderType.HOSPICE: "Hospice",
    ProviderType.DME: "Durable medical equipment supplier",
    ProviderType.OUTPATIENT_THERAPY: "Outpatient therapy",
}

# 42 CFR 482.43(c)(1): patients going to these get a list of Medicare-participating providers.
CHOICE_LIST_REQUIRED = frozenset({ProviderType.HOME_HEALTH, ProviderType.SNF, ProviderType.IRF, ProviderType.LTCH})
# Facilities are chosen "in the area the patient asks for"; agencies come to the patient's home.
FACILITY_TYPES = frozenset({ProviderType.SNF, ProviderType.IRF, ProviderType.LTCH})

# Organizations on the platform that can be listed as a provider of each type.
ORG_TYPE_FOR_PROVIDER: dict[str, str] = {
    ProviderType.HOME_HEALTH: "home_health",
    ProviderType.HOME_INFUSION: "home_infusion",
    ProviderType.IRF: "irf",
    ProviderType.SNF: "snf",
}

SERVICES: dict[str, str] = {
    "skilled_nursing": "Skilled nursing",
    "physical_therapy": "Physical therapy",
    "occupational_therapy": "Occupational therapy",
    "speech_therapy": "Speech-language pathology",
    "medical_social_work": "Medical social work",
    "home_health_aide": "Home health aide",
    "iv_antibiotics": "IV antibiotics",
    "tpn": "Parenteral nutrition (TPN)",
    "wound_vac": "Wound vac (negative-pressure wound therapy)",
    "wound_care": "Complex wound care",
    "tracheostomy_care": "Tracheostomy care",
    "ventilator": "Ventilator care",
    "dialysis": "Dialysis",
    "stroke_rehab": "Stroke rehabilitation",
    "cardiac_rehab": "Cardiac rehabilitation",
    "bariatric": "Bariatric care",
    "memory_care": "Memory care",
    "palliative_care": "Palliative and hospice care",
    "oxygen": "Home oxygen",
    "hospital_bed": "Hospital bed",
    "infusion_pump": "Infusion pump",
}


class PacketSection(StrEnum):
    DEMOGRAPHICS = "demographics"
    COVERAGE = "coverage"
    DIAGNOSES = "diagnoses"
    CARE_PLAN = "care_plan"
    NOTES = "notes"


SECTION_LABELS: dict[str, str] = {
    PacketSection.DEMOGRAPHICS: "Patient demographics (always sent: the provider must know who the patient is)",
    PacketSection.COVERAGE: "Coverage",
    PacketSection.DIAGNOSES: "Diagnoses",
    PacketSection.CARE_PLAN: "Care plan summary",
    PacketSection.NOTES: "Note to the provider",
}
REQUIRED_SECTIONS = frozenset({PacketSection.DEMOGRAPHICS})

DECLINE_REASONS: dict[str, str] = {
    "no_capacity": "No capacity / no bed or staff available",
    "out_of_area": "Patient is outside our service area",
    "payer_not_accepted": "Payer not accepted / out of network",
    "clinical_scope": "Clinical needs beyond what we provide",
    "incomplete_packet": "Referral information incomplete",
    "other": "Other",
}

PRIORITIES: dict[str, str] = {
    "in_network": "In network with my plan",
    "rating": "Quality star rating",
    "proximity": "Close to the chosen area",
    "accepting": "Accepting new patients now",
    "medicare": "Medicare participating",
}
DEFAULT_PRIORITIES = ("in_network", "rating", "proximity", "accepting")

MANAGED_CARE_NOTE = (
    "Verify network status with your plan: network information shown here comes from our provider "
    "directory and may be out of date (42 CFR 482.43(c)(2))."
)
