"""The default demo, built through the services as users would build it.

Every record here goes through a service (``organization_create``, ``user_create``,
``patient_create``, ``case_open``, ``case_transition``, ``task_create``...), so the
audit log, the case status history and the change history are the real ones, and a
broken rule in a service breaks the demo too. Times are set with ``recorded_at`` so
that history reads like weeks of work, all before today.
"""

from __future__ import annotations

import datetime as dt
import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from casebridge.accounts import roles as r
from casebridge.accounts.services import credential_add, organization_create, user_create
from casebridge.cases.domain import OPEN, TERMINAL, CaseStatus
from casebridge.cases.models import Case
from casebridge.cases.services import careteam_add, case_open, case_transition
from casebridge.demo import directory as d
from casebridge.demo.casepaths import varied_path
from casebridge.demo.context import BIRTH_REFERENCE, DemoContext, recorded_at
from casebridge.demo.numbers import make_mbi, make_npi
from casebridge.demo.people import (
    ALL_ZIPS,
    AVAILABILITY,
    CITIES,
    GOALS_IN_OWN_WORDS,
    Person,
    fake_address,
    fake_phone,
    make_person,
    relative_name,
)
from casebridge.kernel.actor import Actor
from casebridge.patients.models import Patient
from casebridge.patients.services import contact_add, coverage_add, patient_create
from casebridge.tasks.models import WorkQueue
from casebridge.tasks.services import task_create

S = CaseStatus

