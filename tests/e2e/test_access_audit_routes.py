"""Every route of the OpenAPI document that returns personal data leaves an access-audit entry
(issue 15, part 3).

The routes come from the application's own document, not from a list kept here: each one must
be classified — a personal read (driven below, and its entry checked), a write (recorded as an
event carrying the actor: the change audit), or not personal (with the reason). A new route is
unclassified until someone decides which, and this test fails naming it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.principal import Principal, Role
from tests.e2e.conftest import Headers
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
Route = tuple[str, str]

#: Routes whose answers hold no customer's personal data, and why.
NOT_PERSONAL: dict[Route, str] = {
    ("GET", "/health"): "service health",
    ("GET", "/health/live"): "service health",
    ("GET", "/health/ready"): "service health",
    ("GET", "/metrics"): "counters per route and status",
    ("GET", "/audit/access"): "the access log itself: ids, actors, times, purposes",
    ("GET", "/audit/access/verify"): "whether the access log is intact: counts and numbers",
    ("GET", "/audit/alerts"): "security alerts: subjects, client addresses, counts",
    ("GET", "/audit/verify"): "a verification report: positions, ids and hashes",
    ("GET", "/admin/projections"): "projection positions and lag",
    ("GET", "/customers/{customer_id}/contactability"): (
        "allowed and a reason word per channel: no address, value or consent text"
    ),
    ("GET", "/loyalty/program"): "the tenant's program: rates, expiry and tiers, no customer",
    ("PUT", "/loyalty/program"): "the tenant's program (an event of the program's own stream)",
    ("GET", "/analytics/overview"): "aggregates per period: counts and amounts, no customer",
    ("GET", "/analytics/cohorts"): "cohort sizes and shares, no customer",
    ("GET", "/projections/{name}/documents"): "added projections hold aggregates, no values",
    ("POST", "/admin/projections/{name}/rebuild"): "starts a rebuild: no data in the answer",
    ("GET", "/segments"): "segment definitions and counts",
    ("GET", "/segments/{segment_id}"): "a segment's definition and count",
    ("POST", "/segments"): "segment definition (an event of the segment's own stream)",
    ("POST", "/segments/preview"): "how many customers a filter holds: a count, no customer",
    ("PUT", "/segments/{segment_id}"): "segment definition (an event of the segment's own stream)",
    ("DELETE", "/segments/{segment_id}"): "segment removal (an event of the segment's own stream)",
}

#: Commands: their answers echo what the caller wrote, and each is an event in the customer's
#: stream carrying the actor, tenant and what changed (the change audit, `/history`).
WRITES: dict[Route, str] = {
    ("POST", "/customers"): "customer.created",
    ("PUT", "/customers/{customer_id}"): "customer.profile_changed",
    ("PATCH", "/customers/{customer_id}"): "customer.profile_changed",
    ("DELETE", "/customers/{customer_id}"): "customer.deleted",
    ("POST", "/customers/{customer_id}/restore"): "customer.restored",
    ("POST", "/customers/{customer_id}/erase"): "customer.erased",
    ("POST", "/customers/{customer_id}/merge"): "customer.merge_absorbed and customer.merged",
    ("POST", "/customers/{customer_id}/unmerge"): "customer.merge_undone and customer.unmerged",
    ("POST", "/customers/attendees"): "customer.visit_recorded (ids and match kinds only)",
    ("PUT", "/customers/{customer_id}/billing"): "customer.billing_changed",
    ("POST", "/customers/{customer_id}/invoices"): "customer.invoice_issued",
    ("PUT", "/customers/{customer_id}/consents/{purpose}"): "customer.consent_changed",
    ("PUT", "/customers/{customer_id}/preferences"): "customer.preferences_changed",
    ("POST", "/customers/{customer_id}/notes"): "customer.note_added",
    ("DELETE", "/customers/{customer_id}/notes/{note_id}"): "customer.note_deleted",
    ("POST", "/customers/{customer_id}/communications"): "customer.communication_recorded",
    ("POST", "/customers/{customer_id}/loyalty/redemptions"): "a ledger entry with the actor",
    ("POST", "/customers/{customer_id}/loyalty/adjustments"): "a ledger entry with the actor",
}

#: Bulk reads: one entry per request with the count and the snapshot position, naming no
#: customer (tests/e2e/test_export_http.py checks it).
BULK_READS: dict[Route, str] = {
    ("GET", "/customers/export"): "bulkExport: count and position",
    ("GET", "/segments/{segment_id}/members"): "one entry per page naming its members",
    ("GET", "/segments/{segment_id}/export"): "one entry with the count",
}
#: Imports: each row is a command, an event in the customer's stream carrying the actor.
IMPORTS: dict[Route, str] = {
    ("POST", "/imports"): "customer.created / customer.profile_changed per row",
    ("GET", "/imports/{import_id}"): "counts and errors by line and field, no values",
}

BILLING = {"name": "Ann Lee", "email": "billing@example.com",
           "address": {"line1": "1 Main St", "city": "Berlin", "country": "de"}}  # fmt: skip


@dataclass(frozen=True)
class Fixture:
    """A customer with every kind of record, and a token to read it consistently."""

    customer_id: str
    consistent: Headers


@dataclass(frozen=True)
class Read:
    """How to drive one personal read, and the audit action it must leave."""

    action: str
    call: Callable[[Client, Callable[..., Headers], Fixture], Any]


def _get(path: str, role: str = "viewer", **kwargs: Any) -> Callable[..., Any]:
    def call(client: Client, auth: Callable[..., Headers], fx: Fixture) -> Any:
        headers = auth(role, subject="walker") | fx.consistent | kwargs.pop("headers", {})
        return client.get(path.format(id=fx.customer_id), headers=headers, **kwargs)

    return call


PERSONAL_READS: dict[Route, list[Read]] = {
    ("GET", "/customers"): [Read("list", _get("/customers", params={"q": "ann"}))],
    ("GET", "/customers/{customer_id}/duplicates"): [
        Read("duplicates", _get("/customers/{id}/duplicates"))
    ],
    ("GET", "/customers/{customer_id}"): [
        Read("read", _get("/customers/{id}")),
        Read("asOf", _get("/customers/{id}", "auditor", params={"asOf": "2099-01-01T00:00:00Z"})),
    ],
    ("GET", "/customers/{customer_id}/history"): [
        Read("history", _get("/customers/{id}/history", "auditor"))
    ],
    ("GET", "/customers/{customer_id}/export"): [
        Read("export", _get("/customers/{id}/export", "auditor"))
    ],
    ("GET", "/customers/{customer_id}/orders"): [Read("orders", _get("/customers/{id}/orders"))],
    ("GET", "/customers/{customer_id}/payments"): [
        Read("payments", _get("/customers/{id}/payments"))
    ],
    ("GET", "/customers/{customer_id}/consents"): [
        Read("consents", _get("/customers/{id}/consents"))
    ],
    ("GET", "/customers/{customer_id}/billing"): [Read("billing", _get("/customers/{id}/billing"))],
    ("GET", "/customers/{customer_id}/invoices"): [
        Read("invoices", _get("/customers/{id}/invoices"))
    ],
    ("GET", "/customers/{customer_id}/invoices/{number}"): [
        Read("invoice", _get("/customers/{id}/invoices/1")),
        Read("invoice", _get("/customers/{id}/invoices/1", headers={"Accept": "application/pdf"})),
    ],
    ("GET", "/customers/{customer_id}/preferences"): [
        Read("preferences", _get("/customers/{id}/preferences"))
    ],
    ("GET", "/customers/{customer_id}/notes"): [Read("notes", _get("/customers/{id}/notes"))],
    ("GET", "/customers/{customer_id}/communications"): [
        Read("communications", _get("/customers/{id}/communications"))
    ],
    ("GET", "/customers/{customer_id}/timeline"): [
        Read("timeline", _get("/customers/{id}/timeline"))
    ],
    ("GET", "/customers/{customer_id}/loyalty"): [Read("loyalty", _get("/customers/{id}/loyalty"))],
}


def document_routes(client: Client) -> set[Route]:
    """(METHOD, path) of every operation in the served OpenAPI document."""
    document = client.get("/api/openapi.json")
    assert document.status_code == 200, document.text
    methods = {"get", "put", "post", "patch", "delete"}
    return {
        (method.upper(), path)
        for path, item in document.json()["paths"].items()
        for method in item
        if method in methods
    }


def full_customer(client: Client, auth: Callable[..., Headers]) -> Fixture:
    """A customer with an order, a consent, billing, a payment and an invoice."""
    order = {"orderId": "o-walk", "placedAt": "2026-11-20T10:00:00Z",
             "attendees": [{"firstName": "Ann", "email": "ann@example.com"}]}  # fmt: skip
    attended = client.post("/customers/attendees", json=order, headers=auth())
    cid = attended.json()["results"][0]["customerId"]
    consent = {"granted": True, "source": "web", "legalBasis": "consent"}
    assert client.put(f"/customers/{cid}/consents/email", json=consent, headers=auth()).is_success
    assert client.put(f"/customers/{cid}/billing", json=BILLING, headers=auth()).is_success
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
    payment = {"paymentId": "p-walk", "orderId": "o-walk", "amount": 100, "currency": "EUR",
               "status": "succeeded", "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip
    client.blocking_portal.call(
        lambda: runtime.commerce.record_payment(meta, payment, customer_id=cid, payer=None)
    )
    invoice = client.post(f"/customers/{cid}/invoices", headers=auth())
    assert invoice.status_code == 201, invoice.text
    return Fixture(cid, {"X-Consistency-Token": invoice.headers["x-consistency-token"]})


def accesses(client: Client, auth: Callable[..., Headers], cid: str) -> list[dict[str, Any]]:
    response = client.get("/audit/access", params={"customerId": cid}, headers=auth())
    assert response.status_code == 200, response.text
    items: list[dict[str, Any]] = response.json()["items"]
    return items


def test_every_route_is_classified(client: Client) -> None:
    routes = document_routes(client)
    unclassified = routes - set(NOT_PERSONAL) - set(WRITES) - set(PERSONAL_READS)
    unclassified -= set(BULK_READS) | set(IMPORTS)
    assert not unclassified, (
        f"routes not classified as personal read, write or not personal: {sorted(unclassified)}"
    )
    twice = (set(NOT_PERSONAL) | set(WRITES)) & set(PERSONAL_READS)
    assert not twice, f"classified both ways: {sorted(twice)}"
    stale = set(PERSONAL_READS) - routes
    assert not stale, f"personal reads no longer in the document: {sorted(stale)}"


def test_every_personal_read_in_the_document_is_audited(
    client: Client, auth: Callable[..., Headers]
) -> None:
    fx = full_customer(client, auth)
    routes = document_routes(client) & set(PERSONAL_READS)
    assert routes == set(PERSONAL_READS)
    for route in sorted(routes):
        for read in PERSONAL_READS[route]:
            before = len(accesses(client, auth, fx.customer_id))
            response = read.call(client, auth, fx)
            assert response.status_code == 200, (route, response.text)
            entries = accesses(client, auth, fx.customer_id)
            assert len(entries) == before + 1, (route, entries[:2])
            newest = entries[0]
            assert newest["action"] == read.action, route
            assert newest["actor"] == "walker", route
            assert newest["tenantId"] == "acme"
            assert newest["roles"] and newest["purpose"], route
            assert not {"Ann", "Lee", "ann@example.com", "Berlin"} & set(_words(newest)), route


@pytest.mark.parametrize("role", ["viewer"])
def test_a_list_page_entry_counts_its_customers(
    client: Client, auth: Callable[..., Headers], role: str
) -> None:
    fx = full_customer(client, auth)
    page = _get("/customers", role, params={"q": "ann"})(client, auth, fx)
    assert page.status_code == 200
    newest = accesses(client, auth, fx.customer_id)[0]
    assert newest["action"] == "list"
    assert newest["count"] == len(newest["customerIds"]) == page.json()["total"] == 1


def _words(value: Any) -> list[str]:
    """Every string inside an entry (to show that no personal value is among them)."""
    if isinstance(value, dict):
        return [word for item in value.values() for word in _words(item)]
    if isinstance(value, list):
        return [word for item in value for word in _words(item)]
    return [value] if isinstance(value, str) else []


def test_the_access_log_verifies_over_http(client: Client, auth: Callable[..., Headers]) -> None:
    fx = full_customer(client, auth)
    for route in PERSONAL_READS.values():
        route[0].call(client, auth, fx)
    assert client.get("/audit/access/verify", headers=auth("viewer")).status_code == 403
    report = client.get("/audit/access/verify", headers=auth("auditor"))
    assert report.status_code == 200, report.text
    assert report.json() == {"ok": True, "entries": len(PERSONAL_READS), "finding": None}
    other = client.get("/audit/access/verify", headers=auth("auditor", tenant="other")).json()
    assert other["entries"] == 0
