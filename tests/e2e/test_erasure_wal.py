"""While the service runs, SQLite's write-ahead logs keep old page images: after an erasure
neither `read_models.db-wal` nor `events.db-wal` may still hold the erased values or the
customer's wrapped data key (which, with the master key, would open every sealed value)."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.erasure_probes import every_projection_at_head
from tests.integration.raw_event_store import RawStore

SECRET = "wal-test-secret-of-sufficient-length-000"
NEEDLES = [b"Walburga", b"Quillfeather", b"walburga.q@example.org", b"walnotes-77", b"waltag"]


def held_bytes(data_dir: Path) -> dict[str, bytes]:
    """Every SQLite file of the data dir, with its -wal and -shm, read while the app runs."""
    return {path.name: path.read_bytes() for path in data_dir.glob("*.db*") if path.is_file()}


def test_wal_files_hold_no_erased_value_while_the_service_runs(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="s", ttl_seconds=60)
    headers = {"Authorization": f"Bearer {token}"}
    body = {"firstName": "Walburga", "lastName": "Quillfeather",
            "email": "walburga.q@example.org", "notes": "walnotes-77", "tags": ["waltag"]}  # fmt: skip
    with TestClient(create_app(settings)) as client:
        created = client.post("/customers", json=body, headers=headers)
        wid = created.json()["id"]
        consistent = headers | {"X-Consistency-Token": created.headers["x-consistency-token"]}
        assert client.get(f"/customers/{wid}", headers=consistent).status_code == 200
        (wrapped,) = [row[1] for row in RawStore(settings).rows("customer_keys")]
        files = held_bytes(tmp_path)
        assert any(b"Walburga" in content for content in files.values())

        erased = client.post(f"/customers/{wid}/erase", headers=headers)
        consistent = headers | {"X-Consistency-Token": erased.headers["x-consistency-token"]}
        assert client.get(f"/customers/{wid}", headers=consistent).json()["state"] == "erased"
        assert (
            client.get("/customers", params={"q": "walburga"}, headers=consistent).json()["total"]
            == 0
        )
        # the token waits for the view and the search index only; the other projections
        # (segments.db, read_models.db) take their turns after them (projectors.pacing)
        every_projection_at_head(client)
        files = held_bytes(tmp_path)
        leaks = [
            (name, needle)
            for name, content in files.items()
            for needle in [*NEEDLES, bytes(wrapped)]
            if needle.lower() in content.lower()
        ]
        assert {"events.db", "read_models.db"} <= set(files)
        assert leaks == []
