"""TLS to the backing services is configured in their URLs and passed through (issue 16
A.5): libpq's `sslmode`/`sslrootcert`/… reach every PostgreSQL connection (the event store's
pool, the wake-up channels, the lease table), `rediss://`, `amqps://` and MongoDB's `tls=true`
go to their clients unchanged."""

from __future__ import annotations

from pathlib import Path

import pytest

from shared.adapters.pg_notify import conninfo_for
from shared.settings import Settings
from write_side.adapters.event_store import event_store_env

URL = "postgresql://u:p@db.example:5432/customers?schema=s1&sslmode=verify-full&sslrootcert=/ca.pem"


def test_the_libpq_url_keeps_tls_and_drops_the_schema() -> None:
    conninfo = conninfo_for(URL)
    assert "sslmode=verify-full" in conninfo and "sslrootcert=%2Fca.pem" in conninfo
    assert "schema" not in conninfo


def test_the_event_store_pool_gets_the_tls_parameters(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name in ("PGSSLMODE", "PGSSLROOTCERT"):
        # setenv records the variable's state (delenv of an absent one does not), so the
        # values the call sets are undone and later tests' connections do not ask for TLS
        monkeypatch.setenv(name, "")
    env = event_store_env(Settings(data_dir=tmp_path, event_store_url=URL))
    assert env["POSTGRES_SCHEMA"] == "s1"
    import os

    assert os.environ["PGSSLMODE"] == "verify-full"
    assert os.environ["PGSSLROOTCERT"] == "/ca.pem"


def test_tls_urls_of_the_other_services_are_accepted_as_given() -> None:
    settings = Settings.from_env({
        "CUSTOMERS_REDIS_URL": "rediss://:pw@cache.example:6380/0?ssl_ca_certs=/ca.pem",
        "CUSTOMERS_AMQP_URL": "amqps://u:p@mq.example:5671/?cafile=/ca.pem",
        "CUSTOMERS_MONGO_URL": "mongodb://m.example/customers?tls=true&tlsCAFile=/ca.pem",
    })  # fmt: skip
    assert settings.redis_url and settings.redis_url.startswith("rediss://")
    assert settings.amqp_url and settings.amqp_url.startswith("amqps://")
    assert settings.mongo_url and "tls=true" in settings.mongo_url
