"""Every bad setting or argument is one clear line on stderr and exit code 2 (issue 10, 18-19).

The commands run in-process; the runtime and the web server are replaced by tripwires, so a
value that slips through fails the test instead of starting anything.
"""

from __future__ import annotations

import os
import uuid
from pathlib import Path
from typing import Any

import pytest

from entrypoints import cli, cli_audit, cli_projections

CUSTOMER = str(uuid.uuid4())
#: commands that read the configuration before doing anything else (`doctor` reports it instead)
COMMANDS = {
    "serve": ["serve"],
    "token": ["token", "--tenant", "acme", "--role", "admin"],
    "projections": ["projections", "status"],
    "history": ["history", CUSTOMER, "--tenant", "acme"],
    "retention": ["retention", "run", "--dry-run"],
    "audit verify": ["audit", "verify"],
    "audit verify --customer": ["audit", "verify", "--customer", CUSTOMER, "--tenant", "acme"],
    "audit verify-export": ["audit", "verify-export", "/nonexistent/export.json"],
    "audit public-key": ["audit", "public-key"],
}
BAD_SETTINGS = [
    ("CUSTOMERS_RETENTION_DAYS", "abc"),
    ("CUSTOMERS_RETENTION_DAYS", "-1"),
    ("CUSTOMERS_RETENTION_DAYS", "1.5"),
    ("CUSTOMERS_RETENTION_INTERVAL", "abc"),
    ("CUSTOMERS_RETENTION_INTERVAL", "0"),
    ("CUSTOMERS_RETENTION_INTERVAL", "nan"),
    ("CUSTOMERS_CONSISTENCY_TIMEOUT", "-1"),
    ("CUSTOMERS_CONSISTENCY_TIMEOUT", "inf"),
    ("CUSTOMERS_PROJECTION_DEFER", "-1"),
    ("CUSTOMERS_SERVICE_TIMEOUT", "abc"),
    ("CUSTOMERS_RATE_LIMIT_TENANT_PER_MINUTE", "abc"),
    ("CUSTOMERS_RATE_LIMIT_SUBJECT_PER_MINUTE", "-5"),
    ("CUSTOMERS_LOG_LEVEL", "LOUD"),
    ("CUSTOMERS_LOG_FORMAT", "xml"),
    ("CUSTOMERS_DEFAULT_PHONE_REGION", "XX"),
    ("CUSTOMERS_EVENT_STORE_URL", "mysql://db"),
    ("CUSTOMERS_MONGO_URL", "http://mongo"),
    ("CUSTOMERS_REDIS_URL", "localhost:6379"),
    ("CUSTOMERS_REDIS_URL", "redis+cluster://127.0.0.1:7000/3"),
    ("CUSTOMERS_AMQP_URL", "rabbit"),
    ("CUSTOMERS_JWT_SECRET", "short"),
    ("CUSTOMERS_AUDIT_SEAL_EVENTS", "abc"),
    ("CUSTOMERS_AUDIT_SEAL_EVENTS", "0"),
    ("CUSTOMERS_AUDIT_SEAL_SECONDS", "soon"),
    ("CUSTOMERS_PORT", "abc"),
    ("CUSTOMERS_PORT", "70000"),
    ("CUSTOMERS_WORKERS", "0"),
    ("CUSTOMERS_WORKERS", "many"),
]
SERVE_ONLY = {"CUSTOMERS_PORT", "CUSTOMERS_WORKERS"}
BAD_ARGUMENTS = [
    ["history", "not-a-uuid", "--tenant", "acme"],
    ["history", CUSTOMER, "--tenant", ""],
    ["history", CUSTOMER],
    ["token", "--tenant", "acme", "--role", "admin", "--ttl", "-5"],
    ["token", "--tenant", "acme", "--role", "admin", "--ttl", "0"],
    ["token", "--tenant", "acme", "--role", "admin", "--ttl", "soon"],
    ["token", "--tenant", "acme", "--role", "admin", "--ttl", str(10**9)],
    ["token", "--tenant", "", "--role", "admin"],
    ["token", "--tenant", "   ", "--role", "admin"],
    ["token", "--tenant", "a" * 201, "--role", "admin"],
    ["token", "--tenant", "ac\nme", "--role", "admin"],
    ["token", "--tenant", "acme", "--role", ""],
    ["token", "--tenant", "acme", "--role", "root"],
    ["token", "--tenant", "acme", "--role", "admin", "--subject", ""],
    ["token", "--role", "admin"],
    ["serve", "--port", "0"],
    ["serve", "--port", "http"],
    ["serve", "--workers", "-1"],
    ["serve", "--log-format", "xml"],
    ["projections", "explode"],
    ["projections", "rebuild", "nothing"],
    ["projections", "retry"],
    ["projections", "retry", "nothing"],
    ["projections", "status", "search"],
    ["projections", "run", "search"],
    ["retention", "walk"],
    ["retention", "run", "now"],
    ["audit"],
    ["audit", "explode"],
    ["audit", "verify", "--customer", "not-a-uuid"],
    ["audit", "verify", "--customer", CUSTOMER, "--tenant", ""],
    ["audit", "verify", "--customer", CUSTOMER, "--tenant", "ac\nme"],
    ["audit", "verify", "--tenant", "acme"],
    ["audit", "verify", "--customer"],
    ["audit", "verify", "extra"],
    ["audit", "verify-export"],
    ["audit", "verify-export", "/nonexistent/export.json"],
    ["audit", "verify-export", "/nonexistent/export.json", "--public-key", "abc"],
    ["audit", "verify-export", "/nonexistent/export.json", "--public-key", "g" * 64],
    ["audit", "public-key", "extra"],
    ["doctor", "extra"],
    ["explode"],
    [],
]


