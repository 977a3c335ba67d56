"""`customers audit verify`: check the tamper-evident event log from the command line.

It opens only the event store (no read model, broker or projection is needed to prove the log
intact) and prints the count of events verified, or names the first event that was modified,
deleted, reordered or inserted behind the service's back. The progress bar goes to stderr so
that stdout holds only the result a script reads.
"""

from __future__ import annotations

import argparse
import sys
import time
import uuid
from pathlib import Path
from typing import TYPE_CHECKING

from entrypoints import cli_args
from shared.settings import Settings

if TYPE_CHECKING:
    from write_side.adapters.event_store import CustomersApplication
    from write_side.application.audit_verify import Report

#: exit codes: 0 verified, 1 the log does not verify, 3 nothing to verify (no such customer)
BROKEN, NOTHING = 1, 3


def add_audit_commands(commands: cli_args.Commands, data_dir_help: str) -> None:
    """`customers audit verify [--tenant T] [--customer ID]` (and its siblings)."""
    audit = commands.add_parser("audit", help="verify the tamper-evident event log")
    actions = audit.add_subparsers(dest="audit_action", required=True)
    verify = actions.add_parser(
        "verify", help="recompute the hash chain and signed checkpoints; name the first break"
    )
    verify.add_argument(
        "--customer", type=cli_args.customer_id, help="only this customer's chain (a UUID)"
    )
    verify.add_argument(
        "--tenant", type=cli_args.name, help="with --customer: the customer must be this tenant's"
    )
    verify.add_argument("--data-dir", help=data_dir_help)
    verify.set_defaults(handler=_verify)

    export = actions.add_parser(
        "verify-export", help="check a GDPR export's signature offline (exit 0 valid, 1 not)"
    )
    export.add_argument("file", type=Path, help="the export as downloaded (JSON)")
    export.add_argument(
        "--public-key",
        type=cli_args.public_key,
        help="the service's key (hex, from `customers audit public-key`); default: derived"
        " from the audit key [env CUSTOMERS_AUDIT_KEY, default audit.key in the data dir]",
    )
    export.add_argument("--data-dir", help=data_dir_help)
    export.set_defaults(handler=_verify_export)

    public = actions.add_parser("public-key", help="print the key that checks exports (hex)")
    public.add_argument("--data-dir", help=data_dir_help)
    public.set_defaults(handler=_public_key)


def _settings(args: argparse.Namespace) -> Settings:
    data_dir = Path(args.data_dir) if getattr(args, "data_dir", None) else None
    return Settings.from_env(data_dir=data_dir)


def _verify(args: argparse.Namespace) -> int:
    if args.tenant and not args.customer:
        # The log is one chain across tenants: a tenant's events alone cannot prove that
        # none was removed, so the whole log is what gets verified.
        print(
            "customers audit verify: --tenant needs --customer (without it the whole log,"
            " every tenant's, is verified)",
            file=sys.stderr,
        )
        return 2
    customer = uuid.UUID(args.customer) if args.customer else None
    return verify_log(_settings(args), customer=customer, tenant=args.tenant)


def _public_key(args: argparse.Namespace) -> int:
    from shared.export_signature import ExportSigner

    print(ExportSigner(_settings(args).resolved_audit_key()).public_key)
    return 0


def _verify_export(args: argparse.Namespace) -> int:
    """Exit 0 when the file's signature is the service's, 1 when not (one line saying why)."""
    from shared.export_signature import ExportSignatureError, ExportSigner, verify_export

    trusted = args.public_key or ExportSigner(_settings(args).resolved_audit_key()).public_key
    try:
        content = args.file.read_bytes()
    except OSError as error:
        print(f"customers audit verify-export: cannot read FILE: {error.strerror}", file=sys.stderr)
        return 2
    try:
        document = verify_export(content, trusted)
    except ExportSignatureError as error:
        print(f"customers audit verify-export: NOT VALID: {error}", file=sys.stderr)
        return BROKEN
    customer = document.get("customer")
    named = customer.get("id") if isinstance(customer, dict) else None
    exported = document.get("exportedAt")
    print(f"valid: signed by {trusted[:16]}… (customer {named}, exported {exported})")
    return 0


def verify_log(settings: Settings, *, customer: uuid.UUID | None, tenant: str | None) -> int:
    """Verify the whole log or one customer's chain; print the count or the first break."""
    store = open_store(settings)
    try:
        started = time.perf_counter()
        report = _verify_with_bar(store, customer)
        seconds = time.perf_counter() - started
        if report.finding is not None:
            print(
                f"customers audit verify: FAILED after {report.events} good events: "
                f"{report.finding.describe()}",
                file=sys.stderr,
            )
            return BROKEN
        if customer is not None and (report.events == 0 or not _of_tenant(store, customer, tenant)):
            where = f" in tenant {tenant}" if tenant else ""
            print(f"customers audit verify: no customer {customer}{where}", file=sys.stderr)
            return NOTHING
        scope = f"customer {customer}" if customer else "the whole log"
        rate = report.events / max(seconds, 1e-6)
        print(
            f"verified {report.events} events of {scope}, {report.checkpoints} signed"
            f" checkpoint(s): intact ({seconds:.2f} s, {rate:,.0f} events/s)"
        )
        return 0
    finally:
        store.close()


def _verify_with_bar(store: CustomersApplication, customer: uuid.UUID | None) -> Report:
    """The verification report, with a progress bar (events/s, ETA) on stderr."""
    from rich.console import Console
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    total = int(store.recorder.max_notification_id() or 0) if customer is None else None
    started = time.perf_counter()
    columns = (
        TextColumn("[bold]verify"),
        BarColumn(),
        MofNCompleteColumn(),
        TextColumn("{task.fields[rate]:>8.0f} events/s"),
        TimeRemainingColumn(),
    )
    console = Console(stderr=True)
    quiet = not console.is_terminal  # piped: only the result line, no bar
    with Progress(*columns, console=console, transient=True, disable=quiet) as bar:
        task = bar.add_task("verify", total=total, rate=0.0)

        def progress(events: int) -> None:
            rate = events / max(time.perf_counter() - started, 1e-6)
            bar.update(task, completed=events, rate=rate)

        return store.audit.verify(customer, progress=progress)


def open_store(settings: Settings) -> CustomersApplication:
    """The event store alone (imported here: `customers --help` stays quick)."""
    from write_side.adapters.event_store import open_event_store

    return open_event_store(settings)


def _of_tenant(store: CustomersApplication, customer: uuid.UUID, tenant: str | None) -> bool:
    """True when no tenant is asked for, or the customer's events are that tenant's."""
    if tenant is None:
        return True
    from projectors.envelopes import EventLog

    events = EventLog(store, keep=0).stream(customer)
    return bool(events) and events[0].tenant_id == tenant
