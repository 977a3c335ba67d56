"""`serve --workers N` on the embedded profile: every worker has an in-process document cache,
but only the worker that runs the projections invalidates its own. Another worker that cached
a customer before an erasure must not serve the erased name afterwards (it did, until its LRU
evicted the entry: forever, for a customer read now and then)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.settings import Settings
from tests.e2e.conftest import SECRET, Headers


def test_a_worker_that_does_not_project_never_serves_an_erased_document(
    tmp_path: Path, auth: Callable[..., Headers]
) -> None:
    admin = auth("admin")
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as projecting, TestClient(create_app(settings)) as other:
        assert projecting.app.state.runtime.runs_projections
        assert not other.app.state.runtime.runs_projections
        created = projecting.post("/customers", json={"firstName": "Zebworker"}, headers=admin)
        zeb = created.json()["id"]
        token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
        assert other.get(f"/customers/{zeb}", headers=admin | token).status_code == 200
        for _ in range(2):  # read (and cached) by the other worker
            assert other.get(f"/customers/{zeb}", headers=admin).json()["firstName"] == "Zebworker"

        erased = projecting.post(f"/customers/{zeb}/erase", headers=admin)
        token = {"X-Consistency-Token": erased.headers["x-consistency-token"]}
        assert other.get(f"/customers/{zeb}", headers=admin | token).json()["state"] == "erased"
        answer = other.get(f"/customers/{zeb}", headers=admin)
        assert answer.json()["state"] == "erased"
        assert "Zebworker" not in answer.text


def test_another_worker_cannot_decrypt_once_the_key_is_shredded(
    tmp_path: Path, auth: Callable[..., Headers]
) -> None:
    """Each process caches unwrapped data keys (5 minutes). With PostgreSQL a LISTEN/NOTIFY
    signal evicts a shredded key everywhere; on embedded SQLite another worker kept decrypting
    the erased customer's history, export and `asOf` until its cached key expired."""
    auditor = auth("auditor")
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as erasing, TestClient(create_app(settings)) as other:
        created = erasing.post("/customers", json={"firstName": "Zebkeyed"}, headers=auth())
        zeb = created.json()["id"]
        assert "Zebkeyed" in other.get(f"/customers/{zeb}/history", headers=auditor).text

        assert erasing.post(f"/customers/{zeb}/erase", headers=auth()).status_code == 200
        for path in ("history", "export"):
            answer = other.get(f"/customers/{zeb}/{path}", headers=auditor)
            assert answer.status_code == 200, answer.text
            assert "Zebkeyed" not in answer.text, path
        as_of = other.get(f"/customers/{zeb}", params={"asOf": "2100-01-01T00:00:00Z"},
                          headers=auditor)  # fmt: skip
        assert "Zebkeyed" not in as_of.text
