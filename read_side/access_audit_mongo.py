"""The access log in the MongoDB read database (collection `access_log`), hash-chained.

Several API processes append to one tenant's chain: each keeps the tenant's head it last saw
and writes the next numbers; the unique index on (tenantId, seq) refuses a number another
process took first, and the writer then reloads the head and chains the rest after it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Sequence

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient
from pymongo.errors import BulkWriteError, DuplicateKeyError

from read_side.access_audit import GroupCommit
from read_side.access_chain import AccessRecord, AccessReport, ChainVerifier, Head, chained
from shared.json_types import JSONObject

RETRIES = 50
MIGRATION = "seal-access-audit"


class MongoAccessAudit(GroupCommit):
    """See the module docstring."""

    def __init__(self, client: AsyncMongoClient[JSONObject], database: str, key: bytes) -> None:
        super().__init__()
        self._db = client[database]
        self._log = self._db["access_log"]
        self._key = key
        self._heads: dict[str, Head | None] = {}
        self._ready: asyncio.Lock | None = None
        self._prepared = False

    async def _prepare(self) -> None:
        if self._prepared:
            return
        self._ready = self._ready or asyncio.Lock()
        async with self._ready:
            if not self._prepared:
                await self._log.create_index(
                    [("tenantId", ASCENDING), ("seq", ASCENDING)], unique=True
                )
                await self._log.create_index([("tenantId", 1), ("customerId", 1), ("seq", -1)])
                await self._log.create_index([("tenantId", 1), ("customerIds", 1), ("seq", -1)])
                await self._seal_unchained()
                self._prepared = True

    async def _head(self, tenant: str) -> Head | None:
        last = await self._log.find_one({"tenantId": tenant}, sort=[("seq", DESCENDING)])
        return (int(last["seq"]), bytes.fromhex(last["hash"])) if last else None

    async def _append(self, tenant: str, entries: Sequence[AccessRecord]) -> None:
        await self._prepare()
        remaining = list(entries)
        for _ in range(RETRIES):
            if tenant not in self._heads:
                self._heads[tenant] = await self._head(tenant)
            rows = chained(self._key, tenant, self._heads[tenant], remaining)
            try:
                await self._log.insert_many([dict(row) for row in rows], ordered=True)
            except (BulkWriteError, DuplicateKeyError) as error:
                details = getattr(error, "details", None) or {}
                remaining = remaining[int(details.get("nInserted", 0)) :]
                del self._heads[tenant]  # another process took a number: reload the head
                continue
            last = rows[-1]
            self._heads[tenant] = (int(last["seq"]), bytes.fromhex(last["hash"]))
            return
        raise RuntimeError("the access log's head kept moving; gave up appending")

    async def _seal_unchained(self) -> None:
        """One-off, recorded migration: entries of the unchained `access_audit` collection are
        chained in the order they were written; the marker makes one process do it."""
        markers = self._db["access_log_migrations"]
        if await markers.find_one({"_id": MIGRATION}):
            return
        old = self._db["access_audit"]
        try:
            await markers.insert_one({"_id": MIGRATION, "done": False})
        except DuplicateKeyError:
            return
        count = 0
        async for entry in old.find({}, {"_id": 0}).sort("_id", ASCENDING):
            tenant = str(entry["tenantId"])
            head = self._heads.get(tenant) or await self._head(tenant)
            row = chained(self._key, tenant, head, [entry])[0]
            await self._log.insert_one(dict(row))
            self._heads[tenant] = (int(row["seq"]), bytes.fromhex(row["hash"]))
            count += 1
        await markers.update_one({"_id": MIGRATION}, {"$set": {"done": True, "entries": count}})
        self._heads.clear()

    async def record(self, entry: AccessRecord) -> None:
        """Store one access."""
        await super().record(dict(entry))

    async def list(self, tenant_id: str, customer_id: str, limit: int = 1000) -> list[AccessRecord]:
        """Accesses to one customer, newest first."""
        await self._prepare()
        either = [{"customerId": customer_id}, {"customerIds": customer_id}]
        cursor = self._log.find({"tenantId": tenant_id, "$or": either}, {"_id": 0})
        return [entry async for entry in cursor.sort("seq", DESCENDING).limit(limit)]

    async def verify(self, tenant_id: str | None = None) -> AccessReport:
        """See `AccessAudit.verify`."""
        await self._prepare()
        query = {"tenantId": tenant_id} if tenant_id else {}
        cursor = self._log.find(query, {"_id": 0}).sort([("tenantId", 1), ("seq", 1)])
        verifier = ChainVerifier(self._key)
        async for row in cursor:
            if not verifier.feed(row):
                break
        return verifier.report

    async def close(self) -> None:
        """Finish the batches in flight; the client belongs to the caller."""
        await self.drain()
