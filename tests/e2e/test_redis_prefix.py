"""`CUSTOMERS_REDIS_PREFIX` namespaces every Redis key (issue 16 A.2): two deployments may
share one Redis. The test exercises each Redis user — search index and its checkpoint, the
document cache and its vouch, rate limits, security counters and lockouts — then scans the
whole database for a key outside the prefix. Then the same on a Redis Cluster."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import redis

from entrypoints.app import create_app
from shared.http.auth import mint_token
from shared.redis_urls import seed_url
from shared.settings import Settings
from tests.e2e.conftest import SECRET, fresh_redis_database

PREFIX = "deploy-7.eu"


def exercise(settings: Settings) -> None:
    """Every Redis user once: a write (search index, checkpoint), two reads (cache, vouch), a
    search, bad tokens (security counters, then a lockout), rate limits throughout."""
    from litestar.testing import TestClient

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


def unseen_kinds(keys: list[str], prefix: str, search: str = "projection:search:") -> list[str]:
    """The kinds of keys (rate limits, alerts, cache, index, checkpoint) with no key here."""
    kinds = ("rl:", "alert:", "cache:", "g1:", search)
    return [kind for kind in kinds if not any(k.startswith(f"{prefix}:{kind}") for k in keys)]


def test_every_redis_key_carries_the_prefix(
    tmp_path: Path, postgres_schema_url: str, mongo_url: str, unique_name: str, redis_url: str
) -> None:
    url = fresh_redis_database(redis_url, number=11)
    exercise(
        Settings(
            data_dir=tmp_path,
            event_store_url=postgres_schema_url,
            mongo_url=f"{mongo_url.rstrip('/')}/{unique_name}",
            redis_url=url,
            jwt_secret=SECRET,
            redis_prefix=PREFIX,
            alert_burst=3,
        )
    )
    keys = [key.decode() for key in redis.Redis.from_url(url).scan_iter(count=1000)]
    outside = [key for key in keys if not key.startswith(f"{PREFIX}:")]
    assert not outside, f"Redis keys outside {PREFIX!r}: {outside}"
    assert not unseen_kinds(keys, PREFIX)


def test_the_service_runs_on_a_redis_cluster(
    tmp_path: Path,
    postgres_schema_url: str,
    mongo_url: str,
    unique_name: str,
    redis_cluster_url: str,
) -> None:
    """The same, with `CUSTOMERS_REDIS_URL=redis+cluster://…` (issue 16 A.3): every script of
    every Redis user stays within one slot, or a step above fails (or, for the fail-open
    counters, leaves its kind of key missing)."""
    exercise(
        Settings.from_env(
            {"CUSTOMERS_REDIS_URL": redis_cluster_url, "CUSTOMERS_REDIS_PREFIX": unique_name},
            data_dir=tmp_path,
            event_store_url=postgres_schema_url,
            mongo_url=f"{mongo_url.rstrip('/')}/{unique_name}",
            jwt_secret=SECRET,
            alert_burst=3,
        )
    )
    cluster = redis.RedisCluster.from_url(seed_url(redis_cluster_url))
    keys = [key.decode() for key in cluster.scan_iter(match=f"{unique_name}:*", count=1000)]
    cluster.delete(*keys)
    cluster.close()
    assert not unseen_kinds(keys, unique_name, search="projection:{search}:")
