"""The access log is append-only and verifiable like the event log (issue 15.3): on SQLite and
MongoDB, an untouched log verifies, and an entry modified, deleted or reordered by hand in the
database is named; concurrent writers (two processes' adapters) share one chain; entries of the
unchained log from before are sealed once, by a recorded migration."""

from __future__ import annotations

import asyncio
import json
import sqlite3
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import pytest

from read_side.access_audit import AccessAudit, SQLiteAccessAudit, open_mongo_audit
from read_side.access_chain import AccessRecord

KEY = b"audit-test-key"


def entry(n: int, tenant: str = "acme") -> AccessRecord:
    return {"tenantId": tenant, "customerId": f"c{n % 3}", "actor": "vera", "roles": ["viewer"],
            "at": f"2026-12-01T10:00:{n:02d}.000Z", "action": "read", "purpose": "service"}  # fmt: skip


class Raw:
    """Hand edits straight in the database, as a forger with database access would make."""

    def __init__(self, kind: str, where: Any) -> None:
        self.kind, self.where = kind, where

    async def modify(self, seq: int) -> None:
        if self.kind == "sqlite":
            text = json.dumps(entry(seq) | {"actor": "someone-else"})
            self._sql("UPDATE access_log SET entry = ? WHERE seq = ?", (text, seq))
        else:
            await self.where.update_one({"seq": seq}, {"$set": {"actor": "someone-else"}})

    async def delete(self, seq: int) -> None:
        if self.kind == "sqlite":
            self._sql("DELETE FROM access_log WHERE seq = ?", (seq,))
        else:
            await self.where.delete_one({"seq": seq})

    async def swap(self, a: int, b: int) -> None:
        """Swap two entries' contents (their numbers and hashes stay)."""
        if self.kind == "sqlite":
            self._sql(
                "UPDATE access_log SET entry = CASE seq WHEN ? THEN (SELECT entry FROM access_log "
                "WHERE seq = ?) ELSE (SELECT entry FROM access_log WHERE seq = ?) END "
                "WHERE seq IN (?, ?)",
                (a, b, a, a, b),
            )
            return
        first, second = [await self.where.find_one({"seq": s}) for s in (a, b)]
        for target, source in ((first, second), (second, first)):
            await self.where.update_one(
                {"_id": target["_id"]},
                {"$set": {"at": source["at"], "customerId": source["customerId"]}},
            )

    def _sql(self, statement: str, args: tuple[Any, ...]) -> None:
        db = sqlite3.connect(self.where)
        with db:
            for trigger in ("access_log_no_update", "access_log_no_delete",
                            "access_log_customers_no_delete"):  # fmt: skip
                db.execute(f"DROP TRIGGER IF EXISTS {trigger}")  # what a forger would do first
            db.execute(statement, args)
        db.close()


@pytest.fixture(params=["sqlite", "mongo"])
async def audits(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[tuple[Any, ...]]:
    """Two adapters on one store (two processes' worth) and raw access to it."""
    if request.param == "sqlite":
        path = tmp_path / "read_models.db"
        pair: list[Any] = [SQLiteAccessAudit(path, KEY), SQLiteAccessAudit(path, KEY)]
        yield (*pair, Raw("sqlite", path))
    else:
        from pymongo import AsyncMongoClient

        client: Any = AsyncMongoClient(request.getfixturevalue("mongo_url"))
        name = "audit_" + uuid.uuid4().hex[:10]
        pair = [open_mongo_audit(client, name, KEY), open_mongo_audit(client, name, KEY)]
        yield (*pair, Raw("mongo", client[name]["access_log"]))
        await client.drop_database(name)
        await client.aclose()
    for audit in pair:
        await audit.close()


async def fill(first: AccessAudit, second: AccessAudit, count: int) -> None:
    """Concurrent appends from both writers, as two API processes would make them."""
    await asyncio.gather(*((first if n % 2 else second).record(entry(n)) for n in range(count)))


async def test_concurrent_writers_share_one_verifiable_chain(audits: tuple[Any, ...]) -> None:
    first, second, _ = audits
    await fill(first, second, 40)
    await first.record(entry(1, tenant="globex"))
    report = await second.verify()
    assert report.ok, report.finding
    assert (report.entries, report.tenants) == (41, 2)
    assert (await first.verify("globex")).entries == 1
    listed = await first.list("acme", "c0")
    assert [e["seq"] for e in listed] == sorted((e["seq"] for e in listed), reverse=True)
    assert len(listed) == 14 and all(len(e["hash"]) == 64 for e in listed)


@pytest.mark.parametrize("edit", ["modified", "deleted", "reordered"])
async def test_a_hand_edit_is_named(audits: tuple[Any, ...], edit: str) -> None:
    first, second, raw = audits
    await fill(first, second, 10)
    assert (await first.verify()).ok
    if edit == "modified":
        await raw.modify(4)
    elif edit == "deleted":
        await raw.delete(4)
    else:
        await raw.swap(4, 5)
    report = await first.verify("acme")
    assert report.finding is not None
    expected = "modified" if edit == "reordered" else edit  # a swap breaks entry 4's hash
    assert (report.finding.kind, report.finding.seq) == (expected, 5 if edit == "deleted" else 4)
    assert report.entries == 3
    assert "vera" not in report.finding.describe()


async def test_an_entry_hidden_from_its_customer_is_named(tmp_path: Path) -> None:
    """SQLite files an entry under each customer it names: removing that filing would hide
    the entry from `/audit/access?customerId=` without touching the chain."""
    audit = SQLiteAccessAudit(tmp_path / "read_models.db", KEY)
    for n in range(5):
        await audit.record(entry(n))
    Raw("sqlite", tmp_path / "read_models.db")._sql(
        "DELETE FROM access_log_customers WHERE seq = ?", (3,)
    )
    report = await audit.verify()
    assert report.finding is not None
    assert (report.finding.kind, report.finding.seq) == ("modified", 3)
    assert "index" in report.finding.detail
    await audit.close()


def test_sql_updates_and_deletes_are_refused(tmp_path: Path) -> None:
    audit = SQLiteAccessAudit(tmp_path / "read_models.db", KEY)
    asyncio.run(audit.record(entry(1)))
    db = sqlite3.connect(tmp_path / "read_models.db")
    for statement in ("UPDATE access_log SET hash = 'x'", "DELETE FROM access_log",
                      "DELETE FROM access_log_customers"):  # fmt: skip
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            db.execute(statement)
    db.close()
    asyncio.run(audit.close())


async def test_the_unchained_log_from_before_is_sealed_once(tmp_path: Path) -> None:
    path = tmp_path / "read_models.db"
    db = sqlite3.connect(path)
    db.execute("CREATE TABLE access_audit (tenant_id TEXT, customer_id TEXT, at TEXT, entry TEXT)")
    page = entry(1) | {"customerId": None, "customerIds": ["a", "b"]}
    rows = [("acme", "c0", "t", json.dumps(entry(0))), ("acme", "a", "t", json.dumps(page)),
            ("acme", "b", "t", json.dumps(page))]  # fmt: skip
    db.executemany("INSERT INTO access_audit VALUES (?, ?, ?, ?)", rows)
    db.commit()
    db.close()
    audit = SQLiteAccessAudit(path, KEY)
    report = await audit.verify()
    assert report.ok and report.entries == 2  # the list page was one read, filed twice
    assert [e["seq"] for e in await audit.list("acme", "b")] == [2]
    await audit.close()
    db = sqlite3.connect(path)
    assert db.execute("SELECT name, entries FROM access_log_migrations").fetchall() == [
        ("seal-access-audit", 2)
    ]
    db.close()
