"""Loyalty over HTTP: the program, points earned by payments and visits, redemptions (409 on
overdraft, Idempotency-Key, exact under 20 concurrent requests), adjustments, refunds, export."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers
from tests.e2e.test_orders_privacy_http import pay

Client = TestClient[Litestar]
PROGRAM = {
    "pointsPerUnit": {"EUR": 1, "JPY": 0.01},
    "pointsPerVisit": 10,
    "expiryDays": 365,
    "tiers": [{"name": "Gold", "minPoints": 500}, {"name": "Silver", "minPoints": 20}],
}


def with_program(client: Client, auth: Callable[..., Headers]) -> str:
    """Define the program and register a customer; returns the customer's id."""
    put = client.put("/loyalty/program", json=PROGRAM, headers=auth())
    assert put.status_code == 200, put.text
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth())
    return str(created.json()["id"])


def account(client: Client, auth: Callable[..., Headers], cid: str, token: str) -> Any:
    got = client.get(
        f"/customers/{cid}/loyalty", headers=auth("viewer") | {"X-Consistency-Token": token}
    )
    assert got.status_code == 200, got.text
    return got.json()


def head(client: Client) -> str:
    return str(client.app.state.runtime.log.head())


def test_the_program_is_per_tenant_and_only_admins_change_it(
    client: Client, auth: Callable[..., Headers]
) -> None:
    assert client.get("/loyalty/program", headers=auth("viewer")).status_code == 404
    assert client.put("/loyalty/program", json=PROGRAM, headers=auth("manager")).status_code == 403
    put = client.put("/loyalty/program", json=PROGRAM, headers=auth())
    assert put.status_code == 200, put.text
    assert [t["name"] for t in put.json()["tiers"]] == ["Silver", "Gold"]  # by minPoints
    assert client.get("/loyalty/program", headers=auth("viewer")).json() == put.json()
    assert client.get("/loyalty/program", headers=auth(tenant="other")).status_code == 404
    unknown = client.put(
        "/loyalty/program", json=PROGRAM | {"pointsPerUnit": {"ABC": 1}}, headers=auth()
    )
    assert (
        unknown.status_code == 422 and unknown.json()["errors"][0]["field"] == "pointsPerUnit.ABC"
    )
    assert (
        client.put("/loyalty/program", json={**PROGRAM, "x": 1}, headers=auth()).status_code == 400
    )


