"""A full page of 100 customers is a personal read like any other: it answers 200 and every
customer on it finds the read in its access audit, on every profile.

FerretDB (the services profile's MongoDB) indexes an array field as one btree row, which holds
about 2.7 KB: an entry naming 100 customer ids does not fit, and the page answered 503 (the
audit fails closed). A page is therefore recorded as several entries of at most
`LIST_ENTRY_IDS` ids each.
"""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from read_side.records import LIST_ENTRY_IDS
from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def test_a_page_of_100_is_served_and_audited_for_each_customer(
    client: Client, auth: Callable[..., Headers]
) -> None:
    admin, token = auth(), ""
    ids = []
    for number in range(100):
        created = client.post("/customers", json={"firstName": f"P{number}"}, headers=admin)
        assert created.status_code == 201, created.text
        ids.append(created.json()["id"])
        token = created.headers["x-consistency-token"]
    reader = auth("viewer", subject="pager") | {"X-Consistency-Token": token}
    page = client.get("/customers", params={"limit": 100}, headers=reader)
    assert page.status_code == 200, page.text
    shown = [item["id"] for item in page.json()["items"]]
    assert sorted(shown) == sorted(ids)
    for customer_id in (shown[0], shown[LIST_ENTRY_IDS], shown[-1]):
        found = client.get("/audit/access", params={"customerId": customer_id}, headers=admin)
        assert found.status_code == 200, found.text
        lists = [e for e in found.json()["items"] if e["action"] == "list"]
        assert [e["actor"] for e in lists] == ["pager"], customer_id
        assert customer_id in lists[0]["customerIds"]
        assert lists[0]["count"] <= LIST_ENTRY_IDS
