"""What `customers serve` says first: where it listens, what it runs on, how to try it.

A person at a terminal gets a few readable lines with a token command and a first request
ready to paste; a process manager reading JSON lines gets one `listening` record with the
same facts. Service URLs are shown without their credentials and query.
"""

from __future__ import annotations

import logging
import os
import shlex
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit

from shared.http.auth import mint_token
from shared.settings import Settings
from write_side.adapters.event_store import sqlite_event_file

logger = logging.getLogger("customers.serve")
_LOCAL_ANY = {"0.0.0.0", "::", ""}  # noqa: S104 - only compared, to print a reachable address
#: How long the console link printed for a person at the terminal stays valid.
CONSOLE_LINK_TTL = 12 * 3600


def safe_url(url: str) -> str:
    """`scheme://host:port/path` of a service URL: no user, password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}{parts.path}"


@dataclass(frozen=True)
class Listening:
    """Where and how one `serve` process runs."""

    settings: Settings
    host: str
    port: int
    data_dir_flag: str | None = None
    workers: int = 1
    tls: bool = False

    @property
    def scheme(self) -> str:
        return "https" if self.tls else "http"

    @property
    def url(self) -> str:
        return f"{self.scheme}://{self._url_host(self.host)}:{self.port}"

    @property
    def local_url(self) -> str:
        """The address to paste into curl on this machine (0.0.0.0 is not one)."""
        host = "127.0.0.1" if self.host in _LOCAL_ANY else self.host
        return f"{self.scheme}://{self._url_host(host)}:{self.port}"

    @staticmethod
    def _url_host(host: str) -> str:
        return f"[{host}]" if ":" in host else host

    @property
    def profile(self) -> str:
        return "embedded" if self.settings.embedded else "services"

    def stores(self) -> dict[str, str]:
        """Which store serves each part, e.g. {'events': 'SQLite ...', 'search': 'Redis ...'}."""
        s = self.settings
        data = Path(self.settings.data_dir).resolve()
        events_file = sqlite_event_file(s)
        events = (
            f"SQLite {events_file.resolve()}"
            if events_file is not None
            else f"PostgreSQL {safe_url(s.event_store_url or '')}"
        )
        return {
            "events": events,
            "read models": f"MongoDB {safe_url(s.mongo_url)}"
            if s.mongo_url
            else f"SQLite {data / 'read_models.db'}",
            "search": f"Redis {safe_url(s.redis_url)}" if s.redis_url else "SQLite",
            "broker": f"RabbitMQ {safe_url(s.amqp_url)}" if s.amqp_url else "none",
        }


def command_name(argv0: str | None = None) -> str:
    """How the person started `customers` (`.venv/bin/customers` under `make serve`)."""
    program = argv0 if argv0 is not None else sys.argv[0]
    if Path(program).name != "customers":
        return "customers"
    on_path = shutil.which("customers")
    if on_path and Path(on_path).resolve() == Path(program).resolve():
        return "customers"
    return program


def token_command(listening: Listening, program: str) -> str:
    flag = f" --data-dir {shlex.quote(listening.data_dir_flag)}" if listening.data_dir_flag else ""
    return f"export TOKEN=$({program} token --tenant acme --role admin{flag})"


def first_request(listening: Listening) -> list[str]:
    """A create, ready to paste (two lines joined by a backslash)."""
    body = '{"firstName":"Ada","lastName":"Lovelace","email":"ada@example.com"}'
    return [
        f'curl -s -X POST {listening.local_url}/customers -H "Authorization: Bearer $TOKEN" \\',
        f"    -H 'Content-Type: application/json' -d '{body}'",
    ]


def console_link(listening: Listening) -> str:
    """`/console#token=...` signed in as an admin of tenant `acme`: the person who started the
    service holds its secret anyway. Only shown on a terminal, never written to a log."""
    token = mint_token(
        listening.settings.resolved_jwt_secret(),
        tenant="acme",
        roles=["admin"],
        subject="console",
        ttl_seconds=CONSOLE_LINK_TTL,
    )
    return f"{listening.local_url}/console#token={token}"


def banner_lines(listening: Listening, program: str, log_format: str) -> list[str]:
    """The first screen of `customers serve` for a person."""
    workers = f", {listening.workers} worker processes" if listening.workers > 1 else ""
    lines = [
        f"Customer Management · {listening.profile} profile{workers}",
        f"  listening   {listening.url}   (API docs {listening.local_url}/api/docs)",
        f"  console     {console_link(listening)}",
        "              (admin of tenant acme for 12 h; anyone with this link can act as one)",
        f"  data dir    {Path(listening.settings.data_dir).resolve()}",
    ]
    for part, where in listening.stores().items():
        lines.append(f"  {part:<11} {where}")
    lines += [
        f"  logs        {log_format} (--log-format json|pretty, CUSTOMERS_LOG_FORMAT)",
        "",
        "Try it (in another terminal):",
        f"  {token_command(listening, program)}",
        *(f"  {line}" for line in first_request(listening)),
        "",
    ]
    return lines


def announce(listening: Listening, log_format: str) -> None:
    """Print the banner (pretty) or log one `listening` record (JSON lines)."""
    if log_format == "pretty":
        sys.stderr.write(os.linesep.join(banner_lines(listening, command_name(), log_format)))
        sys.stderr.write(os.linesep)
        sys.stderr.flush()
        return
    logger.info(
        "listening",
        extra={
            "url": listening.url,
            "docs": f"{listening.local_url}/api/docs",
            "console": f"{listening.local_url}/console",
            "profile": listening.profile,
            "dataDir": str(Path(listening.settings.data_dir).resolve()),
            "workers": listening.workers,
            **{name.replace(" ", "_"): where for name, where in listening.stores().items()},
        },
    )
