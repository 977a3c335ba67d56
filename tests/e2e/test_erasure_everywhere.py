"""After erasure no personal value is left anywhere: raw event store, read models, search,
cache, exports, history, integration messages published afterwards, and backups."""

from __future__ import annotations

import json
import sqlite3
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from projectors.envelopes import EventLog
from shared.integration import encode, to_integration_event
from shared.principal import Principal, Role
from tests.e2e.conftest import Headers
from tests.integration.raw_event_store import RawStore
from write_side.application.decisions import CommandMeta

Client = TestClient[Litestar]
SECRETS = {
    "firstName": "Zebediah",
    "lastName": "Quuxworth",
    "email": "zeb.quuxworth@example.org",
    "phone": "+14155550199",
    "notes": "allergic to kiwi fruit",
    "dateOfBirth": "1977-07-07",
    "tags": ["zebtag-kiwi"],
    "attributes": {"favouriteFruit": "quuxberry"},
}
BILLING = {
    "name": "Zebediah Billing",
    "taxId": "TAX-ZEB-77",
    "address": {"line1": "77 Quux Lane", "city": "Zebton"},
}
CONSENT_SOURCE = "zebkiosk-7"
ERASE_REASON = "Zebediah phoned us"
NEEDLES = [
    *(v for v in SECRETS.values() if isinstance(v, str)),
    "zebtag-kiwi",
    "quuxberry",
    CONSENT_SOURCE,
    ERASE_REASON,
    "Zebediah Billing",
    "TAX-ZEB-77",
    "77 Quux Lane",
    "Zebton",
    "4155550199",
]


def everything_in_read_models(client: Client) -> str:
    """A text dump of every read model, search index and cache of the running profile."""
    runtime = client.app.state.runtime
    settings = runtime.settings
    parts: list[str] = []
    if settings.mongo_url:
        mongo = next(c for c in runtime.read.clients if type(c).__name__ == "AsyncMongoClient")

        async def dump_mongo() -> str:
            database = mongo.get_default_database()
            texts = []
            for name in await database.list_collection_names():
                texts += [json.dumps(doc, default=str) async for doc in database[name].find({})]
            return "\n".join(texts)

        parts.append(client.blocking_portal.call(dump_mongo))
    if settings.redis_url:
        import redis

        store: Any = redis.Redis.from_url(settings.redis_url, decode_responses=True)
        readers: dict[str, Callable[[str], Any]] = {
            "string": store.get,
            "hash": store.hgetall,
            "set": store.smembers,
            "zset": lambda k: store.zrange(k, 0, -1),
            "list": lambda k: store.lrange(k, 0, -1),
        }
        for key in store.scan_iter(count=1000):
            parts.append(f"{key!r} {readers[store.type(key)](key)!r}")
        store.close()
    read_db = settings.data_dir / "read_models.db"
    if read_db.exists():
        backup_path = settings.data_dir / f"backup-{uuid.uuid4().hex}.db"
        with sqlite3.connect(read_db) as source, sqlite3.connect(backup_path) as backup:
            source.backup(backup)
            parts.append("\n".join(source.iterdump()))
        parts.append(backup_path.read_bytes().decode("latin-1"))
    cache = getattr(runtime.read.cache, "_entries", None)
    if cache is not None:
        parts.append(json.dumps(list(cache.values()), default=str))
    return "\n".join(parts)


def integration_messages(client: Client) -> str:
    """What the broker relay would publish now (after erasure) for every stored event."""
    log = EventLog(client.app.state.runtime.store)
    batch = log.read(0, 100_000)
    return "\n".join(encode(to_integration_event(e)).decode() for e in batch.envelopes)


def event_store_backup(client: Client) -> str:
    raw = RawStore(client.app.state.runtime.settings)
    return "\n".join(part.decode("latin-1") for part in raw.dump())


