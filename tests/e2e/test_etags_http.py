"""Reads by id carry `ETag: "<version>"` and answer 304 to a matching If-None-Match (issue 10.4)."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def test_get_customer_sends_its_version_and_honours_if_none_match(
    client: Client, auth: Callable[..., Headers]
) -> None:
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth())
    cid = created.json()["id"]
    token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
    first = client.get(f"/customers/{cid}", headers=auth("viewer") | token)
    assert first.status_code == 200
    assert first.headers["etag"] == '"1"'
    for header in ('"1"', 'W/"1"', '"7", "1"', "*"):
        again = client.get(f"/customers/{cid}", headers=auth("viewer") | {"If-None-Match": header})
        assert again.status_code == 304, (header, again.text)
        assert again.content == b""
        assert again.headers["etag"] == '"1"'
    changed = client.patch(f"/customers/{cid}", json={"lastName": "Lee"}, headers=auth())
    fresh = auth("viewer") | {"X-Consistency-Token": changed.headers["x-consistency-token"]}
    stale = client.get(f"/customers/{cid}", headers=fresh | {"If-None-Match": '"1"'})
    assert stale.status_code == 200
    assert stale.json()["lastName"] == "Lee"
    assert stale.headers["etag"] == '"2"'


def test_as_of_and_record_reads_carry_the_version_too(
    client: Client, auth: Callable[..., Headers]
) -> None:
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth())
    cid = created.json()["id"]
    token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
    as_of = client.get(
        f"/customers/{cid}", params={"asOf": "2099-01-01T00:00:00Z"}, headers=auth() | token
    )
    assert as_of.headers["etag"] == '"1"'
    for path in ("orders", "payments", "consents", "invoices"):
        url = f"/customers/{cid}/{path}"
        first = client.get(url, headers=auth("viewer") | token)
        assert first.headers["etag"] == '"1"', path
        again = client.get(url, headers=auth("viewer") | {"If-None-Match": '"1"'})
        assert again.status_code == 304, path


def test_a_missing_customer_is_404_whatever_if_none_match_says(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    other = client.get(f"/customers/{cid}", headers=auth(tenant="other") | {"If-None-Match": "*"})
    assert other.status_code == 404
