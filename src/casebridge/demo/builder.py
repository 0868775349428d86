"""``casebridge demo``: build the demo data, deterministically, and say how to log in.

Two sizes, one entry point:

- The default (``--patients 200``) is the story demo a new user sees first: seven
  organizations, one user for every role, patients with coverage and caregivers,
  cases of each type in every status, tasks overdue, due today and later. All of it
  goes through the services (``demo.story``), so audit and history are real.
- Beyond ``story_patients`` (200), the rest is benchmark data written in bulk
  (``demo.bulk``): ``--patients 100000`` gives about a million tasks in minutes.

Determinism: every random choice comes from ``random.Random`` streams seeded from
``seed``, and every time is relative to the local date the demo is built on. Two
builds on the same day with the same seed and size hold the same data
(``demo_digest`` compares them without depending on primary keys); on another day
the same data is shifted so that due dates stay overdue, today and later.

Re-running: the demo is idempotent. When the demo hospital already exists, nothing is
added and the logins are printed again; to build another size, use an empty database
(another ``CASEBRIDGE_DATA_DIR`` or ``DATABASE_URL``).
"""

from __future__ import annotations

import hashlib
import sys
import time
from dataclasses import dataclass, field
from typing import TextIO

from django.db import connection, transaction
from django.db.models import Count
from tqdm import tqdm

from casebridge.accounts.models import Membership, Organization
from casebridge.accounts.roles import ROLE_LABELS
from casebridge.cases.models import Case
from casebridge.demo import directory as d
from casebridge.demo.bulk import build_bulk
from casebridge.demo.context import DemoContext
from casebridge.demo.enrichers import Enricher, run_enrichers
from casebridge.demo.story import build_directory, build_story
from casebridge.kernel import clock
from casebridge.patients.models import Patient, PatientIdentifier
from casebridge.tasks.domain import OPEN as OPEN_TASK
from casebridge.tasks.models import Task

DEFAULT_SEED = 20261127
STORY_PATIENTS = 200
MIN_PATIENTS = 12


@dataclass(frozen=True)
class Login:
    username: str
    title: str
    role: str
    organization: str


@dataclass
class DemoSummary:
    password: str
    logins: list[Login]
    counts: dict[str, int]
    already_present: bool = False
    seconds: float = 0.0
    enrichers: list[str] = field(default_factory=list)
    database: str = ""
    url: str = "http://127.0.0.1:8000/"


class DemoRefused(ValueError):
    """The demo cannot be built as asked (for example, too few patients)."""


def demo_present() -> bool:
    return Organization.objects.filter(name=d.HOSPITAL_NAME).exists()


def build_demo(
    *,
    patients: int = STORY_PATIENTS,
    seed: int = DEFAULT_SEED,
    progress: bool = True,
    story_patients: int = STORY_PATIENTS,
    enrichers: list[Enricher] | None = None,
) -> DemoSummary:
    """Build the demo (see the module docstring). Returns what ``print_logins`` prints."""
    if patients < MIN_PATIENTS:
        raise DemoRefused(f"the demo needs at least {MIN_PATIENTS} patients to show cases in every status")
    started = time.monotonic()
    if demo_present():
        return _summary(already_present=True)
    ctx = DemoContext(seed=seed, today=clock.today())
    story = min(patients, story_patients)
    bar = tqdm(
        total=patients, unit=" patients", desc="Building demo", disable=not progress, file=sys.stderr, smoothing=0.05
    )
    with bar:
        with transaction.atomic():
            build_directory(ctx)
            build_story(ctx, story, bar.update)
            ran = run_enrichers(ctx, enrichers)
        if patients > story:
            bar.set_description("Building benchmark data")
            build_bulk(ctx, patients - story, first_index=story + 1, tick=bar.update)
    summary = _summary(already_present=False)
    summary.enrichers = ran
    summary.seconds = time.monotonic() - started
    return summary


