"""Custom attributes: integers stay integers, filters compare numbers as numbers, and updates
are JSON merge patches (RFC 7396) of the attribute object (issue 10, items 2 and 3)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def create(client: Client, headers: Headers, attributes: dict[str, Any]) -> Any:
    return client.post("/customers", json={"firstName": "Ann", "attributes": attributes},
                       headers=headers)  # fmt: skip


def matching(client: Client, headers: Headers, *attrs: str) -> list[str]:
    page = client.get("/customers", params={"attr": list(attrs)}, headers=headers)
    assert page.status_code == 200, page.text
    return [item["id"] for item in page.json()["items"]]


def test_integers_stay_integers_and_match_as_numbers(
    client: Client, auth: Callable[..., Headers]
) -> None:
    # 12 digits: a run of 13 or more is refused as a possible card number (test below)
    created = create(client, auth(), {"seats": 3, "ratio": 2.5, "limit": 10**12 - 1, "vip": True})
    assert created.status_code == 201, created.text
    attributes = created.json()["attributes"]
    assert type(attributes["seats"]) is int and attributes["seats"] == 3
    assert type(attributes["limit"]) is int and attributes["limit"] == 10**12 - 1
    assert attributes["ratio"] == 2.5
    cid = created.json()["id"]
    read = auth("viewer") | {"X-Consistency-Token": created.headers["x-consistency-token"]}
    got = client.get(f"/customers/{cid}", headers=read).json()["attributes"]
    assert type(got["seats"]) is int and got["seats"] == 3
    assert '"seats":3,' in client.get(f"/customers/{cid}", headers=read).text.replace(" ", "")
    for query in ("seats:3", "seats:3.0", "seats:3e0", "ratio:2.50", "vip:true"):
        assert matching(client, read, query) == [cid], query
    assert matching(client, read, "seats:4") == []
    assert matching(client, read, "seats:3", "ratio:2.5") == [cid]


def test_integers_beyond_two_to_the_53_are_refused(
    client: Client, auth: Callable[..., Headers]
) -> None:
    """Every integer past 2**53 has 16 or more digits, so the card-number guard (issue 12: a
    13-19 digit run anywhere in a body) refuses it before validation: still 422, nothing kept."""
    for value in (2**53 + 1, 2**63, -(2**53) - 1, 10**30):
        response = create(client, auth(), {"big": value})
        assert response.status_code == 422, (value, response.text)
        assert response.json()["type"].endswith("/card-number-refused"), response.text


def test_patch_and_put_merge_attributes_and_null_removes_one(
    client: Client, auth: Callable[..., Headers]
) -> None:
    created = create(client, auth(), {"a": "x", "b": 1, "e": True})
    cid = created.json()["id"]
    patched = client.patch(f"/customers/{cid}", json={"attributes": {"a": "y"}}, headers=auth())
    assert patched.status_code == 200, patched.text
    assert patched.json()["attributes"] == {"a": "y", "b": 1, "e": True}
    removed = client.put(f"/customers/{cid}", json={"attributes": {"e": None, "c": 2}},
                         headers=auth())  # fmt: skip
    assert removed.status_code == 200, removed.text
    assert removed.json()["attributes"] == {"a": "y", "b": 1, "c": 2}
    unchanged = client.patch(f"/customers/{cid}", json={"attributes": {"zz": None}}, headers=auth())
    assert unchanged.status_code == 200
    assert unchanged.json()["version"] == removed.json()["version"]
    cleared = client.patch(f"/customers/{cid}", json={"attributes": None}, headers=auth())
    assert cleared.json()["attributes"] == {}
    fresh = create(client, auth(), {"a": 1, "gone": None})
    assert fresh.status_code == 201, fresh.text
    assert fresh.json()["attributes"] == {"a": 1}
    history = client.get(f"/customers/{cid}/history", headers=auth()).json()["items"]
    assert history[2]["changes"]["attributes"]["to"] == {"a": "y", "b": 1, "c": 2}


def test_the_merged_object_still_holds_at_most_fifty_keys(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = create(client, auth(), {f"k{i}": i for i in range(50)}).json()["id"]
    response = client.patch(f"/customers/{cid}", json={"attributes": {"one": 1}}, headers=auth())
    assert response.status_code == 422, response.text
    swap = client.patch(f"/customers/{cid}", json={"attributes": {"k0": None, "one": 1}},
                        headers=auth())  # fmt: skip
    assert swap.status_code == 200, swap.text
    assert len(swap.json()["attributes"]) == 50
