"""Run the doctor's probes side by side, each within a time limit, and print the report."""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from pathlib import Path
from typing import TextIO

from entrypoints.doctor import (
    PROBE_SECONDS,
    Finding,
    Probe,
    check_broker,
    check_data_dir,
    check_event_store,
    check_mongo,
    check_redis,
    sqlite_finding,
)
from read_side.invoices.pdf import PRIMARY_FONTS
from shared.errors import CustomerError
from shared.settings import Settings


async def check_sqlite_read_models(settings: Settings) -> Finding:
    """Embedded read models and search: the SQLite file in the data dir."""
    path = settings.data_dir / "read_models.db"
    return await asyncio.to_thread(sqlite_finding, "read models", path, ("projection_checkpoints",))


def check_fonts() -> Finding:
    """Invoice PDFs need a Unicode font for names beyond Latin-1 (a note, never a failure)."""
    found = next((regular for regular, _ in PRIMARY_FONTS if Path(regular).is_file()), None)
    if found:
        return Finding("ok", "PDF font", found)
    return Finding(
        "note",
        "PDF font",
        "no Unicode font: invoice PDFs fall back to Helvetica (Latin-1 only)",
        "install fonts-dejavu-core (scripts/services up does)",
    )


def probes_for(settings: Settings) -> list[tuple[str, Probe]]:
    """Every store the settings name (SQLite stands in for the ones left unset)."""
    probes: list[tuple[str, Probe]] = [
        ("data dir", check_data_dir),
        ("event store", check_event_store),
        ("read models", check_mongo if settings.mongo_url else check_sqlite_read_models),
    ]
    if settings.redis_url:
        probes.append(("search/cache", check_redis))
    if settings.amqp_url:
        probes.append(("broker", check_broker))
    return probes


async def _bounded(subject: str, probe: Probe, settings: Settings) -> Finding:
    """The probe's finding, or a failure when it has not answered in time (never a hang)."""
    limit = PROBE_SECONDS + 2
    try:
        return await asyncio.wait_for(probe(settings), limit)
    except TimeoutError:
        fix = "check that the service is up and reachable from here (host, port, firewall)"
        return Finding("FAIL", subject, f"no answer within {limit:.0f} s", fix)
    except Exception as error:  # a probe's unforeseen error is a finding, never a traceback
        return Finding("FAIL", subject, f"{type(error).__name__}: {error}", "see the error")


async def diagnose(
    environ: Mapping[str, str] | None = None, data_dir: Path | None = None
) -> list[Finding]:
    """The findings for the configuration in `environ` (the process environment by default)."""
    try:
        settings = Settings.from_env(environ, data_dir=data_dir)
    except (CustomerError, ValueError) as error:
        detail = getattr(error, "detail", None) or str(error)
        fix = "correct the variable (customers --help lists each one with its default)"
        return [Finding("FAIL", "configuration", detail, fix)]
    profile = "embedded" if settings.embedded else "services"
    findings = [Finding("ok", "configuration", f"valid; {profile} profile")]
    findings += await asyncio.gather(
        *(_bounded(name, p, settings) for name, p in probes_for(settings))
    )
    findings.append(check_fonts())
    return findings


def print_report(findings: list[Finding], out: TextIO) -> int:
    """Print one line per finding (and what to fix); 0 when nothing failed, else 1."""
    width = max(len(finding.subject) for finding in findings)
    for finding in findings:
        out.write(f"  {finding.status:<4}  {finding.subject:<{width}}  {finding.detail}\n")
        if finding.fix:
            out.write(f"  {'':<4}  {'':<{width}}  fix: {finding.fix}\n")
    failed = sum(1 for finding in findings if finding.status == "FAIL")
    out.write("all good\n" if not failed else f"{failed} problem(s) to fix\n")
    return 1 if failed else 0
