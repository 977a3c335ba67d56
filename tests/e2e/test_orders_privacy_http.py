"""Orders, payments, billing, invoices, consents, erasure and export over HTTP."""

from __future__ import annotations

import asyncio
import io
import uuid
from collections.abc import Callable
from typing import Any

import pypdf
from litestar import Litestar
from litestar.testing import TestClient

from shared.integration import PaymentEvent  # noqa: F401 - the shapes the consumer decodes
from shared.principal import Principal, Role
from tests.e2e.conftest import Headers
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
ORDER = {
    "orderId": "ord-1",
    "placedAt": "2026-11-20T10:00:00Z",
    "attendees": [
        {"firstName": "Ann", "email": "Ann@Example.com"},
        {"firstName": "Bo", "phone": "(415) 555-2671"},
        {"firstName": "Ann again", "email": "ann@example.com"},
    ],
}


def attend(client: Client, headers: Headers, order: dict[str, Any]) -> Any:
    response = client.post("/customers/attendees", json=order, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["results"]


def pay(
    client: Client, tenant: str, customer_id: str, payment_id: str, status: str, amount: int,
    currency: str = "EUR",
) -> None:  # fmt: skip
    """Feed a payment through the same use case the RabbitMQ consumer uses."""
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", tenant, frozenset({Role.STAFF})))
    payment = {"paymentId": payment_id, "orderId": "ord-1", "amount": amount, "currency": currency,
               "status": status, "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip
    client.blocking_portal.call(
        lambda: runtime.commerce.record_payment(meta, payment, customer_id=customer_id, payer=None)
    )


def test_attendees_become_customers_once_per_order(
    client: Client, auth: Callable[..., Headers]
) -> None:
    results = attend(client, auth(), ORDER)
    assert [r["created"] for r in results] == [True, True, False]
    assert results[0]["customerId"] == results[2]["customerId"]
    assert results[2]["matchedBy"] == "email"
    assert all(r["firstTime"] for r in results)
    assert attend(client, auth(), ORDER) == results
    second = attend(
        client,
        auth(),
        {
            "orderId": "ord-2",
            "placedAt": "2026-11-21T10:00:00Z",
            "attendees": [{"phone": "+14155552671"}],
        },
    )
    assert second == [
        {
            "customerId": results[1]["customerId"],
            "created": False,
            "firstTime": False,
            "matchedBy": "phone",
        }
    ]
    bad = client.post(
        "/customers/attendees",
        json={"orderId": "x", "placedAt": "2026-11-21T10:00:00Z", "attendees": [{"email": "nope"}]},
        headers=auth(),
    )
    assert bad.status_code == 422
    assert bad.json()["errors"][0]["field"] == "attendees[0].email"


def test_order_history_visits_and_delete_blockers(
    client: Client, auth: Callable[..., Headers]
) -> None:
    ann = attend(client, auth(), ORDER)[0]["customerId"]
    blocked = client.delete(f"/customers/{ann}", headers=auth())
    assert blocked.status_code == 409
    assert blocked.json()["blockers"] == [{"kind": "order", "id": "ord-1"}]
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("orders", "acme", frozenset({Role.STAFF})))
    client.blocking_portal.call(lambda: runtime.commerce.close_order(meta, "ord-1", "completed"))
    token = client.delete(f"/customers/{ann}", headers=auth()).headers["x-consistency-token"]
    customer = client.get(
        f"/customers/{ann}", headers=auth() | {"X-Consistency-Token": token}
    ).json()
    assert customer["visitCount"] == 1
    assert customer["firstVisitAt"] == "2026-11-20T10:00:00.000Z"
    orders = client.get(f"/customers/{ann}/orders", headers=auth()).json()["items"]
    assert orders[0]["status"] == "completed"
    assert orders[0]["snapshot"]["email"] == "Ann@example.com"


def test_billing_payments_and_invoices(client: Client, auth: Callable[..., Headers]) -> None:
    ann = attend(client, auth(), ORDER)[0]["customerId"]
    billing = {
        "name": "Ann Lee",
        "email": "billing@example.com",
        "taxId": "DE123",
        "address": {"line1": "1 Main St", "city": "Berlin", "country": "de"},
    }
    assert client.put(f"/customers/{ann}/billing", json=billing, headers=auth()).status_code == 200
    bad = client.put(
        f"/customers/{ann}/billing",
        json={"email": "x", "address": {"country": "Germany"}},
        headers=auth(),
    )
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"email", "address.country"}
    assert client.post(f"/customers/{ann}/invoices", headers=auth()).status_code == 409
    pay(client, "acme", ann, "pay-1", "succeeded", 5000)
    pay(client, "acme", ann, "pay-2", "succeeded", 1250)
    pay(client, "acme", ann, "pay-2", "refunded", 1250)
    first = client.post(f"/customers/{ann}/invoices", headers=auth())
    assert first.status_code == 201
    invoice = first.json()
    assert invoice["number"] == 1
    assert invoice["total"] == 5000
    assert [line["amount"] for line in invoice["lines"]] == [5000, 1250, -1250]
    assert first.headers["location"] == f"/customers/{ann}/invoices/1"
    assert client.post(f"/customers/{ann}/invoices", headers=auth()).status_code == 409
    token = first.headers["x-consistency-token"]
    as_json = client.get(
        f"/customers/{ann}/invoices/1", headers=auth("viewer") | {"X-Consistency-Token": token}
    )
    assert as_json.json()["billing"]["name"] == "Ann Lee"
    pdf = client.get(
        f"/customers/{ann}/invoices/1", headers=auth("viewer") | {"Accept": "application/pdf"}
    )
    assert pdf.headers["content-type"] == "application/pdf"
    text = "".join(page.extract_text() for page in pypdf.PdfReader(io.BytesIO(pdf.content)).pages)
    assert "INV-000001" in text
    assert "Ann Lee" in text
    assert "50.00 EUR" in text
    payments = client.get(f"/customers/{ann}/payments", headers=auth("viewer")).json()["items"]
    assert {p["paymentId"]: p["status"] for p in payments} == {
        "pay-1": "succeeded",
        "pay-2": "refunded",
    }
    assert client.get(f"/customers/{ann}/invoices/2", headers=auth()).status_code == 404


