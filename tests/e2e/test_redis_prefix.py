"""`CUSTOMERS_REDIS_PREFIX` namespaces every Redis key (issue 16 A.2): two deployments may
share one Redis. The test exercises each Redis user — search index and its checkpoint, the
document cache and its vouch, rate limits, security counters and lockouts — then scans the
whole database for a key outside the prefix."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import redis

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.settings import Settings
from tests.e2e.conftest import SECRET, fresh_redis_database

PREFIX = "deploy-7.eu"


def test_every_redis_key_carries_the_prefix(
    tmp_path: Path, postgres_schema_url: str, mongo_url: str, unique_name: str, redis_url: str
) -> None:
    from litestar.testing import TestClient

    url = fresh_redis_database(redis_url, number=11)
    settings = Settings(
        data_dir=tmp_path,
        event_store_url=postgres_schema_url,
        mongo_url=f"{mongo_url.rstrip('/')}/{unique_name}",
        redis_url=url,
        jwt_secret=SECRET,
        redis_prefix=PREFIX,
        alert_burst=3,
    )
    token = mint_token(SECRET, tenant="acme", roles=["admin"], subject="al", ttl_seconds=600)
    admin = {"Authorization": f"Bearer {token}"}
    with TestClient(create_app(replace(settings))) as client:
        created = client.post("/customers", json={"firstName": "Zoe"}, headers=admin)
        assert created.status_code == 201, created.text
        consistent = admin | {"X-Consistency-Token": created.headers["x-consistency-token"]}
        customer = created.json()["id"]
        assert client.get(f"/customers/{customer}", headers=consistent).status_code == 200
        assert client.get(f"/customers/{customer}", headers=consistent).status_code == 200
        found = client.get("/customers", params={"q": "zoe"}, headers=consistent)
        assert [item["id"] for item in found.json()["items"]] == [customer]
        for _ in range(5):  # bad tokens: security counters, then a lockout
            client.get("/customers", headers={"Authorization": "Bearer nope"})
    keys = [key.decode() for key in redis.Redis.from_url(url).scan_iter(count=1000)]
    outside = [key for key in keys if not key.startswith(f"{PREFIX}:")]
    assert not outside, f"Redis keys outside {PREFIX!r}: {outside}"
    kinds = {kind: any(k.startswith(f"{PREFIX}:{kind}") for k in keys) for kind in
             ("rl:", "alert:", "cache:", "g1:", "projection:search:")}  # fmt: skip
    assert all(kinds.values()), f"no key of {[k for k, seen in kinds.items() if not seen]}"
