"""The OpenAPI document says what the server does, and the protocol headers are there:
public operations need no token, every 401 names the Bearer scheme, every 405 lists `Allow`,
and bodies that refuse unknown fields say `additionalProperties: false`."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from entrypoints.openapi_document import document
from shared.settings import Settings

SECRET = "exact-secret-with-at-least-32-bytes-of-entropy!"
METHODS = ("get", "put", "post", "delete", "patch")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    # Many deliberate 401s from one address: security alerts have their own tests.
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("exact"),
        jwt_secret=SECRET,
        alert_burst=0,
        alert_bulk_records=0,
        alert_token_addresses=0,
    )
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture(scope="module")
def served(client: TestClient[Litestar]) -> dict[str, Any]:
    body: dict[str, Any] = client.get("/api/openapi.json").json()
    assert body == document(client.app)
    return body


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item:
                yield path, method, item[method]


def concrete(path: str) -> str:
    return (
        path.replace("{customer_id}", "0b9f6f4e-3f57-4c39-9d0a-6d2f0a8e7b21")
        .replace("{purpose}", "marketing_email")
        .replace("{number}", "1")
        .replace("{segment_id}", "0b9f6f4e-3f57-4c39-9d0a-6d2f0a8e7b22")
        .replace("{name}", "analytics_overview")
    )


def test_public_operations_declare_no_security(
    served: dict[str, Any], client: TestClient[Litestar]
) -> None:
    public = {path for path, _, op in operations(served) if op.get("security") == []}
    assert public == {"/health", "/metrics"}
    for path in public:
        assert client.get(path).status_code == 200  # and indeed no token is needed


def test_every_protected_operation_answers_401_with_www_authenticate(
    served: dict[str, Any], client: TestClient[Litestar]
) -> None:
    for path, method, op in operations(served):
        if op.get("security") == []:
            continue
        header = op["responses"]["401"]["headers"]["WWW-Authenticate"]
        assert header["required"] is True
        for auth in ({}, {"Authorization": "Bearer not-a-token"}):
            answer = client.request(method.upper(), concrete(path), headers=auth)
            assert answer.status_code == 401, (method, path)
            assert answer.headers["www-authenticate"] == "Bearer", (method, path)


def test_405_lists_the_allowed_methods(
    served: dict[str, Any], client: TestClient[Litestar]
) -> None:
    for path, item in served["paths"].items():
        documented = {m.upper() for m in METHODS if m in item}
        for method in {"GET", "PUT", "POST", "DELETE", "PATCH"} - documented:
            answer = client.request(method, concrete(path))
            assert answer.status_code == 405, (method, path)
            allowed = {m.strip() for m in answer.headers["allow"].split(",")}
            assert allowed - {"OPTIONS", "HEAD"} == documented, (method, path)


def test_bodies_that_refuse_unknown_fields_say_so(served: dict[str, Any]) -> None:
    schemas = served["components"]["schemas"]
    bodies = ["CustomerWrite", "ReasonBody", "AttendeesBody", "AttendeeBody", "BillingBody",
              "AddressBody", "ConsentBody", "MergeBody"]  # fmt: skip
    assert {name: schemas[name].get("additionalProperties") for name in bodies} == dict.fromkeys(
        bodies, False
    )


def test_optional_bodies_are_not_required(served: dict[str, Any]) -> None:
    for path in ("/customers/{customer_id}/erase", "/customers/{customer_id}/restore"):
        assert served["paths"][path]["post"]["requestBody"]["required"] is False
    assert served["paths"]["/customers/{customer_id}"]["delete"]["requestBody"]["required"] is False


def test_the_served_document_is_the_checked_in_shape(tmp_path: Path) -> None:
    """Building the document starts nothing: no lifespan, no files in the data dir."""
    app = create_app(Settings(data_dir=tmp_path / "unused", jwt_secret=SECRET))
    assert document(app)["paths"]["/health"]["get"]["security"] == []
    assert not (tmp_path / "unused").exists()


def admin() -> dict[str, str]:
    from shared.http.auth import mint_token

    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="s", ttl_seconds=600)
    return {"Authorization": f"Bearer {token}"}


@pytest.mark.parametrize(
    "value", ["0.5", "1", "-1", "1e3", "2024-01-01", "2024-01-01T00:00:00", "2026-02-30T00:00:00Z"]
)
def test_date_times_are_rfc_3339_with_an_offset(client: TestClient[Litestar], value: str) -> None:
    """`createdTo=0.5` was read as a Unix time and answered 200; a time without an offset was
    guessed to be UTC. Both are refused, naming the parameter, as the document says."""
    some_id = "0b9f6f4e-3f57-4c39-9d0a-6d2f0a8e7b21"
    for path, name in (("/customers", "createdTo"), ("/customers", "createdFrom"),
                       (f"/customers/{some_id}", "asOf")):  # fmt: skip
        answer = client.get(path, params={name: value}, headers=admin())
        assert answer.status_code == 400, (name, value, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == [name]
    ok = client.get(
        "/customers", params={"createdTo": "2024-01-01T00:00:00.5+05:30"}, headers=admin()
    )
    assert ok.status_code == 200


def test_consistency_tokens_are_ascii_digits(client: TestClient[Litestar]) -> None:
    """`²` passed `str.isdigit` and then failed `int()`: a 500."""
    authorization = admin()["Authorization"].encode()
    for token in (b"\xb2", b"12a", b"1" * 19):
        headers = [(b"Authorization", authorization), (b"X-Consistency-Token", token)]
        answer = client.get("/customers", headers=headers)
        assert answer.status_code == 400, token


def test_if_match_takes_exactly_the_documented_forms(client: TestClient[Litestar]) -> None:
    created = client.post("/customers", json={"firstName": "Ifm"}, headers=admin())
    path = f"/customers/{created.json()['id']}"
    for good in ('"1"', 'W/"1"', "1", "*", ' "1" '):
        answer = client.patch(path, json={}, headers=admin() | {"If-Match": good})
        assert answer.status_code == 200, (good, answer.text)
    for bad in ('"1', '""1""', "x", '"1", "2"', "W/1"):
        answer = client.patch(path, json={}, headers=admin() | {"If-Match": bad})
        assert answer.status_code == 400, (bad, answer.text)


def test_well_formed_but_impossible_filters_are_422(client: TestClient[Litestar]) -> None:
    """The document cannot say which strings are phone numbers, nor relate two dates: a
    schema-valid request that breaks such a rule is 422, 400 is for what the document refuses."""
    for params in ({"phone": "12"}, {"createdFrom": "2030-01-01T00:00:00Z",
                                     "createdTo": "2020-01-01T00:00:00Z"}):  # fmt: skip
        assert client.get("/customers", params=params, headers=admin()).status_code == 422


def test_the_headers_every_answer_carries_are_required(served: dict[str, Any]) -> None:
    """`response_headers_conformance` only checks required headers: those always sent are."""
    paths = served["paths"]
    created = paths["/customers"]["post"]["responses"]["201"]["headers"]
    assert {n for n, h in created.items() if h.get("required")} >= {
        "ETag", "X-Consistency-Token", "Location"
    }  # fmt: skip
    read = paths["/customers/{customer_id}"]["get"]["responses"]["200"]
    assert read["headers"]["ETag"]["required"] is True
    assert read["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/CustomerResource"
    }


def test_unknown_query_parameters_are_refused_on_every_operation(
    served: dict[str, Any], client: TestClient[Litestar]
) -> None:
    """`DELETE /customers/{id}?reasn=left` succeeded and dropped the misspelt reason."""
    posted = client.post("/customers", json={"firstName": "Typo"}, headers=admin())
    created, written = posted.json(), {"X-Consistency-Token": posted.headers["x-consistency-token"]}
    deleted = client.delete(
        f"/customers/{created['id']}", params={"reasn": "left"}, headers=admin()
    )
    assert deleted.status_code == 400, deleted.text
    assert [e["field"] for e in deleted.json()["errors"]] == ["reasn"]
    read = client.get(f"/customers/{created['id']}", headers=admin() | written)  # not lagging
    assert read.json()["state"] == "active"
    for path, method, op in operations(served):
        if op.get("security") == []:
            assert client.get(path, params={"x": "1"}).status_code == 200  # public: left alone
            continue
        answer = client.request(method.upper(), concrete(path), params={"zz": "1"}, headers=admin())
        assert answer.status_code == 400, (method, path, answer.text)
        assert [e["field"] for e in answer.json()["errors"]] == ["zz"], (method, path)
