"""Billing details over HTTP: readable by id, countries are ISO 3166-1, blanks are refused."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers
from tests.e2e.test_orders_privacy_http import ORDER, attend, pay

Client = TestClient[Litestar]
BILLING = {
    "name": "Ann Lee Ltd",
    "email": "billing@example.co.uk",
    "taxId": "GB123456789",
    "address": {"line1": "1 High St", "city": "London", "postalCode": "EC1A 1BB",
                "country": "gb"},
}  # fmt: skip


def test_billing_details_are_readable_once_set(
    client: Client, auth: Callable[..., Headers]
) -> None:
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth())
    cid = created.json()["id"]
    token = created.headers["x-consistency-token"]
    none_yet = client.get(
        f"/customers/{cid}/billing", headers=auth("viewer") | {"X-Consistency-Token": token}
    )
    assert none_yet.status_code == 404, none_yet.text
    assert none_yet.headers["content-type"].startswith("application/problem+json")
    put = client.put(f"/customers/{cid}/billing", json=BILLING, headers=auth())
    assert put.status_code == 200, put.text
    consistent = auth("viewer") | {"X-Consistency-Token": put.headers["x-consistency-token"]}
    got = client.get(f"/customers/{cid}/billing", headers=consistent)
    assert got.status_code == 200, got.text
    assert got.json() == put.json()
    assert got.json()["billing"]["address"]["country"] == "GB"
    other_tenant = client.get(f"/customers/{cid}/billing", headers=auth(tenant="other"))
    assert other_tenant.status_code == 404
    assert client.get(f"/customers/{cid}/billing", headers=auth("analyst")).status_code == 403
    audit = client.get("/audit/access", params={"customerId": cid}, headers=auth()).json()
    assert "billing" in [entry["action"] for entry in audit["items"]]


def test_country_codes_must_be_assigned_and_blanks_are_refused(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    for country in ("XX", "ZZ", "UK", "EU"):
        body = {"name": "Ann", "address": {"city": "X", "country": country}}
        response = client.put(f"/customers/{cid}/billing", json=body, headers=auth())
        assert response.status_code == 422, (country, response.text)
        assert [e["field"] for e in response.json()["errors"]] == ["address.country"]
    blank = client.put(f"/customers/{cid}/billing", json={"name": ""}, headers=auth())
    assert blank.status_code == 422
    assert [e["field"] for e in blank.json()["errors"]] == ["name"]
    for region in ("XX", "ZZ"):
        created = client.post(
            "/customers", json={"phone": "020 7946 0055", "phoneRegion": region}, headers=auth()
        )
        assert created.status_code == 422, created.text
        assert [e["field"] for e in created.json()["errors"]] == ["phoneRegion"]
        order = {"orderId": f"o-{region}", "placedAt": "2026-11-20T10:00:00Z",
                 "attendees": [{"phone": "020 7946 0055", "phoneRegion": region}]}  # fmt: skip
        attendees = client.post("/customers/attendees", json=order, headers=auth())
        assert attendees.status_code == 422, attendees.text
    history = client.get(f"/customers/{cid}/history", headers=auth()).json()  # the event stream
    assert len(history["items"]) == 1


def test_an_invoice_replayed_by_its_idempotency_key_is_the_same_invoice(
    client: Client, auth: Callable[..., Headers]
) -> None:
    """A replay answered 500: the stored outcome names the customer's version, not the
    invoice, and the handler read the missing invoice. It answers the first invoice again."""
    ann = attend(client, auth(), ORDER)[0]["customerId"]
    pay(client, "acme", ann, "pay-1", "succeeded", 5000)
    key = auth() | {"Idempotency-Key": "invoice-1"}
    first = client.post(f"/customers/{ann}/invoices", headers=key)
    assert first.status_code == 201, first.text
    pay(client, "acme", ann, "pay-2", "succeeded", 700)
    again = client.post(f"/customers/{ann}/invoices", headers=key)
    assert again.status_code == 201, again.text
    assert again.json() == first.json()
    assert again.headers["location"] == first.headers["location"]
    second = client.post(f"/customers/{ann}/invoices", headers=auth())
    assert second.json()["number"] == 2