# Share of patients registered by each organization that runs cases.
PATIENT_SHARE = ((d.HOSPITAL, 0.5), (d.HOME_HEALTH, 0.25), (d.INSURER, 0.25))
CASE_TYPE = {d.HOSPITAL: "hospital_stay", d.HOME_HEALTH: "home_health", d.INSURER: "insurer_cm"}
REGISTRAR = {d.HOSPITAL: "intake", d.HOME_HEALTH: "intake.homehealth", d.INSURER: "intake.insurer"}
# (username, weight): the hospital's RN case manager carries most of the hospital caseload.
CASE_MANAGERS = {
    d.HOSPITAL: (("cm.hospital", 0.7), ("sw.hospital", 0.3)),
    d.HOME_HEALTH: (("cm.homehealth", 1.0),),
    d.INSURER: (("cm.insurer", 1.0),),
}
# Non-terminal statuses first: with few patients, the extra cases that wrap around to a patient who
# already has one are closed or cancelled earlier episodes, as real patients have.
EVERY_STATUS = (
    S.REFERRAL, S.ASSESSMENT, S.PLANNING, S.IMPLEMENTATION, S.MONITORING, S.TRANSITION, S.ON_HOLD,
    S.CLOSED, S.CANCELLED,
)  # fmt: skip
STATUS_WEIGHTS = {
    S.REFERRAL: 6, S.ASSESSMENT: 9, S.PLANNING: 9, S.IMPLEMENTATION: 16, S.MONITORING: 18, S.TRANSITION: 8,
    S.ON_HOLD: 4, S.CLOSED: 22, S.CANCELLED: 3,
}  # fmt: skip
# Days between status changes, by organization: hospital stays are short, insurer enrollments long.
STEP_DAYS = {d.HOSPITAL: 1, d.HOME_HEALTH: 4, d.INSURER: 9}

ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
# (reason, [(ICD-10-CM code, display)]) by case type.
REASONS: dict[str, tuple[tuple[str, tuple[tuple[str, str], ...]], ...]] = {
    d.HOSPITAL: (
        (
            "Heart failure exacerbation",
            (("I50.23", "Acute on chronic systolic (congestive) heart failure"),),
        ),
        (
            "COPD exacerbation",
            (("J44.1", "Chronic obstructive pulmonary disease with (acute) exacerbation"),),
        ),
        ("Community-acquired pneumonia", (("J18.9", "Pneumonia, unspecified organism"),)),
        (
            "Sepsis from urinary source",
            (("A41.9", "Sepsis, unspecified organism"), ("N39.0", "Urinary tract infection, site not specified")),
        ),
        (
            "Hip fracture after a fall",
            (("S72.001A", "Fracture of unspecified part of neck of right femur, initial encounter"),),
        ),
        ("Acute ischemic stroke", (("I63.9", "Cerebral infarction, unspecified"),)),
        (
            "Osteomyelitis of the foot; needs IV antibiotics",
            (
                ("M86.671", "Other chronic osteomyelitis, right ankle and foot"),
                ("E11.69", "Type 2 diabetes mellitus with other specified complication"),
            ),
        ),
        ("Diabetic foot ulcer", (("E11.621", "Type 2 diabetes mellitus with foot ulcer"),)),
        ("Acute kidney injury", (("N17.9", "Acute kidney failure, unspecified"),)),
        (
            "Elective total knee replacement",
            (("M17.11", "Unilateral primary osteoarthritis, right knee"),),
        ),
    ),
    d.HOME_HEALTH: (
        (
            "Skilled nursing for CHF teaching after discharge",
            (("I50.22", "Chronic systolic (congestive) heart failure"),),
        ),
        (
            "Wound care: stage 3 pressure injury",
            (("L89.153", "Pressure ulcer of sacral region, stage 3"),),
        ),
        (
            "PT after total knee replacement",
            (("Z96.651", "Presence of right artificial knee joint"),),
        ),
        (
            "IV antibiotics at home with infusion pharmacy",
            (("M86.671", "Other chronic osteomyelitis, right ankle and foot"),),
        ),
        (
            "Medication management after stroke",
            (("I69.351", "Hemiplegia following cerebral infarction affecting right dominant side"),),
        ),
        (
            "COPD self-management and oxygen safety",
            (("J44.9", "Chronic obstructive pulmonary disease, unspecified"),),
        ),
    ),
    d.INSURER: (
        (
            "Complex case management: CHF with three admissions in six months",
            (("I50.32", "Chronic diastolic (congestive) heart failure"),),
        ),
        (
            "Uncontrolled type 2 diabetes",
            (("E11.65", "Type 2 diabetes mellitus with hyperglycemia"),),
        ),
        ("End-stage renal disease on dialysis", (("N18.6", "End stage renal disease"),)),
        (
            "Alcohol use disorder with frequent ED visits",
            (("F10.20", "Alcohol dependence, uncomplicated"),),
        ),
        (
            "Transition of care after hospital discharge",
            (("Z09", "Encounter for follow-up examination after completed treatment"),),
        ),
        ("Chronic pain and opioid safety", (("G89.4", "Chronic pain syndrome"),)),
    ),
}  # fmt: skip


@dataclass(frozen=True)
class TaskTemplate:
    title: str
    kind: str
    priority: str = "routine"
    queue: str = ""  # owned by this team queue instead of the case manager
    owner: str = ""  # owned by this demo user instead of the case manager
    description: str = ""


