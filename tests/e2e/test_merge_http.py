"""`POST /customers/{id}/merge` and `/unmerge` over HTTP, on every profile: what moves, the
merged source (readable, in no list, 409 on every command), matching by the source's old email
and phone afterwards, both histories, the errors (400, 403, 404, 409, 422), and the unmerge."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from shared.principal import Principal, Role
from tests.e2e.conftest import Headers
from write_side.application.attendees import AttendeeInput
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
Auth = Callable[..., Headers]
MISSING = "00000000-0000-4000-8000-000000000000"


def create(client: Client, headers: Headers, **fields: Any) -> str:
    response = client.post("/customers", json=fields, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def attend(client: Client, headers: Headers, order_id: str, **attendee: str) -> str:
    order = {"orderId": order_id, "placedAt": "2026-11-20T10:00:00Z", "attendees": [attendee]}
    response = client.post("/customers/attendees", json=order, headers=headers)
    assert response.status_code == 200, response.text
    return str(response.json()["results"][0]["customerId"])


def pay_by_payer(client: Client, payment_id: str, **payer: str) -> str:
    """A payment whose payer is matched (as the RabbitMQ consumer feeds it)."""
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
    payment = {"paymentId": payment_id, "amount": 500, "currency": "EUR", "status": "succeeded",
               "at": "2026-11-20T11:00:00.000Z", "orderId": None}  # fmt: skip
    owner: str = client.blocking_portal.call(
        lambda: runtime.commerce.record_payment(
            meta, payment, customer_id=None, payer=AttendeeInput(**payer)
        )
    )
    return owner


def merge(client: Client, headers: Headers, target: str, source: str, verb: str = "merge") -> Any:
    return client.post(f"/customers/{target}/{verb}", json={"sourceId": source}, headers=headers)


def duplicates(client: Client, auth: Auth) -> tuple[str, str]:
    """Ann (the target, a phone of her own) and Annie (her duplicate, with an order, a
    consent and a note)."""
    ann, annie, _ = duplicates_and_token(client, auth)
    return ann, annie


def duplicates_and_token(client: Client, auth: Auth) -> tuple[str, str, str]:
    """`duplicates`, and the consistency token of its last write: a read that must see all of
    it (on the services profile the read models lag the commands) sends that token."""
    staff = auth("staff")
    ann = create(client, staff, type="regular", firstName="Ann", lastName="Lee",
                 email="ann@example.com", phone="+14155550100", tags=["vip"])  # fmt: skip
    annie = create(client, staff, firstName="Annie", email="annie@example.org",
                   phone="+14155552671", dateOfBirth="1990-01-02", tags=["kiwi"])  # fmt: skip
    assert attend(client, staff, "ord-1", firstName="Annie", email="annie@example.org") == annie
    consent = {"granted": True, "source": "desk", "legalBasis": "consent"}
    assert client.put(f"/customers/{annie}/consents/sms", json=consent, headers=staff).is_success
    note = client.post(f"/customers/{annie}/notes", json={"text": "aisle seat"}, headers=staff)
    assert note.status_code == 201, note.text
    return ann, annie, note.headers["X-Consistency-Token"]


def test_merge_moves_everything_and_the_source_refuses_commands(client: Client, auth: Auth) -> None:
    ann, annie = duplicates(client, auth)
    response = merge(client, auth("manager"), ann, annie)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["id"] == ann and body["firstName"] == "Ann" and body["phone"] == "+14155550100"
    assert body["dateOfBirth"] == "1990-01-02" and body["tags"] == ["vip", "kiwi"]
    assert body["visitCount"] == 1 and body["mergedInto"] is None
    read = auth("auditor") | {"X-Consistency-Token": response.headers["X-Consistency-Token"]}
    source = client.get(f"/customers/{annie}", headers=read)
    assert source.status_code == 200
    assert (source.json()["state"], source.json()["mergedInto"]) == ("merged", ann)
    assert client.get(f"/customers/{ann}/orders", headers=read).json()["items"][0]["orderId"] == (
        "ord-1"
    )
    assert client.get(f"/customers/{ann}/consents", headers=read).json()
    listed = client.get("/customers", params={"q": "annie"}, headers=read).json()["items"]
    assert annie not in [item["id"] for item in listed]
    for method, path, payload in (
        ("PATCH", f"/customers/{annie}", {"notes": "x"}),
        ("DELETE", f"/customers/{annie}", None),
        ("POST", f"/customers/{annie}/notes", {"text": "x"}),
        ("POST", f"/customers/{annie}/merge", {"sourceId": ann}),
        ("POST", f"/customers/{ann}/merge", {"sourceId": annie}),
        ("POST", f"/customers/{annie}/erase", None),
    ):
        refused = client.request(method, path, json=payload, headers=auth("admin"))
        assert refused.status_code == 409, (method, path, refused.text)
        assert refused.json()["mergedInto"] == ann, (method, path)
    histories = {
        who: [
            item["type"]
            for item in client.get(f"/customers/{who}/history", headers=read).json()["items"]
        ]
        for who in (ann, annie)
    }
    assert histories[ann][-1] == "customer.merge_absorbed"
    assert histories[annie][-1] == "customer.merged"
    timeline = client.get(f"/customers/{annie}/timeline", params={"kind": "merge"}, headers=read)
    assert [(i["type"], i["ref"]) for i in timeline.json()["items"]] == [("customer.merged", ann)]


def test_matching_after_a_merge_finds_the_target(client: Client, auth: Auth) -> None:
    ann, annie = duplicates(client, auth)
    assert merge(client, auth("admin"), ann, annie).status_code == 200
    staff = auth("staff")
    assert attend(client, staff, "ord-2", firstName="A", email="ANNIE@example.org") == ann
    assert attend(client, staff, "ord-3", firstName="A", phone="+1 415 555 2671") == ann
    assert pay_by_payer(client, "pay-1", email="annie@example.org") == ann
    assert pay_by_payer(client, "pay-2", phone="+14155552671") == ann
    taken = client.post("/customers", json={"email": "annie@example.org"}, headers=staff)
    assert taken.status_code == 409 and taken.json()["existingId"] == ann


def test_a_deleted_source_whose_email_was_reused_can_be_merged(client: Client, auth: Auth) -> None:
    staff, admin = auth("staff"), auth("admin")
    old = create(client, staff, firstName="Bo", email="bo@example.com")
    assert client.delete(f"/customers/{old}", headers=admin).status_code == 200
    new = attend(client, staff, "ord-9", firstName="Bo", email="bo@example.com")
    assert client.post(f"/customers/{old}/restore", headers=admin).status_code == 409
    merged = merge(client, admin, new, old)
    assert merged.status_code == 200, merged.text
    assert merged.json()["email"] == "bo@example.com"


def test_errors(client: Client, auth: Auth) -> None:
    ann, annie = duplicates(client, auth)
    manager = auth("manager")
    for role in ("viewer", "staff", "auditor", "analyst"):
        assert merge(client, auth(role), ann, annie).status_code == 403, role
        assert merge(client, auth(role), ann, annie, "unmerge").status_code == 403, role
    assert merge(client, manager, ann, MISSING).status_code == 404
    assert merge(client, manager, MISSING, annie).status_code == 404
    other = auth("manager", tenant="globex")
    assert merge(client, other, ann, annie).status_code == 404
    assert merge(client, manager, ann, ann).status_code == 422
    for body in ({}, {"sourceId": "nope"}, {"sourceId": annie, "extra": 1}):
        response = client.post(f"/customers/{ann}/merge", json=body, headers=manager)
        assert response.status_code == 400, (body, response.text)
    assert merge(client, manager, ann, annie, "unmerge").status_code == 409  # not merged
    stale = manager | {"If-Match": '"7"'}
    assert merge(client, stale, ann, annie).status_code == 412
    assert merge(client, manager, ann, annie).status_code == 200
    assert merge(client, manager, ann, annie).status_code == 409  # merged already


def test_unmerge_gives_back_and_keeps_what_happened_since(client: Client, auth: Auth) -> None:
    ann, annie, written = duplicates_and_token(client, auth)
    manager, staff = auth("manager"), auth("staff")
    settled = auth("viewer") | {"X-Consistency-Token": written}
    before = client.get(f"/customers/{annie}", headers=settled).json()
    assert merge(client, manager, ann, annie).status_code == 200
    assert attend(client, staff, "ord-after", firstName="Ann", email="ann@example.com") == ann
    response = merge(client, manager, ann, annie, "unmerge")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["visitCount"] == 1 and body["tags"] == ["vip"] and body["dateOfBirth"] is None
    read = auth("viewer") | {"X-Consistency-Token": response.headers["X-Consistency-Token"]}
    orders = client.get(f"/customers/{ann}/orders", headers=read).json()["items"]
    assert [o["orderId"] for o in orders] == ["ord-after"]
    after = client.get(f"/customers/{annie}", headers=read).json()
    ignored = ("version", "updatedAt", "stateHistory")
    assert {k: v for k, v in after.items() if k not in ignored} == {
        k: v for k, v in before.items() if k not in ignored
    }
    assert [s["state"] for s in after["stateHistory"]] == ["active", "merged", "active"]
    assert attend(client, staff, "ord-4", firstName="A", email="annie@example.org") == annie
    assert merge(client, manager, ann, annie, "unmerge").status_code == 409


def test_loyalty_points_lifetime_and_tier_move_and_go_back(client: Client, auth: Auth) -> None:
    admin = auth("admin")
    tiers = [{"name": "Silver", "minPoints": 3}, {"name": "Gold", "minPoints": 8}]
    program = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0, "tiers": tiers}
    assert client.put("/loyalty/program", json=program, headers=admin).is_success
    ann, annie = duplicates(client, auth)
    assert pay_by_payer(client, "pay-9", email="annie@example.org") == annie  # 5.00 EUR: 5 points
    adjusted = client.post(f"/customers/{ann}/loyalty/adjustments",
                           json={"points": 4, "reason": "welcome"}, headers=admin)  # fmt: skip
    assert adjusted.status_code == 201, adjusted.text

    def loyalty(who: str, token: str) -> tuple[int, int, str | None]:
        headers = admin | {"X-Consistency-Token": token}
        response = client.get(f"/customers/{who}/loyalty", headers=headers)
        assert response.status_code == 200, response.text
        body = response.json()
        return int(body["balance"]), int(body["lifetimePoints"]), body["tier"]

    merged = merge(client, admin, ann, annie)
    token = merged.headers["X-Consistency-Token"]
    assert loyalty(ann, token) == (9, 9, "Gold")  # 4 + 5 points reach Gold together
    assert loyalty(annie, token) == (5, 5, "Silver")  # the source: as it was
    undone = merge(client, admin, ann, annie, "unmerge")
    token = undone.headers["X-Consistency-Token"]
    assert loyalty(ann, token) == (4, 4, "Silver")
    assert loyalty(annie, token) == (5, 5, "Silver")
