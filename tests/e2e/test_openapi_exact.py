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
    settings = Settings(data_dir=tmp_path_factory.mktemp("exact"), jwt_secret=SECRET)
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
              "AddressBody", "ConsentBody"]  # fmt: skip
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