T = TaskTemplate
TASKS: dict[tuple[str, CaseStatus], tuple[TaskTemplate, ...]] = {
    (d.HOSPITAL, S.REFERRAL): (
        T("Screen new referral from the emergency department", "screening", queue="Intake"),
        T("Verify insurance and obtain admission authorization", "authorization", "urgent", queue="Intake"),
    ),
    (d.HOSPITAL, S.ASSESSMENT): (
        T("Complete initial case management assessment", "initial_assessment", "urgent"),
        T("Initial medical necessity review", "initial_review", "urgent", queue="UR nurses",
          description="Apply inpatient criteria within one business day of admission."),
    ),
    (d.HOSPITAL, S.PLANNING): (
        T("Discuss discharge options with patient and family", "discharge_planning"),
        T("Send home health referral to Harborview Home Health", "referral"),
        T("Continued stay review", "continued_stay_review", queue="UR nurses"),
    ),
    (d.HOSPITAL, S.IMPLEMENTATION): (
        T("Confirm DME delivery: hospital bed and walker", "coordination"),
        T("Continued stay review", "continued_stay_review", owner="ur.nurse"),
        T("Arrange home infusion start with CareFlow", "coordination"),
    ),
    (d.HOSPITAL, S.MONITORING): (
        T("Follow up on pending SNF bed offer", "follow_up"),
        T("Review physical therapy progress toward discharge goal", "follow_up"),
    ),
    (d.HOSPITAL, S.TRANSITION): (
        T("Deliver follow-up Important Message from Medicare before discharge", "im_notice", "urgent"),
        T("Post-discharge follow-up call within 48 hours", "follow_up_call"),
    ),
    (d.HOSPITAL, S.ON_HOLD): (T("Check readmission status and resume the plan", "follow_up"),),
    (d.HOME_HEALTH, S.REFERRAL): (
        T("Verify eligibility and face-to-face encounter", "intake", queue="Intake"),
    ),
    (d.HOME_HEALTH, S.ASSESSMENT): (
        T("Start of care visit with OASIS assessment", "soc_visit", "urgent", owner="clinician.rn"),
        T("Call patient to confirm start of care time", "phone_call"),
    ),
    (d.HOME_HEALTH, S.PLANNING): (
        T("Send plan of care for physician signature", "plan_of_care"),
        T("Schedule PT evaluation visit", "scheduling", queue="Scheduling"),
    ),
    (d.HOME_HEALTH, S.IMPLEMENTATION): (
        T("Medication reconciliation with the patient's pill boxes", "medication_review"),
        T("Caregiver teaching: wound dressing change", "teaching", owner="clinician.lpn"),
    ),
    (d.HOME_HEALTH, S.MONITORING): (
        T("Weekly call: weight and heart failure zones", "check_in"),
        T("Review wound measurements from this week's visits", "follow_up"),
    ),
    (d.HOME_HEALTH, S.TRANSITION): (T("Send discharge summary to the physician", "discharge"),),
    (d.HOME_HEALTH, S.ON_HOLD): (T("Plan resumption of care visit after the hospital stay", "follow_up"),),
    (d.INSURER, S.REFERRAL): (
        T("Outreach call: introduce the case management program", "outreach", queue="Intake"),
    ),
    (d.INSURER, S.ASSESSMENT): (T("Complete comprehensive health risk assessment", "assessment"),),
    (d.INSURER, S.PLANNING): (
        T("Draft care plan with the member and PCP", "care_plan"),
        T("Review prior authorization request: home infusion", "prior_auth", "urgent",
          queue="Utilization management"),
    ),
    (d.INSURER, S.IMPLEMENTATION): (
        T("Arrange transportation to dialysis", "coordination"),
        T("Confirm PCP follow-up visit within 7 days of discharge", "follow_up"),
    ),
    (d.INSURER, S.MONITORING): (
        T("Monthly check-in call", "check_in"),
        T("Review emergency department claims from the last 30 days", "claims_review"),
    ),
    (d.INSURER, S.TRANSITION): (T("Hand off to the Medicare Advantage care coordination team", "handoff"),),
    (d.INSURER, S.ON_HOLD): (T("Attempt to re-engage the member by phone and letter", "outreach"),),
}  # fmt: skip

# Per owner, the due-date buckets cycle in this order, so anyone with three or more tasks has
# some overdue, some due today and some due later.
DUE_CYCLE = ("overdue", "today", "later", "later", "overdue", "later", "today", "later")

PROVIDER_ZIPS = {
    d.HOSPITAL: ALL_ZIPS,
    d.HOME_HEALTH: tuple(z for city, zips in CITIES if city != "Newark" for z in zips),
    d.INSURER: ALL_ZIPS,
    d.INFUSION: ALL_ZIPS,
    d.IRF: tuple(z for city, zips in CITIES if city in ("Columbus", "Worthington", "Dublin") for z in zips),
    d.SNF: tuple(z for city, zips in CITIES if city in ("Westerville", "Delaware", "Columbus") for z in zips),
    d.PRACTICE: tuple(z for city, zips in CITIES if city == "Columbus" for z in zips),
}


