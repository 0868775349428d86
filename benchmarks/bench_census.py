"""Census benchmark: the hospital census for 500 active stays with about 40,000 past stays.

Builds its own data (``--build``; skipped when already there) with ``bulk_create``: one hospital,
20 case managers, 20,500 patients, 40,000 finished inpatient/observation encounters over two
years (each with its stay record and a decided authorization), and 500 current admissions with
their hospital case, stay record (readmission risk already stored, as ``stay_risk_refresh`` leaves
it), authorization, primary coverage and, for 40%, an open discharge barrier; plus the SAMPLE
GMLOS table. Then measures in-process with Django's test client (server time only):

1. ``GET /hospital/census`` (500 rows, the page with filters), median and p95 over N requests
   (default 50); target p95 <= 150 ms;
2. ``GET /api/v1/hospital/census`` (JSON, 500 rows), median and p95;
3. SQL queries per request for the full census and for a one-unit filter (the count must not grow
   with the rows).

Each page request also writes what a real one writes: the session and one audit row per patient
listed (HIPAA access log).

Usage (from the repository root):

    python benchmarks/bench_census.py --build                     # SQLite file in $TMPDIR
    createdb -h 127.0.0.1 -U postgres cb_census_bench
    python benchmarks/bench_census.py --build --database-url postgres://postgres@127.0.0.1:5432/cb_census_bench
"""

from __future__ import annotations

