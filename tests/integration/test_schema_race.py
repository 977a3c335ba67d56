"""`serve --workers 2` on a PostgreSQL schema that does not exist yet: both workers create it
at the same moment. `CREATE SCHEMA IF NOT EXISTS` is not atomic against a concurrent one (the
loser trips the catalog's unique index); the peer harness met it as a worker that never
started."""

from __future__ import annotations

import threading
import uuid

import psycopg
from psycopg import sql

from shared.settings import Settings
from write_side.adapters.event_store import _ensure_schema, event_store_env


def test_workers_creating_the_same_schema_at_once_all_start(postgres_url: str) -> None:
    schemas = [f"race_{uuid.uuid4().hex[:12]}" for _ in range(10)]
    failures: list[BaseException] = []
    try:
        for schema in schemas:
            separator = "&" if "?" in postgres_url else "?"
            url = f"{postgres_url}{separator}schema={schema}"
            env = event_store_env(Settings(event_store_url=url))
            barrier = threading.Barrier(2)

            def create(env: dict[str, str] = env, barrier: threading.Barrier = barrier) -> None:
                barrier.wait()
                try:
                    _ensure_schema(env)
                except BaseException as error:  # collected: asserted below
                    failures.append(error)

            threads = [threading.Thread(target=create) for _ in range(2)]
            for thread in threads:
                thread.start()
            for thread in threads:
                thread.join()
        assert failures == []
    finally:
        with psycopg.connect(postgres_url, autocommit=True) as connection:
            for schema in schemas:
                connection.execute(
                    sql.SQL("DROP SCHEMA IF EXISTS {} CASCADE").format(sql.Identifier(schema))
                )
