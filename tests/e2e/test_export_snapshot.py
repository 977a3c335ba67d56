"""An export answers as of its snapshot position even while customers change under it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable

from litestar import Litestar
from litestar.testing import TestClient

from read_side.ports import ListQuery
from read_side.views import CustomerDoc

Client = TestClient[Litestar]


def test_changes_during_an_export_are_not_seen(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    ids = []
    for index in range(250):
        body = {"firstName": f"Ann{index:03d}", "tags": ["club"]}
        response = client.post("/customers", json=body, headers=admin)
        ids.append(response.json()["id"])
    token = response.headers["X-Consistency-Token"]
    export = client.app.state.runtime.export
    query = ListQuery(tenant_id="acme", tags=("club",))

    async def start() -> tuple[int, AsyncIterator[CustomerDoc]]:
        position = await export.position(token)
        return position, export.documents(query, position, page=100)  # pages change under it

    position, documents = client.blocking_portal.call(start)
    first = [client.blocking_portal.call(documents.__anext__) for _ in range(10)]
    # Meanwhile: one not yet written leaves the filter, one already written is renamed, one
    # ahead is renamed, one is deleted, and a new one joins.
    client.patch(f"/customers/{ids[200]}", json={"tags": []}, headers=admin)
    client.patch(f"/customers/{ids[0]}", json={"firstName": "Changed"}, headers=admin)
    client.patch(f"/customers/{ids[150]}", json={"firstName": "Changed"}, headers=admin)
    client.delete(f"/customers/{ids[120]}", headers=admin)
    client.post("/customers", json={"firstName": "Late", "tags": ["club"]}, headers=admin)

    async def rest() -> list[CustomerDoc]:
        return [doc async for doc in documents]

    docs = first + client.blocking_portal.call(rest)
    names = sorted(str(doc["firstName"]) for doc in docs)
    assert names == [f"Ann{index:03d}" for index in range(250)]
    assert len({doc["id"] for doc in docs}) == 250
    assert position >= int(token)
