"""`POST /imports` and `GET /imports/{id}`: rows applied, bad rows reported by line and
field, the same file twice changes nothing, bad files refused (400/415), never a 500."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from litestar import Litestar
from litestar.testing import TestClient

Client = TestClient[Litestar]
Auth = Callable[..., dict[str, str]]
CSV = {"Content-Type": "text/csv"}
NDJSON = {"Content-Type": "application/x-ndjson"}


def run_import(client: Client, headers: dict[str, str], body: bytes, **params: str) -> Any:
    started = client.post("/imports", content=body, headers=headers, params=params)
    assert started.status_code == 202, started.text
    assert started.json()["status"] == "running"
    location = started.headers["Location"]
    for _ in range(400):
        progress = client.get(location, headers=headers)
        assert progress.status_code == 200, progress.text
        if progress.json()["status"] != "running":
            return progress.json()
        time.sleep(0.05)
    raise AssertionError("the import did not finish")


def customer(client: Client, headers: dict[str, str], external_id: str) -> Any:
    token = str(client.app.state.runtime.commands.executor.repository.position())
    found = client.get(
        "/customers", params={"externalId": external_id},
        headers=headers | {"X-Consistency-Token": token},
    )  # fmt: skip
    items = found.json()["items"]
    return items[0] if items else None


FILE = (
    b"externalId,firstName,lastName,email,phone,tags\n"
    b"c-1,Ann,Lee,ann@example.com,+14155552671,vip;gold\n"
    b"c-2,Bob,,bob@example,,\n"
    b"c-1,Dup,,,,\n"
    b",Cy,,cy@example.com,,\n"
    b"c-3,=cmd|' /C calc'!A0,,,,\n"
    b"c-4,Dee,Day,dee@example.com,not-a-phone,\n"
)


def test_rows_applied_errors_by_line_and_twice_changes_nothing(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    first = run_import(client, staff | CSV, FILE)
    assert first["status"] == "done" and first["total"] == 6
    assert (first["processed"], first["created"], first["failed"]) == (6, 3, 3)
    assert [(e["line"], e["field"]) for e in first["errors"]] == [
        (3, "email"), (4, "externalId"), (7, "phone"),
    ]  # fmt: skip
    assert all("example" not in e["message"] for e in first["errors"])  # no values echoed
    ann = customer(client, staff, "c-1")
    assert ann["email"] == "ann@example.com" and ann["tags"] == ["vip", "gold"]
    assert customer(client, staff, "c-3")["firstName"] == "=cmd|' /C calc'!A0"
    versions = {key: customer(client, staff, key)["version"] for key in ("c-1", "c-3")}
    again = run_import(client, staff | CSV, FILE)
    assert (again["created"], again["updated"], again["unchanged"]) == (0, 0, 3)
    assert again["errors"] == first["errors"]
    assert {key: customer(client, staff, key)["version"] for key in versions} == versions


def test_rows_match_by_external_id_then_email(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    made = client.post(
        "/customers", json={"firstName": "Eve", "email": "eve@example.com"}, headers=staff
    ).json()
    body = (
        b'{"externalId": "e-9", "email": "eve@example.com", "lastName": "Moss"}\n'
        b'{"externalId": "e-9", "notes": "second"}\n'
    )
    result = run_import(client, staff | NDJSON, body)
    assert (result["created"], result["updated"], result["failed"]) == (0, 1, 1)
    assert result["errors"][0] == {"line": 2, "field": "externalId", "message": "repeats line 1"}
    eve = customer(client, staff, "e-9")
    assert eve["id"] == made["id"] and eve["lastName"] == "Moss"
    update = run_import(client, staff | NDJSON, b'{"externalId": "e-9", "lastName": "Lake"}\n')
    assert update["updated"] == 1 and customer(client, staff, "e-9")["lastName"] == "Lake"


def test_dry_run_changes_nothing(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    result = run_import(client, staff | CSV, FILE, dryRun="true")
    assert result["dryRun"] is True and result["created"] == 3
    assert customer(client, staff, "c-1") is None


def test_bad_files_are_refused_never_a_500(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    cases = [
        ({"Content-Type": "application/json"}, b'{"firstName": "A"}', 415),
        ({"Content-Type": "text/plain"}, b"firstName\nA\n", 415),
        (CSV, b"", 400),
        (CSV, b"Ann,Lee,ann@example.com\n", 422),  # no header row
        (CSV, b"firstName,shoeSize\nA,44\n", 422),
        (CSV, "firstName\nAnn\n".encode("utf-16"), 422),
        (NDJSON, b"", 400),
    ]
    for headers, body, status in cases:
        response = client.post("/imports", content=body, headers=staff | headers)
        assert response.status_code == status, (body[:30], response.text)
        assert response.headers["content-type"].startswith("application/problem+json")
    assert client.post("/imports", content=FILE, headers=auth("viewer") | CSV).status_code == 403


def test_bad_lines_fail_alone(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    body = (
        b"externalId,firstName\n"
        b"l-1,Ann\n"
        b"l-2," + b"x" * (10 * 1024 * 1024) + b"\n"  # a 10 MB line
        b"l-3;Bob\n"  # another delimiter
        b"l-4,Caf\xe9\n"  # Latin-1, not UTF-8
        b'l-5,"never closed\n'
    )
    result = run_import(client, staff | CSV, body)
    assert [(e["line"], e["field"]) for e in result["errors"]] == [
        (3, "line"), (4, "line"), (5, "line"), (6, "line"),
    ]  # fmt: skip
    assert result["created"] == 1 and customer(client, staff, "l-1") is not None


def test_other_tenants_imports_are_not_found(client: Client, auth: Auth) -> None:
    done = run_import(client, auth("staff") | CSV, FILE)
    location = f"/imports/{done['id']}"
    assert client.get(location, headers=auth("staff", tenant="globex")).status_code == 404
    assert client.get("/imports/not-a-uuid", headers=auth("staff")).status_code in (400, 404)


def test_an_export_imports_back(client: Client, auth: Auth) -> None:
    admin = auth("admin")
    run_import(client, admin | CSV, FILE)
    token = str(client.app.state.runtime.commands.executor.repository.position())
    exported = client.get("/customers/export", headers=admin | {"X-Consistency-Token": token})
    other = auth("admin", tenant="globex")
    result = run_import(client, other | CSV, exported.content)
    assert (result["created"], result["failed"]) == (3, 0), result["errors"]
    mine = customer(client, admin, "c-3")
    theirs = customer(client, other, "c-3")
    assert theirs["firstName"] == mine["firstName"] == "=cmd|' /C calc'!A0"
    assert customer(client, other, "c-1")["phone"] == "+14155552671"


def test_a_row_nothing_can_match_fails(client: Client, auth: Auth) -> None:
    staff = auth("staff")
    result = run_import(client, staff | CSV, b"firstName,lastName\nAnn,Lee\n")
    assert result["created"] == 0
    assert [(e["line"], e["field"]) for e in result["errors"]] == [(2, "externalId")]


def test_rows_about_one_customer_in_one_chunk_apply_in_file_order(
    client: Client, auth: Auth
) -> None:
    staff = auth("staff")
    body = (
        b'{"email": "gil@example.com", "firstName": "Gil"}\n'
        b'{"email": "hal@example.com", "firstName": "Hal"}\n'
        b'{"email": "GIL@example.com", "lastName": "Moss"}\n'  # the same customer as line 1
        b'{"email": "gil@example.com", "lastName": "Lake"}\n'
    )
    result = run_import(client, staff | NDJSON, body)
    assert (result["created"], result["updated"], result["failed"]) == (2, 2, 0)
    token = str(client.app.state.runtime.commands.executor.repository.position())
    found = client.get(
        "/customers", params={"email": "gil@example.com"},
        headers=staff | {"X-Consistency-Token": token},
    ).json()["items"]  # fmt: skip
    assert [(c["firstName"], c["lastName"]) for c in found] == [("Gil", "Lake")]
