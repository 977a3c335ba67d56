"""`GET /audit/verify` and the history's hashes (issue 15.2 and 15.5): the verdict on the
tamper-evident log as JSON, for auditors and admins, naming the first event changed by hand
only to the tenant that owns it, and no personal value anywhere."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.settings import Settings
from tests.e2e.conftest import Headers
from tests.integration.test_audit_chain import tamper

Client = TestClient[Litestar]


@pytest.fixture(params=["sqlite", "postgres"])
def settings(request: pytest.FixtureRequest, settings: Settings) -> Settings:
    """Both event stores (the read models do not take part in the verification); the
    conftest's fixture of the same name builds them from this one's parameter."""
    return settings


def customer_with_three_events(client: Client, auth: Callable[..., Headers], name: str) -> str:
    created = client.post("/customers", json={"firstName": name}, headers=auth())
    assert created.status_code == 201, created.text
    cid = str(created.json()["id"])
    for last in ("One", "Two"):
        changed = client.patch(f"/customers/{cid}", json={"lastName": last}, headers=auth())
        assert changed.status_code == 200, changed.text
    return cid


def verify(client: Client, headers: Headers, customer_id: str | None = None) -> Any:
    params = {"customerId": customer_id} if customer_id else {}
    response = client.get("/audit/verify", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def test_an_untouched_log_verifies_for_auditors_and_admins(
    client: Client, auth: Callable[..., Headers]
) -> None:
    ids = [customer_with_three_events(client, auth, name) for name in ("Ann", "Bob")]
    whole = verify(client, auth("auditor"))
    assert whole | {"verified": 0} == {
        "ok": True,
        "scope": "log",
        "verified": 0,
        "checkpoints": whole["checkpoints"],
        "firstBroken": None,
    }
    assert whole["verified"] >= 6
    one = verify(client, auth("admin"), ids[0])
    assert (one["ok"], one["scope"], one["verified"]) == (True, "customer", 3)
    for role in ("viewer", "staff", "manager", "analyst"):
        refused = client.get("/audit/verify", headers=auth(role))
        assert refused.status_code == 403, role
    elsewhere = client.get("/audit/verify", params={"customerId": ids[0]}, headers=auth(tenant="x"))
    assert elsewhere.status_code == 404
    missing = client.get("/audit/verify", params={"customerId": str(uuid.uuid4())}, headers=auth())
    assert missing.status_code == 404
    bad = client.get("/audit/verify", params={"customerId": "not-a-uuid"}, headers=auth())
    assert bad.status_code == 400
    assert bad.headers["content-type"].startswith("application/problem+json")


@pytest.mark.parametrize("kind", ["modified", "deleted", "reordered", "inserted"])
def test_a_hand_edit_is_named_to_its_tenant_only(
    client: Client, auth: Callable[..., Headers], settings: Settings, kind: str
) -> None:
    customer_with_three_events(client, auth, "Before")
    victim = customer_with_three_events(client, auth, "Victim")
    tamper(settings, kind, uuid.UUID(victim))
    version = 4 if kind == "inserted" else 3 if kind == "reordered" else 2

    for found in (verify(client, auth("auditor")), verify(client, auth("auditor"), victim)):
        broken = found["firstBroken"]
        assert found["ok"] is False and broken is not None, found
        assert (broken["kind"], broken["customerId"], broken["version"]) == (kind, victim, version)
        assert broken["position"] > 0 and broken["detail"]
    foreign = verify(client, auth("auditor", tenant="other"))
    assert foreign["ok"] is False
    assert foreign["firstBroken"]["kind"] == kind
    assert foreign["firstBroken"]["customerId"] is None, "another tenant's customer is not named"


def test_history_shows_each_hash_and_whether_the_chain_verifies(
    client: Client, auth: Callable[..., Headers], settings: Settings
) -> None:
    cid = customer_with_three_events(client, auth, "Hana")
    history = client.get(f"/customers/{cid}/history", headers=auth("auditor")).json()
    hashes = [item["hash"] for item in history["items"]]
    assert len(hashes) == 3 and len(set(hashes)) == 3
    assert all(len(h) == 64 and int(h, 16) >= 0 for h in hashes)
    assert history["chain"] == {
        "ok": True,
        "scope": "customer",
        "verified": 3,
        "checkpoints": 0,
        "firstBroken": None,
    }
    tamper(settings, "deleted", uuid.UUID(cid))
    after = client.get(f"/customers/{cid}/history", headers=auth("auditor")).json()
    assert [item["hash"] for item in after["items"]] == [hashes[0], hashes[2]]
    assert after["chain"]["ok"] is False
    assert after["chain"]["firstBroken"]["kind"] == "deleted"


def test_the_verdict_is_in_the_openapi_document(client: Client) -> None:
    document = client.get("/api/openapi.json").json()
    operation = document["paths"]["/audit/verify"]["get"]
    assert operation["operationId"] == "verifyEventLog"
    assert {p["name"] for p in operation["parameters"]} == {"customerId"}
    assert {"200", "401", "403", "404"} <= set(operation["responses"])
