"""Filters that name the shard key `{tenantId: 1, _id: 1}` of every per-tenant collection
(the customer view, each projection's documents, the access log; docs/scaling.md).

On a sharded cluster a filter without `tenantId` goes to every shard, and an upsert without
the whole shard key is refused; with it, a router sends the command to the one shard that
holds the tenant. `_id` already starts with the tenant, but a router cannot read a prefix
of a string: the field itself must be in the filter. `tests/e2e/test_mongo_query_shapes.py`
records every command a workload sends and fails on one that leaves it out.

Measured on FerretDB v1.24 (PostgreSQL backend, 10k documents, 2 busy cores): an `_id`
equality costs 6 % more with `tenantId` beside it; an `_id` `$in` 15 % more with
`tenantId: {$in: […]}` and 40 % more with a `tenantId` equality, hence `$in` for both.
"""

from __future__ import annotations

from collections.abc import Iterable

from shared.json_types import JSONObject


def by_key(tenant_id: str, key: str) -> JSONObject:
    """One document: its tenant and its `_id`."""
    return {"tenantId": tenant_id, "_id": key}


def by_keys(pairs: Iterable[tuple[str, str]]) -> JSONObject:
    """Documents by (tenant, `_id`) pairs, of one tenant or several."""
    found = list(pairs)
    tenants = sorted({tenant for tenant, _ in found})
    return {"tenantId": {"$in": tenants}, "_id": {"$in": [key for _, key in found]}}
