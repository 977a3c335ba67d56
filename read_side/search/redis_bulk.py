"""Sends the index changes of a batch with the `BULK` script, on one Redis server or a Redis
Cluster (issue 16 A.3).

One server: every change, the lease epoch's check and the checkpoint in ONE call (atomic).

A cluster: a script may only touch keys of one hash slot, and a batch spans tenants (a slot
each) plus the checkpoint (the slot of `Keys.meta`). So, in order:
1. the epoch is claimed on the checkpoint's slot (a paused former holder is refused here,
   before it writes anything);
2. one call per tenant, concurrently, each refused when that tenant's epoch key
   (`Keys.tenant_epoch`) holds a newer epoch — a holder that took over after step 1 and
   already wrote that tenant — else storing its own;
3. the checkpoint moves, under the epoch's check again.
A crash between them re-applies the batch: the documents are version-guarded, so the result
is the same (the runner's usual effectively-once). Step 2's per-tenant fence is what keeps a
writer that passed step 1 and then paused from overwriting a newer holder's writes: the newer
holder stamps every tenant it writes.
"""

from __future__ import annotations

import asyncio

from read_side.search.redis_keys import Keys
from read_side.search.redis_write import BULK, Changes
from read_side.views import CustomerDoc
from shared.adapters.redis_client import RedisClient, is_cluster


class ChangeSet:
    """The changes of a batch: one `Changes` for all tenants on a single server, one per
    tenant on a cluster (each goes to its tenant's slot)."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.parts: dict[str, Changes] = {}

    def add(self, tenant_id: str, old: CustomerDoc | None, new: CustomerDoc | None) -> None:
        """Record the change of one customer of `tenant_id` (see `Changes.add`)."""
        part = tenant_id if self.keys.cluster else ""
        if part not in self.parts:
            self.parts[part] = Changes(self.keys)
        self.parts[part].add(old, new)


class BulkWriter:
    """Writes `ChangeSet`s of one index generation (see the module's docstring)."""

    def __init__(self, client: RedisClient, keys: Keys) -> None:
        assert keys.cluster == is_cluster(client), "the key layout must match the client"
        self.keys = keys
        self._bulk = client.register_script(BULK)
        self._nothing = Changes(keys).payload()

    def changes(self) -> ChangeSet:
        """An empty change set for this index."""
        return ChangeSet(self.keys)

    async def write(self, changes: ChangeSet, position: int | None, epoch: int | None) -> None:
        """Apply `changes`; move the checkpoint to `position` unless None; check and store the
        lease `epoch` unless None (a refusal raises `ResponseError("FENCED <newer>")`)."""
        at = "" if position is None else str(position)
        fence = "" if epoch is None else str(epoch)
        meta = [self.keys.checkpoint, self.keys.epoch]
        if not self.keys.cluster:
            for part in changes.parts.values() or [Changes(self.keys)]:
                await self._bulk(keys=meta, args=[part.payload(), at, fence])
            return
        if fence:
            await self._bulk(keys=meta, args=[self._nothing, "", fence])
        calls = []
        for tenant_id, part in changes.parts.items():
            tagged = self.keys.tenant_epoch(tenant_id)  # routes the call to the tenant's slot
            calls.append(self._bulk(keys=[tagged, tagged], args=[part.payload(), "", fence]))
        await asyncio.gather(*calls)
        if at:
            await self._bulk(keys=meta, args=[self._nothing, at, fence])
