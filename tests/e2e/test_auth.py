"""Bearer tokens, the role table and tenant isolation."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Callable

import jwt
import pytest
from litestar import Litestar
from litestar.testing import TestClient

from tests.e2e.conftest import SECRET, Headers

Client = TestClient[Litestar]
BODY = {"firstName": "Ann"}


def bearer(token: str) -> Headers:
    return {"Authorization": f"Bearer {token}"}


def claims(**overrides: object) -> dict[str, object]:
    base: dict[str, object] = {
        "sub": "alice",
        "tenant": "acme",
        "roles": ["admin"],
        "exp": int(time.time()) + 60,
    }
    base.update(overrides)
    return {k: v for k, v in base.items() if v is not None}


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"Authorization": "Bearer"},
        {"Authorization": "Bearer not-a-jwt"},
        bearer(jwt.encode(claims(exp=int(time.time()) - 5), SECRET, algorithm="HS256")),
        bearer(jwt.encode(claims(), "another-secret-of-sufficient-length-1234", algorithm="HS256")),
        bearer(jwt.encode(claims(tenant=None), SECRET, algorithm="HS256")),
        bearer(jwt.encode(claims(exp=None), SECRET, algorithm="HS256")),
        bearer(jwt.encode(claims(roles="admin"), SECRET, algorithm="HS256")),
    ],
    ids=[
        "none",
        "empty",
        "garbage",
        "expired",
        "wrong-key",
        "no-tenant",
        "no-exp",
        "roles-not-list",
    ],
)
def test_bad_tokens_are_401_problems(module_client: Client, headers: Headers) -> None:
    """One app per profile for the eight tokens (eight 401s: under the alert burst)."""
    response = module_client.post("/customers", json=BODY, headers=headers)
    assert response.status_code == 401
    assert response.headers["content-type"].startswith("application/problem+json")


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def test_alg_none_and_tampered_tokens_are_rejected(client: Client) -> None:
    unsigned = (
        _b64(json.dumps({"alg": "none", "typ": "JWT"}).encode())
        + "."
        + _b64(json.dumps(claims()).encode())
        + "."
    )
    assert client.post("/customers", json=BODY, headers=bearer(unsigned)).status_code == 401
    good = jwt.encode(claims(roles=["viewer"]), SECRET, algorithm="HS256")
    header, _, signature = good.split(".")
    tampered = f"{header}.{_b64(json.dumps(claims(roles=['admin'])).encode())}.{signature}"
    assert client.post("/customers", json=BODY, headers=bearer(tampered)).status_code == 401


@pytest.mark.parametrize(
    ("role", "write", "delete"),
    [
        ("viewer", 403, 403),
        ("auditor", 403, 403),
        ("staff", 201, 403),
        ("manager", 201, 200),
        ("admin", 201, 200),
    ],
)
def test_role_table_is_enforced(
    module_client: Client, auth: Callable[..., Headers], role: str, write: int, delete: int
) -> None:
    """One app per profile for the five roles, each on a customer of its own."""
    client = module_client
    created = client.post("/customers", json=BODY, headers=auth(role))
    assert created.status_code == write
    target = client.post("/customers", json=BODY, headers=auth("admin")).json()["id"]
    assert client.delete(f"/customers/{target}", headers=auth(role)).status_code == delete
    if created.status_code == 403:
        assert created.headers["content-type"].startswith("application/problem+json")


def test_unknown_roles_grant_nothing(client: Client, auth: Callable[..., Headers]) -> None:
    assert client.post("/customers", json=BODY, headers=auth("superuser")).status_code == 403


def test_public_endpoints_need_no_token(client: Client) -> None:
    assert client.get("/health").status_code == 200
    assert client.get("/api/openapi.json").status_code == 200
    assert client.get("/api/docs").status_code == 200
