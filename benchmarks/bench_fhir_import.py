"""FHIR import throughput on SQLite and PostgreSQL (issue 3, "Performance").

Imports /work/shared/data/fhir/synthea-10-bulk end to end (validate, map, resolve references, write
records + provenance + audit) and, in the same process, times fhir.resources parsing alone
(json.loads + R4B model_validate) on the same files. Then imports the same data into an
organization that already holds 100,000 patients and compares the rates.

Resources counted: the 5,768 resources of the ten imported types (Patient ... Procedure). The three
files of types CaseBridge does not import (Device, DocumentReference, Immunization) are read and
reported as skipped by the import but not counted, and are not parsed in the parse-only figure.
Each figure is the best of --repeat runs (the machine is shared; best-of is the least noisy);
medians are printed too.

The import runs as configured (``FHIR_VALIDATION_PROCESSES``: one validation worker process beside
the importer where there are two cores or more), with the worker already started, as a server has it
after its first bulk import. Parse-only runs on one core; so that the comparison is plain, each round
also imports with validation in the importer's own process (0 workers) and prints that figure too.

    python benchmarks/bench_fhir_import.py                 # both databases
    python benchmarks/bench_fhir_import.py --db sqlite
    python benchmarks/bench_fhir_import.py --db postgres --pg-url postgres://postgres@127.0.0.1:5432/cb_bench_import
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BULK = Path("/work/shared/data/fhir/synthea-10-bulk")
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/cb_bench_import"


def child(args: argparse.Namespace) -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    import django

    django.setup()
    import datetime as dt

    from django.conf import settings
    from django.core.management import call_command
    from django.db import connection, transaction
    from fhir.resources.R4B import get_fhir_model_class

    from casebridge.accounts.services import organization_create
    from casebridge.interop.fhir import validation
    from casebridge.interop.fhir.mappers import SPECS
    from casebridge.interop.services import fhir_import_files, integration_actor
    from casebridge.kernel.rows import bulk_insert_rows as insert_rows
    from casebridge.patients.models import Patient, PatientIdentifier

    call_command("migrate", interactive=False, verbosity=0)
    files = sorted(p for p in BULK.glob("*.ndjson") if p.name.split(".")[0] in SPECS)
    for rtype in SPECS:  # import the model modules once, as a running server has them
        get_fhir_model_class(rtype)
    # The validation worker running, as a server has it after its first bulk import (it starts in the
    # background on the first full chunk; the first import in a process validates in-process until it
    # is up, about a second later).
    processes = settings.FHIR_VALIDATION_PROCESSES
    pool = validation.shared_pool(processes, SPECS)
    worker_ready = pool.wait_ready(timeout=120) if pool is not None else False

    def parse_only() -> tuple[int, float]:
        n = 0
        start = time.perf_counter()
        for path in files:
            model = get_fhir_model_class(path.name.split(".")[0])
            with path.open("rb") as fh:
                for line in fh:
                    model.model_validate(json.loads(line))
                    n += 1
        return n, time.perf_counter() - start

    seq = iter(range(1, 10_000))

    def new_org(label: str):  # type: ignore[no-untyped-def]
        return organization_create(actor=None, name=f"{label} {next(seq)} {time.time_ns()}", org_type="hospital")

    def import_into(org) -> tuple[int, float, int]:  # type: ignore[no-untyped-def]
        actor = integration_actor(org)
        start = time.perf_counter()
        report = fhir_import_files(actor=actor, paths=[str(BULK)])
        elapsed = time.perf_counter() - start
        assert report.rejected_total == 0, report.as_text()
        return report.total("created") + report.total("unchanged") + report.total("updated"), elapsed, report.changed

    def add_patients(org, n: int) -> None:  # type: ignore[no-untyped-def]
        """Simple patients (name, birth date, MRN) written straight to the tables, as a filled database."""
        batch = 5000
        for start in range(0, n, batch):
            with transaction.atomic():
                rows = [
                    {
                        "organization_id": org.pk,
                        "family_name": f"Bench{i % 997}",
                        "given_name": f"Pat{i}",
                        "birth_date": dt.date(1930 + i % 80, 1 + i % 12, 1 + i % 28),
                        "sex": "female" if i % 2 else "male",
                        "language": "English",
                    }
                    for i in range(start, min(start + batch, n))
                ]
                ids = insert_rows(Patient, rows)
                insert_rows(
                    PatientIdentifier,
                    [
                        {
                            "patient_id": pk,
                            "kind": "mrn",
                            "value": f"B{org.pk}-{pk}",
                            "assigner_id": org.pk,
                            "system": "",
                        }
                        for pk in ids
                    ],
                )
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("ANALYZE")

    parse_runs, fresh_runs, in_process_runs, big_runs = [], [], [], []
    count = 0
    for _ in range(args.repeat):
        count, seconds = parse_only()
        parse_runs.append(count / seconds)
        n, seconds, _ = import_into(new_org("Fresh"))
        fresh_runs.append(n / seconds)
        settings.FHIR_VALIDATION_PROCESSES = 0  # the same import validating in its own process
        n, seconds, _ = import_into(new_org("In-process"))
        in_process_runs.append(n / seconds)
        settings.FHIR_VALIDATION_PROCESSES = processes
        big = new_org("Big")
        add_patients(big, args.patients)
        n, seconds, _ = import_into(big)
        big_runs.append(n / seconds)
    n, seconds, changed = import_into(big)
    assert changed == 0
    unchanged_rate = n / seconds
    total_patients = Patient.objects.count()
    result = {
        "db": connection.vendor,
        "resources": count,
        "parse": parse_runs,
        "fresh": fresh_runs,
        "in_process": in_process_runs,
        "workers": processes if worker_ready else 0,
        "big": big_runs,
        "unchanged": unchanged_rate,
        "patients_in_db": total_patients,
    }
    print("RESULT " + json.dumps(result))


def show(result: dict) -> None:  # type: ignore[type-arg]
    best = {k: max(result[k]) for k in ("parse", "fresh", "big")}
    median = {k: statistics.median(result[k]) for k in ("parse", "fresh", "big")}
    name = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}[result["db"]]
    print(
        f"\n== {name}: {result['resources']} resources (synthea-10-bulk, imported types), "
        f"best of {len(result['parse'])}"
    )
    print(
        f"  parse only (json.loads + fhir.resources R4B)  {best['parse']:8.0f} res/s   (median {median['parse']:.0f})"
    )
    print(
        f"  end-to-end import, fresh organization         {best['fresh']:8.0f} res/s   (median {median['fresh']:.0f})"
    )
    ratio = best["fresh"] / best["parse"]
    paired = statistics.median(f / p for f, p in zip(result["fresh"], result["parse"], strict=True))
    print(
        f"  end-to-end / parse-only (best vs best)        {ratio:8.0%}        "
        f"target >= 50%  {'OK' if ratio >= 0.5 else 'MISSED'}"
    )
    print(f"  end-to-end / parse-only (median of pairs)     {paired:8.0%}        (each pair run back to back)")
    workers = result["workers"]
    print(f"  (validation worker processes beside the importer: {workers}; FHIR_VALIDATION_PROCESSES)")
    alone = max(result["in_process"])
    alone_paired = statistics.median(a / p for a, p in zip(result["in_process"], result["parse"], strict=True))
    print(
        f"  end-to-end, validating in-process (0 workers) {alone:8.0f} res/s   "
        f"(median {statistics.median(result['in_process']):.0f}), {alone / best['parse']:.0%} of parse-only, "
        f"{alone_paired:.0%} median of pairs"
    )
    print(f"  end-to-end, org already holding 100k patients {best['big']:8.0f} res/s   (median {median['big']:.0f})")
    change = best["big"] / best["fresh"] - 1
    paired_big = statistics.median(b / f for b, f in zip(result["big"], result["fresh"], strict=True)) - 1
    print(
        f"  change vs fresh                               {change:+8.0%}        "
        f"limit -20%     {'OK' if change >= -0.2 else 'MISSED'}"
    )
    print(f"  change vs fresh (median of pairs)             {paired_big:+8.0%}")
    print(f"  re-import, everything unchanged               {result['unchanged']:8.0f} res/s")
    print(f"  patients in the database at the end           {result['patients_in_db']:8d}")


def recreate_postgres(url: str) -> None:
    import psycopg

    base, _, name = url.rpartition("/")
    with psycopg.connect(f"{base}/postgres", autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--db", choices=["sqlite", "postgres", "both"], default="both")
    parser.add_argument("--pg-url", default=os.environ.get("BENCH_PG_URL", DEFAULT_PG))
    parser.add_argument("--patients", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--child", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        child(args)
        return 0
    targets = ["sqlite", "postgres"] if args.db == "both" else [args.db]
    with tempfile.TemporaryDirectory(prefix="cb-bench-import-") as tmp:
        for target in targets:
            env = dict(os.environ, CASEBRIDGE_DATA_DIR=tmp, PYTHONPATH=str(ROOT / "src"), CASEBRIDGE_ENV="development")
            if target == "sqlite":
                env["DATABASE_URL"] = f"sqlite:///{tmp}/bench.sqlite3"
            else:
                recreate_postgres(args.pg_url)
                env["DATABASE_URL"] = args.pg_url
            cmd = [sys.executable, __file__, "--child", "--patients", str(args.patients), "--repeat", str(args.repeat)]
            out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=False)
            if out.returncode != 0:
                print(out.stdout, out.stderr, file=sys.stderr)
                return out.returncode
            line = next(ln for ln in out.stdout.splitlines() if ln.startswith("RESULT "))
            show(json.loads(line.removeprefix("RESULT ")))
    return 0


if __name__ == "__main__":
    sys.exit(main())