# --- directory ---------------------------------------------------------------------------------


def build_directory(ctx: DemoContext) -> None:
    """Organizations, the documented users with their credentials, and team queues."""
    rng = ctx.rng("directory")
    for org in d.ORGANIZATIONS:
        ctx.organizations[org.key] = organization_create(
            actor=None,
            name=org.name,
            org_type=org.org_type,
            npi="" if org.key == d.INSURER else make_npi(rng),
            payer_id=org.payer_id,
            address_line=org.address_line,
            city=org.city,
            state="OH",
            postal_code=org.postal_code,
            phone=org.phone,
            zip_codes_served=list(PROVIDER_ZIPS[org.key]),
        )
    for u in d.USERS:
        user = user_create(
            actor=None,
            organization=ctx.organizations[u.org],
            username=u.username,
            password=d.DEMO_PASSWORD,
            role=u.role,
            discipline=u.discipline,
            first_name=u.first_name,
            last_name=u.last_name,
            email=f"{u.username}@{d.ORGANIZATIONS_BY_KEY[u.org].short}.example.org",
        )
        ctx.users[u.username] = user
        add_credentials(ctx, rng, u)
    for org_key, name, members in d.QUEUES:
        queue = WorkQueue.objects.create(organization=ctx.organizations[org_key], name=name)
        queue.members.set([ctx.users[m] for m in members])
        ctx.queues[(org_key, name)] = queue


def add_credentials(ctx: DemoContext, rng: random.Random, u: d.DemoUser) -> None:
    prefix = d.license_prefix(u)
    user = ctx.users[u.username]
    if prefix:
        credential_add(
            actor=None,
            user=user,
            kind="license",
            number=f"{prefix}.{rng.randrange(100000, 999999)}",
            state="OH",
            expires_on=ctx.today + dt.timedelta(days=rng.randrange(60, 730)),
        )
    if u.role == r.CASE_MANAGER:
        # One CCM expires within the month, so the credential warnings have something to show.
        days = 20 if u.username == "sw.hospital" else rng.randrange(200, 1500)
        credential_add(
            actor=None,
            user=user,
            kind="ccm",
            number=f"CCM-{rng.randrange(10000, 99999)}",
            expires_on=ctx.today + dt.timedelta(days=days),
        )


# --- patients ------------------------------------------------------------------------------------


def split_patients(total: int) -> dict[str, int]:
    counts = {org: int(total * share) for org, share in PATIENT_SHARE}
    counts[d.HOSPITAL] += total - sum(counts.values())
    return counts


def mrn(org_key: str, index: int) -> str:
    return f"{d.ORGANIZATIONS_BY_KEY[org_key].short.upper()}{4100000 + index}"


def member_id(index: int) -> str:
    # 7919 is prime and coprime with 10, so this is a one-to-one scramble of the index.
    return f"SHP{(7919 * index + 104729) % 10**9:09d}"


def register_patient(ctx: DemoContext, rng: random.Random, org_key: str, index: int, when: dt.datetime) -> Patient:
    person = make_person(rng, reference=BIRTH_REFERENCE)
    registrar = ctx.actor(REGISTRAR[org_key])
    summit = ctx.organizations[d.INSURER]
    identifiers: list[dict[str, object]] = []
    mbi = make_mbi(rng) if person.age >= 65 else ""
    if mbi:
        identifiers.append({"kind": "mbi", "value": mbi})
    if org_key == d.INSURER:
        identifiers.append({"kind": "member_id", "value": member_id(index), "assigner": summit})
    with recorded_at(when):
        patient = patient_create(
            actor=registrar,
            mrn="" if org_key == d.INSURER else mrn(org_key, index),
            identifiers=identifiers,
            family_name=person.family_name,
            given_name=person.given_name,
            birth_date=person.birth_date,
            sex=person.sex,
            phone=fake_phone(rng),
            language=person.language,
            interpreter_needed=person.language != "English",
            goals_in_own_words=rng.choice(GOALS_IN_OWN_WORDS),
            advance_directive_on_file=person.age >= 65 and rng.random() < 0.55,
            consent_to_share=rng.random() < 0.9,
            **fake_address(rng),
        )
        for coverage in coverages_for(rng, person, org_key, index, mbi, summit.pk):
            coverage_add(actor=registrar, patient_id=patient.pk, **coverage)
        for contact in contacts_for(rng, person):
            contact_add(actor=registrar, patient_id=patient.pk, **contact)
    return patient


