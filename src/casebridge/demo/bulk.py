"""The large benchmark dataset: ``casebridge demo --patients 100000`` (about a million tasks).

Why not the services: the story demo registers each patient, case and task through
its service, with permission checks, validation, row locks, history and an audit row
per write, which is right for data people read and costs milliseconds per record. A
hundred thousand patients and a million tasks that way would take hours. This data
exists to load the database for benchmarks, so it is written with ``bulk_create``
in batches, one transaction per chunk of patients, and it skips what only the story
needs: per-task status history, django-simple-history rows and audit events. The
case status history is written, along the same legal paths the state machine allows.

The shape is what the benchmarks need to be honest: many case managers (about one per
200 patients, up to 500) each with a realistic worklist of a few hundred open tasks,
the documented demo case managers among them; most tasks are old and final
(completed, cancelled...), as in a system that has run for a while.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass

from django.contrib.auth.hashers import make_password
from django.db import connection, transaction

from casebridge.accounts import roles as r
from casebridge.accounts.models import Membership, User
from casebridge.cases.domain import CaseStatus
from casebridge.cases.models import CareTeamMember, Case, CaseStatusChange
from casebridge.demo import directory as d
from casebridge.demo.casepaths import canonical_path
from casebridge.demo.context import BIRTH_REFERENCE, DemoContext
from casebridge.demo.numbers import make_mbi
from casebridge.demo.people import GOALS_IN_OWN_WORDS, fake_address, fake_phone, make_person, staff_name
from casebridge.demo.story import (
    CASE_TYPE,
    ICD10,
    REASONS,
    STEP_DAYS,
    TASKS,
    contacts_for,
    coverages_for,
    member_id,
    mrn,
    split_patients,
)
from casebridge.patients.models import Contact, Coverage, Patient, PatientIdentifier
from casebridge.tasks.models import Task

S = CaseStatus
CHUNK = 1000  # patients per transaction
PATIENTS_PER_CASE_MANAGER = 200
MAX_CASE_MANAGERS = 500

# About a third of the cases are open: the rest are closed episodes with only final tasks.
CASE_STATUS_WEIGHTS = {
    S.REFERRAL: 5, S.ASSESSMENT: 7, S.PLANNING: 7, S.IMPLEMENTATION: 18, S.MONITORING: 25, S.TRANSITION: 7,
    S.ON_HOLD: 4, S.CLOSED: 160, S.CANCELLED: 10,
}  # fmt: skip
_STATUSES = list(CASE_STATUS_WEIGHTS)
_STATUS_W = list(CASE_STATUS_WEIGHTS.values())
OPEN_TASK_STATUS = {"ready": 55, "in-progress": 20, "requested": 10, "accepted": 5, "received": 5, "on-hold": 5}
FINAL_TASK_STATUS = {"completed": 85, "cancelled": 9, "failed": 3, "entered-in-error": 3}
QUEUE_SHARE = 0.05  # of open tasks, owned by a team queue instead of the case manager
DOCUMENTED_CASE_MANAGERS = {
    d.HOSPITAL: ("cm.hospital", "sw.hospital"),
    d.HOME_HEALTH: ("cm.homehealth",),
    d.INSURER: ("cm.insurer",),
}
QUEUE_FOR_BULK = {d.HOSPITAL: "UR nurses", d.HOME_HEALTH: "Intake", d.INSURER: "Utilization management"}


@dataclass
class BulkCounts:
    patients: int = 0
    cases: int = 0
    tasks: int = 0
    open_tasks: int = 0
    case_managers: int = 0


def _weighted(rng: random.Random, table: dict[str, int]) -> str:
    return rng.choices(list(table), weights=list(table.values()))[0]


def add_case_managers(ctx: DemoContext, total_patients: int) -> dict[str, list[User]]:
    """Generated case managers (``cm.rgh.001``...), who log in with the demo password too."""
    rng = ctx.rng("bulk-staff")
    wanted = max(len(d.ORGANIZATIONS_BY_KEY), min(MAX_CASE_MANAGERS, round(total_patients / PATIENTS_PER_CASE_MANAGER)))
    password = make_password(d.DEMO_PASSWORD)  # hashed once: Argon2 per user would take minutes
    by_org: dict[str, list[User]] = {}
    for org_key, count in split_patients(wanted).items():
        org = ctx.organizations[org_key]
        short = d.ORGANIZATIONS_BY_KEY[org_key].short
        documented = [ctx.users[u] for u in DOCUMENTED_CASE_MANAGERS[org_key]]
        new_users = []
        for i in range(1, max(1, count - len(documented)) + 1):
            given, family = staff_name(rng)
            new_users.append(
                User(
                    username=f"cm.{short}.{i:03d}",
                    first_name=given,
                    last_name=family,
                    email=f"cm.{short}.{i:03d}@{short}.example.org",
                    password=password,
                )
            )
        User.objects.bulk_create(new_users)
        Membership.objects.bulk_create(
            Membership(
                user=u,
                organization=org,
                role=r.CASE_MANAGER,
                discipline=rng.choices(("RN", "SW", "PT", "OT", "PHARMD"), weights=(70, 22, 3, 3, 2))[0],
            )
            for u in new_users
        )
        by_org[org_key] = documented + new_users
    return by_org


def build_bulk(ctx: DemoContext, patients: int, first_index: int, tick: Callable[[int], object]) -> BulkCounts:
    """Add ``patients`` patients (numbered from ``first_index``) with one case each and about ten tasks each."""
    counts = BulkCounts()
    staff = add_case_managers(ctx, patients)
    counts.case_managers = sum(len(v) for v in staff.values())
    rng = ctx.rng("bulk")
    index = first_index
    for org_key, count in split_patients(patients).items():
        done = 0
        while done < count:
            size = min(CHUNK, count - done)
            with transaction.atomic():
                _chunk(ctx, rng, org_key, index, done, size, staff[org_key], counts)
            index += size
            done += size
            tick(size)
    # Fresh planner statistics: right after a load this size, autovacuum has not analyzed the tables yet.
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    return counts


def _chunk(
    ctx: DemoContext,
    rng: random.Random,
    org_key: str,
    first_index: int,
    org_offset: int,
    size: int,
    cms: list[User],
    counts: BulkCounts,
) -> None:
    org = ctx.organizations[org_key]
    summit_pk = ctx.organizations[d.INSURER].pk
    queue = ctx.queues[(org_key, QUEUE_FOR_BULK[org_key])]
    titles = [t for (o, _), ts in TASKS.items() if o == org_key for t in ts]
    reasons = REASONS[org_key]
    step = STEP_DAYS[org_key]
    now_ish = ctx.start_of_today

    people = [make_person(rng, reference=BIRTH_REFERENCE) for _ in range(size)]
    patients = []
    for person in people:
        patients.append(
            Patient(
                organization=org,
                family_name=person.family_name,
                given_name=person.given_name,
                birth_date=person.birth_date,
                sex=person.sex,
                phone=fake_phone(rng),
                language=person.language,
                interpreter_needed=person.language != "English",
                goals_in_own_words=rng.choice(GOALS_IN_OWN_WORDS),
                advance_directive_on_file=person.age >= 65 and rng.random() < 0.5,
                consent_to_share=rng.random() < 0.9,
                consent_recorded_at=now_ish,
                **fake_address(rng),
            )
        )
    Patient.objects.bulk_create(patients)

    identifiers, coverages, contacts, cases = [], [], [], []
    for i, (person, patient) in enumerate(zip(people, patients, strict=True)):
        index = first_index + i
        mbi = make_mbi(rng) if person.age >= 65 else ""
        if mbi:
            identifiers.append(PatientIdentifier(patient=patient, kind="mbi", value=mbi))
        if org_key == d.INSURER:
            identifiers.append(
                PatientIdentifier(patient=patient, kind="member_id", value=member_id(index), assigner_id=summit_pk)
            )
        else:
            identifiers.append(PatientIdentifier(patient=patient, kind="mrn", value=mrn(org_key, index), assigner=org))
        covered = coverages_for(rng, person, org_key, index, mbi, summit_pk)
        coverages += [Coverage(patient=patient, **c) for c in covered]
        contacts += [Contact(patient=patient, **c) for c in contacts_for(rng, person)]

        status = rng.choices(_STATUSES, weights=_STATUS_W)[0]
        path = canonical_path(status)
        opened = ctx.at(-(len(path) * step + rng.randrange(1, 30 if status in (S.CLOSED, S.CANCELLED) else 5)), 9)
        if status in (S.CLOSED, S.CANCELLED):
            opened -= dt.timedelta(days=rng.randrange(0, 700))
        reason, diagnoses = rng.choice(reasons)
        case = Case(
            organization=org,
            patient=patient,
            case_type=CASE_TYPE[org_key],
            status=status,
            held_from=S.IMPLEMENTATION if status == S.ON_HOLD else "",
            assigned_to=cms[(org_offset + i) % len(cms)],
            reason=reason,
            diagnoses=[{"system": ICD10, "code": c, "display": t} for c, t in diagnoses],
            opened_at=opened,
        )
        case.demo_path = path  # type: ignore[attr-defined]
        if status in (S.CLOSED, S.CANCELLED):
            case.closed_at = opened + dt.timedelta(days=len(path) * step, hours=5)
            case.closure_reason = path[-1][1]
        cases.append(case)
    PatientIdentifier.objects.bulk_create(identifiers)
    Coverage.objects.bulk_create(coverages)
    Contact.objects.bulk_create(contacts)
    Case.objects.bulk_create(cases)

    changes, team, tasks = [], [], []
    for case in cases:
        cm = case.assigned_to
        assert cm is not None
        changes.append(
            CaseStatusChange(case=case, from_status="", to_status=S.REFERRAL, at=case.opened_at, by_id=cm.pk)
        )
        previous = S.REFERRAL
        for n, (status, why) in enumerate(case.demo_path, start=1):  # type: ignore[attr-defined]
            at = case.opened_at + dt.timedelta(days=n * step, hours=n % 5)
            changes.append(
                CaseStatusChange(case=case, from_status=previous, to_status=status, at=at, by_id=cm.pk, reason=why)
            )
            previous = status
        team.append(
            CareTeamMember(case=case, organization=org, user_id=cm.pk, role="Case manager", added_at=case.opened_at)
        )
        is_open = case.status not in (S.CLOSED, S.CANCELLED)
        total = rng.randrange(8, 13)
        n_open = min(total, rng.randrange(2, 7)) if is_open else 0
        for k in range(total):
            template = rng.choice(titles)
            if k < n_open:
                task_status = _weighted(rng, OPEN_TASK_STATUS)
                roll = rng.random()
                if roll < 0.2:
                    due = ctx.at(-rng.randrange(1, 10), rng.randrange(8, 18))
                elif roll < 0.3:
                    due = ctx.at(0, rng.randrange(17, 24), rng.choice((0, 15, 30, 45)))
                else:
                    due = ctx.at(rng.randrange(1, 31), rng.randrange(8, 18))
                to_queue = rng.random() < QUEUE_SHARE
                if to_queue:
                    task_status = "requested"
                created = min(due, now_ish) - dt.timedelta(days=rng.randrange(1, 6))
                completed = None
            else:
                task_status = _weighted(rng, FINAL_TASK_STATUS)
                span = max(1, (now_ish - case.opened_at).days)
                due = case.opened_at + dt.timedelta(days=rng.randrange(0, span), hours=rng.randrange(8, 18))
                created = due - dt.timedelta(days=rng.randrange(1, 6))
                completed = due - dt.timedelta(hours=rng.randrange(0, 30)) if task_status == "completed" else None
                to_queue = False
            tasks.append(
                Task(
                    organization=org,
                    case=case,
                    patient_id=case.patient_id,
                    title=template.title,
                    kind=template.kind,
                    status=task_status,
                    priority=template.priority,
                    owner_id=None if to_queue else cm.pk,
                    queue=queue if to_queue else None,
                    due_at=due,
                    created_at=created,
                    created_by_id=cm.pk,
                    completed_at=completed,
                    status_reason="" if task_status in ("completed", *OPEN_TASK_STATUS) else "No longer needed",
                )
            )
        counts.open_tasks += n_open
        counts.tasks += total
    CaseStatusChange.objects.bulk_create(changes)
    CareTeamMember.objects.bulk_create(team)
    Task.objects.bulk_create(tasks, batch_size=2000)
    counts.patients += size
    counts.cases += size
