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


def test_every_worker_serves_each_change_once_the_read_model_has_it(
    tmp_path: Path, auth: Callable[..., Headers]
) -> None:
    """Both workers keep rendered customers in memory (`RenderedCache`); the one that does not
    project learns of a change from the read model's stamp alone: after an update, a soft
    delete and a restore made through the other worker, and seen by the projection (read
    there with the command's token), a plain read here answers the new state, never the
    cached one; another tenant never gets it; an idle worker drops it all after an erasure."""
    admin = auth("admin")
    settings = Settings(data_dir=tmp_path, jwt_secret=SECRET)
    with TestClient(create_app(settings)) as projecting, TestClient(create_app(settings)) as other:
        cache = other.app.state.runtime.read.cache
        created = projecting.post("/customers", json={"firstName": "Zebcached"}, headers=admin)
        zeb, url = created.json()["id"], f"/customers/{created.json()['id']}"
        token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
        assert projecting.get(url, headers=admin | token).status_code == 200
        for _ in range(2):
            assert other.get(url, headers=admin).json()["firstName"] == "Zebcached"
        assert cache.rendered("acme", zeb) is not None
        assert other.get(url, headers=auth("admin", tenant="globex")).status_code == 404

        steps = [
            ("patch", url, {"firstName": "Zebchanged"}, ("firstName", "Zebchanged")),
            ("delete", url, None, ("state", "deleted")),
            ("post", f"{url}/restore", None, ("state", "active")),
        ]
        for method, path, body, (field, value) in steps:
            answer = projecting.request(method.upper(), path, json=body, headers=admin)
            assert answer.status_code == 200, answer.text
            token = {"X-Consistency-Token": answer.headers["x-consistency-token"]}
            assert projecting.get(url, headers=admin | token).json()[field] == value
            read = other.get(url, headers=admin)
            assert read.json()[field] == value, method
            assert read.headers["etag"] == f'"{answer.json()["version"]}"'

        erased = projecting.post(f"{url}/erase", headers=admin)
        token = {"X-Consistency-Token": erased.headers["x-consistency-token"]}
        assert projecting.get(url, headers=admin | token).json()["state"] == "erased"
        cache.sweep()  # what its background task does every second, with no request
        assert "Zebc" not in repr(cache._entries)
