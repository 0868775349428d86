"""Per message type cost of the ADT feed, independent of machine load: SQL statements and CPU ms
per message (A01, A08, A02, A03), measured in-process through ``Feed.receive`` on PostgreSQL.

    .venv/bin/python benchmarks/profile_mllp.py [--stays 100] [--pg-url ...] [--show A01] [--cprofile A01]
"""

from __future__ import annotations

import argparse
import collections
import os
import sys
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "src"))
sys.path.insert(0, str(ROOT / "benchmarks"))
DEFAULT_PG = "postgres://postgres@127.0.0.1:5432/cb_profile_mllp"


def _backend_cpu(connection: Any) -> Any:
    """A function returning the CPU seconds used so far by this connection's PostgreSQL backend
    (``/proc``; the server runs on this machine), or None when that cannot be read."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_backend_pid()")
        pid = cursor.fetchone()[0]
    ticks = os.sysconf("SC_CLK_TCK")

    def read() -> float | None:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            return None
        return (int(fields[11]) + int(fields[12])) / ticks  # utime + stime

    return read


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pg-url", default=os.environ.get("PROFILE_PG_URL", DEFAULT_PG))
    parser.add_argument("--stays", type=int, default=100)
    parser.add_argument("--show", help="print the SQL of one message of this type")
    parser.add_argument("--cprofile", help="cProfile this message type, or all (CPU time)")
    parser.add_argument("--sort", default="cumulative", help="pstats sort key (cumulative, tottime)")
    parser.add_argument("--only", help="print only functions whose path matches this pattern (e.g. casebridge)")
    parser.add_argument("--callers", help="also print the callers of functions matching this pattern")
    parser.add_argument("--lines", type=int, default=40, help="profile rows to print")
    args = parser.parse_args()

    from bench_mllp import ORG, recreate_postgres, stay

    recreate_postgres(args.pg_url)
    os.environ.update(
        DATABASE_URL=args.pg_url, CASEBRIDGE_ENV="development", DJANGO_SETTINGS_MODULE="casebridge.config.settings"
    )
    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection

    from casebridge.accounts.services import organization_create
    from casebridge.interop.hl7v2.receiver import Feed

    call_command("migrate", interactive=False, verbosity=0)
    org = organization_create(actor=None, name=ORG, org_type="hospital")
    feed = Feed(org)
    for n in range(5):  # warm up
        for text in stay("warm", n):
            assert feed.receive(text).code == "AA"
    cpu: dict[str, list[float]] = collections.defaultdict(list)
    statements: dict[str, list[int]] = collections.defaultdict(list)
    profiler = None
    if args.cprofile:
        import cProfile

        profiler = cProfile.Profile(time.process_time)  # CPU time: what limits throughput on 2 cores
    shown = False
    backend = _backend_cpu(connection)
    server_started = backend()
    executed: list[str] = []

    def count(execute: Any, sql: str, params: Any, many: bool, context: Any) -> Any:
        # Counting through an execute wrapper, not Django's debug cursor: that one renders every
        # statement with its values (``last_executed_query``), which with server-side binding costs
        # as much CPU as the statement itself and would be measured with it.
        executed.append(sql)
        return execute(sql, params, many, context)

    for n in range(args.stays):
        for trigger, text in zip(("A01", "A08", "A02", "A03"), stay("p", n), strict=True):
            executed.clear()
            with connection.execute_wrapper(count):
                if profiler and args.cprofile in (trigger, "all"):
                    profiler.enable()
                started = time.process_time()
                receipt = feed.receive(text)
                cpu[trigger].append((time.process_time() - started) * 1000)
                if profiler and args.cprofile in (trigger, "all"):
                    profiler.disable()
            assert receipt.code == "AA", receipt.reason
            # BEGIN and COMMIT do not pass the wrapper: count them as the debug cursor did.
            statements[trigger].append(len(executed) + 2)
            if args.show == trigger and not shown:
                shown = True
                for sql in executed:
                    print(sql[:300])
    server_ended = backend()
    server_ms = None
    if server_started is not None and server_ended is not None:
        server_ms = (server_ended - server_started) * 1000 / (4 * args.stays)
    total_cpu = total_sql = 0.0
    print(f"per message, {args.stays} stays, in-process on PostgreSQL (CPU = this process only)")
    for trigger in ("A01", "A08", "A02", "A03"):
        c = sorted(cpu[trigger])[len(cpu[trigger]) // 2]
        s = sum(statements[trigger]) / len(statements[trigger])
        total_cpu += c
        total_sql += s
        print(f"  {trigger}: {s:5.1f} statements  CPU p50 {c:6.2f} ms")
    print(f"  mean: {total_sql / 4:5.1f} statements  CPU {total_cpu / 4:6.2f} ms")
    if server_ms is not None:
        print(f"  PostgreSQL backend CPU per message (mean, same machine): {server_ms:6.2f} ms")
    if profiler:
        import pstats

        stats = pstats.Stats(profiler).sort_stats(args.sort)
        stats.print_stats(*([args.only] if args.only else []), args.lines)
        if args.callers:
            stats.print_callers(args.callers)
    connection.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
