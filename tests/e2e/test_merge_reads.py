"""Reads across a merge, over HTTP on every profile (docs/decisions.md "Merge and unmerge"):
contactability (the target answers with the consents and addresses it took, the merged source
is no longer contactable under its old id), communications and the timeline (the target
lists the source's too) and the retention cohorts (one person counts once); an unmerge gives
both customers their answers back."""

from __future__ import annotations

from typing import Any

from tests.e2e.test_merge_http import Auth, Client, attend, create, merge


def reasons(client: Client, auth: Auth, who: str, token: str) -> dict[str, Any]:
    """Why each channel may not carry marketing email now (None: it may)."""
    answer = client.get(
        f"/customers/{who}/contactability", params={"purpose": "marketing_email"},
        headers=auth("viewer") | {"X-Consistency-Token": token},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    return {channel: a["reason"] for channel, a in answer.json()["channels"].items()}


def test_the_target_answers_with_what_it_took_and_gives_it_back(client: Client, auth: Auth) -> None:
    staff, manager = auth("staff"), auth("manager")
    ann = create(client, staff, firstName="Ann", lastName="Lee", phone="+14155550100")
    annie = create(client, staff, firstName="Annie", email="annie@example.org")
    consent = {"granted": True, "source": "desk", "legalBasis": "consent"}
    put = client.put(f"/customers/{annie}/consents/marketing_email", json=consent, headers=staff)
    assert put.is_success, put.text
    token = put.headers["X-Consistency-Token"]
    before = reasons(client, auth, ann, token), reasons(client, auth, annie, token)
    assert before[0]["email"] == "no_address" and before[1]["email"] is None

    merged = merge(client, manager, ann, annie)
    assert merged.status_code == 200, merged.text
    token = merged.headers["X-Consistency-Token"]
    assert reasons(client, auth, ann, token)["email"] is None  # her email and her consent
    assert set(reasons(client, auth, annie, token).values()) == {"not_active"}

    undone = merge(client, manager, ann, annie, "unmerge")
    assert undone.status_code == 200, undone.text
    token = undone.headers["X-Consistency-Token"]
    assert (reasons(client, auth, ann, token), reasons(client, auth, annie, token)) == before


def communications(client: Client, auth: Auth, who: str, token: str) -> list[str]:
    """Every communication's subject, newest first, a page of one at a time."""
    subjects: list[str] = []
    cursor = None
    headers = auth() | {"X-Consistency-Token": token}
    for _ in range(10):
        params = {"limit": 1} | ({"cursor": cursor} if cursor else {})
        page = client.get(f"/customers/{who}/communications", params=params, headers=headers)
        assert page.status_code == 200, page.text
        subjects += [item["subject"] for item in page.json()["items"]]
        cursor = page.json()["nextCursor"]
        if cursor is None:
            return subjects
    raise AssertionError("the pages never end")


def test_the_target_lists_the_sources_communications_until_unmerged(
    client: Client, auth: Auth
) -> None:
    staff, manager = auth("staff"), auth("manager")
    ann = create(client, staff, firstName="Ann", lastName="Lee", phone="+14155550100")
    annie = create(client, staff, firstName="Annie", email="annie@example.org")
    for who, subject, at in ((annie, "first", "2026-01-01T10:00:00Z"),
                             (ann, "second", "2026-01-02T10:00:00Z"),
                             (annie, "third", "2026-01-03T10:00:00Z")):  # fmt: skip
        body = {"channel": "email", "direction": "outbound", "subject": subject, "at": at}
        logged = client.post(f"/customers/{who}/communications", json=body, headers=staff)
        assert logged.status_code == 201, logged.text
    merged = merge(client, manager, ann, annie)
    assert merged.status_code == 200, merged.text
    token = merged.headers["X-Consistency-Token"]
    assert communications(client, auth, ann, token) == ["third", "second", "first"]
    assert communications(client, auth, annie, token) == ["third", "first"]
    assert timeline(client, auth, ann, token) == {
        ("customer.merge_absorbed", annie),
        ("customer.communication_recorded", "second"),
        ("customer.communication_recorded", "first"),
        ("customer.communication_recorded", "third"),
    }  # her communications show on Ann's timeline too; her creation and her merge do not
    undone = merge(client, manager, ann, annie, "unmerge")
    token = undone.headers["X-Consistency-Token"]
    assert communications(client, auth, ann, token) == ["second"]
    after = timeline(client, auth, ann, token)
    assert [ref for kind, ref in after if kind == "customer.communication_recorded"] == ["second"]


def timeline(client: Client, auth: Auth, who: str, token: str) -> set[tuple[str, str]]:
    """The timeline's items other than profile and lifecycle ones: (type, subject or ref)."""
    answer = client.get(
        f"/customers/{who}/timeline", params={"limit": 100},
        headers=auth() | {"X-Consistency-Token": token},
    )  # fmt: skip
    assert answer.status_code == 200, answer.text
    subjects = {c["id"]: c["subject"] for c in client.get(
        f"/customers/{who}/communications", headers=auth() | {"X-Consistency-Token": token}
    ).json()["items"]}  # fmt: skip
    return {
        (item["type"], subjects.get(item["ref"], item["ref"]))
        for item in answer.json()["items"]
        if item["kind"] not in ("profile", "lifecycle")
    }


def test_the_cohorts_count_a_merged_person_once(client: Client, auth: Auth) -> None:
    staff, manager = auth("staff"), auth("manager")
    ann = create(client, staff, firstName="Ann", lastName="Lee", email="ann@example.com")
    annie = create(client, staff, firstName="Annie", email="annie@example.org")
    assert attend(client, staff, "ord-a", firstName="Ann", email="ann@example.com") == ann
    assert attend(client, staff, "ord-b", firstName="Annie", email="annie@example.org") == annie

    def sizes(token: str) -> list[int]:
        answer = client.get(
            "/analytics/cohorts", params={"from": "2026-11", "to": "2026-11"},
            headers=auth("analyst") | {"X-Consistency-Token": token},
        )  # fmt: skip
        assert answer.status_code == 200, answer.text
        return [row["size"] for row in answer.json()["cohorts"]]

    merged = merge(client, manager, ann, annie)
    assert merged.status_code == 200, merged.text
    assert sizes(merged.headers["X-Consistency-Token"]) == [1]
    undone = merge(client, manager, ann, annie, "unmerge")
    assert sizes(undone.headers["X-Consistency-Token"]) == [2]
