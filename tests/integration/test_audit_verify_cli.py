"""`customers audit verify` on both event stores: exit 0 with the count on an untouched log,
non-zero naming the first event modified, deleted, reordered or inserted by hand (issue 15.2).

The store is filled and edited with the helpers of `test_audit_chain`; the command runs
in-process against the same data dir and event-store URL, as an operator would run it.
"""

from __future__ import annotations

import re
import uuid

import pytest

from entrypoints import cli
from shared.settings import Settings
from tests.integration.test_audit_chain import (
    commands,
    customer_with_three_events,
    settings,
    tamper,
)
from write_side.application.commands import CustomerCommands

__all__ = ["commands", "settings"]  # fixtures shared with test_audit_chain


def run(
    argv: list[str],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, str, str]:
    """Run `customers audit ...` against the test store; (exit code, stdout, stderr)."""
    monkeypatch.setenv("CUSTOMERS_AUDIT_KEY", settings.audit_key or "")
    if settings.event_store_url:
        monkeypatch.setenv("CUSTOMERS_EVENT_STORE_URL", settings.event_store_url)
    else:
        monkeypatch.delenv("CUSTOMERS_EVENT_STORE_URL", raising=False)
    code = cli.main([*argv, "--data-dir", str(settings.data_dir)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


async def test_an_untouched_log_exits_0_with_the_count(
    commands: CustomerCommands,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    ids = [await customer_with_three_events(commands, name) for name in ("Ada", "Bo")]
    code, out, err = run(["audit", "verify"], settings, monkeypatch, capsys)
    assert code == 0, err
    found = re.search(r"verified (\d+) events of the whole log", out)
    assert found is not None, out
    assert int(found.group(1)) >= 6

    one = ["audit", "verify", "--customer", str(ids[0]), "--tenant", "acme"]
    code, out, err = run(one, settings, monkeypatch, capsys)
    assert (code, err) == (0, "")
    assert f"verified 3 events of customer {ids[0]}" in out

    elsewhere = ["audit", "verify", "--customer", str(ids[0]), "--tenant", "other"]
    code, out, err = run(elsewhere, settings, monkeypatch, capsys)
    assert code == 3 and "no customer" in err and out == ""
    nobody = ["audit", "verify", "--customer", str(uuid.uuid4())]
    assert run(nobody, settings, monkeypatch, capsys)[0] == 3


@pytest.mark.parametrize("kind", ["modified", "deleted", "reordered", "inserted"])
async def test_a_hand_edit_exits_non_zero_naming_the_event(
    commands: CustomerCommands,
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    kind: str,
) -> None:
    await customer_with_three_events(commands, "Before")
    victim = await customer_with_three_events(commands, "Victim")
    await customer_with_three_events(commands, "After")
    tamper(settings, kind, victim)
    version = 4 if kind == "inserted" else 3 if kind == "reordered" else 2

    for argv in (
        ["audit", "verify"],
        ["audit", "verify", "--customer", str(victim), "--tenant", "acme"],
    ):
        code, out, err = run(argv, settings, monkeypatch, capsys)
        assert code == 1, (argv, out, err)
        lines = err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in err, err
        assert f"(aggregate {victim} v{version}) was {kind}" in lines[0], lines[0]
        assert "verified" not in out
