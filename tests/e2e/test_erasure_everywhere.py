"""After erasure no personal value is left in any byte the service holds, in both profiles:
the data dir's files (SQLite with -wal/-shm), every PostgreSQL table of the schema (COPY ...
TO STDOUT), every MongoDB collection, a full Redis dump, the messages still queued in RabbitMQ
(the inbound queues and their dead-letter queues), the answers of every read endpoint, what
the broker relay would publish now, and a backup of the event store. A rebuild killed right
after it switched generations comes first, so its leftover generation is covered too.

Integration events already published are the subscribers' copies (docs/operations.md): a
queue bound to `customers.events` must show every one of them before the `customer.erased`
that tells the subscriber to drop them, and none after it.
"""

from __future__ import annotations

import asyncio
import functools
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

import entrypoints.runtime as runtime_module
from entrypoints.app import create_app
from shared.principal import Principal, Role
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers, fresh_redis_database
from tests.e2e.erasure_engagement import ENGAGEMENT_NEEDLES, engagement_reads, record_engagement
from tests.e2e.erasure_probes import (
    Profile,
    consumer_on,
    data_dir_files,
    declare_subscriber,
    delete_broker_objects,
    drain,
    event_store_backup,
    every_projection_at_head,
    everything_in_read_models,
    integration_messages,
    postgres_tables,
    publish,
    relay_on,
    wait_until,
)
from write_side.application.attendees import AttendeeInput
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
SECRETS: dict[str, Any] = {
    "firstName": "Zebediah",
    "lastName": "Quuxworth",
    "email": "zeb.quuxworth@example.org",
    "phone": "+14155550199",
    "notes": "allergic to kiwi fruit",
    "dateOfBirth": "1977-07-07",
    "tags": ["zebtag-kiwi"],
    "attributes": {"favouriteFruit": "quuxberry", "shoeSize": "zebsize-44"},
}
BILLING = {
    "name": "Zebediah Billing",
    "taxId": "TAX-ZEB-77",
    "address": {"line1": "77 Quux Lane", "city": "Zebton", "postalCode": "ZB7 7QX"},
}
CONSENT_SOURCE = "zebkiosk-7"
ERASE_REASON = "Zebediah phoned us"
LOYALTY_REASON = "zebvoucher for the kiwi allergy"
ATTENDEE = {
    "firstName": "Zebbo",
    "lastName": "Quuxorder",
    "email": SECRETS["email"],
    "phone": "+1 415 555 0199",
}
OTHER_PAYER = {"name": "Otto Keepme", "email": "otto.keepme@example.org", "phone": "+4930901820"}
PAYER: dict[str, str] = {
    "name": "Zebpayer Quuxpay",
    "email": SECRETS["email"],
    "phone": "+14155550199",
}
NEEDLES = [
    *(v for v in SECRETS.values() if isinstance(v, str)),
    "zebtag-kiwi",
    "quuxberry",
    "zebsize-44",
    CONSENT_SOURCE,
    ERASE_REASON,
    "zebvoucher",
    "Zebediah Billing",
    "TAX-ZEB-77",
    "77 Quux Lane",
    "Zebton",
    "ZB7 7QX",
    "Zebbo",
    "Quuxorder",
    "Zebpayer",
    "Quuxpay",
    "4155550199",
    "quuxworth",
    *ENGAGEMENT_NEEDLES,
]


@pytest.fixture(params=["embedded", "services"])
def profile(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Profile]:
    """`embedded`: SQLite everything. `services`: PostgreSQL, MongoDB-wire, Redis, RabbitMQ,
    with exchanges and queues of this test's own (the broker is shared)."""
    if request.param == "embedded":
        yield Profile(Settings(data_dir=tmp_path, jwt_secret=SECRET))
        return
    unique = request.getfixturevalue("unique_name")
    mongo = request.getfixturevalue("mongo_url").rstrip("/") + "/" + unique
    settings = Settings(
        data_dir=tmp_path,
        event_store_url=request.getfixturevalue("postgres_schema_url"),
        mongo_url=mongo,
        redis_url=fresh_redis_database(request.getfixturevalue("redis_url")),
        amqp_url=request.getfixturevalue("amqp_url"),
        jwt_secret=SECRET,
    )
    names = {
        "events": f"{unique}.events",
        "subscriber": f"{unique}.subscriber",
        "orders": f"{unique}.orders.events",
        "payments": f"{unique}.payments.events",
        "orders_queue": f"{unique}.orders",
        "payments_queue": f"{unique}.payments",
    }
    patch = pytest.MonkeyPatch()
    patch.setattr(runtime_module, "BrokerRelay", relay_on(names["events"]))
    patch.setattr(runtime_module, "InboundConsumer", consumer_on(names))
    asyncio.run(declare_subscriber(settings, names))
    try:
        yield Profile(settings, names)
    finally:
        patch.undo()
        asyncio.run(delete_broker_objects(settings, names))


