"""Platform benchmark: worklist and patient search server time on the large demo dataset.

Measures in-process with Django's test client (server time only: no network, no browser),
signed in as the demo hospital case manager (cm.hospital):

1. the worklist page ("/") and patient search ("/patients/?name=...", varied names):
   median and p95 over N requests (default 50); target p95 <= 150 ms;
2. SQL queries per page for a page showing many rows and one showing few, to show the
   count does not grow with the rows shown;
3. the ratio of the worklist request time to the time of its main SQL query (the
   my-open-tasks query), that query run directly on the same connection.

Usage (from the repository root):

    python benchmarks/bench_platform.py --build                      # SQLite in a temp data dir
    createdb -h 127.0.0.1 -U postgres cb_demo_bench
    python benchmarks/bench_platform.py --build --database-url postgres://postgres@127.0.0.1:5432/cb_demo_bench

``--build`` migrates and runs ``casebridge demo --patients 100000`` first (nothing is
rebuilt when the demo is already there). See benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import math
import os
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SEARCH_NAMES = [
    "Smi", "Joh", "Garc", "Ngu", "Wil", "Brow", "Mart", "Pat", "Lee", "Rod", "Dav", "Tho", "Kim", "Hass",
    "Sanch", "Smith, M", "Jones", "Mil", "And", "Tay", "Jackson", "Whi", "Har", "Cla", "Lew",
]  # fmt: skip
TARGET_P95_MS = 150.0


def parse_args() -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--database-url", help="e.g. postgres://postgres@127.0.0.1:5432/cb_demo_bench (default: SQLite)")
    p.add_argument(
        "--data-dir",
        default=str(Path(tempfile.gettempdir()) / "casebridge-bench"),
        help="data directory for the default SQLite database (default: %(default)s)",
    )
    p.add_argument("--build", action="store_true", help="migrate and build the demo first when it is not there")
    p.add_argument("--patients", type=int, default=100_000, help="demo size for --build (default: %(default)s)")
    p.add_argument("--requests", type=int, default=50, help="timed requests per page (default: %(default)s)")
    p.add_argument("--user", default="cm.hospital", help="who is signed in (default: %(default)s)")
    return p.parse_args()


def setup_django(args: argparse.Namespace) -> None:
    sys.path.insert(0, str(ROOT / "src"))
    if args.database_url:
        os.environ["DATABASE_URL"] = args.database_url
    else:
        os.environ.pop("DATABASE_URL", None)
        os.environ["CASEBRIDGE_DATA_DIR"] = args.data_dir
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    os.environ["DEBUG"] = "0"
    import django

    django.setup()


def p95(samples: list[float]) -> float:
    """Nearest-rank 95th percentile."""
    ordered = sorted(samples)
    return ordered[max(0, math.ceil(0.95 * len(ordered)) - 1)]


def timed_get(client, url: str) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    started = time.perf_counter()
    response = client.get(url)
    elapsed = (time.perf_counter() - started) * 1000
    if response.status_code != 200:
        raise SystemExit(f"GET {url} answered {response.status_code}")
    return elapsed, response


def rows_shown(response) -> int:  # type: ignore[no-untyped-def]
    """Body rows of the page's tables (header rows do not count)."""
    html = response.content.decode()
    return len(re.findall(r"<tr[\s>]", html)) - len(re.findall(r"<thead", html))


def count_queries(client, url: str) -> tuple[int, int, list[dict[str, str]]]:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as ctx:
        _, response = timed_get(client, url)
    return len(ctx.captured_queries), rows_shown(response), list(ctx.captured_queries)


def run_sql(sql: str, times: int) -> list[float]:
    """Run ``sql`` directly on the benchmark's connection ``times`` times; milliseconds each, rows fetched."""
    from django.db import connection

    samples = []
    with connection.cursor() as cursor:
        for _ in range(times):
            started = time.perf_counter()
            cursor.execute(sql)
            cursor.fetchall()
            samples.append((time.perf_counter() - started) * 1000)
    return samples


