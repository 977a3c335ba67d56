"""Command endpoints over HTTP, on both event stores."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers, stored_position

Client = TestClient[Litestar]
ANN = {
    "firstName": " Ann ",
    "lastName": "Lee",
    "email": "Ann@Example.COM",
    "phone": "(415) 555-2671",
}


def create(client: Client, headers: Headers, body: dict[str, Any] | None = None) -> Any:
    response = client.post("/customers", json=body or ANN, headers=headers)
    assert response.status_code == 201, response.text
    return response


def test_create_returns_normalised_customer_with_headers(
    client: Client, auth: Callable[..., Headers]
) -> None:
    response = create(client, auth("staff"))
    body = response.json()
    assert body["firstName"] == "Ann" and body["email"] == "Ann@example.com"
    assert body["phone"] == "+14155552671"
    assert body["type"] == "unregistered" and body["state"] == "active" and body["version"] == 1
    assert body["visitCount"] == 0 and body["tags"] == [] and body["attributes"] == {}
    assert body["stateHistory"][0]["by"] == "alice"
    assert response.headers["location"] == f"/customers/{body['id']}"
    assert response.headers["etag"] == '"1"'
    assert int(response.headers["x-consistency-token"]) >= 1


def test_phone_region_reads_national_numbers(client: Client, auth: Callable[..., Headers]) -> None:
    body = create(client, auth(), {"phone": "020 7183 8750", "phoneRegion": "GB"}).json()
    assert body["phone"] == "+442071838750"


def test_partial_update_changes_only_present_fields_and_null_clears(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer = create(client, auth()).json()
    url = f"/customers/{customer['id']}"
    put = client.put(url, json={"notes": "likes tea", "phone": None}, headers=auth())
    assert put.status_code == 200, put.text
    assert put.json()["notes"] == "likes tea" and put.json()["phone"] is None
    assert put.json()["firstName"] == "Ann" and put.json()["version"] == 2
    patch = client.patch(
        url, json={"tags": ["vip"], "attributes": {"tier": "gold"}}, headers=auth()
    )
    assert (
        patch.status_code == 200
        and patch.json()["tags"] == ["vip"]
        and patch.json()["version"] == 3
    )
    assert patch.headers["etag"] == '"3"'


def test_if_match_guards_against_lost_updates(client: Client, auth: Callable[..., Headers]) -> None:
    customer = create(client, auth()).json()
    url = f"/customers/{customer['id']}"
    stale = client.put(url, json={"notes": "x"}, headers=auth() | {"If-Match": '"7"'})
    assert stale.status_code == 412
    assert stale.headers["content-type"].startswith("application/problem+json")
    ok = client.put(url, json={"notes": "x"}, headers=auth() | {"If-Match": '"1"'})
    assert ok.status_code == 200
    bad = client.put(url, json={"notes": "y"}, headers=auth() | {"If-Match": "nonsense"})
    assert bad.status_code == 400


def test_delete_restore_and_state_rules(client: Client, auth: Callable[..., Headers]) -> None:
    customer = create(client, auth()).json()
    url = f"/customers/{customer['id']}"
    deleted = client.delete(f"{url}?reason=duplicate", headers=auth("manager"))
    assert deleted.status_code == 200
    assert deleted.json()["state"] == "deleted" and deleted.json()["deletedAt"]
    assert deleted.json()["stateHistory"][-1]["reason"] == "duplicate"
    assert client.put(url, json={"notes": "x"}, headers=auth()).status_code == 409
    assert client.delete(url, headers=auth("manager")).status_code == 409
    restored = client.post(f"{url}/restore", headers=auth("manager"))
    assert restored.status_code == 200 and restored.json()["state"] == "active"
    assert restored.json()["deletedAt"] is None
    assert client.post(f"{url}/restore", headers=auth("manager")).status_code == 409


def test_email_is_unique_per_tenant_case_insensitively(
    client: Client, auth: Callable[..., Headers]
) -> None:
    first = create(client, auth()).json()
    duplicate = client.post("/customers", json={"email": "ANN@example.com"}, headers=auth())
    assert duplicate.status_code == 409
    assert duplicate.json()["existingId"] == first["id"]
    other_tenant = client.post(
        "/customers", json={"email": "ann@example.com"}, headers=auth(tenant="globex")
    )
    assert other_tenant.status_code == 201


def test_delete_frees_the_email_and_restore_needs_it_back(
    client: Client, auth: Callable[..., Headers]
) -> None:
    first = create(client, auth()).json()
    assert client.delete(f"/customers/{first['id']}", headers=auth("admin")).status_code == 200
    second = create(client, auth(), {"email": "ann@example.com"}).json()
    restore = client.post(f"/customers/{first['id']}/restore", headers=auth("admin"))
    assert restore.status_code == 409 and restore.json()["existingId"] == second["id"]


def test_changing_email_moves_the_claim(client: Client, auth: Callable[..., Headers]) -> None:
    first = create(client, auth()).json()
    moved = client.patch(
        f"/customers/{first['id']}", json={"email": "new@example.com"}, headers=auth()
    )
    assert moved.status_code == 200
    assert create(client, auth(), {"email": "ann@example.com"}).status_code == 201
    taken = client.patch(
        f"/customers/{first['id']}", json={"email": "ANN@example.com"}, headers=auth()
    )
    assert taken.status_code == 409
    same = client.patch(
        f"/customers/{first['id']}", json={"email": "NEW@example.com"}, headers=auth()
    )
    assert same.status_code == 200 and same.json()["email"] == "NEW@example.com"


def test_idempotency_key_replays_and_refuses_other_bodies(
    client: Client, auth: Callable[..., Headers]
) -> None:
    headers = auth() | {"Idempotency-Key": "order-42"}
    first = client.post("/customers", json=ANN, headers=headers)
    position = stored_position(client)
    again = client.post("/customers", json=ANN, headers=headers)
    assert again.status_code == 201 and again.json() == first.json()
    assert again.headers["idempotent-replayed"] == "true"
    assert stored_position(client) == position
    other = client.post("/customers", json={"firstName": "Bo"}, headers=headers)
    assert other.status_code == 422
    assert stored_position(client) == position


def test_validation_errors_name_every_field(client: Client, auth: Callable[..., Headers]) -> None:
    response = client.post(
        "/customers",
        json={"type": "regular", "email": "nope", "phone": "123", "dateOfBirth": "2999-01-01"},
        headers=auth(),
    )
    assert response.status_code == 422
    problem = response.json()
    assert {"type", "title", "status", "detail"} <= problem.keys()
    assert {e["field"] for e in problem["errors"]} >= {"email", "phone", "dateOfBirth"}
    typed = client.post("/customers", json={"type": "vip", "firstName": "A"}, headers=auth())
    assert typed.status_code == 422 and typed.json()["errors"][0]["field"] == "type"


def test_unknown_customer_and_other_tenants_are_404(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer = create(client, auth()).json()
    url = f"/customers/{customer['id']}"
    assert client.put(url, json={"notes": "x"}, headers=auth(tenant="globex")).status_code == 404
    assert client.delete(url, headers=auth(tenant="globex")).status_code == 404
    missing = client.put("/customers/00000000-0000-4000-8000-000000000000", json={}, headers=auth())
    assert missing.status_code == 404
    assert client.put("/customers/not-a-uuid", json={}, headers=auth()).status_code in (400, 404)
