"""Rebuilding the projections (blue/green, over HTTP) reproduces every engagement read exactly:
preferences, contactability per purpose, notes, communications and the timeline (every page,
and filtered by kind, the loyalty ledger's entries included), compared before and after."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers
from tests.e2e.test_analytics_http import until_no_rebuild

Client = TestClient[Litestar]
REBUILT = ("customer_view", "search", "timeline", "contactability")
PURPOSES = ("marketing_email", "marketing_sms", "push", "order_confirmation")


def quiet_now() -> dict[str, str]:
    """Quiet hours around the current UTC time (so contactability says `quiet_hours`)."""
    now = datetime.now(UTC)
    return {
        "start": (now - timedelta(hours=2)).strftime("%H:%M"),
        "end": (now + timedelta(hours=2)).strftime("%H:%M"),
    }


def engage(client: Client, admin: Headers, index: int) -> str:
    """A customer with everything the engagement reads show; the last write's token."""
    body = {"firstName": f"N{index}", "email": f"n{index}@example.com", "phone": "+14155552671"}
    cid = client.post("/customers", json=body, headers=admin).json()["id"]
    base = f"/customers/{cid}"
    preferences: dict[str, Any] = {"language": "fr-CA", "timezone": "UTC"}
    if index % 2:
        preferences |= {"quietHours": quiet_now(), "channels": {"push": {"enabled": False}}}
    assert client.put(f"{base}/preferences", json=preferences, headers=admin).is_success
    consent = {"granted": True, "source": "web", "legalBasis": "consent"}
    assert client.put(f"{base}/consents/marketing_sms", json=consent, headers=admin).is_success
    for text in ("first", "second"):
        written = client.post(f"{base}/notes", json={"text": text}, headers=admin)
        assert written.status_code == 201
    note = written.json()["id"]
    assert client.delete(f"{base}/notes/{note}", headers=admin).is_success
    for subject in ("Call", "Visit"):
        logged = {"channel": "phone", "direction": "inbound", "purpose": "support",
                  "subject": subject}  # fmt: skip
        assert client.post(f"{base}/communications", json=logged, headers=admin).status_code == 201
    assert client.patch(base, json={"lastName": "Lee"}, headers=admin).is_success
    adjusted = client.post(
        f"{base}/loyalty/adjustments", json={"points": 50 + index, "reason": "gift"},
        headers=admin,
    )  # fmt: skip
    assert adjusted.status_code == 201, adjusted.text
    return str(cid)


def pages(client: Client, path: str, headers: Headers, **params: Any) -> list[Any]:
    items: list[Any] = []
    cursor = None
    while True:
        query = {**params, "limit": 3} | ({"cursor": cursor} if cursor else {})
        page = client.get(path, params=query, headers=headers)
        assert page.status_code == 200, page.text
        items += page.json()["items"]
        if (cursor := page.json()["nextCursor"]) is None:
            return items


def reads(client: Client, ids: list[str], headers: Headers) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for cid in ids:
        base = f"/customers/{cid}"
        found[cid] = {
            "preferences": client.get(f"{base}/preferences", headers=headers).json(),
            "notes": client.get(f"{base}/notes", headers=headers).json(),
            "contactability": [
                client.get(f"{base}/contactability", params={"purpose": p}, headers=headers).json()
                for p in PURPOSES
            ],
            "communications": pages(client, f"{base}/communications", headers),
            "timeline": pages(client, f"{base}/timeline", headers),
            "loyalty": pages(client, f"{base}/timeline", headers, kind="loyalty"),
            "notes and consents": pages(
                client, f"{base}/timeline", headers, kind=["note", "consent"]
            ),
        }
    return found


def generations(client: Client, admin: Headers) -> dict[str, int]:
    rows = client.get("/admin/projections", headers=admin).json()["items"]
    return {row["name"]: row["generation"] for row in rows if row["name"] in REBUILT}


def test_rebuilding_reproduces_every_engagement_read(
    client: Client, auth: Callable[..., Headers]
) -> None:
    admin = auth()
    program = {"pointsPerUnit": {"EUR": 1}, "pointsPerVisit": 0, "expiryDays": 365,
               "tiers": [{"name": "Silver", "minPoints": 0}]}  # fmt: skip
    assert client.put("/loyalty/program", json=program, headers=admin).is_success
    ids = [engage(client, admin, index) for index in range(3)]
    last = client.patch(f"/customers/{ids[0]}", json={"notes": "n"}, headers=admin)
    headers = admin | {"X-Consistency-Token": last.headers["x-consistency-token"]}
    before = reads(client, ids, headers)
    assert {item["kind"] for item in before[ids[0]]["timeline"]} >= {
        "lifecycle", "preference", "consent", "note", "communication", "profile", "loyalty",
    }  # fmt: skip
    reasons = {c["channels"]["sms"]["reason"] for c in before[ids[1]]["contactability"]}
    assert "quiet_hours" in reasons
    until_no_rebuild(client, auth)  # the backfills at start-up may still be running
    built = generations(client, admin)
    for name in REBUILT:
        started = client.post(f"/admin/projections/{name}/rebuild", headers=admin)
        assert started.status_code == 202, started.text
        until_no_rebuild(client, auth)
    time.sleep(1.1)  # readers look at the active generation again every second
    assert all(generations(client, admin)[name] > built[name] for name in REBUILT)
    assert reads(client, ids, headers) == before
