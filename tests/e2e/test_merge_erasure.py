"""Erasing a customer that absorbed a duplicate erases the duplicate's personal data too: after
the erasure of the target, no value the source ever had is readable anywhere the service keeps
bytes (read models, search index, cache, data dir, event store tables and backup, the relay's
messages), on every profile."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from shared.settings import Settings
from tests.e2e.conftest import Headers
from tests.e2e.erasure_probes import (
    data_dir_files,
    event_store_backup,
    every_projection_at_head,
    everything_in_read_models,
    integration_messages,
    postgres_tables,
)

Client = TestClient[Litestar]
SOURCE = {
    "firstName": "Quennell",
    "lastName": "Zorbaxter",
    "email": "quennell.zorbaxter@example.org",
    "phone": "+14155550177",
    "dateOfBirth": "1966-06-06",
    "notes": "zorbnote about the quennell allergy",
    "tags": ["zorbtag"],
    "attributes": {"zorbkey": "zorbvalue"},
}
NOTE = "zorbaxter sits by the window"
CONSENT_SOURCE = "zorbkiosk-12"
NEEDLES = [
    "Quennell", "Zorbaxter", "quennell.zorbaxter", "4155550177", "1966-06-06", "zorbnote",
    "zorbtag", "zorbkey", "zorbvalue", NOTE, CONSENT_SOURCE, "Zorbbilling",
]  # fmt: skip


def test_erasing_the_target_leaves_nothing_of_the_source(
    client: Client, settings: Settings, auth: Callable[..., Headers]
) -> None:
    staff, admin = auth("staff"), auth("admin")
    target = client.post("/customers", json={"firstName": "Ann"}, headers=staff).json()["id"]
    source = client.post("/customers", json=SOURCE, headers=staff).json()["id"]
    order = {"orderId": "zorb-order", "placedAt": "2026-11-20T10:00:00Z",
             "attendees": [{"firstName": "Quennell", "email": SOURCE["email"]}]}  # fmt: skip
    assert client.post("/customers/attendees", json=order, headers=staff).is_success
    consent = {"granted": True, "source": CONSENT_SOURCE, "legalBasis": "consent"}
    assert client.put(f"/customers/{source}/consents/sms", json=consent, headers=staff).is_success
    assert client.post(f"/customers/{source}/notes", json={"text": NOTE}, headers=staff).is_success
    billing = {"name": "Zorbbilling Ltd", "address": {"line1": "1 St", "country": "GB"}}
    assert client.put(f"/customers/{source}/billing", json=billing, headers=staff).is_success
    merged = client.post(f"/customers/{target}/merge", json={"sourceId": source}, headers=admin)
    assert merged.status_code == 200 and merged.json()["email"] == SOURCE["email"]

    erased = client.post(f"/customers/{target}/erase", headers=admin)
    assert erased.status_code == 200, erased.text
    read = admin | {"X-Consistency-Token": erased.headers["X-Consistency-Token"]}
    shown = client.get(f"/customers/{source}", headers=read).json()
    assert shown["state"] == "erased" and shown["email"] is None
    assert client.get(f"/customers/{target}", headers=read).json()["state"] == "erased"
    assert client.get(f"/customers/{source}/history", headers=read).json()["items"]
    every_projection_at_head(client)

    dumps = {
        "read models": everything_in_read_models(client),
        "data dir": data_dir_files(settings),
        "postgres": postgres_tables(settings),
        "relay": integration_messages(client),
        "backup": event_store_backup(client),
    }
    for where, text in dumps.items():
        found = [needle for needle in NEEDLES if needle.lower() in text.lower()]
        assert found == [], where
    # The email is free again: a new customer may take it.
    again = client.post("/customers", json={"email": SOURCE["email"]}, headers=staff)
    assert again.status_code == 201, again.text
