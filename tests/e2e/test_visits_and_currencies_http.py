"""Late orders and several currencies through HTTP: first visits follow placedAt, invoices
stay one currency each."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers
from tests.e2e.test_orders_privacy_http import ORDER, attend, pay

Client = TestClient[Litestar]


def test_an_earlier_order_arriving_late_is_the_first_visit_everywhere(
    client: Client, auth: Callable[..., Headers]
) -> None:
    """Response, resource and event agree on `firstTime` by `placedAt` (issue 10.9)."""

    def order(order_id: str, placed_at: str) -> dict[str, Any]:
        return {"orderId": order_id, "placedAt": placed_at, "attendees": [{"email": "l@ex.com"}]}

    june = attend(client, auth(), order("june", "2026-06-10T10:00:00Z"))[0]
    may = attend(client, auth(), order("may", "2026-05-01T10:00:00Z"))[0]  # placed first, late
    july = attend(client, auth(), order("july", "2026-07-01T10:00:00Z"))[0]
    tie = attend(client, auth(), order("may-too", "2026-05-01T10:00:00Z"))[0]
    answered = {"june": june, "may": may, "july": july, "may-too": tie}
    assert {k: r["firstTime"] for k, r in answered.items()} == {
        "june": True, "may": True, "july": False, "may-too": False,
    }  # fmt: skip
    customer_id = june["customerId"]
    patched = client.patch(f"/customers/{customer_id}", json={"notes": "n"}, headers=auth())
    token = {"X-Consistency-Token": patched.headers["x-consistency-token"]}
    customer = client.get(f"/customers/{customer_id}", headers=auth() | token).json()
    assert customer["firstVisitAt"] == "2026-05-01T10:00:00.000Z"
    orders = client.get(f"/customers/{customer_id}/orders", headers=auth()).json()["items"]
    assert {o["orderId"]: o["firstTime"] for o in orders} == {
        "june": False, "may": True, "july": False, "may-too": False,
    }  # fmt: skip
    runtime = client.app.state.runtime
    events = runtime.log.stream(uuid.UUID(customer_id))
    visits = {e.data["order_id"]: e.data["first_time"] for e in events if "first_time" in e.data}
    assert visits == {k: r["firstTime"] for k, r in answered.items()}


def test_two_currencies_are_invoiced_one_invoice_per_currency(
    client: Client, auth: Callable[..., Headers]
) -> None:
    """A USD and a EUR payment deadlocked invoicing (409 forever, `currency` ignored): an
    invoice has one currency, named in the body when several are waiting (issue 10.7)."""
    ann = attend(client, auth(), ORDER)[0]["customerId"]
    url = f"/customers/{ann}/invoices"
    patched = client.patch(f"/customers/{ann}", json={"notes": "n"}, headers=auth())
    seen = {"X-Consistency-Token": patched.headers["x-consistency-token"]}
    empty = client.get(url, headers=auth("viewer") | seen)
    assert (empty.status_code, empty.json()) == (200, {"items": []})
    pay(client, "acme", ann, "eur-1", "succeeded", 5000)
    pay(client, "acme", ann, "usd-1", "succeeded", 700, currency="USD")
    pay(client, "acme", ann, "usd-2", "succeeded", 300, currency="USD")
    both = client.post(url, headers=auth())
    assert both.status_code == 409
    assert both.json()["currencies"] == ["EUR", "USD"] and "currency" in both.json()["detail"]
    usd = client.post(url, json={"currency": "USD"}, headers=auth())
    assert usd.status_code == 201, usd.text
    assert (usd.json()["currency"], usd.json()["total"]) == ("USD", 1000)
    assert {line["paymentId"] for line in usd.json()["lines"]} == {"usd-1", "usd-2"}
    again = client.post(url, json={"currency": "USD"}, headers=auth())
    assert again.status_code == 409 and again.json()["currencies"] == ["EUR"]
    eur = client.post(url, headers=auth())  # one currency left: no need to name it
    assert eur.status_code == 201, eur.text
    assert (eur.json()["currency"], eur.json()["total"]) == ("EUR", 5000)
    assert client.post(url, headers=auth()).status_code == 409
    for body, status in (
        ({"currency": "XYZ"}, 422), ({"currency": "usd"}, 422), ({"currency": "EURO"}, 422),
        ({"currency": ""}, 422), ({"currency": 840}, 400), ({"currency": "USD", "x": 1}, 400),
        ({"amount": 5}, 400), ([], 400),
    ):  # fmt: skip
        refused = client.post(url, json=body, headers=auth())
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    token = {"X-Consistency-Token": eur.headers["x-consistency-token"]}
    listed = client.get(url, headers=auth("viewer") | token)
    assert listed.status_code == 200
    items = listed.json()["items"]
    assert [i["number"] for i in items] == [eur.json()["number"], usd.json()["number"]]
    assert items[1] == usd.json()  # the same document GET /invoices/{number} serves
    etag = listed.headers["etag"]
    assert client.get(url, headers=auth("viewer") | {"If-None-Match": etag}).status_code == 304
    assert client.get(f"/customers/{uuid.uuid4()}/invoices", headers=auth()).status_code == 404
