"""Query endpoints over HTTP: read-your-writes, lists, search, history and asOf."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def create(client: Client, headers: Headers, body: dict[str, Any]) -> tuple[dict[str, Any], str]:
    response = client.post("/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return response.json(), response.headers["x-consistency-token"]


def test_get_with_consistency_token_sees_the_command(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer, _ = create(client, auth(), {"firstName": "Ann", "email": "ann@example.com"})
    update = client.patch(f"/customers/{customer['id']}", json={"notes": "vip"}, headers=auth())
    token = update.headers["x-consistency-token"]
    got = client.get(
        f"/customers/{customer['id']}", headers=auth("viewer") | {"X-Consistency-Token": token}
    )
    assert got.status_code == 200
    assert got.json() == update.json()


def test_deleted_customers_are_readable_by_id_but_hidden_from_lists(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer, _ = create(client, auth(), {"firstName": "Gone"})
    kept, _ = create(client, auth(), {"firstName": "Kept"})
    token = client.delete(f"/customers/{customer['id']}", headers=auth()).headers[
        "x-consistency-token"
    ]
    consistent = auth("viewer") | {"X-Consistency-Token": token}
    assert (
        client.get(f"/customers/{customer['id']}", headers=consistent).json()["state"] == "deleted"
    )
    active = client.get("/customers", headers=consistent).json()
    assert [c["id"] for c in active["items"]] == [kept["id"]]
    assert active["total"] == 1
    deleted = client.get("/customers", params={"state": "deleted"}, headers=consistent).json()
    assert [c["id"] for c in deleted["items"]] == [customer["id"]]


SEARCH_PEOPLE: list[dict[str, Any]] = [
    {
        "firstName": "Zoë",
        "lastName": "Lee",
        "email": "zoe.lee@example.com",
        "phone": "+14155552671",
        "tags": ["vip"],
    },
    {
        "firstName": "Zoltan",
        "lastName": "Kovacs",
        "email": "zk@example.hu",
        "tags": ["vip", "new"],
    },
    {
        "firstName": "Ann",
        "lastName": "Zorn",
        "email": "ann@example.com",
        "attributes": {"tier": "gold"},
    },
    {"firstName": "Bob", "lastName": "Stone", "phone": "+442071838750", "type": "new"},
]


def test_search_filters_sorting_and_pagination(
    client: Client, auth: Callable[..., Headers]
) -> None:
    token = ""
    for person in SEARCH_PEOPLE:
        _, token = create(client, auth(), person)
    headers = auth("viewer") | {"X-Consistency-Token": token}

    def names(**params: Any) -> list[str]:
        response = client.get("/customers", params=params, headers=headers)
        assert response.status_code == 200, response.text
        return [c["firstName"] for c in response.json()["items"]]

    assert sorted(names(q="zo")) == ["Ann", "Zoltan", "Zoë"]
    assert names(q="ZOE lee") == ["Zoë"]
    assert names(q="415") == ["Zoë"]
    assert names(q="2671") == ["Zoë"]
    assert names(q="2071838750") == ["Bob"]
    assert sorted(names(tag="vip")) == ["Zoltan", "Zoë"]
    assert names(tag=["vip", "new"]) == ["Zoltan"]
    assert names(attr="tier:gold") == ["Ann"]
    assert names(type="new") == ["Bob"]
    assert names(email="ANN@example.com") == ["Ann"]
    assert names(phone="(415) 555-2671") == ["Zoë"]
    assert names(sort="firstName") == ["Ann", "Bob", "Zoë", "Zoltan"]
    assert names(sort="-lastName") == ["Ann", "Bob", "Zoë", "Zoltan"]
    first = client.get(
        "/customers", params={"sort": "firstName", "limit": 3}, headers=headers
    ).json()
    assert first["total"] == 4
    assert first["nextCursor"]
    second = client.get(
        "/customers",
        params={"sort": "firstName", "limit": 3, "cursor": first["nextCursor"]},
        headers=headers,
    ).json()
    paged = [c["firstName"] for c in first["items"] + second["items"]]
    assert paged == ["Ann", "Bob", "Zoë", "Zoltan"]
    assert second["nextCursor"] is None


def test_bad_list_parameters_are_client_errors(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cases: list[dict[str, Any]] = [
        {"limit": 0},
        {"limit": 101},
        {"limit": "x"},
        {"sort": "password"},
        {"state": "gone"},
        {"type": "vip"},
        {"createdFrom": "yesterday"},
        {"cursor": "garbage"},
        {"attr": "novalue"},
        {"phone": "12"},
        {"unknown": "1"},
        {"q": "x" * 500},
        {"createdFrom": "2030-01-01T00:00:00Z", "createdTo": "2020-01-01T00:00:00Z"},
    ]
    for params in cases:
        response = client.get("/customers", params=params, headers=auth())
        assert response.status_code in (400, 422), (params, response.status_code, response.text)
        assert response.headers["content-type"].startswith("application/problem+json")


def test_tenants_never_see_each_other(client: Client, auth: Callable[..., Headers]) -> None:
    customer, token = create(client, auth(tenant="acme"), {"firstName": "Secret"})
    other = auth("admin", tenant="globex") | {"X-Consistency-Token": token}
    assert client.get(f"/customers/{customer['id']}", headers=other).status_code == 404
    assert client.get("/customers", params={"q": "secret"}, headers=other).json()["total"] == 0
    assert client.get(f"/customers/{customer['id']}/history", headers=other).status_code == 404


def test_history_and_as_of_come_from_the_event_stream(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer, _ = create(client, auth(subject="alice"), {"firstName": "Ann"})
    time.sleep(0.01)
    moment = datetime.now(tz=UTC).isoformat()
    time.sleep(0.01)
    client.patch(
        f"/customers/{customer['id']}", json={"firstName": "Anna"}, headers=auth(subject="bob")
    )
    client.delete(f"/customers/{customer['id']}?reason=dup", headers=auth(subject="carol"))
    history = client.get(f"/customers/{customer['id']}/history", headers=auth("auditor"))
    assert history.status_code == 200
    items = history.json()["items"]
    assert [i["type"] for i in items] == [
        "customer.created",
        "customer.profile_changed",
        "customer.deleted",
    ]
    assert [i["actor"] for i in items] == ["alice", "bob", "carol"]
    assert items[1]["changes"] == {"firstName": {"from": "Ann", "to": "Anna"}}
    assert items[2]["changes"]["state"] == {"from": "active", "to": "deleted"}
    as_of = client.get(
        f"/customers/{customer['id']}", params={"asOf": moment}, headers=auth("auditor")
    )
    assert as_of.status_code == 200
    assert as_of.json()["firstName"] == "Ann"
    assert as_of.json()["state"] == "active"
    before = client.get(
        f"/customers/{customer['id']}",
        params={"asOf": "2000-01-01T00:00:00Z"},
        headers=auth("auditor"),
    )
    assert before.status_code == 404


def test_audit_reads_need_the_audit_permission(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer, _ = create(client, auth(), {"firstName": "Ann"})
    for role in ("viewer", "staff", "manager"):
        assert (
            client.get(f"/customers/{customer['id']}/history", headers=auth(role)).status_code
            == 403
        )
        as_of = client.get(
            f"/customers/{customer['id']}",
            params={"asOf": "2030-01-01T00:00:00Z"},
            headers=auth(role),
        )
        assert as_of.status_code == 403
    assert (
        client.get(f"/customers/{customer['id']}/history", headers=auth("auditor")).status_code
        == 200
    )


def test_health_and_metrics_report_projections(
    client: Client, auth: Callable[..., Headers]
) -> None:
    _, token = create(client, auth(), {"firstName": "Ann"})
    client.get("/customers", headers=auth() | {"X-Consistency-Token": token})
    health = client.get("/health").json()
    assert health["status"] == "ok"
    names = {p["name"] for p in health["projections"]}
    assert names == {
        "customer_view",
        "search",
        "analytics_overview",
        "analytics_cohorts",
        "timeline",
        "contactability",
        "segment_membership",
    }
    metrics = client.get("/metrics").text
    assert "customers_projection_lag_events" in metrics
    assert (
        'customers_http_requests_total{method="POST",route="/customers",status="201"} 1' in metrics
    )
    assert "customers_events_appended_total" in metrics
