"""With hosts sharing the read models, the rebuild lock lives in PostgreSQL (issue 16 A.1): a
rebuild on one host keeps a sweep on another from dropping the generation it builds."""

from __future__ import annotations

from projectors.rebuild_lock import rebuild_lock


def test_the_lock_is_seen_by_every_connection_and_freed_on_exit(postgres_schema_url: str) -> None:
    with rebuild_lock(postgres_schema_url, "search", wait=False) as first:
        assert first
        with rebuild_lock(postgres_schema_url, "search", wait=False) as second:
            assert not second, "another session (another host) got the same rebuild lock"
        with rebuild_lock(postgres_schema_url, "customer_view", wait=False) as other:
            assert other, "one projection's rebuild must not lock another's"
    with rebuild_lock(postgres_schema_url, "search", wait=True) as again:
        assert again