def coverages_for(
    rng: random.Random, person: Person, org_key: str, index: int, mbi: str, summit_pk: int
) -> list[dict[str, object]]:
    """Primary and sometimes secondary coverage; Summit Health Plan is the primary for many."""
    start = dt.date(2025 if rng.random() < 0.7 else 2024, 1, 1)
    name = f"{person.given_name} {person.family_name}"
    summit = {"insurer_id": summit_pk, "member_id": member_id(index), "subscriber_name": name, "period_start": start}
    medicaid = {
        "payer_name": "Ohio Medicaid",
        "member_id": f"{rng.randrange(10**11, 10**12)}",
        "subscriber_name": name,
        "period_start": start,
    }
    if org_key == d.INSURER or rng.random() < 0.45:
        commercial = ("Summit Choice PPO", "Summit Marketplace Silver")
        plan = "Summit Medicare Advantage HMO" if mbi else rng.choice(commercial)
        return [{**summit, "plan_name": plan, "order": 1}]
    if mbi:
        medicare = {
            "payer_name": "Medicare",
            "plan_name": "Original Medicare (Part A and B)",
            "member_id": mbi,
            "subscriber_name": name,
            "period_start": dt.date(BIRTH_REFERENCE.year - person.age + 65, 1, 1),
            "order": 1,
        }
        roll = rng.random()
        if roll < 0.35:
            return [medicare, {**summit, "plan_name": "Summit Medicare Supplement Plan G", "order": 2}]
        if roll < 0.5:
            return [medicare, {**medicaid, "plan_name": "Medicaid (dual eligible)", "order": 2}]
        return [medicare]
    if rng.random() < 0.55:
        return [{**medicaid, "plan_name": "Medicaid managed care", "order": 1}]
    return [
        {
            "payer_name": "Buckeye Mutual Health",
            "plan_name": "Buckeye PPO 2000",
            "member_id": f"BMH{rng.randrange(10**8, 10**9)}",
            "subscriber_name": name,
            "period_start": start,
            "order": 1,
        }
    ]


def contacts_for(rng: random.Random, person: Person) -> list[dict[str, object]]:
    out: list[dict[str, object]] = []
    if person.age >= 50 and rng.random() < 0.55:
        out.append(
            {
                "name": relative_name(rng, person, same_family=True),
                "relationship": "spouse",
                "phone": fake_phone(rng),
                "is_caregiver": True,
                "able_to_give_care": rng.random() < 0.7,
                "availability": "Lives in; available most of the day",
                "lives_with_patient": True,
                "is_emergency_contact": True,
            }
        )
    if person.age >= 60 and rng.random() < 0.65:
        out.append(
            {
                "name": relative_name(rng, person, same_family=rng.random() < 0.6),
                "relationship": "child",
                "phone": fake_phone(rng),
                "is_caregiver": rng.random() < 0.6,
                "able_to_give_care": rng.random() < 0.5,
                "availability": rng.choice(AVAILABILITY),
                "is_emergency_contact": not out,
            }
        )
    if person.age >= 75 and rng.random() < 0.3:
        out.append(
            {
                "name": relative_name(rng, person, same_family=False),
                "relationship": "poa",
                "phone": fake_phone(rng),
                "availability": "Weekdays by phone",
            }
        )
    if not out and rng.random() < 0.6:
        out.append(
            {
                "name": relative_name(rng, person, same_family=False),
                "relationship": rng.choice(("friend", "sibling", "other")),
                "phone": fake_phone(rng),
                "is_caregiver": rng.random() < 0.3,
                "availability": rng.choice(AVAILABILITY),
                "is_emergency_contact": True,
            }
        )
    return out