def test_erasure_leaves_no_personal_value_anywhere(
    client: Client, auth: Callable[..., Headers]
) -> None:
    admin = auth("admin")
    zeb = client.post("/customers", json=SECRETS, headers=admin).json()["id"]
    client.put(f"/customers/{zeb}/billing", json=BILLING, headers=admin)
    client.put(
        f"/customers/{zeb}/consents/marketing_email",
        json={"granted": True, "source": CONSENT_SOURCE},
        headers=admin,
    )
    order = {
        "orderId": "o-zeb",
        "placedAt": "2026-11-20T10:00:00Z",
        "attendees": [{"email": SECRETS["email"]}],
    }
    client.post("/customers/attendees", json=order, headers=admin)
    runtime = client.app.state.runtime
    meta = CommandMeta(Principal("payments", "acme", frozenset({Role.STAFF})))
    payment = {"paymentId": "p-zeb", "orderId": "o-zeb", "amount": 4200, "currency": "EUR",
               "status": "succeeded", "at": "2026-11-20T11:00:00.000Z", "method": "card"}  # fmt: skip
    client.blocking_portal.call(
        lambda: runtime.commerce.record_payment(meta, payment, customer_id=zeb, payer=None)
    )
    invoice = client.post(f"/customers/{zeb}/invoices", headers=admin)
    assert invoice.status_code == 201
    token = invoice.headers["x-consistency-token"]
    before = client.get(f"/customers/{zeb}", headers=admin | {"X-Consistency-Token": token}).json()
    assert before["firstName"] == "Zebediah"
    assert client.get("/customers", params={"q": "zebed"}, headers=admin).json()["total"] == 1
    assert "Quuxworth" in everything_in_read_models(client)

    erased = client.post(f"/customers/{zeb}/erase", params={"reason": ERASE_REASON}, headers=admin)
    assert erased.status_code == 200
    token = erased.headers["x-consistency-token"]
    consistent = admin | {"X-Consistency-Token": token}
    after = client.get(f"/customers/{zeb}", headers=consistent)
    assert after.json()["state"] == "erased"
    assert after.json()["visitCount"] == 1

    views = [
        after.text,
        client.get(f"/customers/{zeb}/export", headers=auth("auditor")).text,
        client.get(f"/customers/{zeb}/history", headers=auth("auditor")).text,
        client.get(f"/customers/{zeb}/orders", headers=consistent).text,
        client.get(f"/customers/{zeb}/payments", headers=consistent).text,
        client.get(f"/customers/{zeb}/invoices/1", headers=consistent).text,
        client.get(
            "/customers", params={"q": "zebediah", "state": "erased"}, headers=consistent
        ).text,
        client.get(
            f"/customers/{zeb}", params={"asOf": "2030-01-01T00:00:00Z"}, headers=auth("auditor")
        ).text,
        everything_in_read_models(client),
        integration_messages(client),
        event_store_backup(client),
    ]
    leaks = [
        (index, needle)
        for index, view in enumerate(views)
        for needle in NEEDLES
        if needle.lower() in view.lower()
    ]
    assert leaks == []
    assert "[erased]" in views[2]
    payments = client.get(f"/customers/{zeb}/payments", headers=consistent).json()["items"]
    assert payments[0]["amount"] == 4200


def test_backup_files_of_the_embedded_store_hold_no_personal_values(tmp_path: Path) -> None:
    """The SQLite event store file itself never holds a personal value in clear."""
    from entrypoints.app import create_app
    from shared.http.auth import mint_token
    from shared.settings import Settings

    secret = "backup-test-secret-of-sufficient-length-0"
    settings = Settings(data_dir=tmp_path, jwt_secret=secret)
    headers = {
        "Authorization": "Bearer "
        + mint_token(secret, tenant="acme", roles=["admin"], subject="s", ttl_seconds=60)
    }
    with TestClient(create_app(settings)) as client:
        client.post("/customers", json=SECRETS, headers=headers)
    for path in tmp_path.glob("events.db*"):
        content = path.read_bytes().lower()
        assert not [n for n in NEEDLES if n.lower().encode() in content], path
