"""Reading an event store's database around the application, to see what is stored at rest."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any
from urllib.parse import parse_qs

import psycopg
from psycopg import sql

from shared.settings import Settings


class RawStore:
    """The event store's database, read around the application."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.url = settings.event_store_url

    def rows(self, table: str | None = None) -> list[tuple[Any, ...]]:
        """Every row of `table`, or of every table of the event store."""
        if self.url is None:
            with sqlite3.connect(self.settings.data_dir / "events.db") as db:
                listing = "SELECT name FROM sqlite_master WHERE type='table'"
                names = [r[0] for r in db.execute(listing) if table in (None, r[0])]
                selects = [f'SELECT * FROM "{name}"' for name in names]  # noqa: S608
                return [row for select in selects for row in db.execute(select)]
        conninfo, _, query = self.url.partition("?")
        schema = parse_qs(query)["schema"][0]
        with psycopg.connect(conninfo, autocommit=True) as db:
            found = db.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
                (schema,),
            ).fetchall()
            names = [t[0] for t in found]
            assert {"customers_events", "customer_keys"} <= set(names)
            select = sql.SQL("SELECT * FROM {}.{}")
            rows: list[tuple[Any, ...]] = []
            for t in names:
                if table not in (None, t):
                    continue
                try:
                    rows += db.execute(select.format(sql.Identifier(schema), sql.Identifier(t)))
                except psycopg.errors.UndefinedTable:  # a projection generation just dropped
                    continue
            return rows

    def dump(self) -> list[bytes]:
        """Every value of every row as bytes (BLOBs as they are), and SQLite's files."""
        values = [
            bytes(v) if isinstance(v, bytes | memoryview) else str(v).encode()
            for row in self.rows()
            for v in row
        ]
        if self.url is None:  # also the database and WAL files, byte for byte
            values += [p.read_bytes() for p in self.settings.data_dir.glob("events.db*")]
        return values


def assert_nothing_in_clear(raw: RawStore, secrets: Sequence[str | bytes]) -> None:
    """No secret appears in any stored value or file, compared case-insensitively."""
    blobs = [blob.lower() for blob in raw.dump()]
    for secret in secrets:
        needle = (secret if isinstance(secret, bytes) else secret.encode()).lower()
        found = [blob[:80] for blob in blobs if needle in blob]
        assert not found, f"{secret!r} is stored in clear: {found}"
