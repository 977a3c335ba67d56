"""Preferences, notes and contactability over HTTP, on every profile."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers, stored_position

Client = TestClient[Litestar]


def _customer(client: Client, auth: Callable[..., Headers], **fields: object) -> str:
    body = {"firstName": "Ann", "email": "ann@example.com", "phone": "+14155552671"} | fields
    created = client.post("/customers", json=body, headers=auth())
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def _wait(response: object) -> dict[str, str]:
    return {"X-Consistency-Token": response.headers["x-consistency-token"]}  # type: ignore[attr-defined]


def test_preferences_default_merge_and_read_back(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = _customer(client, auth)
    token = {"X-Consistency-Token": str(stored_position(client))}
    first = client.get(f"/customers/{cid}/preferences", headers=auth("viewer") | token)
    assert first.status_code == 200, first.text
    assert first.json() == {
        "language": None, "timezone": None, "quietHours": None, "paymentMethod": None,
        "channels": {"email": {"enabled": True}, "sms": {"enabled": True}, "push": {"enabled": True}},
    }  # fmt: skip
    patch = {
        "language": "fr-ca", "timezone": "Europe/Paris", "channels": {"sms": {"enabled": False}},
        "quietHours": {"start": "22:00", "end": "07:00"},
        "paymentMethod": {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 12, "expYear": 2030},
    }  # fmt: skip
    put = client.put(f"/customers/{cid}/preferences", json=patch, headers=auth("staff"))
    assert put.status_code == 200, put.text
    assert put.json()["language"] == "fr-CA" and put.json()["channels"]["sms"] == {"enabled": False}
    again = client.put(
        f"/customers/{cid}/preferences", json={"quietHours": None}, headers=auth("staff")
    )
    assert again.json()["quietHours"] is None and again.json()["timezone"] == "Europe/Paris"
    got = client.get(f"/customers/{cid}/preferences", headers=auth("viewer") | _wait(again))
    assert got.json() == again.json()
    history = client.get(f"/customers/{cid}/history", headers=auth()).json()["items"]
    assert history[-1]["type"] == "customer.preferences_changed"
    assert history[-1]["changes"]["preferences"]["from"]["quietHours"] == patch["quietHours"]
    export = client.get(f"/customers/{cid}/export", headers=auth()).json()
    assert export["preferences"] == again.json()


def test_bad_preferences_are_refused_and_change_nothing(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = _customer(client, auth)
    for body, status in (
        ({"timezone": "Mars/Base"}, 422), ({"language": "not a tag"}, 422),
        ({"quietHours": {"start": "25:00", "end": "07:00"}}, 400), ({"colour": "red"}, 400),
        ({"paymentMethod": {"type": "card", "number": "4242"}}, 400),
    ):  # fmt: skip
        refused = client.put(f"/customers/{cid}/preferences", json=body, headers=auth())
        assert refused.status_code == status, (body, refused.text)
        assert refused.headers["content-type"].startswith("application/problem+json")
    token = {"X-Consistency-Token": str(stored_position(client))}
    version = client.get(f"/customers/{cid}", headers=auth() | token).json()["version"]
    assert version == 1


def test_a_card_number_in_any_body_is_refused_before_anything(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = _customer(client, auth)
    for path, body in (
        (f"/customers/{cid}/preferences", {"paymentMethod": {"type": "card", "brand": "4111111111111111"}}),
        (f"/customers/{cid}", {"notes": "card 4111 1111 1111 1111"}),
        (f"/customers/{cid}/notes", {"text": "pays with 5555555555554444"}),
        ("/customers", {"firstName": "Bo", "attributes": {"card": 4000056655665556}}),
    ):  # fmt: skip
        method = client.put if path.endswith(("preferences", cid)) else client.post
        refused = method(path, json=body, headers=auth())
        assert refused.status_code == 422, (path, refused.text)
        assert "card number" in refused.json()["detail"]
        assert "4111" not in refused.text and "5555" not in refused.text
    token = {"X-Consistency-Token": str(stored_position(client))}
    assert client.get(f"/customers/{cid}", headers=auth() | token).json()["version"] == 1


def test_notes_are_listed_deleted_by_author_or_manager_and_kept_in_history(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = _customer(client, auth)
    added = client.post(
        f"/customers/{cid}/notes",
        json={"text": "Prefers mornings"},
        headers=auth("staff", subject="sam"),
    )
    assert added.status_code == 201, added.text
    note = added.json()
    assert note["text"] == "Prefers mornings" and note["author"] == "sam"
    listed = client.get(f"/customers/{cid}/notes", headers=auth("viewer") | _wait(added)).json()
    assert [n["id"] for n in listed["items"]] == [note["id"]]
    other = client.delete(
        f"/customers/{cid}/notes/{note['id']}", headers=auth("staff", subject="kim")
    )
    assert other.status_code == 403, other.text
    deleted = client.delete(
        f"/customers/{cid}/notes/{note['id']}", headers=auth("staff", subject="sam")
    )
    assert deleted.status_code == 200, deleted.text
    assert (
        client.get(f"/customers/{cid}/notes", headers=auth() | _wait(deleted)).json()["items"] == []
    )
    gone = client.delete(f"/customers/{cid}/notes/{note['id']}", headers=auth("manager"))
    assert gone.status_code == 404
    history = client.get(f"/customers/{cid}/history", headers=auth()).json()["items"]
    assert history[-2]["changes"]["note"]["to"]["text"] == "Prefers mornings"
    assert history[-1]["changes"]["note"]["from"]["text"] == "Prefers mornings"
    export = client.get(f"/customers/{cid}/export", headers=auth()).json()
    assert export["notes"][0]["deletedAt"] is not None
    assert client.get(f"/customers/{cid}", headers=auth()).json()["notes"] is None  # old field


def test_contactability_per_purpose(client: Client, auth: Callable[..., Headers]) -> None:
    cid = _customer(client, auth, phone=None)
    put = client.put(
        f"/customers/{cid}/preferences",
        json={"channels": {"push": {"enabled": False}}},
        headers=auth(),
    )
    answer = client.get(
        f"/customers/{cid}/contactability",
        params={"purpose": "order_confirmation"},
        headers=auth("viewer") | _wait(put),
    )
    assert answer.status_code == 200, answer.text
    assert answer.json() == {
        "purpose": "order_confirmation",
        "channels": {
            "email": {"allowed": True, "reason": None},
            "sms": {"allowed": False, "reason": "no_address"},
            "push": {"allowed": False, "reason": "channel_disabled"},
        },
    }
    marketing = client.get(
        f"/customers/{cid}/contactability", params={"purpose": "marketing_email"}, headers=auth()
    )
    assert marketing.json()["channels"]["email"]["reason"] == "no_consent"
    bad = client.get(
        f"/customers/{cid}/contactability", params={"purpose": "Bad Purpose"}, headers=auth()
    )
    assert bad.status_code == 400
    assert client.get(f"/customers/{cid}/contactability", headers=auth()).status_code == 400
