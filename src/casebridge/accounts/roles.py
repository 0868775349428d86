"""Roles a membership can hold, and the disciplines that qualify them. Pure data."""

from __future__ import annotations

CASE_MANAGER = "case_manager"
UR_NURSE = "ur_nurse"
PHYSICIAN_ADVISOR = "physician_advisor"
MEDICAL_DIRECTOR = "medical_director"
INTAKE_COORDINATOR = "intake_coordinator"
HH_CLINICIAN = "hh_clinician"
SCHEDULER = "scheduler"
PRACTITIONER = "practitioner"
SUPERVISOR = "supervisor"
ORG_ADMIN = "org_admin"
AUDITOR = "auditor"

ROLE_CHOICES = [
    (CASE_MANAGER, "Case manager"),
    (UR_NURSE, "Utilization review nurse"),
    (PHYSICIAN_ADVISOR, "Physician advisor"),
    (MEDICAL_DIRECTOR, "Medical director"),
    (INTAKE_COORDINATOR, "Intake coordinator"),
    (HH_CLINICIAN, "Home health clinician"),
    (SCHEDULER, "Scheduler"),
    (PRACTITIONER, "Physician or allowed practitioner"),
    (SUPERVISOR, "Supervisor"),
    (ORG_ADMIN, "Organization admin"),
    (AUDITOR, "Auditor"),
]
ROLE_LABELS = dict(ROLE_CHOICES)

# CMSA Standards of Practice (2022): case managers come from these professions.
CASE_MANAGER_DISCIPLINES = {
    "RN": "Registered nurse",
    "SW": "Social worker",
    "SUC": "Substance-use counselor",
    "OT": "Occupational therapist",
    "PT": "Physical therapist",
    "SLP": "Speech-language pathologist",
    "PHARMD": "Pharmacist",
}
# 42 CFR 484: disciplines of the home health team.
HH_CLINICIAN_DISCIPLINES = {
    "RN": "Registered nurse",
    "LPN": "Licensed practical nurse",
    "PT": "Physical therapist",
    "OT": "Occupational therapist",
    "SLP": "Speech-language pathologist",
    "MSW": "Medical social worker",
    "HHA": "Home health aide",
}
PRACTITIONER_DISCIPLINES = {
    "MD": "Physician (MD)",
    "DO": "Physician (DO)",
    "NP": "Nurse practitioner",
    "PA": "Physician assistant",
    "CNS": "Clinical nurse specialist",
}
DISCIPLINES_BY_ROLE: dict[str, dict[str, str]] = {
    CASE_MANAGER: CASE_MANAGER_DISCIPLINES,
    HH_CLINICIAN: HH_CLINICIAN_DISCIPLINES,
    PRACTITIONER: PRACTITIONER_DISCIPLINES,
}
ALL_DISCIPLINES = {**CASE_MANAGER_DISCIPLINES, **HH_CLINICIAN_DISCIPLINES, **PRACTITIONER_DISCIPLINES}

# Roles that work with patients' clinical records. Auditors and organization
# admins are deliberately absent: they see the audit log or the user list, not charts.
CLINICAL_ROLES = frozenset(
    {
        CASE_MANAGER,
        UR_NURSE,
        PHYSICIAN_ADVISOR,
        MEDICAL_DIRECTOR,
        INTAKE_COORDINATOR,
        HH_CLINICIAN,
        SCHEDULER,
        PRACTITIONER,
        SUPERVISOR,
    }
)


def discipline_error(role: str, discipline: str) -> str | None:
    """Why ``discipline`` cannot go with ``role``, or None when it can."""
    allowed = DISCIPLINES_BY_ROLE.get(role)
    if allowed is None:
        return None if not discipline else f"the role {ROLE_LABELS.get(role, role)} takes no discipline"
    if discipline not in allowed:
        return f"must be one of {', '.join(allowed)} for {ROLE_LABELS[role]}"
    return None
