"""`GET /customers/export`: every matching customer, streamed, at one snapshot position,
access-audited once with the count, spreadsheet formulas escaped."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]


def _seed(client: Client, headers: dict[str, str], count: int) -> str:
    token = ""
    for index in range(count):
        body = {"firstName": f"N{index:03d}", "lastName": "Lee", "tags": ["t"] if index % 2 else []}
        response = client.post("/customers", json=body, headers=headers)
        assert response.status_code == 201
        token = response.headers["X-Consistency-Token"]
    return token


def test_csv_has_every_customer_once_in_order(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    admin = auth("admin")
    token = _seed(client, admin, 230)  # more than two index pages and one written chunk
    response = client.get(
        "/customers/export", params={"format": "csv"},
        headers=auth("auditor") | {"X-Consistency-Token": token},
    )  # fmt: skip
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/csv")
    assert int(response.headers["X-Consistency-Token"]) >= int(token)
    rows = list(csv.DictReader(io.StringIO(response.text)))
    assert [row["firstName"] for row in rows] == [f"N{index:03d}" for index in range(230)]
    assert rows[1]["tags"] == '["t"]' and rows[0]["attributes"] == "{}"


def test_filters_apply_and_jsonl(client: Client, auth: Callable[..., dict[str, str]]) -> None:
    token = _seed(client, auth("admin"), 10)
    response = client.get(
        "/customers/export", params={"format": "jsonl", "tag": "t"},
        headers=auth("admin") | {"X-Consistency-Token": token},
    )  # fmt: skip
    assert response.status_code == 200
    lines = [json.loads(line) for line in response.text.splitlines()]
    assert len(lines) == 5 and all(item["tags"] == ["t"] for item in lines)
    assert set(lines[0]) >= {"id", "externalId", "stateHistory", "version"}


def test_formula_cells_are_escaped(client: Client, auth: Callable[..., dict[str, str]]) -> None:
    admin = auth("admin")
    created = client.post(
        "/customers",
        json={"firstName": "=cmd|' /C calc'!A0", "lastName": "@SUM(1)", "notes": "-2+3",
              "phone": "+14155552671", "externalId": "+x"},
        headers=admin,
    )  # fmt: skip
    assert created.status_code == 201, created.text
    token = created.headers["X-Consistency-Token"]
    text = client.get("/customers/export", headers=admin | {"X-Consistency-Token": token}).text
    row = next(csv.DictReader(io.StringIO(text)))
    assert row["firstName"] == "'=cmd|' /C calc'!A0"
    assert row["lastName"] == "'@SUM(1)" and row["notes"] == "'-2+3"
    assert row["phone"] == "'+14155552671" and row["externalId"] == "'+x"


def test_one_access_audit_entry_with_the_count(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    token = _seed(client, auth("admin"), 3)
    auditor = auth("auditor", subject="eve")
    before = client.get("/audit/access/verify", headers=auditor).json()["entries"]
    audit = client.app.state.runtime.records.audit
    seen: list[dict[str, object]] = []
    record = audit.record

    async def spy(entry: dict[str, object]) -> None:
        seen.append(entry)
        await record(entry)

    audit.record = spy
    response = client.get("/customers/export", headers=auditor | {"X-Consistency-Token": token})
    assert response.status_code == 200
    after = client.get("/audit/access/verify", headers=auditor).json()
    assert after["ok"] is True and after["entries"] == before + 1
    assert len(seen) == 1 and seen[0]["action"] == "bulkExport" and seen[0]["count"] == 3
    assert seen[0]["actor"] == "eve"
    assert seen[0]["position"] == int(response.headers["X-Consistency-Token"])


def test_permissions_and_bad_parameters(
    client: Client, auth: Callable[..., dict[str, str]]
) -> None:
    assert client.get("/customers/export", headers=auth("viewer")).status_code == 403
    bad = client.get("/customers/export", params={"format": "xlsx"}, headers=auth("admin"))
    assert bad.status_code == 400
    unknown = client.get("/customers/export", params={"sort": "email"}, headers=auth("admin"))
    assert unknown.status_code == 400
