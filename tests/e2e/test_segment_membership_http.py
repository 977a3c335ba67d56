"""Segment membership as a projection, over HTTP: members page in `GET /customers` order with an
opaque cursor, an erasure takes the customer out at the erasure's token, and a blue/green
rebuild of `segment_membership` keeps every count and member."""

from __future__ import annotations

import time
from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def _create(client: Client, auth: Callable[..., Headers], index: int) -> tuple[str, str]:
    body = {"firstName": f"P{index}", "email": f"p{index}@example.com", "tags": ["page"]}
    created = client.post("/customers", json=body, headers=auth())
    assert created.status_code == 201, created.text
    return str(created.json()["id"]), created.headers["x-consistency-token"]


def _until_no_rebuild(client: Client, auth: Callable[..., Headers]) -> None:
    deadline = time.monotonic() + 60
    while any(row["rebuild"] for row in
              client.get("/admin/projections", headers=auth()).json()["items"]):  # fmt: skip
        assert time.monotonic() < deadline
        time.sleep(0.2)


def test_members_page_like_customers_and_survive_erasure_and_rebuild(
    client: Client, auth: Callable[..., Headers]
) -> None:
    made = [_create(client, auth, i) for i in range(7)]
    ids, written = [cid for cid, _ in made], {"X-Consistency-Token": made[-1][1]}
    segment = client.post("/segments", json={"name": "p", "filter": {"tag": ["page"]}},
                          headers=auth("analyst")).json()  # fmt: skip
    assert segment["count"] == 7
    url = f"/segments/{segment['id']}/members"
    seen: list[str] = []
    cursor = None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(url, params=params, headers=auth("viewer"))
        assert page.status_code == 200 and page.json()["total"] == 7, page.text
        seen += [item["id"] for item in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            break
    listed = client.get("/customers", params={"tag": "page", "limit": 20}, headers=auth() | written)
    assert seen == [item["id"] for item in listed.json()["items"]]  # newest first, as there
    assert sorted(seen) == sorted(ids)
    bad = client.get(url, params={"cursor": "%%%"}, headers=auth("viewer"))
    assert bad.status_code == 400 and bad.headers["content-type"] == "application/problem+json"
    erased = client.post(f"/customers/{ids[0]}/erase", params={"reason": "asked"}, headers=auth())
    assert erased.status_code == 200, erased.text
    token = {"X-Consistency-Token": erased.headers["x-consistency-token"]}
    after = client.get(f"/segments/{segment['id']}", headers=auth("analyst") | token)
    assert after.json()["count"] == 6
    _until_no_rebuild(client, auth)  # the backfill at start-up may still be finishing
    started = client.post("/admin/projections/segment_membership/rebuild", headers=auth())
    assert started.status_code == 202, started.text
    _until_no_rebuild(client, auth)
    again = client.get(url, params={"limit": 100}, headers=auth("viewer"))
    assert again.json()["total"] == 6
    assert [item["id"] for item in again.json()["items"]] == [i for i in seen if i != ids[0]]