def leaks(texts: dict[str, str]) -> list[tuple[str, str]]:
    """(where, needle) for every needle found, case-insensitively."""
    return [
        (where, needle)
        for where, text in texts.items()
        for needle in NEEDLES
        if needle.lower() in text.lower()
    ]


# ------------------------------------------------------------------------------ the test
def record_payment(client: Client, profile: Profile, zeb: str, admin: Headers) -> dict[str, Any]:
    """A succeeded payment by the customer's payer: through the broker on the services
    profile (a message naming only its payer), by the command otherwise; returns it."""
    settings = profile.settings
    payment: dict[str, Any] = {"paymentId": "p-zeb", "orderId": "o-zeb", "amount": 4200,
                               "currency": "EUR", "at": "2026-11-20T11:00:00.000Z",
                               "method": "card"}  # fmt: skip
    if settings.amqp_url:  # the real path: a payment message naming only its payer
        body: dict[str, Any] = {**payment, "tenantId": "acme", "payer": PAYER}
        asyncio.run(publish(settings, profile.names["payments"], "payment.succeeded", body))
    else:
        runtime = client.app.state.runtime
        meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
        first, _, last = PAYER["name"].partition(" ")
        payer = AttendeeInput(first, last, PAYER["email"], PAYER["phone"])
        call = functools.partial(
            runtime.commerce.record_payment,
            meta,
            {**payment, "status": "succeeded"},
            customer_id=None,
            payer=payer,
        )
        assert client.blocking_portal.call(call) == zeb

    def paid() -> bool:
        found = client.get(f"/customers/{zeb}/payments", headers=admin)
        return found.status_code == 200 and len(found.json()["items"]) == 1

    wait_until(paid, "the payment")
    return payment


def record_everything(client: Client, profile: Profile, admin: Headers) -> str:
    """A customer with a distinctive value in every field; returns its id."""
    keyed = admin | {"Idempotency-Key": "signup-zeb-1"}
    program = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0}
    assert client.put("/loyalty/program", json=program, headers=admin).is_success
    zeb = client.post("/customers", json=SECRETS, headers=keyed).json()["id"]
    assert client.post("/customers", json=SECRETS, headers=keyed).json()["id"] == zeb
    assert client.put(f"/customers/{zeb}/billing", json=BILLING, headers=admin).is_success
    record_engagement(client, zeb, admin)
    consent = {"granted": True, "source": CONSENT_SOURCE}
    put = client.put(f"/customers/{zeb}/consents/marketing_email", json=consent, headers=admin)
    assert put.is_success, put.text
    order = {"orderId": "o-zeb", "placedAt": "2026-11-20T10:00:00Z", "attendees": [ATTENDEE]}
    attended = client.post("/customers/attendees", json=order, headers=admin)
    assert attended.json()["results"][0]["customerId"] == zeb, attended.text
    settings = profile.settings
    if settings.amqp_url:  # a second order through the broker, as the order system sends it
        placed = {**order, "orderId": "o-zeb-2", "tenantId": "acme"}
        asyncio.run(publish(settings, profile.names["orders"], "order.placed", placed))

        def ordered() -> bool:
            found = client.get(f"/customers/{zeb}/orders", headers=admin)
            return found.status_code == 200 and len(found.json()["items"]) == 2

        wait_until(ordered, "the order message")
    payment = record_payment(client, profile, zeb, admin)
    redeemed = client.post(
        f"/customers/{zeb}/loyalty/redemptions", json={"points": 2, "reason": LOYALTY_REASON},
        headers=admin,
    )  # fmt: skip
    assert redeemed.status_code == 201, redeemed.text
    if settings.amqp_url:  # dead letters: one naming the customer's payer details, one not
        bad = {**payment, "tenantId": "acme", "currency": "XAU"}
        for person in (PAYER, OTHER_PAYER):
            body = {**bad, "paymentId": f"p-bad-{person['name']}", "payer": person}
            asyncio.run(publish(settings, profile.names["payments"], "payment.succeeded", body))
        consumer = client.app.state.runtime.consumer
        wait_until(lambda: consumer.dead_lettered == 2, "two dead letters")
    invoice = client.post(f"/customers/{zeb}/invoices", headers=admin)
    assert invoice.status_code == 201, invoice.text
    token = {"X-Consistency-Token": invoice.headers["x-consistency-token"]}
    assert client.get(f"/customers/{zeb}", headers=admin).json()["firstName"] == "Zebediah"
    found = client.get("/customers", params={"q": "zebed"}, headers=admin | token)
    assert found.json()["total"] == 1
    for query in ({"q": SECRETS["email"]}, {"phone": SECRETS["phone"]}, {"q": "Quuxworth"},
                  {"email": SECRETS["email"]}, {"tag": "zebtag-kiwi"}):  # fmt: skip
        assert client.get("/customers", params=query, headers=admin).json()["total"] == 1, query
    dumped = everything_in_read_models(client)  # the dumps can see what erasure must remove
    assert "Quuxworth" in dumped and "Zebnote: prefers" in dumped and "Zebcard" in dumped
    return str(zeb)


