"""The timeline and the communications list over HTTP: newest first, cursor paged, filtered."""

from __future__ import annotations

from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import Headers

Client = TestClient[Litestar]


def paged_types(client: Client, cid: str, headers: Headers) -> list[str]:
    """The timeline's item types, read in pages of three by following `nextCursor`."""
    seen: list[str] = []
    cursor = None
    while True:
        params: dict[str, str | int] = {"limit": 3}
        if cursor:
            params["cursor"] = cursor
        page = client.get(f"/customers/{cid}/timeline", params=params, headers=headers).json()
        seen += [item["type"] for item in page["items"]]
        cursor = page["nextCursor"]
        if cursor is None:
            return seen


def test_timeline_newest_first_paged_and_filtered(
    client: Client, auth: Callable[..., Headers]
) -> None:
    admin = auth()
    cid = client.post(
        "/customers", json={"firstName": "Ann", "email": "ann@example.com"}, headers=admin
    ).json()["id"]
    assert client.patch(f"/customers/{cid}", json={"lastName": "Lee"}, headers=admin).is_success
    consent = {"granted": True, "source": "web"}
    assert client.put(
        f"/customers/{cid}/consents/marketing_email", json=consent, headers=admin
    ).is_success
    assert client.put(
        f"/customers/{cid}/preferences", json={"language": "en"}, headers=admin
    ).is_success
    note = client.post(f"/customers/{cid}/notes", json={"text": "secret-ish"}, headers=admin).json()
    logged = {"channel": "phone", "direction": "inbound", "purpose": "support", "subject": "Call"}
    assert (
        client.post(f"/customers/{cid}/communications", json=logged, headers=admin).status_code
        == 201
    )
    deleted = client.delete(f"/customers/{cid}/notes/{note['id']}", headers=admin)
    assert deleted.is_success
    # The timeline is a projection: the last command's token waits for it.
    token = {"X-Consistency-Token": deleted.headers["x-consistency-token"]}
    admin |= token

    whole = client.get(f"/customers/{cid}/timeline", headers=auth("viewer") | token)
    assert whole.status_code == 200, whole.text
    kinds = [item["kind"] for item in whole.json()["items"]]
    expected = ["note", "communication", "note", "preference", "consent", "profile"]
    assert kinds == [*expected, "lifecycle"]
    assert "secret-ish" not in whole.text  # summaries carry no personal value
    assert whole.json()["nextCursor"] is None

    assert paged_types(client, cid, admin) == [item["type"] for item in whole.json()["items"]]

    only = client.get(
        f"/customers/{cid}/timeline", params={"kind": ["note", "consent"]}, headers=admin
    )
    assert [i["kind"] for i in only.json()["items"]] == ["note", "note", "consent"]
    assert only.json()["items"][-1]["ref"] == "marketing_email"

    listed = client.get(f"/customers/{cid}/communications", headers=admin).json()
    assert [(c["channel"], c["subject"], c["source"]) for c in listed["items"]] == [
        ("phone", "Call", "manual")
    ]


def test_timeline_refuses_bad_parameters_and_other_tenants(
    client: Client, auth: Callable[..., Headers]
) -> None:
    cid = client.post("/customers", json={"firstName": "Ann"}, headers=auth()).json()["id"]
    base = f"/customers/{cid}/timeline"
    assert client.get(base, params={"kind": "gossip"}, headers=auth()).status_code == 400
    assert client.get(base, params={"limit": 0}, headers=auth()).status_code == 400
    assert client.get(base, params={"cursor": "not-ours"}, headers=auth()).status_code == 400
    assert client.get(base, headers=auth(tenant="other")).status_code == 404
    assert (
        client.get(f"/customers/{cid}/communications", headers=auth(tenant="other")).status_code
        == 404
    )
    assert client.get(base, headers=auth("analyst")).status_code == 403
