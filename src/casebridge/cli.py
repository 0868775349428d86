"""The ``casebridge`` command: serving, data loading, interfaces and workers; each subcommand has ``--help``."""

from __future__ import annotations

import argparse
import getpass
import os
import sys
import threading
import time
from collections.abc import Sequence


def _setup_django() -> None:
    """Set Django up once per process. A second ``django.setup()`` would apply the logging settings
    again, binding a new console handler to whatever ``sys.stderr`` is at that moment: under a caller
    that swaps stderr for a while (a test capturing output), later log lines would go to a closed
    stream."""
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "casebridge.config.settings")
    import django
    from django.apps import apps

    if not apps.ready:
        django.setup()


def cmd_serve(args: argparse.Namespace) -> int:
    _setup_django()
    from django.conf import settings
    from django.core.management import call_command
    from gunicorn.app.base import BaseApplication

    from casebridge.config.wsgi import application

    if settings.PRODUCTION:
        call_command("collectstatic", interactive=False, verbosity=0)
    if args.migrate:
        call_command("migrate", interactive=False, verbosity=0)

    class Server(BaseApplication):  # type: ignore[misc]
        def load_config(self) -> None:
            self.cfg.set("bind", f"{args.host}:{args.port}")
            self.cfg.set("workers", args.workers)
            self.cfg.set("threads", args.threads)
            self.cfg.set("timeout", 60)
            self.cfg.set("accesslog", "-" if args.access_log else None)
            self.cfg.set("limit_request_line", 8190)

        def load(self):  # type: ignore[no-untyped-def]
            return application

    print(f"CaseBridge is running at http://{args.host}:{args.port}/  (Ctrl+C to stop)", flush=True)
    Server().run()
    return 0