@pytest.fixture(autouse=True)
def tripwires(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Nothing may start: no web server, no runtime; a clean environment in a temp data dir."""

    def tripped(*_: Any, **__: Any) -> Any:
        raise AssertionError("a bad value reached the runtime")

    import uvicorn

    monkeypatch.setattr(uvicorn, "run", tripped)
    monkeypatch.setattr(cli_projections, "start_runtime", tripped)
    monkeypatch.setattr(cli_audit, "open_store", tripped)
    for name in [key for key in os.environ if key.startswith("CUSTOMERS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("CUSTOMERS_DATA_DIR", str(tmp_path / "data"))


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    """Run the command; assert exit 2 and one line on stderr; return that line."""
    try:
        code = cli.main(argv)
    except SystemExit as stop:
        code = stop.code if isinstance(stop.code, int) else 2
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert code == 2, (argv, code, captured.err)
    assert len(lines) == 1, (argv, captured.err)
    assert "Traceback" not in captured.err + captured.out
    return lines[0]


SETTING_CASES = [
    (command, variable, value)
    for command in sorted(COMMANDS)
    for variable, value in BAD_SETTINGS
    if command == "serve" or variable not in SERVE_ONLY
]


@pytest.mark.parametrize(("command", "variable", "value"), SETTING_CASES)
def test_a_bad_setting_is_one_line_naming_the_variable(
    command: str,
    variable: str,
    value: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setenv(variable, value)
    line = refused(COMMANDS[command], capsys)
    assert variable in line, line
    if variable.endswith("_URL") or variable.endswith("_SECRET"):
        assert value not in line, "a URL or secret may hold credentials: never echo it"


@pytest.mark.parametrize("argv", BAD_ARGUMENTS, ids=lambda argv: " ".join(argv)[:40] or "none")
def test_a_bad_argument_is_one_line(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    line = refused(argv, capsys)
    assert line.startswith("customers"), line


def test_a_data_dir_that_is_a_file_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "file"
    path.write_text("not a folder")
    for argv in COMMANDS.values():
        line = refused([*argv, "--data-dir", str(path)], capsys)
        assert "data dir" in line.lower() or "CUSTOMERS_DATA_DIR" in line, line
