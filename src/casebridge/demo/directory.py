"""The demo's organizations and its documented users: one user for every role, all with one password.

These usernames are part of the product's documentation (README, browser tests,
benchmarks): change them only together with those.
"""

from __future__ import annotations

from dataclasses import dataclass

from casebridge.accounts import roles as r

# One password for every demo user, printed by ``casebridge demo``. At least 10
# characters and not on Django's common-password list, so it passes the validators.
DEMO_PASSWORD = "bridge-demo-2026"  # noqa: S105 - documented demo credential, never a production secret

HOSPITAL = "hospital"
HOME_HEALTH = "home_health"
INSURER = "insurer"
INFUSION = "home_infusion"
IRF = "irf"
SNF = "snf"
PRACTICE = "physician_practice"


@dataclass(frozen=True)
class DemoOrganization:
    key: str
    name: str
    org_type: str
    short: str  # prefix for MRNs and generated usernames
    address_line: str
    city: str
    postal_code: str
    phone: str
    payer_id: str = ""


# fmt: off
ORGANIZATIONS: tuple[DemoOrganization, ...] = (
    DemoOrganization(
        HOSPITAL, "Riverside General Hospital", "hospital", "rgh", "3535 Olentangy River Rd", "Columbus", "43214",
        "(614) 555-0100",
    ),
    DemoOrganization(
        HOME_HEALTH, "Harborview Home Health", "home_health", "hhh", "1200 Dublin Rd", "Columbus", "43215",
        "(614) 555-0110",
    ),
    DemoOrganization(
        INSURER, "Summit Health Plan", "insurer", "shp", "250 E Broad St", "Columbus", "43215", "(614) 555-0120",
        payer_id="SUMMT",
    ),
    DemoOrganization(
        INFUSION, "CareFlow Home Infusion", "home_infusion", "cfi", "4400 Easton Way", "Columbus", "43219",
        "(614) 555-0130",
    ),
    DemoOrganization(
        IRF, "Lakeside Rehabilitation Institute", "irf", "lri", "1087 Dennison Ave", "Columbus", "43201",
        "(614) 555-0140",
    ),
    DemoOrganization(
        SNF, "Maple Grove Skilled Nursing", "snf", "mgs", "2150 Maple Grove Rd", "Westerville", "43081",
        "(614) 555-0150",
    ),
    DemoOrganization(
        PRACTICE, "Northside Family Medicine", "physician_practice", "nfm", "5040 Bethel Rd", "Columbus", "43220",
        "(614) 555-0160",
    ),
)
# fmt: on
ORGANIZATIONS_BY_KEY = {o.key: o for o in ORGANIZATIONS}
HOSPITAL_NAME = ORGANIZATIONS_BY_KEY[HOSPITAL].name


@dataclass(frozen=True)
class DemoUser:
    username: str
    org: str
    role: str
    discipline: str
    first_name: str
    last_name: str
    title: str  # what the login table says this person does


