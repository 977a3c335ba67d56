"""`externalId`: settable on create and update, unique per tenant (409), freed on delete and
erase, filtered by `externalId=`."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]


def _create(client: Client, headers: dict[str, str], **fields: object) -> dict[str, object]:
    response = client.post("/customers", json={"firstName": "Ann", **fields}, headers=headers)
    assert response.status_code == 201, response.text
    body: dict[str, object] = response.json()
    return body


def test_set_on_create_and_update_and_unique(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    first = _create(client, admin, externalId="  crm-1 ")
    assert first["externalId"] == "crm-1"
    taken = client.post("/customers", json={"lastName": "B", "externalId": "crm-1"}, headers=admin)
    assert taken.status_code == 409 and taken.json()["existingId"] == first["id"]
    assert "externalId" in taken.json()["detail"]
    second = _create(client, admin, externalId="CRM-1")  # case-sensitive: another id
    moved = client.patch(f"/customers/{first['id']}", json={"externalId": "crm-2"}, headers=admin)
    assert moved.status_code == 200 and moved.json()["externalId"] == "crm-2"
    # crm-1 was released by the change: another customer may take it now.
    retaken = client.patch(
        f"/customers/{second['id']}", json={"externalId": "crm-1"}, headers=admin
    )
    assert retaken.status_code == 200, retaken.text
    clash = client.patch(f"/customers/{second['id']}", json={"externalId": "crm-2"}, headers=admin)
    assert clash.status_code == 409 and clash.json()["existingId"] == first["id"]
    token = clash.headers.get("X-Consistency-Token") or retaken.headers["X-Consistency-Token"]
    found = client.get(
        "/customers", params={"externalId": "crm-2"},
        headers=admin | {"X-Consistency-Token": token},
    )  # fmt: skip
    assert [item["id"] for item in found.json()["items"]] == [first["id"]]
    read = client.get(f"/customers/{first['id']}", headers=admin | {"X-Consistency-Token": token})
    assert read.json()["externalId"] == "crm-2"


def test_bad_values_are_422(client: Client, auth: Callable[..., dict[str, str]]) -> None:
    admin = auth("admin")
    for bad in ("x" * 101, "   ", "a\u0000b", "line\nbreak"):
        response = client.post(
            "/customers", json={"firstName": "A", "externalId": bad}, headers=admin
        )
        assert response.status_code == 422, (bad, response.text)
        assert response.json()["errors"][0]["field"] == "externalId"
    assert (
        client.post(
            "/customers", json={"firstName": "A", "externalId": 5}, headers=admin
        ).status_code
        == 400
    )
    too_long = client.get("/customers", params={"externalId": "x" * 101}, headers=admin)
    assert too_long.status_code == 400


def test_delete_frees_and_restore_reclaims(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    first = _create(client, admin, externalId="e-1")
    assert client.delete(f"/customers/{first['id']}", headers=admin).status_code == 200
    second = _create(client, admin, externalId="e-1")
    restore = client.post(f"/customers/{first['id']}/restore", headers=admin)
    assert restore.status_code == 409 and restore.json()["existingId"] == second["id"]
    erase = client.post(f"/customers/{second['id']}/erase", headers=admin)
    assert erase.status_code == 200, erase.text
    assert client.post(f"/customers/{first['id']}/restore", headers=admin).status_code == 200


def test_other_tenants_do_not_clash(client: Client, auth: Callable[..., dict[str, str]]) -> None:
    _create(client, auth("admin", tenant="acme"), externalId="shared")
    _create(client, auth("admin", tenant="globex"), externalId="shared")
