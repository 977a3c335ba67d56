"""The contract's role table, every operation of the OpenAPI document against every role: a
role without the permission an operation needs is 403, one with it is never 403. An analyst
holds only `analytics`: every operation that can show a personal value (customer reads,
lists, history, exports, records, the access audit) is 403 for it."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.principal import ROLE_PERMISSIONS, Permission, Role
from shared.settings import Settings

SECRET = "role-matrix-secret-with-enough-entropy!!"
METHODS = ("get", "put", "post", "delete", "patch")
#: The contract's table, column by column (✓ = the role has it).
TABLE = {
    "viewer": {"read"},
    "staff": {"read", "write"},
    "manager": {"read", "write", "delete", "analytics"},
    "auditor": {"read", "audit"},
    "analyst": {"analytics"},
    "admin": {
        "read",
        "write",
        "delete",
        "audit",
        "erase",
        "analytics",
        "projections_admin",
        "tenant_admin",  # the contract's "admin" column: tenant settings (loyalty program)
    },
}


def test_the_role_table_is_the_contracts() -> None:
    granted = {role.value: {p.value for p in perms} for role, perms in ROLE_PERMISSIONS.items()}
    assert granted == TABLE


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient[Litestar]]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("roles"), jwt_secret=SECRET,
        alert_burst=0, alert_bulk_records=0, alert_token_addresses=0,
        rate_limit_tenant_per_minute=100_000, rate_limit_subject_per_minute=100_000,
    )  # fmt: skip
    with TestClient(create_app(settings)) as test_client:
        yield test_client


def headers(role: str) -> dict[str, str]:
    token = mint_token(SECRET, tenant="acme", roles=[role], subject=f"s-{role}", ttl_seconds=600)
    return {"Authorization": f"Bearer {token}"}


def operations(doc: dict[str, Any]) -> Iterator[tuple[str, str]]:
    for path, item in doc["paths"].items():
        for method in METHODS:
            if method in item and item[method].get("security") != []:
                yield path, method


def needed(client: TestClient[Litestar], path: str, method: str) -> set[Permission]:
    """The permissions an operation's guards ask for (read off the route's guard messages)."""
    answer = client.request(method.upper(), path, headers=headers("nobody"))
    assert answer.status_code == 403, (method, path, answer.status_code)
    detail = answer.json()["detail"]
    return {p for p in Permission if f"'{p.value}'" in detail}


def concrete(path: str, customer: str) -> str:
    return (
        path.replace("{customer_id}", customer).replace("{purpose}", "marketing_email")
        .replace("{number}", "1").replace("{name}", "analytics_overview")
        .replace("{segment_id}", "0b9f6f4e-3f57-4c39-9d0a-6d2f0a8e7b22")
    )  # fmt: skip


@pytest.mark.parametrize("role", sorted(TABLE))
def test_every_operation_answers_403_exactly_without_its_permission(
    client: TestClient[Litestar], role: str
) -> None:
    doc = client.get("/api/openapi.json").json()
    customer = client.post("/customers", json={"firstName": "Ann"}, headers=headers("admin"))
    assert customer.status_code == 201
    checked = 0
    for path, method in operations(doc):
        url = concrete(path, customer.json()["id"])
        permissions = needed(client, url, method)
        assert permissions, (method, path)
        allowed = any(p.value in TABLE[role] for p in permissions)
        answer = client.request(method.upper(), url, headers=headers(role))
        assert (answer.status_code == 403) != allowed, (role, method, path, answer.status_code)
        checked += 1
    assert checked >= 29  # every protected operation of the document


def test_an_analyst_reads_no_personal_value(client: TestClient[Litestar]) -> None:
    customer = client.post("/customers", json={"firstName": "Zed"}, headers=headers("admin"))
    cid = customer.json()["id"]
    analyst = headers("analyst")
    for url in (f"/customers/{cid}", "/customers", f"/customers/{cid}/history",
                f"/customers/{cid}/export", f"/customers/{cid}/consents", f"/customers/{cid}/orders",
                f"/audit/access?customerId={cid}", f"/customers/{cid}/billing"):  # fmt: skip
        assert client.get(url, headers=analyst).status_code == 403, url
    assert client.get("/analytics/overview", headers=analyst).status_code == 200
    assert client.get("/analytics/cohorts", headers=analyst).status_code == 200


def test_unknown_roles_grant_nothing(tmp_path: Path) -> None:
    assert Role("analyst") in ROLE_PERMISSIONS
    assert "nobody" not in {r.value for r in Role}
