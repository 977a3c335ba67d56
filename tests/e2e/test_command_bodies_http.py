"""Command bodies are never ignored: a reason in the body is kept, anything else is refused,
and a replayed order with other attendees is a conflict (issue 10, items 10 and 12)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def create(client: Client, headers: Headers, body: dict[str, Any]) -> str:
    response = client.post("/customers", json=body, headers=headers)
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def last_reason(client: Client, headers: Headers, customer_id: str, token: str) -> str | None:
    """The reason of the last state change, read once the read model holds `token`."""
    read = headers | {"X-Consistency-Token": token}
    customer = client.get(f"/customers/{customer_id}", headers=read).json()
    reason: str | None = customer["stateHistory"][-1].get("reason")
    return reason


def reason_command(client: Client, verb: str, customer_id: str, **kwargs: Any) -> Any:
    """`delete`, `restore` or `erase` of one customer, passing `kwargs` to the request."""
    if verb == "delete":
        return client.request("DELETE", f"/customers/{customer_id}", **kwargs)
    return client.post(f"/customers/{customer_id}/{verb}", **kwargs)


def test_a_reason_in_the_body_or_the_query_is_recorded(
    client: Client, auth: Callable[..., Headers]
) -> None:
    for where in ("body", "query"):
        customer_id = create(client, auth(), {"firstName": "Ann"})
        for verb in ("delete", "restore", "erase"):
            reason = f"{verb} by {where}"
            passed = {"json" if where == "body" else "params": {"reason": reason}}
            response = reason_command(client, verb, customer_id, headers=auth(), **passed)
            assert response.status_code == 200, (verb, where, response.text)
            token = response.headers["X-Consistency-Token"]
            # Reasons are sealed under the customer's key: erasure shreds its own reason too.
            expected = None if verb == "erase" else reason
            assert last_reason(client, auth(), customer_id, token) == expected, (verb, where)


def test_unknown_fields_or_a_body_that_is_not_an_object_change_nothing(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer_id = create(client, auth(), {"firstName": "Ann"})
    token = client.delete(f"/customers/{customer_id}", headers=auth()).headers[
        "X-Consistency-Token"
    ]
    bad_bodies: list[tuple[dict[str, Any], str | None]] = [
        ({"json": {"reason": "ok", "force": True}}, "force"),
        ({"json": {"reasons": "typo"}}, "reasons"),
        ({"json": {"reason": 5}}, "reason"),
        ({"json": ["reason"]}, "body"),
        ({"content": b"reason=x", "headers": {"Content-Type": "application/json"}}, None),
        # Each well-formed alone: a rule the OpenAPI document cannot express, so 422.
        ({"json": {"reason": "one"}, "params": {"reason": "another"}}, "reason"),
    ]
    for verb in ("erase", "restore", "delete"):
        for passed, field in bad_bodies:
            rest = {key: value for key, value in passed.items() if key != "headers"}
            headers = auth() | passed.get("headers", {})
            response = reason_command(client, verb, customer_id, headers=headers, **rest)
            expected = 422 if "params" in passed else 400
            assert response.status_code == expected, (verb, passed, response.text)
            named = [error["field"] for error in response.json().get("errors", [])]
            assert field is None or field in named, (verb, response.text)
    read = auth() | {"X-Consistency-Token": token}
    customer = client.get(f"/customers/{customer_id}", headers=read).json()
    assert customer["state"] == "deleted"
    assert len(client.get(f"/customers/{customer_id}/history", headers=auth()).json()["items"]) == 2


def test_an_empty_body_and_the_same_reason_twice_are_fine(
    client: Client, auth: Callable[..., Headers]
) -> None:
    customer_id = create(client, auth(), {"firstName": "Ann"})
    empty = reason_command(client, "delete", customer_id, headers=auth(), content=b"")
    assert empty.status_code == 200, empty.text
    both = {"json": {"reason": "same"}, "params": {"reason": "same"}}
    restored = reason_command(client, "restore", customer_id, headers=auth(), **both)
    assert restored.status_code == 200, restored.text
    token = restored.headers["X-Consistency-Token"]
    assert last_reason(client, auth(), customer_id, token) == "same"
    null = reason_command(client, "erase", customer_id, headers=auth(), json={"reason": None})
    assert null.status_code == 200, null.text


def attendees(client: Client, headers: Headers, order_id: str, placed_at: str, people: Any) -> Any:
    body = {"orderId": order_id, "placedAt": placed_at, "attendees": people}
    return client.post("/customers/attendees", json=body, headers=headers)


def test_an_order_replayed_with_other_attendees_is_a_conflict(
    client: Client, auth: Callable[..., Headers]
) -> None:
    at = "2026-11-20T10:00:00Z"
    ann = {"firstName": "Ann", "email": "ann@example.com"}
    bo = {"firstName": "Bo", "phone": "+14155552671"}
    first = attendees(client, auth(), "o-1", at, [ann, bo])
    assert first.status_code == 200, first.text
    # The same order in another spelling (normalised alike) replays the first results.
    same = attendees(client, auth(), "o-1", "2026-11-20T11:00:00+01:00", [
        {"firstName": " Ann ", "email": "ann@EXAMPLE.com"}, {"firstName": "Bo", "phone": "+1 415 555 2671"},
    ])  # fmt: skip
    assert same.status_code == 200, same.text
    assert same.json() == first.json()
    for label, placed_at, people in (
        ("another attendee", at, [ann, {"firstName": "Cy"}]),
        ("one attendee fewer", at, [ann]),
        ("attendees swapped", at, [bo, ann]),
        ("another email", at, [ann | {"email": "ann2@example.com"}, bo]),
        ("another placedAt", "2026-11-21T10:00:00Z", [ann, bo]),
    ):
        replay = attendees(client, auth(), "o-1", placed_at, people)
        assert replay.status_code == 409, (label, replay.text)
        assert replay.json()["orderId"] == "o-1"
    listed = client.get("/customers", params={"q": "Cy"}, headers=auth()).json()
    assert listed["items"] == []
    other_tenant = attendees(client, auth(tenant="globex"), "o-1", at, [ann])
    assert other_tenant.status_code == 200, other_tenant.text