def main() -> int:
    args = parse_args()
    setup_django(args)
    from django.core.management import call_command
    from django.db import connection
    from django.db.models import Count
    from django.test import Client

    from casebridge.accounts.models import User
    from casebridge.accounts.selectors import actor_for
    from casebridge.demo.builder import build_demo, demo_present
    from casebridge.patients.models import Patient
    from casebridge.tasks.domain import OPEN
    from casebridge.tasks.models import Task

    if args.build:
        call_command("migrate", interactive=False, verbosity=0)
        if demo_present():
            print("Demo data already present; not rebuilding.", file=sys.stderr)
        else:
            summary = build_demo(patients=args.patients, progress=True)
            print(f"Built the demo in {summary.seconds:.0f} s: {summary.counts}", file=sys.stderr)
    if not demo_present():
        raise SystemExit("No demo data in this database: run with --build (or `casebridge demo --patients 100000`).")

    patients = Patient.objects.count()
    tasks = Task.objects.count()
    user = User.objects.get(username=args.user)
    actor = actor_for(user)
    assert actor is not None
    open_statuses = [s.value for s in OPEN]
    my_open = Task.objects.filter(owner=user, status__in=open_statuses).count()

    client = Client()
    client.force_login(user)
    for _ in range(3):  # warm up: first-request imports, template loading, database caches
        timed_get(client, "/")
        timed_get(client, "/patients/?name=Smi")

    worklist = [timed_get(client, "/")[0] for _ in range(args.requests)]
    search_urls = [f"/patients/?name={SEARCH_NAMES[i % len(SEARCH_NAMES)]}" for i in range(args.requests)]
    search = [timed_get(client, url)[0] for url in search_urls]

    # Queries per page, for a page with many rows and one with few.
    few_owner = (
        Task.objects.filter(
            organization_id=actor.organization_id, status__in=open_statuses, owner__username__startswith="cm."
        )
        .values("owner")
        .annotate(n=Count("id"))
        .order_by("n", "owner")
        .values_list("owner", flat=True)
        .first()
    )
    few_client = Client()
    few_user = User.objects.get(pk=few_owner) if few_owner else user
    few_client.force_login(few_user)
    timed_get(few_client, "/")
    rare = (
        Patient.objects.filter(organization_id=actor.organization_id)
        .values("family_name", "given_name")
        .annotate(n=Count("id"))
        .filter(n__gte=2, n__lte=5)
        .order_by("family_name", "given_name")
        .first()
    )
    rare_name = f"{rare['family_name']}, {rare['given_name']}" if rare else "Zzyzx"
    query_rows = [
        (f"worklist / as {user.username}", *count_queries(client, "/")[:2]),
        (f"worklist / as {few_user.username}", *count_queries(few_client, "/")[:2]),
        ("search ?name=Smi", *count_queries(client, "/patients/?name=Smi")[:2]),
        (f"search ?name={rare_name}", *count_queries(client, f"/patients/?name={rare_name}")[:2]),
    ]

    # The worklist's main query: the my-open-tasks selector (casebridge.tasks.selectors.my_tasks).
    request_ms, _ = timed_get(client, "/")
    _, _, captured = count_queries(client, "/")
    main_sql, main_label = None, ""
    try:
        from casebridge.tasks import selectors as task_selectors  # type: ignore[attr-defined]

        my_open_tasks = task_selectors.my_tasks
    except (ImportError, AttributeError):
        my_open_tasks = None
    if my_open_tasks is not None:
        from django.test.utils import CaptureQueriesContext

        with CaptureQueriesContext(connection) as sel_ctx:
            result = my_open_tasks(actor=actor)
            list(result) if not isinstance(result, list) else result
        candidates = [q for q in sel_ctx.captured_queries if "tasks_task" in q["sql"]]
        if candidates:
            main_sql = max(candidates, key=lambda q: float(q["time"]))["sql"]
            main_label = "casebridge.tasks.selectors.my_tasks"
    if main_sql is None:
        # CaptureQueriesContext times to the millisecond, too coarse to rank fast queries: re-time each one.
        on_tasks = [q["sql"] for q in captured if "tasks_task" in q["sql"]]
        pool = on_tasks or [q["sql"] for q in captured if q["sql"].lstrip().upper().startswith("SELECT")]
        main_sql = max(pool, key=lambda sql: statistics.median(run_sql(sql, 5)))
        main_label = (
            "slowest query on tasks_task during GET /"
            if on_tasks
            else "slowest query during GET / (the page ran no query on tasks_task)"
        )
    query_ms = run_sql(main_sql, args.requests)
    # A reference my-open-tasks query, so the figure exists even while "/" does not read tasks.
    reference = (
        Task.objects.filter(owner=user, status__in=open_statuses)
        .select_related("case", "patient")
        .order_by("due_at", "pk")
    )
    reference_ms = []
    for _ in range(args.requests):
        started = time.perf_counter()
        list(reference.all())  # .all(): a fresh queryset, not the cached rows
        reference_ms.append((time.perf_counter() - started) * 1000)

    worklist_median = statistics.median(worklist)
    print()
    print(f"CaseBridge platform benchmark  [{connection.vendor}: {connection.settings_dict['NAME']}]")
    print(f"  {patients:,} patients, {tasks:,} tasks; signed in as {user.username} ({my_open} open tasks)")
    print()
    print(f"  {'page':<34} {'requests':>8} {'median ms':>10} {'p95 ms':>8}  target p95 <= {TARGET_P95_MS:.0f} ms")
    for label, samples in (("worklist  GET /", worklist), ("patient search  GET /patients/?name=", search)):
        ok = "ok" if p95(samples) <= TARGET_P95_MS else "MISSED"
        print(f"  {label:<34} {len(samples):>8} {statistics.median(samples):>10.1f} {p95(samples):>8.1f}  {ok}")
    print()
    print("  SQL queries per page (must not grow with the rows shown)")
    print(f"  {'page':<48} {'rows shown':>10} {'queries':>8}")
    for label, queries, rows in query_rows:
        print(f"  {label:<48} {rows:>10} {queries:>8}")
    print()
    print("  Worklist request vs its main SQL query, run directly on the same connection")
    print(f"  main query: {main_label}")
    print(f"    {' '.join(main_sql.split())[:220]}{'...' if len(main_sql) > 220 else ''}")
    query_median = statistics.median(query_ms)
    ratio = worklist_median / query_median if query_median > 0 else float("inf")
    print(f"  worklist median {worklist_median:.1f} ms / main query median {query_median:.2f} ms = ratio {ratio:.1f}")
    print(
        f"  reference my-open-tasks query (ORM, owner={user.username}, {len(list(reference))} rows):"
        f" median {statistics.median(reference_ms):.2f} ms"
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
