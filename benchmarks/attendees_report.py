"""The attendees benchmark's readings of the service (CPU from /proc, /metrics, py-spy) and
its report: one line per figure, the target, and the notes."""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from benchmarks.attendees_workload import (
    TARGET,
    Options,
    Phase,
)


def table(options: Options, phase: Phase, extra: dict[str, Any]) -> Iterator[str]:
    """The printed figures."""
    mode = "services (PostgreSQL + MongoDB + Redis)" if options.services else "embedded (SQLite)"
    pace = f"{options.rate:g} orders/s, steadily"
    if not options.rate:
        pace = f"as fast as drained (≤{options.inflight} orders in flight)"
    elapsed = phase.elapsed
    attendees_rate = phase.attendees / elapsed if elapsed else 0.0
    orders_rate = len(phase.done) / elapsed if elapsed else 0.0
    new, email, phone = phase.expected()
    matched = phase.by_email + phase.by_phone
    yield f"order.placed -> customer.attendees_processed via RabbitMQ, {mode} + RabbitMQ"
    yield (
        f"  {len(phase.published)} orders measured after {options.warmup} warm-up; "
        f"1-5 attendees/order, ~50% returning; publishing {pace}"
    )
    verdict = f"{'meets' if attendees_rate >= TARGET else 'BELOW'} target {TARGET:.0f}"
    if options.rate:
        verdict = f"offered load {options.rate:g} orders/s; capacity needs --rate 0"
    rows = [
        ("attendees/s (processed)", f"{attendees_rate:9.0f}   ({verdict})"),
        ("orders/s", f"{orders_rate:9.0f}"),
        ("p50 publish->processed", f"{phase.percentile(0.50):9.1f} ms"),
        ("p99 publish->processed", f"{phase.percentile(0.99):9.1f} ms"),
        ("attendees processed", f"{phase.attendees:9d}   in {elapsed:.1f} s"),
        (
            "customers created/matched",
            f"{phase.created:9d} / {matched} (email {phase.by_email}, phone {phase.by_phone})",
        ),
        ("  expected", f"{new:9d} / {email + phone} (email {email}, phone {phone})"),
        ("first visits", f"{phase.first_time:9d}"),
        (
            "orders missing/dead-lettered",
            f"{phase.missing:9d} / {extra.get('dead_lettered', 0)}",
        ),
    ]
    rows += _service_rows(phase, extra)
    for label, value in rows:
        yield f"  {label:<30}{value}"
    if extra.get("duplicates") or extra.get("foreign"):
        yield f"  (ignored: {extra['duplicates']} duplicate, {extra['foreign']} foreign receipts)"
    for note in extra.get("notes", []):
        yield f"  broker clean-up: {note}" if note.startswith(("deleted", "kept")) else f"  {note}"


def _service_rows(phase: Phase, extra: dict[str, Any]) -> list[tuple[str, str]]:
    """Rows read from the service's metrics and process: group commit, CPU, load, relay lag."""
    rows: list[tuple[str, str]] = []
    elapsed = phase.elapsed
    before, after = extra.get("metrics", ({}, {}))
    appended = after.get("customers_events_appended_total", 0) - before.get(
        "customers_events_appended_total", 0
    )
    batches = after.get("customers_commit_batches_total", 0) - before.get(
        "customers_commit_batches_total", 0
    )
    if batches:
        rows.append(
            (
                "group commit",
                f"{appended:9.0f} events in {batches:.0f} commits "
                f"({appended / batches:.1f} events/commit)",
            )
        )
    cpu = float(extra.get("cpu", 0.0))
    if cpu and phase.attendees:
        rows.append(
            (
                "service CPU",
                f"{cpu:9.1f} s = {cpu / elapsed:.0%} of a core, "
                f"{1000 * cpu / phase.attendees:.2f} ms/attendee "
                f"(-> {phase.attendees / cpu:.0f} attendees per CPU-second)",
            )
        )
    if "load" in extra:
        rows.append(("host load (1 min)", f"{extra['load']:9.2f} on {os.cpu_count()} CPUs"))
    lag = after.get('customers_projection_lag_events{projection="broker_relay"}')
    if lag is not None:
        rows.append(("relay lag at end", f"{lag:9.0f} events"))
    return rows


def cpu_seconds(pid: int) -> float:
    """User + system CPU time so far of a process and its live descendants (uvicorn workers),
    from Linux /proc; 0.0 elsewhere."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        children = [
            int(child)
            for task in Path(f"/proc/{pid}/task").iterdir()
            for child in (task / "children").read_text().split()
        ]
    except OSError:
        return 0.0
    own = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return own + sum(cpu_seconds(child) for child in children)


def scrape(port: int) -> dict[str, float]:
    """The service's /metrics as {line name with labels: value} (empty when unavailable)."""
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=5) as response:
            text = response.read().decode()
    except OSError:
        return {}
    values: dict[str, float] = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            with contextlib.suppress(ValueError):
                values[name] = float(value)
    return values


# ------------------------------------------------------------------------------- driving


def start_py_spy(pid: int, options: Options) -> subprocess.Popen[bytes] | None:
    """py-spy record (raw collapsed stacks, per thread) of the service, if asked."""
    if options.py_spy is None:
        return None
    command = [str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(pid)]
    command += ["-d", str(int(options.py_spy_seconds)), "-f", "raw", "--threads", "--nonblocking"]
    command += ["-o", str(options.py_spy)]
    if options.py_spy_idle:
        command.append("--idle")
    if options.py_spy_gil:
        command.append("--gil")  # only the thread holding the GIL: where the CPU goes
    return subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