import argparse
import datetime as dt
import math
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
HOSPITAL = "Census Bench Hospital"
ACTIVE = 500
PAST = 40_000
UNITS = ("4 West", "5 East", "6 North", "ICU", "Step-down", "Observation Unit", "7 South", "3 West")
PAYERS = ("Medicare", "Summit Health Plan", "Blue Lake PPO", "Medicaid MCO", "Acme Advantage")
DRGS = ("193", "194", "291", "292", "190", "539", "603", "871", "872", "690", "683", "064")
TARGET_P95_MS = 150.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", help="e.g. postgres://postgres@127.0.0.1:5432/cb_census_bench (default: SQLite)")
    p.add_argument("--data-dir", default=str(Path(tempfile.gettempdir()) / "casebridge-bench-census"))
    p.add_argument("--build", action="store_true", help="migrate and build the data first when it is not there")
    p.add_argument("--requests", type=int, default=50)
    return p.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["CASEBRIDGE_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    os.environ.setdefault("CASEBRIDGE_ENV", "development")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def p95(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def build() -> None:  # noqa: PLR0915 - one linear data build
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.utils import timezone

    from casebridge.accounts.models import Organization
    from casebridge.accounts.services import organization_create, user_create
    from casebridge.cases.models import Case
    from casebridge.clinical.models import Encounter
    from casebridge.hospital.models import Authorization, DischargeBarrier, HospitalStay
    from casebridge.hospital.services import drg_table_load
    from casebridge.patients.models import Coverage, Patient

    call_command("migrate", verbosity=0)
    if Organization.objects.filter(name=HOSPITAL).exists():
        print("data already built")
        return
    started = time.perf_counter()
    rng = random.Random(20260312)
    now = timezone.now()
    with transaction.atomic():
        org = organization_create(actor=None, name=HOSPITAL, org_type="hospital")
        managers = [
            user_create(
                actor=None,
                organization=org,
                username=f"census.cm{i}",
                password="bench-password-2026",
                role="case_manager",
                discipline="RN",
                first_name="Case",
                last_name=f"Manager {i:02d}",
            )
            for i in range(20)
        ]
        drg_table_load(
            organization=org,
            text=(ROOT / "src/casebridge/hospital/data/ms_drg_gmlos_SAMPLE.csv").read_text(),
            source="SAMPLE",
        )
        total_patients = ACTIVE + PAST // 2
        Patient.objects.bulk_create(
            (
                Patient(
                    organization=org,
                    family_name=f"Bench{i:05d}",
                    given_name=rng.choice(("Ana", "Ben", "Cy", "Dee")),
                    birth_date=dt.date(1930 + i % 70, 1 + i % 12, 1 + i % 28),
                    sex=rng.choice(("female", "male")),
                )
                for i in range(total_patients)
            ),
            batch_size=2000,
        )
        patient_ids = list(Patient.objects.filter(organization=org).order_by("pk").values_list("pk", flat=True))
        # Two years of history: 40,000 finished stays.
        past = []
        for n in range(PAST):
            admit = now - dt.timedelta(days=rng.uniform(10, 730))
            past.append(
                Encounter(
                    organization=org,
                    patient_id=patient_ids[ACTIVE + n % (total_patients - ACTIVE)],
                    identifier_system="urn:bench",
                    identifier_value=f"P{n}",
                    status="finished",
                    encounter_class="inpatient" if rng.random() < 0.8 else "observation",
                    admit_at=admit,
                    discharge_at=admit + dt.timedelta(days=rng.uniform(0.5, 9)),
                    location_text=f"{rng.choice(UNITS)}^{rng.randint(100, 999)}^A",
                )
            )
        Encounter.objects.bulk_create(past, batch_size=2000)
        cases = Case.objects.bulk_create(
            (
                Case(
                    organization=org,
                    patient_id=patient_ids[i],
                    case_type="hospital_stay",
                    status="assessment",
                    assigned_to=managers[i % len(managers)],
                    opened_at=now - dt.timedelta(days=i % 9),
                )
                for i in range(ACTIVE)
            ),
            batch_size=1000,
        )
        active = Encounter.objects.bulk_create(
            (
                Encounter(
                    organization=org,
                    patient_id=patient_ids[i],
                    identifier_system="urn:bench",
                    identifier_value=f"A{i}",
                    status="in-progress",
                    encounter_class="inpatient" if rng.random() < 0.85 else "observation",
                    admit_at=now - dt.timedelta(hours=rng.uniform(2, 24 * 12)),
                    location_text=f"{UNITS[i % len(UNITS)]}^{rng.randint(100, 999)}^B",
                    attending_name="Dr. Bench",
                    hospital_case=cases[i],
                )
                for i in range(ACTIVE)
            ),
            batch_size=1000,
        )
        encounters = list(Encounter.objects.filter(organization=org).values_list("pk", "patient_id", "status"))
        stays = HospitalStay.objects.bulk_create(
            (
                HospitalStay(
                    organization=org,
                    encounter_id=pk,
                    patient_id=patient_id,
                    working_drg=rng.choice(DRGS) if rng.random() < 0.9 else "",
                    expected_discharge_on=(now + dt.timedelta(days=rng.randint(0, 4))).date()
                    if rng.random() < 0.7
                    else None,
                    lace_total=rng.randint(0, 19),
                    lace_band=rng.choice(("low", "moderate", "high")),
                    hospital_total=rng.randint(0, 13),
                    hospital_band=rng.choice(("low", "intermediate", "high")),
                    risk_band=rng.choice(("low", "moderate", "high", "unknown")),
                    risk_computed_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for pk, patient_id, _ in encounters
            ),
            batch_size=2000,
        )
        HospitalStay.objects.filter(encounter__in=active).update(case_id=None)
        for stay, case in zip(
            HospitalStay.objects.filter(encounter__in=active).order_by("encounter_id"), cases, strict=True
        ):
            stay.case_id = case.pk
        Authorization.objects.bulk_create(
            (
                Authorization(
                    organization=org,
                    stay=stay,
                    payer_name=rng.choice(PAYERS),
                    reference_number=f"R{stay.encounter_id}",
                    status=rng.choice(("approved", "approved", "pending", "partially_approved", "denied")),
                    next_review_on=(now + dt.timedelta(days=rng.randint(-2, 3))).date(),
                    decided_at=now,
                    created_at=now,
                    updated_at=now,
                )
                for stay in stays
            ),
            batch_size=2000,
        )
        Coverage.objects.bulk_create(
            (
                Coverage(
                    patient_id=patient_ids[i],
                    payer_name=rng.choice(PAYERS),
                    member_id=f"M{i}",
                    period_start=dt.date(2024, 1, 1),
                )
                for i in range(ACTIVE)
            ),
            batch_size=1000,
        )
        active_stays = list(HospitalStay.objects.filter(encounter__in=active).values_list("pk", flat=True))
        DischargeBarrier.objects.bulk_create(
            DischargeBarrier(
                organization=org, stay_id=pk, description="Awaiting post-acute bed", owner_name="SW", created_at=now
            )
            for pk in active_stays
            if rng.random() < 0.4
        )
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    else:
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE")
    print(f"built {ACTIVE} active and {PAST} past stays in {time.perf_counter() - started:.0f} s")


def measure(requests: int) -> None:
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from casebridge.accounts.models import User
    from casebridge.accounts.selectors import actor_for
    from casebridge.accounts.services import token_issue

    user = User.objects.get(username="census.cm0")
    client = Client()
    client.force_login(user)
    actor = actor_for(user)
    assert actor is not None
    _, token = token_issue(actor=actor, name="bench")
    api = Client(HTTP_AUTHORIZATION=f"Bearer {token}")

    def run(c: Client, url: str) -> tuple[list[float], int, int]:
        c.get(url)  # warm
        samples = []
        for _ in range(requests):
            started = time.perf_counter()
            response = c.get(url)
            samples.append((time.perf_counter() - started) * 1000)
            assert response.status_code == 200, response.status_code
        with CaptureQueriesContext(connection) as ctx:
            response = c.get(url)
        rows = (
            response.content.count(b"data-encounter=") or response.json().get("count", 0)
            if url.startswith("/api")
            else response.content.count(b"data-encounter=")
        )
        return samples, len(ctx.captured_queries), rows

    print(f"database: {connection.vendor}; {requests} requests each; signed in as census.cm0")
    for label, c, url in (
        ("census page", client, "/hospital/census"),
        ("census page, one unit", client, "/hospital/census?unit=ICU"),
        ("census API", api, "/api/v1/hospital/census"),
    ):
        samples, queries, rows = run(c, url)
        verdict = "OK" if p95(samples) <= TARGET_P95_MS else "ABOVE TARGET"
        print(
            f"{label:24s} rows {rows:4d}  median {statistics.median(samples):6.1f} ms  "
            f"p95 {p95(samples):6.1f} ms  queries {queries:2d}  (target p95 <= {TARGET_P95_MS:.0f} ms: {verdict})"
        )


def main() -> None:
    args = parse_args()
    if not args.database_url:
        Path(args.data_dir).mkdir(parents=True, exist_ok=True)
    setup_django(args)
    if args.build:
        build()
    measure(args.requests)


if __name__ == "__main__":
    main()