def _summary(*, already_present: bool) -> DemoSummary:
    orgs = {o.name: o for o in Organization.objects.filter(name__in=[o.name for o in d.ORGANIZATIONS])}
    present = set(
        Membership.objects.filter(user__username__in=list(d.USERS_BY_NAME)).values_list("user__username", flat=True)
    )
    logins = [
        Login(u.username, u.title, ROLE_LABELS[u.role], d.ORGANIZATIONS_BY_KEY[u.org].name)
        for u in d.USERS
        if u.username in present
    ]
    counts = {
        "organizations": len(orgs),
        "users": Membership.objects.filter(organization__in=orgs.values()).values("user").distinct().count(),
        "patients": Patient.objects.count(),
        "cases": Case.objects.count(),
        "tasks": Task.objects.count(),
        "open tasks": Task.objects.filter(status__in=[s.value for s in OPEN_TASK]).count(),
    }
    settings = connection.settings_dict
    return DemoSummary(
        password=d.DEMO_PASSWORD,
        logins=logins,
        counts=counts,
        already_present=already_present,
        database=f"{connection.vendor} {settings['NAME']}",
    )


def print_logins(summary: DemoSummary, out: TextIO | None = None) -> None:
    """Print how to start and log in: the URL, every demo username with role and organization, the password."""
    out = out or sys.stdout
    p = lambda line="": print(line, file=out)  # noqa: E731
    if summary.already_present:
        p("Demo data is already loaded; nothing was added. (Build another size in an empty database.)")
    else:
        p(f"Demo data built in {summary.seconds:.0f} s.")
    p("  " + ", ".join(f"{v:,} {k}" for k, v in summary.counts.items()) + f"  [{summary.database}]")
    p()
    p(f"Start CaseBridge with `casebridge serve` and open {summary.url}")
    p(f"Every demo user's password: {summary.password}")
    p()
    width = max((len(x.username) for x in summary.logins), default=8)
    title_width = max((len(x.title) for x in summary.logins), default=8)
    p(f"  {'Username':<{width}}  {'Does':<{title_width}}  Organization")
    organization = None
    for login in summary.logins:
        if login.organization != organization and organization is not None:
            p()
        organization = login.organization
        p(f"  {login.username:<{width}}  {login.title:<{title_width}}  {login.organization}")
    if summary.counts.get("patients", 0) > STORY_PATIENTS:
        p()
        p("  Benchmark case managers cm.rgh.001, cm.hhh.001, cm.shp.001 ... use the same password.")
    p()
    p("Start with cm.hospital: the hospital case manager's worklist has tasks overdue, due today and later.")


def demo_digest() -> str:
    """A fingerprint of the demo's content that ignores primary keys and build-time clocks.

    Two builds on the same day, with the same seed and size, give the same digest on any database.
    """
    h = hashlib.sha256()

    def feed(rows: object) -> None:
        for row in rows:  # type: ignore[attr-defined]
            h.update(repr(tuple(str(v) for v in row)).encode())

    feed(Organization.objects.order_by("name").values_list("name", "org_type", "npi", "zip_codes_served"))
    feed(Membership.objects.order_by("user__username", "role").values_list("user__username", "role", "discipline"))
    feed(
        Patient.objects.order_by("family_name", "given_name", "birth_date", "address_line").values_list(
            "family_name", "given_name", "birth_date", "sex", "address_line", "postal_code", "phone", "language"
        )
    )
    feed(PatientIdentifier.objects.order_by("kind", "value").values_list("kind", "value"))
    feed(
        Case.objects.order_by("opened_at", "patient__family_name", "patient__given_name", "reason").values_list(
            "patient__family_name", "patient__given_name", "case_type", "status", "opened_at", "reason",
            "assigned_to__username",
        )
    )  # fmt: skip
    feed(
        Task.objects.order_by("due_at", "title", "case__patient__family_name", "owner__username").values_list(
            "title", "status", "due_at", "owner__username", "queue__name", "case__patient__family_name"
        )
    )
    feed(Task.objects.values("status").annotate(n=Count("id")).order_by("status").values_list("status", "n"))
    return h.hexdigest()
