"""Which service category pays for a care-plan need, so the case's needs can be priced as care options. Pure.

A care-plan need is named by its code (``careplans.instruments``: ``clinical_infusion``, ``adl_bathing``,
...). Only needs a covered service meets map to a category; social needs (caregiver, finances, housing,
cognition alone) and IADL help are met by community resources and are not priced here. A need entered by
hand may be coded with the service category itself (``home_infusion_drug``).
"""

from __future__ import annotations

from casebridge.coverage.benefits import SERVICE_CATEGORIES

CLINICAL_NEED_CATEGORIES: dict[str, str] = {
    "clinical_infusion": "home_infusion_drug",
    "clinical_wound_care": "home_health_visit_nursing",
    "clinical_medication_management": "home_health_visit_nursing",
    "clinical_diabetes": "home_health_visit_nursing",
    "clinical_nutrition": "home_health_visit_nursing",
    "clinical_respiratory": "dme",  # oxygen and respiratory equipment
    "clinical_therapy": "home_health_visit_pt",
}

# Hands-on help with activities of daily living is the home health aide's work (42 CFR 484.80(g)).
ADL_CATEGORY = "home_health_visit_aide"


def category_of_need(code: str) -> str | None:
    """The service category that meets a care-plan need with this code, or None when no service does."""
    code = code.strip()
    if code in SERVICE_CATEGORIES:
        return code
    if code in CLINICAL_NEED_CATEGORIES:
        return CLINICAL_NEED_CATEGORIES[code]
    if code.startswith("adl_"):
        return ADL_CATEGORY
    return None