def test_a_payment_earns_rounded_down_and_a_redemption_spends_once_per_key(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = with_program(client, auth)
    pay(client, "acme", cid, "p-1", "succeeded", 2599)  # 25.99 EUR
    pay(client, "acme", cid, "p-1", "succeeded", 2599)  # delivered twice
    got = account(client, auth, cid, head(client))
    assert (got["balance"], got["lifetimePoints"], got["tier"]) == (25, 25, "Silver")
    assert [e["kind"] for e in got["entries"]["items"]] == ["earned"]
    assert got["expiring"][0]["points"] == 25
    over = client.post(
        f"/customers/{cid}/loyalty/redemptions", json={"points": 26, "reason": "mug"},
        headers=auth("staff"),
    )  # fmt: skip
    assert over.status_code == 409 and over.json()["balance"] == 25
    keyed = auth("staff") | {"Idempotency-Key": "redeem-1"}
    body = {"points": 20, "reason": "mug"}
    first = client.post(f"/customers/{cid}/loyalty/redemptions", json=body, headers=keyed)
    again = client.post(f"/customers/{cid}/loyalty/redemptions", json=body, headers=keyed)
    assert first.status_code == again.status_code == 201, again.text
    assert again.json() == first.json() and again.headers["idempotent-replayed"] == "true"
    assert first.json()["balance"] == 5 and first.json()["points"] == -20
    other = client.post(
        f"/customers/{cid}/loyalty/redemptions", json={"points": 1, "reason": "x"}, headers=keyed
    )
    assert other.status_code == 422  # the same key with another body
    got = account(client, auth, cid, again.headers["x-consistency-token"])
    assert got["balance"] == 5 and got["entries"]["items"][0]["reason"] == "mug"


def test_a_refund_after_a_redemption_stops_at_zero_and_records_the_shortfall(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = with_program(client, auth)
    pay(client, "acme", cid, "p-1", "succeeded", 3000)
    spent = client.post(
        f"/customers/{cid}/loyalty/redemptions", json={"points": 25, "reason": "tote"},
        headers=auth("staff"),
    )  # fmt: skip
    assert spent.status_code == 201, spent.text
    pay(client, "acme", cid, "p-1", "refunded", 3000)
    got = account(client, auth, cid, head(client))
    reversed_ = got["entries"]["items"][0]
    assert (reversed_["kind"], reversed_["points"], reversed_["shortfall"]) == ("reversed", -5, 25)
    assert (got["balance"], got["lifetimePoints"], got["tier"]) == (0, 0, "Silver")  # never down


def test_adjustments_need_a_manager_and_a_completed_order_earns_per_visit(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = with_program(client, auth)
    body = {"points": 600, "reason": "welcome gift"}
    url = f"/customers/{cid}/loyalty/adjustments"
    assert client.post(url, json=body, headers=auth("staff")).status_code == 403
    assert (
        client.post(url, json={"points": -1, "reason": "x"}, headers=auth("manager")).status_code
        == 409
    )
    assert (
        client.post(url, json={"points": 0, "reason": "x"}, headers=auth("manager")).status_code
        == 422
    )
    granted = client.post(url, json=body, headers=auth("manager"))
    assert granted.status_code == 201 and granted.json()["balance"] == 600
    got = account(client, auth, cid, granted.headers["x-consistency-token"])
    assert got["tier"] == "Gold" and got["lifetimePoints"] == 600
    history = client.get(f"/customers/{cid}/history", headers=auth()).json()["items"]
    assert [i["type"] for i in history] == ["customer.created", "customer.tier_changed"]  # to Gold
    token = {"X-Consistency-Token": granted.headers["x-consistency-token"]}
    timeline = client.get(
        f"/customers/{cid}/timeline", params={"kind": "loyalty"}, headers=auth() | token
    ).json()["items"]
    assert sorted((i["type"], i["summary"], i["ref"] is not None) for i in timeline) == [
        ("customer.tier_changed", "Tier none → Gold", True),
        ("loyalty.adjusted", "+600 points (adjusted)", True),  # the ledger's entries too
    ]


def test_export_holds_the_loyalty_record(client: Client, auth: Callable[..., Headers]) -> None:
    cid = with_program(client, auth)
    pay(client, "acme", cid, "p-1", "succeeded", 1000)
    exported = client.get(f"/customers/{cid}/export", headers=auth())
    assert exported.status_code == 200, exported.text
    loyalty = exported.json()["loyalty"]
    assert loyalty["balance"] == 10 and loyalty["entries"][0]["kind"] == "earned"


def test_twenty_concurrent_redemptions_never_overdraw(
    client: Client, auth: Callable[..., Headers]
) -> None:
    """50 points, 20 requests of 5 at once: exactly 10 are 201, the others 409, balance 0."""
    cid = with_program(client, auth)
    pay(client, "acme", cid, "p-1", "succeeded", 5000)
    headers = dict(auth("staff"))

    async def redeem_all() -> list[int]:
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as http:
            responses = await asyncio.gather(
                *(
                    http.post(
                        f"/customers/{cid}/loyalty/redemptions",
                        json={"points": 5, "reason": f"r{n}"},
                        headers=headers | {"Idempotency-Key": f"k{n}"},
                    )
                    for n in range(20)
                )
            )
        return [r.status_code for r in responses]

    statuses = client.blocking_portal.call(redeem_all)
    assert sorted(statuses) == [201] * 10 + [409] * 10
    got = account(client, auth, cid, head(client))
    assert got["balance"] == 0
    assert sum(e["kind"] == "redeemed" for e in got["entries"]["items"]) == 10
