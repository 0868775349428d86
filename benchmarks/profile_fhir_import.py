"""Where the FHIR import's time goes beyond parsing: SQL statements per resource type, CPU seconds of
the import against fhir.resources parse-only on the same resources, and optionally a cProfile.

Imports /work/shared/data/fhir/synthea-10-bulk into a fresh organization, in-process.

    .venv/bin/python benchmarks/profile_fhir_import.py [--db sqlite|postgres] [--pg-url ...] [--cprofile 40]
"""

from __future__ import annotations

import argparse
import collections
import cProfile
import json
import os
import pstats
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/cb_profile_fhir"


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="postgres")
    parser.add_argument("--pg-url", default=os.environ.get("PROFILE_PG_URL", DEFAULT_PG))
    parser.add_argument("--cprofile", type=int, default=0, help="print the top N functions by cumulative time")
    parser.add_argument("--sort", default="cumulative")
    parser.add_argument("--runs", type=int, default=1, help="import and parse this many times; report min and median")
    args = parser.parse_args()

    from bench_fhir_import import BULK, recreate_postgres

    tmp = tempfile.mkdtemp(prefix="cb-profile-fhir-")
    if args.db == "postgres":
        recreate_postgres(args.pg_url)
        url = args.pg_url
    else:
        url = f"sqlite:///{tmp}/profile.sqlite3"
    os.environ.update(
        DATABASE_URL=url,
        CASEBRIDGE_DATA_DIR=tmp,
        CASEBRIDGE_ENV="development",
        DJANGO_SETTINGS_MODULE="casebridge.config.settings",
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext
    from fhir.resources.R4B import get_fhir_model_class

    from casebridge.accounts.services import organization_create
    from casebridge.interop.fhir.mappers import SPECS
    from casebridge.interop.services import fhir_import_files, integration_actor

    call_command("migrate", interactive=False, verbosity=0)
    files = sorted(p for p in BULK.glob("*.ndjson") if p.name.split(".")[0] in SPECS)
    for rtype in SPECS:
        get_fhir_model_class(rtype)

    def parse_only() -> tuple[int, float]:
        n = 0
        start = time.process_time()
        for path in files:
            model = get_fhir_model_class(path.name.split(".")[0])
            with path.open("rb") as fh:
                for line in fh:
                    model.model_validate(json.loads(line))
                    n += 1
        return n, time.process_time() - start

    org_seq = iter(range(1, 1000))

    def import_once(profile: cProfile.Profile | None = None):  # type: ignore[no-untyped-def]
        org = organization_create(actor=None, name=f"Profile {next(org_seq)}", org_type="hospital")
        actor = integration_actor(org)
        start, wall = time.process_time(), time.perf_counter()
        with CaptureQueriesContext(connection) as queries:
            if profile:
                profile.enable()
            report = fhir_import_files(actor=actor, paths=[str(BULK)])
            if profile:
                profile.disable()
        assert report.rejected_total == 0, report.as_text()
        return report, time.process_time() - start, time.perf_counter() - wall, queries

    import_once()  # warm up (model classes, plans, caches)
    parse_cpus, cpus, walls = [], [], []
    for _ in range(args.runs):
        n, parse_cpu = parse_only()
        parse_cpus.append(parse_cpu)
        report, cpu, wall, queries = import_once()
        cpus.append(cpu)
        walls.append(wall)
    profile = cProfile.Profile() if args.cprofile else None
    if profile:
        report, _, _, queries = import_once(profile)
    parse_cpu, cpu, wall = min(parse_cpus), min(cpus), min(walls)
    med = statistics.median
    print(f"{connection.vendor}: {n} resources, min (median) of {args.runs}")
    print(f"  parse only            CPU {parse_cpu:6.3f} s ({med(parse_cpus):.3f})   {n / parse_cpu:7.0f} res/s")
    print(f"  import                CPU {cpu:6.3f} s ({med(cpus):.3f})   wall {wall:.3f} s ({med(walls):.3f})")
    print(f"  CPU ratio (parse/import) {parse_cpu / cpu:.0%}   wall-over-CPU {wall - cpu:.3f} s")
    kinds: collections.Counter[str] = collections.Counter()
    spent: collections.Counter[str] = collections.Counter()
    for q in queries.captured_queries:
        sql = q["sql"].lstrip()
        words = sql.split()
        table = next((w for w in words if w.startswith(('"', "`"))), "?")
        kinds[f"{words[0].upper()} {table}"] += 1
        spent[f"{words[0].upper()} {table}"] += float(q["time"])
    print(
        f"  SQL statements {len(queries.captured_queries)} (COPY not included; on PostgreSQL the chunk writes"
        f" run behind on another session and are not listed), {sum(spent.values()):.3f} s"
    )
    for kind, count in kinds.most_common(25):
        print(f"    {count:5d}  {spent[kind]:6.3f} s  {kind[:90]}")
    if profile:
        stats = pstats.Stats(profile)
        stats.sort_stats(args.sort).print_stats(args.cprofile)
    return 0


if __name__ == "__main__":
    sys.exit(main())