# --- cases ----------------------------------------------------------------------------------------


def case_statuses(rng: random.Random, count: int) -> list[CaseStatus]:
    """Every status at least once, then a realistic mix."""
    statuses = list(EVERY_STATUS)
    weights = [STATUS_WEIGHTS[s] for s in EVERY_STATUS]
    statuses += rng.choices(EVERY_STATUS, weights=weights, k=max(0, count - len(statuses)))
    return statuses


def pick(rng: random.Random, weighted: Iterable[tuple[str, float]]) -> str:
    names, weights = zip(*weighted, strict=True)
    return str(rng.choices(names, weights=weights)[0])


def build_case(
    ctx: DemoContext, rng: random.Random, org_key: str, patient: Patient, target: CaseStatus, earlier_episode: bool
) -> Case:
    moves = varied_path(target, rng)
    step = STEP_DAYS[org_key]
    opened_days_ago = len(moves) * step + rng.randrange(1, step + 2)
    if earlier_episode or target in TERMINAL:
        opened_days_ago += rng.randrange(30, 200)
    moments = [ctx.at(-opened_days_ago, rng.randrange(7, 12), rng.choice((0, 15, 30, 45)))]
    for i in range(len(moves)):
        day = -opened_days_ago + (i + 1) * step
        moments.append(ctx.at(min(day, -1), 12 + min(i, 5), rng.choice((0, 10, 20, 40))))
    # Unassigned referrals wait in the Intake queue; everything past referral has a case manager.
    cm_name = pick(rng, CASE_MANAGERS[org_key])
    assigned = target != S.REFERRAL or rng.random() < 0.5
    cm = ctx.actor(cm_name)
    reason, diagnoses = rng.choice(REASONS[org_key])
    with recorded_at(moments[0]):
        case = case_open(
            actor=ctx.actor(REGISTRAR[org_key]),
            patient_id=patient.pk,
            case_type=CASE_TYPE[org_key],
            reason=reason,
            diagnoses=[{"system": ICD10, "code": c, "display": t} for c, t in diagnoses],
            assigned_to_id=cm.user_id if assigned else None,
            opened_at=moments[0],
        )
    for (status, why), moment in zip(moves, moments[1:], strict=True):
        with recorded_at(moment):
            case = case_transition(actor=cm, case_id=case.pk, to_status=status, reason=why)
    if assigned:
        add_care_team(ctx, rng, org_key, case, cm, moments[min(2, len(moments) - 1)])
    case.demo_cm = cm  # type: ignore[attr-defined]
    case.demo_last_change = moments[-1]  # type: ignore[attr-defined]
    return case


def add_care_team(ctx: DemoContext, rng: random.Random, org_key: str, case: Case, cm: Actor, when: dt.datetime) -> None:
    """Team members, including other organizations': the explicit links that share a patient's record."""
    members: list[tuple[str, str | None, str]] = []  # (role, username or None, name)
    summit_member = case.patient.coverages.filter(insurer__isnull=False).exists()
    if org_key == d.HOSPITAL:
        members.append(("Attending physician", "dr.attending", ""))
        if case.status in (S.TRANSITION, S.CLOSED, S.MONITORING):
            post_acute = rng.choice(
                (("Home health case manager", "cm.homehealth"), ("SNF admissions liaison", "cm.snf"),
                 ("IRF admissions liaison", "cm.irf"))
            )  # fmt: skip
            members.append((post_acute[0], post_acute[1], ""))
        if "IV antibiotics" in case.reason:
            members.append(("Infusion pharmacist", "pharmacist.infusion", ""))
        if summit_member and rng.random() < 0.5:
            members.append(("Health plan case manager", "cm.insurer", ""))
    elif org_key == d.HOME_HEALTH:
        members.append(("Certifying practitioner", "dr.practice", ""))
        members.append(("Skilled nursing", "clinician.rn", ""))
        if "PT" in case.reason or rng.random() < 0.4:
            members.append(("Physical therapy", "clinician.pt", ""))
        if "IV antibiotics" in case.reason:
            members.append(("Infusion pharmacist", "pharmacist.infusion", ""))
    else:
        given, family = rng.choice((("Anita", "Roy"), ("Charles", "Boateng"), ("Elaine", "Fischer")))
        members.append(("Primary care physician", None, f"Dr. {given} {family}"))
        if rng.random() < 0.5:
            members.append(("Home health case manager", "cm.homehealth", ""))
    for role, username, name in members:
        user = ctx.users[username] if username else None
        org_key_of = d.USERS_BY_NAME[username].org if username else None
        with recorded_at(when):
            careteam_add(
                actor=cm,
                case_id=case.pk,
                role=role,
                organization_id=ctx.organizations[org_key_of].pk if org_key_of else None,
                user_id=user.pk if user else None,
                name=name,
                phone="" if user else fake_phone(rng),
            )


