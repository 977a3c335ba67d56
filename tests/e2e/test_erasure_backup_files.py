"""The embedded event store's own files (and their WAL/backup companions) hold no personal
value in clear: the needles of the erasure proof, looked for byte by byte."""

from __future__ import annotations

from pathlib import Path

from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.settings import Settings
from tests.e2e.test_erasure_everywhere import NEEDLES, SECRETS


def test_backup_files_of_the_embedded_store_hold_no_personal_values(tmp_path: Path) -> None:
    """The SQLite event store file itself never holds a personal value in clear."""
    from shared.http.auth import mint_token

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