def cmd_migrate(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    call_command("migrate", interactive=False, verbosity=args.verbosity)
    return 0


def cmd_demo(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    from casebridge.demo.builder import DemoRefused, build_demo, print_logins

    call_command("migrate", interactive=False, verbosity=0)
    try:
        summary = build_demo(patients=args.patients, seed=args.seed, progress=not args.quiet)
    except DemoRefused as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print_logins(summary)
    return 0


def cmd_createuser(args: argparse.Namespace) -> int:
    _setup_django()
    from casebridge.accounts.models import Organization
    from casebridge.accounts.services import user_create
    from casebridge.kernel.errors import DomainError

    org = Organization.objects.filter(name=args.organization).first()
    if org is None:
        print(f"error: no organization named {args.organization!r}", file=sys.stderr)
        return 2
    password = args.password or os.environ.get("CASEBRIDGE_PASSWORD") or getpass.getpass("Password: ")
    try:
        user = user_create(
            actor=None,
            organization=org,
            username=args.username,
            password=password,
            role=args.role,
            discipline=args.discipline,
            first_name=args.first_name,
            last_name=args.last_name,
            email=args.email,
        )
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    if args.superuser:
        user.is_superuser = True
        user.is_staff = True
        user.save(update_fields=["is_superuser", "is_staff"])
    print(f"Created {user.username} as {args.role} in {org.name}.")
    return 0


def cmd_import(args: argparse.Namespace) -> int:
    _setup_django()
    import json

    from tqdm import tqdm

    from casebridge.accounts.models import Organization, User
    from casebridge.accounts.selectors import actor_for
    from casebridge.interop.fhir.sources import InputProblem
    from casebridge.interop.services import fhir_import_files, integration_actor
    from casebridge.kernel.errors import DomainError

    org = None
    if args.organization:
        org = Organization.objects.filter(name=args.organization).first()
        if org is None:
            print(f"error: no organization named {args.organization!r}", file=sys.stderr)
            return 2
    if args.as_user:
        user = User.objects.filter(username=args.as_user, is_active=True).first()
        actor = actor_for(user, organization_id=org.pk if org else None) if user else None
        if actor is None:
            where = f" in {org.name}" if org else ""
            print(f"error: {args.as_user!r} is not an active user with a role{where}", file=sys.stderr)
            return 2
    elif org is not None:
        actor = integration_actor(org)
    else:
        print("error: name the importing organization (--organization) or a user (--as)", file=sys.stderr)
        return 2
    bar = tqdm(total=0, unit="res", desc="import", file=sys.stderr, disable=args.quiet, dynamic_ncols=True)

    def on_total(n: int) -> None:
        bar.total = n
        bar.refresh()

    try:
        report = fhir_import_files(
            actor=actor,
            paths=args.paths,
            source=args.source,
            max_bytes=args.max_bytes,
            on_total=on_total,
            on_progress=lambda n: None if bar.update(n) is None else None,
        )
    except InputProblem as exc:
        bar.close()
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        bar.close()
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        bar.close()
        print("interrupted: what was committed stays; run the same import again to finish it", file=sys.stderr)
        return 130
    bar.close()
    if args.json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        print(
            f"Import {report.run_id} into {actor.organization.name} as {actor.user.username} "
            f"({report.resources} resources in {report.seconds:.1f}s)"
        )
        print(report.as_text())
    return 1 if report.rejected_total else 0


def cmd_import_drg(args: argparse.Namespace) -> int:
    _setup_django()
    from pathlib import Path

    from casebridge.accounts.models import Organization
    from casebridge.hospital.services import drg_table_load
    from casebridge.kernel.errors import DomainError

    org = Organization.objects.filter(name=args.organization).first()
    if org is None:
        print(f"error: no organization named {args.organization!r}", file=sys.stderr)
        return 2
    try:
        text = Path(args.path).read_text(encoding="utf-8-sig")
        count = drg_table_load(organization=org, text=text, source=args.source or Path(args.path).name)
    except (OSError, UnicodeDecodeError) as exc:
        print(f"error: cannot read {args.path}: {exc}", file=sys.stderr)
        return 2
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    print(f"{count} DRG rows imported into {org.name}")
    return 0


# Periodic jobs the worker enqueues itself (django-tasks has no scheduler). Each job is idempotent,
# so several workers enqueueing the same job only repeat harmless work.
TIMERS: list[tuple[str, float]] = [
    ("casebridge.tasks.escalation.flag_overdue_tasks", 300.0),
    ("casebridge.postacute.services.remind_overdue_referrals_job", 300.0),
]


def _run_timers(stop: threading.Event) -> None:
    from django.db import close_old_connections
    from django.utils.module_loading import import_string

    next_run = dict.fromkeys((path for path, _ in TIMERS), 0.0)
    while not stop.is_set():
        now = time.monotonic()
        for path, every in TIMERS:
            if now >= next_run[path]:
                close_old_connections()
                import_string(path).enqueue()
                next_run[path] = now + every
        stop.wait(5.0)


def cmd_worker(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import call_command

    stop = threading.Event()
    if not args.no_timers:
        threading.Thread(target=_run_timers, args=(stop,), name="casebridge-timers", daemon=True).start()
    options: dict[str, object] = {"interval": args.interval}
    if args.batch:
        options["batch"] = True
    try:
        call_command("db_worker", **options)
    finally:
        stop.set()
    return 0


def cmd_export(args: argparse.Namespace) -> int:
    """A patient or a case as a FHIR R4 Bundle, read as a user (so it is scoped and audited as theirs)."""
    _setup_django()
    import json
    from pathlib import Path

    from casebridge.accounts.models import User
    from casebridge.accounts.selectors import actor_for
    from casebridge.interop.fhir_export.bundles import case_export, patient_export
    from casebridge.kernel.errors import DomainError

    user = User.objects.filter(username=args.as_user, is_active=True).first()
    actor = actor_for(user) if user is not None else None
    if actor is None:
        print(f"error: no active user {args.as_user!r} with a role in an organization", file=sys.stderr)
        return 2
    try:
        if args.case is not None:
            bundle = case_export(actor=actor, case_id=args.case)
        else:
            bundle = patient_export(actor=actor, patient_id=args.patient)
    except DomainError as exc:
        print(f"error: {exc.detail}", file=sys.stderr)
        return 2
    text = json.dumps(bundle, indent=2)
    if args.out:
        Path(args.out).write_text(text + "\n", encoding="utf-8")
        print(f"Wrote {len(bundle['entry'])} resources to {args.out}.", file=sys.stderr)
    else:
        print(text)
    return 0


def cmd_negotiate(args: argparse.Namespace) -> int:
    # Pure engine: no database, no Django setup.
    from casebridge.coverage.scenario import main as scenario_main

    return scenario_main([args.file])


def _hl7_organization(name: str | None):  # type: ignore[no-untyped-def]
    from casebridge.accounts.models import Organization

    if name:
        return Organization.objects.filter(name=name).first()
    orgs = list(Organization.objects.order_by("pk")[:2])
    return orgs[0] if len(orgs) == 1 else None


def cmd_mllp(args: argparse.Namespace) -> int:
    """Run the HL7 v2 ADT listener (MLLP over TCP) for one organization until interrupted."""
    _setup_django()
    import asyncio

    from casebridge.interop.hl7v2.mllp import MllpListener
    from casebridge.interop.hl7v2.receiver import Feed

    org = _hl7_organization(args.organization)
    if org is None:
        print("error: name the receiving organization with --organization", file=sys.stderr)
        return 2
    listener = MllpListener(
        Feed(org, channel="mllp"),
        host=args.host,
        port=args.port,
        max_bytes=args.max_bytes,
        workers=args.workers,
        processes=args.processes,
        log_level=args.log_level,
    )

    def ready(port: int) -> None:
        print(f"MLLP listener for {org.name} on {args.host}:{port} (Ctrl+C to stop)", flush=True)

    import signal

    def terminate(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    signal.signal(signal.SIGTERM, terminate)  # stop like Ctrl+C, worker processes with it
    try:
        asyncio.run(listener.serve_forever(ready))
    except KeyboardInterrupt:
        return 0
    return 0


def cmd_import_hl7(args: argparse.Namespace) -> int:
    """Apply HL7 v2 message files in order and print one line per message with its ACK code."""
    _setup_django()
    from pathlib import Path

    from casebridge.interop.hl7v2.parsing import Hl7Problem, split_messages
    from casebridge.interop.hl7v2.receiver import Feed

    org = _hl7_organization(args.organization)
    if org is None:
        print("error: name the receiving organization with --organization", file=sys.stderr)
        return 2
    feed = Feed(org, channel="file")
    failed = 0
    for name in args.files:
        path = Path(name)
        try:
            data = path.read_bytes()
            messages = split_messages(data)
        except (OSError, Hl7Problem) as exc:
            print(f"{name}: error: {getattr(exc, 'reason', exc)}", file=sys.stderr)
            failed += 1
            continue
        if not messages:
            print(f"{name}: no messages")
        for n, text in enumerate(messages, start=1):
            receipt = feed.receive(text)
            failed += receipt.code != "AA"
            note = " (duplicate: acknowledged again, not applied)" if receipt.duplicate else ""
            reason = f" {receipt.reason}" if receipt.reason else ""
            print(f"{name} #{n} {receipt.trigger or '?'} {receipt.control_id or '-'}: {receipt.code}{reason}{note}")
    return 1 if failed else 0


def cmd_manage(args: argparse.Namespace) -> int:
    _setup_django()
    from django.core.management import execute_from_command_line

    execute_from_command_line(["casebridge manage", *args.rest])
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="casebridge", description="CaseBridge case management platform")
    sub = parser.add_subparsers(dest="command", required=True)

    serve = sub.add_parser("serve", help="run the web server (gunicorn)", description="Run CaseBridge with gunicorn.")
    serve.add_argument("--host", default="127.0.0.1")
    serve.add_argument("--port", type=int, default=8000)
    serve.add_argument("--workers", type=int, default=int(os.environ.get("WEB_WORKERS", "2")))
    serve.add_argument("--threads", type=int, default=int(os.environ.get("WEB_THREADS", "4")))
    serve.add_argument("--migrate", action="store_true", help="apply database migrations first")
    serve.add_argument("--access-log", action="store_true", help="print one line per request")
    serve.set_defaults(func=cmd_serve)

    migrate = sub.add_parser("migrate", help="create or upgrade the database schema", description="Apply migrations.")
    migrate.add_argument("--verbosity", type=int, default=1)
    migrate.set_defaults(func=cmd_migrate)

    demo = sub.add_parser(
        "demo",
        help="load deterministic demo data",
        description="Build demo organizations, users (one per role) and patients. Run on an empty database.",
    )
    demo.add_argument(
        "--patients", type=int, default=200, help="number of patients (default 200; 100000 for benchmarks)"
    )
    demo.add_argument("--seed", type=int, default=20261127)
    demo.add_argument("--quiet", action="store_true", help="no progress bar")
    demo.set_defaults(func=cmd_demo)

    createuser = sub.add_parser("createuser", help="create a user in an organization", description="Create a user.")
    createuser.add_argument("--username", required=True)
    createuser.add_argument("--organization", required=True, help="organization name")
    createuser.add_argument("--role", required=True)
    createuser.add_argument("--discipline", default="")
    createuser.add_argument("--first-name", default="")
    createuser.add_argument("--last-name", default="")
    createuser.add_argument("--email", default="")
    createuser.add_argument("--password", help="default: $CASEBRIDGE_PASSWORD or a prompt")
    createuser.add_argument("--superuser", action="store_true", help="platform administrator")
    createuser.set_defaults(func=cmd_createuser)

    imp = sub.add_parser(
        "import",
        help="import FHIR R4 data (bulk NDJSON, Bundles) from files or folders",
        description="Import FHIR R4 resources into an organization: bulk-data NDJSON files (one resource type "
        "per file) and JSON Bundles (transaction, batch, collection, searchset) or single resources. "
        "Folders are searched for .ndjson and .json files; NDJSON files are imported in dependency order. "
        "Running the same import again changes nothing; an interrupted import, run again, finishes it. "
        "Without --as the organization's integration user (integration-<org id>, intake coordinator "
        "role, no password) is created if needed and acts. Exit status: 0 all imported, 1 some rejected, "
        "2 nothing imported (bad arguments or input).",
    )
    imp.add_argument("paths", nargs="+", metavar="PATH", help="files or folders")
    imp.add_argument("--organization", help="the importing organization (name); it owns the imported data")
    imp.add_argument("--as", dest="as_user", metavar="USERNAME", help="act as this user (default: integration user)")
    imp.add_argument("--source", default="fhir", help="id space of the sender's resource ids (default: fhir)")
    imp.add_argument(
        "--max-bytes", type=int, help="largest file accepted (default $CASEBRIDGE_IMPORT_MAX_BYTES or 256 MiB)"
    )
    imp.add_argument("--json", action="store_true", help="print the report as JSON")
    imp.add_argument("--quiet", action="store_true", help="no progress bar")
    imp.set_defaults(func=cmd_import)

    drg = sub.add_parser(
        "import-drg",
        help="import an MS-DRG table (GMLOS) for the census",
        description="Replace an organization's MS-DRG table from a CSV with columns drg, title, gmlos "
        "(optional weight, amlos). A SAMPLE table ships in casebridge/hospital/data/.",
    )
    drg.add_argument("path", metavar="FILE")
    drg.add_argument("--organization", required=True, help="the hospital (name)")
    drg.add_argument("--source", default="", help="label of the table, e.g. 'CMS FY2026 Table 5'")
    drg.set_defaults(func=cmd_import_drg)

    worker = sub.add_parser("worker", help="run background tasks and timers", description="Run the task worker.")
    worker.add_argument("--interval", type=float, default=1.0, help="seconds between polls")
    worker.add_argument("--batch", action="store_true", help="exit when the queue is empty")
    worker.add_argument("--no-timers", action="store_true", help="do not enqueue the periodic jobs (overdue check)")
    worker.set_defaults(func=cmd_worker)

    export = sub.add_parser(
        "export",
        help="export a patient or a case as a FHIR R4 Bundle",
        description="Write a patient's or a case's records as a FHIR R4 collection Bundle (JSON). "
        "The export runs as the named user: it sees what they may see and is audited as theirs.",
    )
    which = export.add_mutually_exclusive_group(required=True)
    which.add_argument("--patient", type=int, metavar="ID", help="the patient's CaseBridge id")
    which.add_argument("--case", type=int, metavar="ID", help="the case's CaseBridge id")
    export.add_argument("--as", dest="as_user", required=True, metavar="USERNAME", help="the user to export as")
    export.add_argument("--out", metavar="FILE", help="write to FILE instead of standard output")
    export.set_defaults(func=cmd_export)

    negotiate = sub.add_parser(
        "negotiate",
        help="solve a coverage negotiation scenario file and print the proposals",
        description="Print walk-aways, feasibility and a proposal under each allocation rule. "
        "Exit 0 if a deal exists, 1 if not, 2 if the file is unreadable or invalid.",
    )
    negotiate.add_argument("file", help="scenario file (YAML or JSON)")
    negotiate.set_defaults(func=cmd_negotiate)

    mllp = sub.add_parser(
        "mllp",
        help="run the HL7 v2 ADT listener (MLLP)",
        description="Listen for HL7 v2 ADT messages over MLLP (TCP) for one organization. Each message is "
        "committed before its ACK (AA); a message that cannot be applied gets AE or AR with the reason and "
        "changes nothing; a repeated message control ID is acknowledged again without being applied twice.",
    )
    mllp.add_argument("--port", type=int, default=2575)
    mllp.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    mllp.add_argument("--organization", help="the receiving organization (name); needed when there are several")
    mllp.add_argument(
        "--max-bytes",
        type=int,
        default=int(os.environ.get("CASEBRIDGE_MLLP_MAX_BYTES", str(1024 * 1024))),
        help="largest frame accepted (default $CASEBRIDGE_MLLP_MAX_BYTES or 1 MiB)",
    )
    mllp.add_argument(
        "--processes",
        type=int,
        default=2 * (os.cpu_count() or 1),
        help="worker processes that serve the connections (each is handed whole to the least busy one) and "
        "apply their messages, each with its own database session (default: twice the number of CPUs, so a "
        "core has work while a process waits for the database to commit); 0 applies them in threads of the "
        "listener process",
    )
    mllp.add_argument(
        "--workers", type=int, default=8, help="database worker threads when --processes is 0 (default 8)"
    )
    mllp.add_argument(
        "--log-level",
        default="INFO",
        choices=["DEBUG", "INFO", "WARNING", "ERROR"],
        help="the feed's log on stderr: INFO (default) prints one line per message with its ACK code; "
        "WARNING only problems",
    )
    mllp.set_defaults(func=cmd_mllp)

    imp_hl7 = sub.add_parser(
        "import-hl7",
        help="apply HL7 v2 ADT message files",
        description="Apply HL7 v2 ADT messages from files (one or more messages per file; UTF-8 with or "
        "without a byte-order mark; CR, LF or CRLF segment ends), in order, as the organization's "
        "integration user. Prints each message's ACK code. Exit status 1 when any was not accepted.",
    )
    imp_hl7.add_argument("files", nargs="+", metavar="FILE")
    imp_hl7.add_argument("--organization", help="the receiving organization (name); needed when there are several")
    imp_hl7.set_defaults(func=cmd_import_hl7)

    manage = sub.add_parser("manage", help="run a Django management command", add_help=False)
    manage.add_argument("rest", nargs=argparse.REMAINDER)
    manage.set_defaults(func=cmd_manage)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    return int(args.func(args))


if __name__ == "__main__":
    sys.exit(main())
