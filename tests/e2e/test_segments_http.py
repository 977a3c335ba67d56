"""Segments over HTTP: definitions are events (history in the log), counts are exact at the
command's or the token's position and follow every customer change and the passing of time,
members page like GET /customers (access-audited), the campaign export keeps only members
contactable for the purpose, bad filters are 422, and analysts see counts but no customer."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def customer(client: Client, auth: Callable[..., Headers], **body: object) -> str:
    created = client.post("/customers", json=body, headers=auth())
    assert created.status_code == 201, created.text
    return str(created.json()["id"])


def test_a_segment_counts_follow_changes_and_pages_its_members(
    client: Client, auth: Callable[..., Headers]
) -> None:
    vip = [customer(client, auth, firstName=f"V{i}", email=f"v{i}@example.com") for i in range(3)]
    customer(client, auth, firstName="Other")
    for cid in vip:
        assert client.put(f"/customers/{cid}", json={"tags": ["vip"]}, headers=auth()).is_success
    analyst = auth("analyst")
    body = {"name": "VIPs", "description": "tagged", "filter": {"tag": ["vip"]}}
    created = client.post("/segments", json=body, headers=analyst)
    assert created.status_code == 201, created.text
    segment = created.json()
    assert segment["count"] == 3 and segment["version"] == 1
    url = f"/segments/{segment['id']}"
    changed = client.put(f"/customers/{vip[0]}", json={"tags": []}, headers=auth())
    token = {"X-Consistency-Token": changed.headers["x-consistency-token"]}
    assert client.get(url, headers=analyst | token).json()["count"] == 2
    assert client.get("/segments", headers=auth("viewer") | token).json()["items"][0]["count"] == 2
    first = client.get(f"{url}/members", params={"limit": 1}, headers=auth("viewer") | token)
    assert first.status_code == 200 and first.json()["total"] == 2
    rest = client.get(f"{url}/members", params={"limit": 1, "cursor": first.json()["nextCursor"]},
                      headers=auth("viewer"))  # fmt: skip
    ids = {first.json()["items"][0]["id"], rest.json()["items"][0]["id"]}
    assert ids == set(vip[1:]) and rest.json()["nextCursor"] is None
    audit = client.get("/audit/access", params={"customerId": vip[1]}, headers=auth("auditor"))
    assert any(e["action"] == "list" for e in audit.json()["items"])
    for forbidden in (f"{url}/members", f"{url}/export?purpose=marketing_email"):
        assert client.get(forbidden, headers=analyst).status_code == 403
    redefined = client.put(url, json={"name": "Other", "filter": {"q": "other"}}, headers=analyst)
    assert redefined.status_code == 200 and redefined.json()["count"] == 1
    assert client.put(url, json=body, headers=analyst | {"If-Match": '"1"'}).status_code == 412
    assert client.delete(url, headers=analyst).status_code == 200
    assert client.get(url, headers=analyst).status_code == 404
    assert client.get("/segments", headers=analyst).json()["items"] == []


def test_time_moves_members_out_of_last_visit_within_days(
    client: Client, auth: Callable[..., Headers]
) -> None:
    placed = datetime.now(UTC) - timedelta(days=20)
    order = {"orderId": "o-1", "placedAt": placed.isoformat(timespec="seconds"),
             "attendees": [{"firstName": "Ann", "email": "ann@example.com"}]}  # fmt: skip
    assert client.post("/customers/attendees", json=order, headers=auth()).status_code == 200
    body = {"name": "recent", "filter": {"lastVisitWithinDays": 30}}
    created = client.post("/segments", json=body, headers=auth("analyst")).json()
    assert created["count"] == 1
    live = client.app.state.runtime.plugins["segment_membership"].live
    head = client.app.state.runtime.log.head()

    async def eleven_days_later() -> int:
        store = await live.current()
        while await store.active_version() is None or await store.checkpoint() < head:
            await asyncio.sleep(0.05)  # the start-up backfill, then the definition, projected
            store = await live.current()
        store.clock = lambda: datetime.now(UTC) + timedelta(days=11)  # the clock is injectable
        return int(await store.sweep())  # what the hourly sweep does

    assert client.blocking_portal.call(eleven_days_later) == 1
    assert client.get(f"/segments/{created['id']}", headers=auth("analyst")).json()["count"] == 0


def test_the_export_keeps_members_contactable_for_the_purpose(
    client: Client, auth: Callable[..., Headers]
) -> None:
    granted = customer(client, auth, firstName="Yes", email="yes@example.com", tags=["c"])
    customer(client, auth, firstName="No", email="no@example.com", tags=["c"])
    consent = {"granted": True, "source": "web", "legalBasis": "consent"}
    assert client.put(f"/customers/{granted}/consents/marketing_email", json=consent,
                      headers=auth()).is_success  # fmt: skip
    segment = client.post("/segments", json={"name": "c", "filter": {"tag": ["c"]}},
                          headers=auth("analyst")).json()  # fmt: skip
    assert segment["count"] == 2
    url = f"/segments/{segment['id']}/export"
    csv = client.get(url, params={"purpose": "marketing_email"}, headers=auth("auditor"))
    assert csv.status_code == 200 and csv.headers["content-type"].startswith("text/csv")
    assert csv.text.splitlines()[0] == "id,firstName,lastName,email,phone,type"
    assert len(csv.text.splitlines()) == 2 and "yes@example.com" in csv.text
    lines = client.get(
        url, params={"purpose": "invoice", "format": "jsonl"}, headers=auth("auditor")
    )
    assert len(lines.text.strip().splitlines()) == 2  # transactional: no consent needed
    audit = client.get("/audit/access", params={"customerId": granted}, headers=auth("auditor"))
    assert sum(e["action"] == "list" for e in audit.json()["items"]) >= 2


def test_bad_definitions_are_refused(client: Client, auth: Callable[..., Headers]) -> None:
    analyst = auth("analyst")
    bad = client.post("/segments", json={"name": "x", "filter": {"colour": "red", "type": "v"}},
                      headers=analyst)  # fmt: skip
    assert bad.status_code == 422
    assert {e["field"] for e in bad.json()["errors"]} == {"filter.colour", "filter.type"}
    assert (
        client.post("/segments", json={"name": "", "filter": {}}, headers=analyst).status_code
        == 422
    )
    assert client.post("/segments", json={"name": "x", "filter": {}, "extra": 1},
                       headers=analyst).status_code == 400  # fmt: skip
    assert (
        client.post(
            "/segments", json={"name": "x", "filter": {}}, headers=auth("viewer")
        ).status_code
        == 403
    )
    assert client.get("/segments", headers=auth("analyst", tenant="globex")).json()["items"] == []


def test_a_filter_is_counted_before_it_is_saved(
    client: Client, auth: Callable[..., Headers]
) -> None:
    vip = [customer(client, auth, firstName=f"P{i}", tags=["vip"]) for i in range(3)]
    customer(client, auth, firstName="Plain")
    elsewhere = {"firstName": "Elsewhere", "tags": ["vip"]}
    assert client.post("/customers", json=elsewhere, headers=auth(tenant="globex")).is_success
    untagged = client.put(f"/customers/{vip[0]}", json={"tags": []}, headers=auth())
    token = {"X-Consistency-Token": untagged.headers["x-consistency-token"]}
    analyst = auth("analyst") | token

    def preview(body: object, headers: Headers = analyst) -> int:
        answer = client.post("/segments/preview", json=body, headers=headers)
        assert answer.status_code == 200, answer.text
        return int(answer.json()["count"])

    assert preview({"filter": {"tag": ["vip"]}}) == 2
    assert preview({"filter": {}}) == 4
    assert preview({"filter": {"tag": ["vip"]}}, auth("analyst", tenant="globex")) == 1
    assert preview({"filter": {"q": "plain"}}, auth("manager")) == 1
    assert client.get("/segments", headers=analyst).json()["items"] == []  # nothing saved
    saved = client.post(
        "/segments", json={"name": "v", "filter": {"tag": ["vip"]}}, headers=analyst
    )
    assert saved.json()["count"] == preview({"filter": {"tag": ["vip"]}})
    bad = {"colour": "red", "type": "v", "visitCountMin": -1}
    refused = client.post("/segments/preview", json={"filter": bad}, headers=analyst)
    defined = client.post("/segments", json={"name": "x", "filter": bad}, headers=analyst)
    assert refused.status_code == defined.status_code == 422
    assert refused.json()["errors"] == defined.json()["errors"]
    malformed: list[dict[str, object]] = [{"filter": {}, "name": "x"}, {"filter": []}, {}]
    for body in malformed:
        answer = client.post("/segments/preview", json=body, headers=analyst)
        assert answer.status_code == 400, (body, answer.text)
    for role in ("viewer", "staff", "auditor"):
        answer = client.post("/segments/preview", json={"filter": {}}, headers=auth(role))
        assert answer.status_code == 403, role