# --- tasks ----------------------------------------------------------------------------------------


def due_moment(ctx: DemoContext, rng: random.Random, bucket: str) -> dt.datetime:
    if bucket == "overdue":
        return ctx.at(-rng.randrange(1, 8), rng.randrange(9, 17))
    if bucket == "today":
        # By end of day, so "due today" is still not overdue for most of the working day it is viewed on.
        return ctx.at(0, rng.randrange(17, 24), rng.choice((0, 15, 30, 45)))
    return ctx.at(rng.randrange(1, 15), rng.randrange(9, 17))


def build_tasks(ctx: DemoContext, rng: random.Random, org_key: str, case: Case, counters: dict[str, int]) -> None:
    if case.status not in OPEN:
        return
    templates = TASKS[(org_key, CaseStatus(case.status))]
    count = min(len(templates), 1 + (rng.random() < 0.7) + (rng.random() < 0.3))
    cm: Actor = case.demo_cm  # type: ignore[attr-defined]
    created = case.demo_last_change + dt.timedelta(hours=1)  # type: ignore[attr-defined]
    for template in templates[:count]:
        owner_key = template.queue or template.owner or (cm.user.username if case.assigned_to_id else "Intake")
        bucket = DUE_CYCLE[counters[owner_key] % len(DUE_CYCLE)]
        counters[owner_key] += 1
        queue = ctx.queues[(org_key, template.queue)] if template.queue else None
        if queue is None and not case.assigned_to_id and not template.owner:
            queue = ctx.queues[(org_key, "Intake")]
        owner = ctx.users[template.owner] if template.owner else (None if queue else cm.user)
        creator = cm if queue is None or case.assigned_to_id else ctx.actor(REGISTRAR[org_key])
        with recorded_at(created):
            task_create(
                actor=creator,
                title=template.title,
                case_id=case.pk,
                description=template.description,
                kind=template.kind,
                priority=template.priority,
                owner_id=owner.pk if owner else None,
                queue_id=queue.pk if queue else None,
                due_at=due_moment(ctx, rng, bucket),
                status="requested" if queue else "ready",
            )


# --- the story ------------------------------------------------------------------------------------


def build_story(ctx: DemoContext, patients: int, tick: Callable[[int], object]) -> None:
    """Register ``patients`` patients across the hospital, the agency and the insurer, with cases and tasks."""
    rng = ctx.rng("story")
    counters: dict[str, int] = defaultdict(int)
    index = 0
    for org_key, count in split_patients(patients).items():
        org_patients = []
        for _ in range(count):
            index += 1
            when = ctx.at(-rng.randrange(40, 400), rng.randrange(8, 17))
            org_patients.append(register_patient(ctx, rng, org_key, index, when))
            tick(1)
        ctx.patients += org_patients
        statuses = case_statuses(rng, max(count, len(EVERY_STATUS)))
        for i, status in enumerate(statuses):
            patient = org_patients[i % count]
            case = build_case(ctx, rng, org_key, patient, status, earlier_episode=i >= count)
            build_tasks(ctx, rng, org_key, case, counters)
            ctx.cases.append(case)
