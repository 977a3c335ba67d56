"""A card number sent in any body is refused and kept nowhere: no file of the data dir, no row
of the event store (PostgreSQL tables or the SQLite file, and a backup of it), no read model,
search key or cache entry, and no log line (every logger at DEBUG, and the process's output)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from shared.settings import Settings
from tests.e2e.conftest import Headers, stored_position
from tests.e2e.erasure_probes import (
    data_dir_files,
    event_store_backup,
    everything_in_read_models,
    postgres_tables,
)

Client = TestClient[Litestar]
CARD = "4000056655665556"
GROUPED = "5105 1051 0510 5100"


def test_a_card_number_is_in_no_file_row_or_log_line(
    client: Client,
    settings: Settings,
    auth: Callable[..., Headers],
    caplog: pytest.LogCaptureFixture,
    capfd: pytest.CaptureFixture[str],
) -> None:
    caplog.set_level(logging.DEBUG)
    admin = auth()
    created = client.post("/customers", json={"firstName": "Ann", "notes": "ok"}, headers=admin)
    cid = created.json()["id"]
    attempts = [
        ("PUT", f"/customers/{cid}/preferences", {"paymentMethod": {"type": "card", "brand": CARD}}),
        ("PATCH", f"/customers/{cid}", {"notes": f"card {GROUPED}"}),
        ("POST", f"/customers/{cid}/notes", {"text": f"pays with {CARD}"}),
        ("POST", f"/customers/{cid}/communications",
         {"channel": "phone", "direction": "inbound", "subject": CARD}),
        ("POST", "/customers", {"firstName": "Bo", "attributes": {"card": int(CARD)}}),
        ("PUT", f"/customers/{cid}/billing", {"name": "Ann", "taxId": CARD}),
    ]  # fmt: skip
    for method, path, body in attempts:
        headers = admin | {"Idempotency-Key": f"card-{path}-{method}"}
        refused = client.request(method, path, json=body, headers=headers)
        assert refused.status_code == 422, (path, refused.text)
    token = {"X-Consistency-Token": str(stored_position(client))}  # the projections caught up
    assert client.get(f"/customers/{cid}", headers=admin | token).json()["version"] == 1
    dumps = {
        "data dir": data_dir_files(settings),
        "postgres": postgres_tables(settings),
        "read models": everything_in_read_models(client),
        "event store backup": event_store_backup(client),
        "log records": "\n".join(r.getMessage() + repr(r.__dict__) for r in caplog.records),
        "output": "".join(capfd.readouterr()),
    }
    assert (
        '"notes": "ok"' in dumps["read models"]
        or "'notes': 'ok'" in dumps["read models"]
        or ("ok" in dumps["read models"])
    )  # the dumps do see what was stored
    found = [
        (where, needle)
        for where, text in dumps.items()
        for needle in (CARD, GROUPED, GROUPED.replace(" ", ""))
        if needle in text
    ]
    assert found == []
