"""`GET /console`: one public page and a whitelist of assets from the package, served with a
policy that allows only this origin's scripts; the role table comes from `shared.principal`."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from entrypoints.console import ASSETS
from shared.principal import ROLE_PERMISSIONS
from shared.settings import Settings


@pytest.fixture
def client(tmp_path: Path) -> Iterator[TestClient[Litestar]]:
    with TestClient(create_app(Settings(data_dir=tmp_path, jwt_secret="c" * 40))) as test_client:
        yield test_client


def test_the_page_is_public_and_allows_only_its_own_scripts(client: TestClient[Litestar]) -> None:
    response = client.get("/console?q=ada%20lovelace")

    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self'" in policy and "frame-ancestors 'none'" in policy
    assert "unsafe-inline" not in policy
    assert not re.search(r"<script(?![^>]*(src=|application/json))", response.text)
    assert "http://" not in response.text and "https://" not in response.text


def test_the_role_table_is_the_servers(client: TestClient[Litestar]) -> None:
    page = client.get("/console").text
    table = json.loads(page.split('id="role-table">')[1].split("</script>")[0])

    assert table == {r.value: sorted(p.value for p in ps) for r, ps in ROLE_PERMISSIONS.items()}


def test_every_asset_is_shipped_and_nothing_else_is_served(client: TestClient[Litestar]) -> None:
    for name, media_type in ASSETS.items():
        response = client.get(f"/console/assets/{name}")
        assert response.status_code == 200, name
        assert response.headers["content-type"].startswith(media_type)
        # The SVG namespace is a name (createElementNS), never fetched: every other URL is.
        content = response.content.replace(b"'http://www.w3.org/2000/svg'", b"")
        assert b"https://" not in content and b"http://" not in content, name
    assert client.get("/console/assets/__init__.py").status_code == 404
    assert client.get("/console/assets/..%2Fconsole.py").status_code == 404
    assert client.get("/console/assets/index.html").status_code == 404


def test_every_module_the_page_imports_is_whitelisted(client: TestClient[Litestar]) -> None:
    imported: set[str] = set()
    for name in ASSETS:
        if name.endswith(".js"):
            imported |= set(
                re.findall(r"from '\./([\w-]+\.js)'", client.get(f"/console/assets/{name}").text)
            )
    assert imported <= set(ASSETS)
