"""Auditor tooling (issue 15.5): the GDPR export is signed and `customers audit verify-export`
checks it offline, failing on a one-byte change; `customers history` shows each event's hash
and whether the customer's chain verifies."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints import cli
from shared.settings import Settings
from tests.e2e.conftest import Headers
from tests.integration.test_audit_chain import tamper

Client = TestClient[Litestar]


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Both event stores; the conftest's fixture of the same name builds them from this
    one's parameter."""
    return settings


@pytest.fixture
def customers_cli(
    settings: Settings, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> Callable[..., tuple[int, str, str]]:
    """Run `customers ...` against the app's data dir and event store: (code, out, err)."""
    for name in ("CUSTOMERS_AUDIT_KEY", "CUSTOMERS_EVENT_STORE_URL", "CUSTOMERS_MONGO_URL"):
        monkeypatch.delenv(name, raising=False)
    if settings.event_store_url:
        monkeypatch.setenv("CUSTOMERS_EVENT_STORE_URL", settings.event_store_url)
        # a host of a shared store has the same secrets as the service: the audit key is
        # derived from the JWT secret when CUSTOMERS_AUDIT_KEY is unset
        monkeypatch.setenv("CUSTOMERS_JWT_SECRET", settings.resolved_jwt_secret())

    def run(*argv: str) -> tuple[int, str, str]:
        capsys.readouterr()
        code = cli.main([*argv, "--data-dir", str(settings.data_dir)])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    return run


def test_the_export_is_signed_and_checked_offline(
    client: Client,
    auth: Callable[..., Headers],
    customers_cli: Callable[..., tuple[int, str, str]],
    tmp_path: Path,
) -> None:
    created = client.post("/customers", json={"firstName": "Zoë", "notes": "x"}, headers=auth())
    cid = created.json()["id"]
    exported = client.get(f"/customers/{cid}/export", headers=auth("auditor"))
    assert exported.status_code == 200, exported.text
    assert exported.headers["content-type"].startswith("application/json")
    signature = exported.json()["signature"]
    code, public_key, _ = customers_cli("audit", "public-key")
    assert code == 0 and signature["publicKey"] == public_key.strip()
    assert signature["alg"] == "Ed25519"

    file = tmp_path / "export.json"
    file.write_bytes(exported.content)
    code, out, err = customers_cli("audit", "verify-export", str(file))
    assert (code, err) == (0, ""), err
    assert out.startswith("valid") and cid in out
    code, out, err = customers_cli(
        "audit", "verify-export", str(file), "--public-key", public_key.strip()
    )
    assert code == 0, err

    at = exported.content.index("Zoë".encode())
    changed = bytearray(exported.content)
    changed[at] = ord("R")  # one byte: Zoë → Roë
    file.write_bytes(bytes(changed))
    code, out, err = customers_cli("audit", "verify-export", str(file))
    assert code == 1 and out == ""
    assert err.startswith("customers audit verify-export: NOT VALID") and "Zo" not in err


def test_history_shows_hashes_and_the_chain_verdict(
    client: Client,
    auth: Callable[..., Headers],
    settings: Settings,
    customers_cli: Callable[..., tuple[int, str, str]],
) -> None:
    cid = client.post("/customers", json={"firstName": "Hana"}, headers=auth()).json()["id"]
    for last in ("One", "Two"):
        client.patch(f"/customers/{cid}", json={"lastName": last}, headers=auth())
    hashes = [
        item["hash"]
        for item in client.get(f"/customers/{cid}/history", headers=auth("auditor")).json()["items"]
    ]
    client.__exit__(None, None, None)  # the CLI opens the store on its own, as an operator would

    code, out, err = customers_cli("history", cid, "--tenant", "acme")
    assert code == 0, err
    assert all(f"{h[:16]}…" in out for h in hashes), out
    assert "chain verifies: 3 events intact" in out

    tamper(settings, "deleted", uuid.UUID(cid))
    code, out, err = customers_cli("history", cid, "--tenant", "acme")
    assert code == 0, err
    assert "chain BROKEN" in out and "was deleted" in out