def test_invoice_numbers_are_sequential_under_concurrency(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customers = [
        client.post("/customers", json={"firstName": f"C{i}"}, headers=auth()).json()["id"]
        for i in range(6)
    ]
    for index, customer in enumerate(customers):
        pay(client, "acme", customer, f"p-{index}", "succeeded", 100)
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("staff", "acme", frozenset({Role.STAFF})))

    async def issue_all() -> list[Any]:

        return list(
            await asyncio.gather(
                *(runtime.commerce.issue_invoice(meta, uuid.UUID(c)) for c in customers)
            )
        )

    outcomes = client.blocking_portal.call(issue_all)
    assert sorted(o.result["number"] for o in outcomes) == [1, 2, 3, 4, 5, 6]


def test_consents_are_events_and_filterable(client: Client, auth: Callable[..., Headers]) -> None:
    ann = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    client.post("/customers", json={"firstName": "Bob"}, headers=auth())
    granted = client.put(
        f"/customers/{ann}/consents/marketing_email",
        json={"granted": True, "source": "signup form", "legalBasis": "consent"},
        headers=auth(subject="carol"),
    )
    assert granted.status_code == 200
    assert granted.json()["by"] == "carol"
    bad = client.put(
        f"/customers/{ann}/consents/Bad Purpose",
        json={"granted": True, "legalBasis": "whim"},
        headers=auth(),
    )
    assert bad.status_code in (400, 404, 422)
    token = granted.headers["x-consistency-token"]
    listed = client.get(
        "/customers",
        params={"consent": "marketing_email"},
        headers=auth() | {"X-Consistency-Token": token},
    ).json()
    assert [c["id"] for c in listed["items"]] == [ann]
    withdrawn = client.put(
        f"/customers/{ann}/consents/marketing_email",
        json={"granted": False, "source": "unsubscribe link"},
        headers=auth(),
    )
    token = withdrawn.headers["x-consistency-token"]
    assert (
        client.get(
            "/customers",
            params={"consent": "marketing_email"},
            headers=auth() | {"X-Consistency-Token": token},
        ).json()["total"]
        == 0
    )
    consents = client.get(f"/customers/{ann}/consents", headers=auth("viewer")).json()["items"]
    assert consents[0]["granted"] is False
    history = client.get(f"/customers/{ann}/history", headers=auth("auditor")).json()["items"]
    assert [i["type"] for i in history].count("customer.consent_changed") == 2


def test_erasure_export_and_access_audit(client: Client, auth: Callable[..., Headers]) -> None:
    secret = {
        "firstName": "Zebediah",
        "lastName": "Quux",
        "email": "zeb.unique@example.com",
        "phone": "+14155550123",
        "notes": "allergic to kiwi",
    }
    zeb = client.post("/customers", json=secret, headers=auth()).json()["id"]
    exported = client.get(
        f"/customers/{zeb}/export",
        headers=auth("auditor") | {"X-Access-Purpose": "subject access request"},
    )
    assert exported.status_code == 200
    assert exported.json()["customer"]["notes"] == "allergic to kiwi"
    assert {
        "customer",
        "history",
        "consents",
        "orders",
        "payments",
        "invoices",
    } <= exported.json().keys()
    assert client.post(f"/customers/{zeb}/erase", headers=auth("manager")).status_code == 403
    erased = client.post(f"/customers/{zeb}/erase", headers=auth("admin"))
    assert erased.status_code == 200
    token = erased.headers["x-consistency-token"]
    consistent = auth("admin") | {"X-Consistency-Token": token}
    after = client.get(f"/customers/{zeb}", headers=consistent).json()
    assert after["state"] == "erased"
    assert (
        client.get("/customers", params={"q": "zebediah"}, headers=consistent).json()["total"] == 0
    )
    assert client.get("/customers", params={"q": "0123"}, headers=consistent).json()["total"] == 0
    everything = str(after) + client.get(f"/customers/{zeb}/export", headers=auth("auditor")).text
    everything += client.get(f"/customers/{zeb}/history", headers=auth("auditor")).text
    for value in secret.values():
        assert value.lower() not in everything.lower()
    assert (
        client.post(
            "/customers", json={"email": "zeb.unique@example.com"}, headers=auth()
        ).status_code
        == 201
    )
    accesses = client.get(
        "/audit/access", params={"customerId": zeb}, headers=auth("auditor")
    ).json()["items"]
    assert [a["action"] for a in accesses][:2] == ["history", "export"]
    assert accesses[-1]["purpose"] == "subject access request"
    assert "Zebediah" not in str(accesses)
    assert (
        client.get("/audit/access", params={"customerId": zeb}, headers=auth("staff")).status_code
        == 403
    )
