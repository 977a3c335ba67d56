"""`/api/docs` works with the network cut: the page and everything it loads come from the app."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import urljoin, urlsplit

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.settings import Settings

ORIGIN = "http://testserver.local"
PAGE = f"{ORIGIN}/api/docs"


class _References(HTMLParser):
    """Every URL the browser would load from the page: scripts, stylesheets, icons, images."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        for name in ("src", "href"):
            value = values.get(name)
            if value is not None and not (tag == "a" and name == "href"):
                self.urls.append(value)


def references(html: str) -> list[str]:
    parser = _References()
    parser.feed(html)
    return parser.urls


@pytest.fixture(scope="module")
def docs_client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    data_dir: Path = tmp_path_factory.mktemp("docs")
    settings = Settings(data_dir=data_dir, jwt_secret="x" * 40)
    with TestClient(create_app(settings, run_projections=False), base_url=ORIGIN) as client:
        yield client


def test_docs_page_loads_every_asset_from_its_own_origin(
    docs_client: TestClient[Litestar],
) -> None:
    page = docs_client.get("/api/docs")

    assert page.status_code == 200
    assert page.headers["content-type"].startswith("text/html")
    urls = [urljoin(PAGE, ref) for ref in references(page.text)]
    kinds = {urlsplit(url).path.rsplit(".", 1)[-1] for url in urls}
    assert {"js", "css", "png"} <= kinds, urls
    for url in urls:
        assert urlsplit(url).netloc == "testserver.local", f"{url} is on another origin"
        asset = docs_client.get(urlsplit(url).path)
        assert asset.status_code == 200, url
        assert len(asset.content) > 100, url
        assert "max-age" in asset.headers["cache-control"]
    assert "cdn." not in page.text


def test_stylesheet_refers_to_nothing_outside(docs_client: TestClient[Litestar]) -> None:
    page = docs_client.get("/api/docs")
    css = next(ref for ref in references(page.text) if ref.endswith(".css"))

    stylesheet = docs_client.get(urljoin(PAGE, css)).text

    assert stylesheet.startswith(("/*", ".swagger-ui")) or "swagger-ui" in stylesheet[:2000]
    for target in re.findall(r"url\(\s*['\"]?([^'\")]+)", stylesheet):
        assert target.startswith("data:"), target
    assert "@import" not in stylesheet


def test_asset_route_serves_only_the_named_files(docs_client: TestClient[Litestar]) -> None:
    page = docs_client.get("/api/docs")
    script = next(ref for ref in references(page.text) if ref.endswith("bundle.js"))
    folder = urljoin(PAGE, script).rsplit("/", 1)[0]

    for name in ("index.html", "..%2F..%2Fpyproject.toml", "swagger-ui-bundle.js.map"):
        assert docs_client.get(f"{folder}/{name}").status_code == 404, name
