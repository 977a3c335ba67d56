"""`customers --help` and every subcommand's help name each option's variable and default."""

from __future__ import annotations

import argparse
import re
from pathlib import Path

import pytest

from entrypoints.cli import build_parser
from entrypoints.cli_help import ENVIRONMENT
from entrypoints.serve_banner import Listening, banner_lines, command_name, safe_url
from shared.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
EVERY_ADDRESS = "0.0.0.0"  # noqa: S104 - the banner must turn it into a reachable one
#: options the environment can also set
OPTION_VARIABLES = {
    "--data-dir": "CUSTOMERS_DATA_DIR",
    "--host": "CUSTOMERS_HOST",
    "--port": "CUSTOMERS_PORT",
    "--workers": "CUSTOMERS_WORKERS",
    "--log-format": "CUSTOMERS_LOG_FORMAT",
}


def subcommands() -> dict[str, argparse.ArgumentParser]:
    parser = build_parser()
    action = next(a for a in parser._actions if isinstance(a, argparse._SubParsersAction))
    return dict(action.choices)


@pytest.mark.parametrize("name", sorted(subcommands()))
def test_every_option_names_its_default_and_variable(name: str) -> None:
    parser = subcommands()[name]
    help_text = " ".join(parser.format_help().split())

    for action in parser._actions:
        if not action.option_strings or isinstance(action, argparse._HelpAction):
            continue
        option = action.option_strings[-1]
        text = " ".join((action.help or "").split())
        assert "default" in text or "required" in text, f"{name} {option}: {text!r}"
        variable = OPTION_VARIABLES.get(option)
        if variable:
            assert f"env {variable}" in help_text, f"{name} {option} lacks {variable}"


def test_top_level_help_lists_every_variable_the_code_reads() -> None:
    sources = [*ROOT.glob("shared/**/*.py"), *ROOT.glob("entrypoints/*.py")]
    sources += [*ROOT.glob("write_side/**/*.py"), *ROOT.glob("read_side/**/*.py")]
    read = {
        name
        for path in sources
        for name in re.findall(r"\bCUSTOMERS_[A-Z_]*[A-Z]\b", path.read_text())
        if not name.startswith("CUSTOMERS_TEST_")
    }
    help_text = build_parser().format_help()

    missing = sorted(name for name in read if name not in help_text)
    assert not missing, f"customers --help does not list {missing}"
    assert {v.name for v in ENVIRONMENT} <= set(re.findall(r"CUSTOMERS_[A-Z_]+", help_text))


def test_serve_options_default_to_their_variables(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CUSTOMERS_PORT", "9123")
    monkeypatch.setenv("CUSTOMERS_HOST", "127.0.0.2")

    args = build_parser().parse_args(["serve"])
    flagged = build_parser().parse_args(["serve", "--port", "9000"])

    assert (args.host, args.port, args.workers) == ("127.0.0.2", 9123, 1)
    assert flagged.port == 9000


def test_the_banner_says_where_what_and_how_to_try_it(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        event_store_url="postgresql://customers:hunter2@db.internal:5432/customers?schema=x",
        redis_url="redis://:pw@cache:6379/0",
    )
    listening = Listening(settings, EVERY_ADDRESS, 8080, data_dir_flag=str(tmp_path))

    text = "\n".join(banner_lines(listening, ".venv/bin/customers", "pretty"))

    assert "services profile" in text
    assert "http://0.0.0.0:8080" in text and "http://127.0.0.1:8080/api/docs" in text
    assert str(tmp_path.resolve()) in text
    assert "PostgreSQL postgresql://db.internal:5432/customers" in text
    assert "Redis redis://cache:6379/0" in text and "SQLite" in text
    assert f".venv/bin/customers token --tenant acme --role admin --data-dir {tmp_path}" in text
    assert "curl -s -X POST http://127.0.0.1:8080/customers" in text
    assert "hunter2" not in text and ":pw@" not in text and "schema=x" not in text


def test_the_token_command_is_the_one_the_person_ran() -> None:
    assert command_name("/nowhere/.venv/bin/customers") == "/nowhere/.venv/bin/customers"
    assert command_name("/usr/lib/python3/pytest") == "customers"
    assert safe_url("amqp://guest:guest@127.0.0.1:5672/") == "amqp://127.0.0.1:5672/"


def test_the_banner_shows_where_the_embedded_files_really_are(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    listening = Listening(Settings(data_dir=Path(".customers")), "127.0.0.1", 8000)

    stores = listening.stores()

    assert stores["events"] == f"SQLite {tmp_path / '.customers' / 'events.db'}"
    assert stores["read models"] == f"SQLite {tmp_path / '.customers' / 'read_models.db'}"
