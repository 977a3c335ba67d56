"""Every read of a customer's personal data is in the access audit (issue 10, item 1)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def accesses(client: Client, auth: Callable[..., Headers], customer_id: str) -> list[Any]:
    response = client.get("/audit/access", params={"customerId": customer_id}, headers=auth())
    assert response.status_code == 200, response.text
    items: list[Any] = response.json()["items"]
    return items


def test_every_read_by_id_is_recorded(client: Client, auth: Callable[..., Headers]) -> None:
    created = client.post("/customers", json={"firstName": "Ann"}, headers=auth())
    cid = created.json()["id"]
    token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
    viewer = auth("viewer", subject="vera") | token
    reads = {
        "read": f"/customers/{cid}",
        "orders": f"/customers/{cid}/orders",
        "payments": f"/customers/{cid}/payments",
        "consents": f"/customers/{cid}/consents",
        "invoices": f"/customers/{cid}/invoices",
    }
    for path in reads.values():
        assert client.get(path, headers=viewer).status_code == 200, path
    as_of = client.get(
        f"/customers/{cid}",
        params={"asOf": "2099-01-01T00:00:00Z"},
        headers=auth("auditor", subject="audra") | {"X-Access-Purpose": "complaint 7"},
    )
    assert as_of.status_code == 200, as_of.text
    entries = accesses(client, auth, cid)
    assert [e["action"] for e in entries] == ["asOf", *reversed(list(reads))]
    assert entries[0]["actor"] == "audra"
    assert entries[0]["purpose"] == "complaint 7"
    assert {e["actor"] for e in entries[1:]} == {"vera"}
    assert "Ann" not in str(entries)


def test_a_refused_or_missing_read_records_nothing(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    assert client.get(f"/customers/{cid}", headers=auth("analyst")).status_code == 403
    assert client.get(f"/customers/{cid}", headers=auth(tenant="other")).status_code == 404
    assert accesses(client, auth, cid) == []


def test_a_list_page_is_one_entry_naming_its_customers(
    client: Client, auth: Callable[..., Headers]
) -> None:
    ids = []
    for name in ("Ann", "Anna"):
        created = client.post("/customers", json={"firstName": name}, headers=auth())
        ids.append(created.json()["id"])
    token = {"X-Consistency-Token": created.headers["x-consistency-token"]}
    page = client.get("/customers", params={"q": "ann"}, headers=auth("viewer") | token)
    assert page.json()["total"] == 2
    for cid in ids:
        entries = accesses(client, auth, cid)
        assert [e["action"] for e in entries] == ["list"], entries
        assert sorted(entries[0]["customerIds"]) == sorted(ids)
    empty = client.get("/customers", params={"q": "zed"}, headers=auth("viewer") | token)
    assert empty.json()["items"] == []