# Ordered as print_logins prints them: the hospital first, since its case manager is the main demo journey.
USERS: tuple[DemoUser, ...] = (
    DemoUser("cm.hospital", HOSPITAL, r.CASE_MANAGER, "RN", "Grace", "Okafor", "Case manager (RN)"),
    DemoUser("sw.hospital", HOSPITAL, r.CASE_MANAGER, "SW", "Daniel", "Reyes", "Case manager (social worker)"),
    DemoUser("ur.nurse", HOSPITAL, r.UR_NURSE, "", "Linda", "Kowalski", "Utilization review nurse"),
    DemoUser("physician.advisor", HOSPITAL, r.PHYSICIAN_ADVISOR, "", "Samuel", "Adeyemi", "Physician advisor"),
    DemoUser("medical.director", HOSPITAL, r.MEDICAL_DIRECTOR, "", "Helen", "Marsh", "Medical director"),
    DemoUser("intake", HOSPITAL, r.INTAKE_COORDINATOR, "", "Tanya", "Brooks", "Intake coordinator"),
    DemoUser("scheduler", HOSPITAL, r.SCHEDULER, "", "Kevin", "Doyle", "Scheduler"),
    DemoUser("dr.attending", HOSPITAL, r.PRACTITIONER, "MD", "Rajesh", "Iyer", "Attending physician (MD)"),
    DemoUser("supervisor", HOSPITAL, r.SUPERVISOR, "", "Monica", "Alvarez", "Case management supervisor"),
    DemoUser("admin", HOSPITAL, r.ORG_ADMIN, "", "Peter", "Lindqvist", "Organization admin"),
    DemoUser("auditor", HOSPITAL, r.AUDITOR, "", "Ruth", "Feldman", "Privacy auditor"),
    DemoUser("cm.homehealth", HOME_HEALTH, r.CASE_MANAGER, "RN", "Aisha", "Warsame", "Case manager (RN)"),
    DemoUser("clinician.rn", HOME_HEALTH, r.HH_CLINICIAN, "RN", "Megan", "O'Neill", "Home health nurse (RN)"),
    DemoUser("clinician.lpn", HOME_HEALTH, r.HH_CLINICIAN, "LPN", "Tyrone", "Hayes", "Home health nurse (LPN)"),
    DemoUser("clinician.pt", HOME_HEALTH, r.HH_CLINICIAN, "PT", "Eric", "Lindgren", "Physical therapist"),
    DemoUser("clinician.ot", HOME_HEALTH, r.HH_CLINICIAN, "OT", "Sofia", "Mendes", "Occupational therapist"),
    DemoUser("clinician.slp", HOME_HEALTH, r.HH_CLINICIAN, "SLP", "Hannah", "Cho", "Speech-language pathologist"),
    DemoUser("clinician.msw", HOME_HEALTH, r.HH_CLINICIAN, "MSW", "Marcus", "Bell", "Medical social worker"),
    DemoUser("aide", HOME_HEALTH, r.HH_CLINICIAN, "HHA", "Rosa", "Delgado", "Home health aide"),
    DemoUser("intake.homehealth", HOME_HEALTH, r.INTAKE_COORDINATOR, "", "Brianna", "Scott", "Intake coordinator"),
    DemoUser("scheduler.homehealth", HOME_HEALTH, r.SCHEDULER, "", "Luis", "Ortega", "Visit scheduler"),
    DemoUser("supervisor.homehealth", HOME_HEALTH, r.SUPERVISOR, "", "Carol", "Jennings", "Clinical manager"),
    DemoUser("admin.homehealth", HOME_HEALTH, r.ORG_ADMIN, "", "Victor", "Nash", "Organization admin"),
    DemoUser("cm.insurer", INSURER, r.CASE_MANAGER, "RN", "Jennifer", "Tran", "Case manager (RN)"),
    DemoUser("ur.insurer", INSURER, r.UR_NURSE, "", "Paula", "Schmidt", "Utilization management nurse"),
    DemoUser("medical.director.insurer", INSURER, r.MEDICAL_DIRECTOR, "", "Alan", "Weiss", "Medical director"),
    DemoUser("intake.insurer", INSURER, r.INTAKE_COORDINATOR, "", "Denise", "Carter", "Intake coordinator"),
    DemoUser("supervisor.insurer", INSURER, r.SUPERVISOR, "", "Howard", "Kim", "Case management supervisor"),
    DemoUser("auditor.insurer", INSURER, r.AUDITOR, "", "Nadia", "Haddad", "Compliance auditor"),
    DemoUser("admin.insurer", INSURER, r.ORG_ADMIN, "", "George", "Patel", "Organization admin"),
    DemoUser("pharmacist.infusion", INFUSION, r.CASE_MANAGER, "PHARMD", "Lena", "Novak", "Case manager (PharmD)"),
    DemoUser("cm.irf", IRF, r.CASE_MANAGER, "OT", "Paul", "Brennan", "Case manager (OT)"),
    DemoUser("cm.snf", SNF, r.CASE_MANAGER, "SW", "Yolanda", "Price", "Case manager (social worker)"),
    DemoUser("dr.practice", PRACTICE, r.PRACTITIONER, "NP", "Olivia", "Grant", "Nurse practitioner"),
)
USERS_BY_NAME = {u.username: u for u in USERS}

# Professional licenses by discipline or role: (license kind prefix). Everyone licensed gets a license credential.
LICENSE_PREFIX = {
    "RN": "RN",
    "LPN": "PN",
    "SW": "LSW",
    "MSW": "LISW",
    "PT": "PT",
    "OT": "OT",
    "SLP": "SLP",
    "PHARMD": "RPH",
    "MD": "MD",
    "NP": "APRN",
    r.UR_NURSE: "RN",
    r.PHYSICIAN_ADVISOR: "MD",
    r.MEDICAL_DIRECTOR: "MD",
    r.SUPERVISOR: "RN",
}


def license_prefix(user: DemoUser) -> str | None:
    return LICENSE_PREFIX.get(user.discipline) or LICENSE_PREFIX.get(user.role)


# Team queues: (organization, queue name, member usernames).
QUEUES: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    (HOSPITAL, "UR nurses", ("ur.nurse", "physician.advisor", "supervisor")),
    (HOSPITAL, "Intake", ("intake", "cm.hospital", "sw.hospital", "supervisor")),
    (HOME_HEALTH, "Intake", ("intake.homehealth", "cm.homehealth", "supervisor.homehealth")),
    (HOME_HEALTH, "Scheduling", ("scheduler.homehealth", "supervisor.homehealth")),
    (INSURER, "Intake", ("intake.insurer", "cm.insurer", "supervisor.insurer")),
    (INSURER, "Utilization management", ("ur.insurer", "medical.director.insurer")),
)