def test_erasure_leaves_no_personal_value_anywhere(
    profile: Profile, auth: Callable[..., Headers]
) -> None:
    from tests.e2e.test_killed_rebuild import kill_rebuild_after_switch

    admin, settings = auth("admin"), profile.settings
    with TestClient(create_app(settings)) as client:
        zeb = record_everything(client, profile, admin)
    for projection in ("customer_view", "search"):
        kill_rebuild_after_switch(settings, projection)

    with TestClient(create_app(settings)) as client:
        assert client.get(f"/customers/{zeb}", headers=admin).json()["firstName"] == "Zebediah"
        erased = client.post(f"/customers/{zeb}/erase", params={"reason": ERASE_REASON}, headers=admin)  # fmt: skip
        assert erased.status_code == 200, erased.text
        consistent = admin | {"X-Consistency-Token": erased.headers["x-consistency-token"]}
        after = client.get(f"/customers/{zeb}", headers=consistent)
        assert after.json()["state"] == "erased"
        assert after.json()["visitCount"] == (2 if settings.amqp_url else 1)  # facts stay
        every_projection_at_head(client)
        auditor = auth("auditor")
        texts = {
            "GET": after.text + client.get(f"/customers/{zeb}", headers=admin).text,
            "export": client.get(f"/customers/{zeb}/export", headers=auditor).text,
            "history": client.get(f"/customers/{zeb}/history", headers=auditor).text,
            "orders": client.get(f"/customers/{zeb}/orders", headers=consistent).text,
            "payments": client.get(f"/customers/{zeb}/payments", headers=consistent).text,
            "loyalty": client.get(f"/customers/{zeb}/loyalty", headers=consistent).text,
            "invoice": client.get(f"/customers/{zeb}/invoices/1", headers=consistent).text,
            "search": client.get(
                "/customers", params={"q": "zebediah", "state": "erased"}, headers=consistent
            ).text,
            "asOf": client.get(
                f"/customers/{zeb}", params={"asOf": "2030-01-01T00:00:00Z"}, headers=auditor
            ).text,
            "read models": everything_in_read_models(client),
            "relay now": integration_messages(client),
            "event store backup": event_store_backup(client),
            "data dir": data_dir_files(settings),
            "postgres": postgres_tables(settings),
        } | engagement_reads(client, zeb, consistent)
        if settings.amqp_url:
            names = profile.names
            inbound = [names[q] for q in ("orders_queue", "payments_queue")]
            queued = asyncio.run(drain(settings, [*inbound, *(f"{q}.dlq" for q in inbound)]))
            texts["queued"] = "\n".join(b.decode("latin-1") for bs in queued.values() for b in bs)
            kept = queued[f"{names['payments_queue']}.dlq"]
            assert ["Otto Keepme" in body.decode() for body in kept] == [True]  # others stay
            published = asyncio.run(drain(settings, [names["subscriber"]]))[names["subscriber"]]
            texts["published after the erasure"] = subscriber_copies_after_erasure(published, zeb)
        assert leaks(texts) == []
        assert "[erased]" in texts["history"]
        payments = client.get(f"/customers/{zeb}/payments", headers=consistent).json()["items"]
        assert payments[0]["amount"] == 4200


def subscriber_copies_after_erasure(bodies: list[bytes], customer_id: str) -> str:
    """The subscriber's messages about the customer from its `customer.erased` on (each
    earlier one is a copy the erasure message tells the subscriber to drop)."""
    about = [json.loads(b) for b in bodies if json.loads(b).get("customerId") == customer_id]
    types = [m["type"] for m in about]
    assert "customer.created" in types
    assert "customer.erased" in types, types
    return json.dumps(about[types.index("customer.erased") :])
