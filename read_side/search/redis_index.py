"""The search index on Redis 7 with plain data structures (no RediSearch or other module).

Key layout: `redis_keys`; the query is one Lua script (`redis_lua.SEARCH`). `apply` loads
the stored documents of the batch's customers in one pipeline, evolves them in memory
(version-guarded, so re-applying a batch changes nothing), then sends every index change and
the checkpoint in ONE server-side script call (`redis_write.BULK`, atomic). The checkpoint
only moves forward. One writer per generation is assumed (the projector runner), as for
every projection sink.

Works with `decode_responses` on or off and with RESP2 or RESP3, and on a Redis Cluster
(`shared.redis_urls`): a tenant's keys share one slot, so the search script runs there as is;
an `apply` batch is split per tenant slot (`redis_bulk`), and `drop` and `generations` scan
every primary (redis-py's cluster SCAN).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Sequence
from dataclasses import replace

from redis.exceptions import ResponseError

from read_side.events import EventEnvelope
from read_side.ports import ListQuery, Page
from read_side.search import check_generation, check_name
from read_side.search.cursor import Position, encode_cursor
from read_side.search.match_keys import PER_KEY
from read_side.search.model import STATES, Plan, plan, restored
from read_side.search.redis_buckets import cover
from read_side.search.redis_bulk import BulkWriter
from read_side.search.redis_keys import Keys, check_prefix, epoch_ms, member
from read_side.search.redis_lua import SEARCH
from read_side.search.text import NULL_KEY
from read_side.views import CustomerDoc, evolve
from shared.adapters.redis_client import RedisClient, is_cluster
from shared.fencing import Fenced, current_fence

Key = tuple[str, str]
_NO_TIME = 2**53
_SCAN_BATCH = 500
_FRESH_CALL = 250  # customers per BULK script call (~10 ms of server time)


def _text(value: object) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


class RedisSearchIndex:
    """`SearchIndex` on Redis. The client belongs to the caller; nothing is sent until used."""

    def __init__(
        self,
        client: RedisClient,
        *,
        prefix: str = "customers",
        name: str = "search",
        generation: int = 1,
    ) -> None:
        self.client = client
        self.name = check_name(name)
        self.generation = check_generation(generation)
        self.keys = Keys(check_prefix(prefix), name, generation, cluster=is_cluster(client))
        self._search = client.register_script(SEARCH)
        self._writer = BulkWriter(client, self.keys)

    # ---------------------------------------------------------------- the port
    async def checkpoint(self) -> int:
        """The position of the last applied event (0 when none)."""
        value = await self.client.get(self.keys.checkpoint)
        return int(value) if value is not None else 0

    async def apply(self, events: Sequence[EventEnvelope], position: int) -> None:
        """Apply a batch (in log order), then store `position` (atomically on one server)."""
        order = list(dict.fromkeys((event.tenant_id, event.customer_id) for event in events))
        loaded: dict[Key, CustomerDoc] = {}
        if order:
            async with self.client.pipeline(transaction=False) as pipe:
                for tenant_id, customer_id in order:
                    pipe.get(self.keys.customer(tenant_id, customer_id))
                found = await pipe.execute()
            for key, raw in zip(order, found, strict=True):
                if raw is not None:
                    loaded[key] = restored(json.loads(raw))
        current: dict[Key, CustomerDoc | None] = dict(loaded)
        for event in events:
            key = (event.tenant_id, event.customer_id)
            current[key] = evolve(current.get(key), event)
        changes = self._writer.changes()
        for key in order:
            old, new = loaded.get(key), current.get(key)
            if new is not old:
                changes.add(key[0], old, new)
        # Every change and the checkpoint in one script on a server (no MULTI/EXEC of hundreds
        # of commands, whose client-side cost dominated a batch); one per slot on a cluster.
        fence = current_fence()
        try:
            await self._writer.write(changes, position, None if fence is None else fence.epoch)
        except ResponseError as error:
            if fence is None or not str(error).startswith("FENCED"):
                raise
            raise Fenced(fence, int(str(error).split()[1])) from None

    async def write_fresh(self, docs: Sequence[CustomerDoc]) -> None:
        """Index final documents of customers this generation does not hold (a rebuild's
        staging) with a server-side script per few hundred customers (short enough not to stall
        other clients): no reads; the checkpoint does not move."""
        in_flight: asyncio.Task[object] | None = None
        for start in range(0, len(docs), _FRESH_CALL):
            changes = self._writer.changes()
            for doc in docs[start : start + _FRESH_CALL]:
                changes.add(doc["tenantId"], None, doc)
            call = asyncio.ensure_future(self._writer.write(changes, None, None))
            if in_flight is not None:
                await in_flight
            await asyncio.sleep(0)  # let the call go out, then prepare the next one meanwhile
            in_flight = call
        if in_flight is not None:
            await in_flight

    async def search(self, query: ListQuery) -> Page:
        """Matching ids in sort order, the total, and the next cursor."""
        prepared = plan(query)
        keys, args = self._script_input(prepared)
        reply = await self._search(keys=keys, args=args)
        total, members = int(reply[0]), [_text(item) for item in reply[1:]]
        items = [item.split("\x00", 1) for item in members[: prepared.limit]]
        next_cursor = None
        if len(members) > prepared.limit:
            next_cursor = encode_cursor(query, Position(key=items[-1][0], id=items[-1][1]))
        ids = [customer_id for _, customer_id in items]
        return Page(ids=ids, total=total, next_cursor=next_cursor)

    # ---------------------------------------------------------------- management
    async def candidates(self, tenant_id: str, keys: Sequence[str]) -> list[str]:
        """Ids filed under the match keys: a lex range of `P:mx` per key, in one round trip."""
        if not keys:
            return []
        zset = self.keys.matched(tenant_id)
        async with self.client.pipeline(transaction=False) as pipe:
            for key in keys:
                exact = key.encode()
                pipe.zrangebylex(zset, b"[" + exact + b"\x00", b"(" + exact + b"\x01", 0, PER_KEY)
            found = await pipe.execute()
        ids = (_text(item).split("\x00", 1)[1] for members in found for item in members)
        return list(dict.fromkeys(ids))

    async def activate(self) -> None:
        """Make this generation the active one for `name`."""
        await self.client.set(self.keys.active, self.generation)

    async def active_generation(self) -> int:
        """The active generation for `name` (1 when none was recorded)."""
        value = await self.client.get(self.keys.active)
        return int(value) if value is not None else 1

    async def generations(self) -> set[int]:
        """Every generation that has a key or a checkpoint under the prefix (a rebuild killed
        before dropping one leaves it behind: `ActiveGeneration.sweep` drops it). One SCAN of
        the key space per pattern: meant for start-up and rebuilds, not for requests."""
        found: set[int] = set()
        for match in self.keys.generation_patterns:
            async for key in self.client.scan_iter(match=match, count=_SCAN_BATCH):
                generation = self.keys.generation_of(_text(key))
                if generation is not None:
                    found.add(generation)
        return found

    async def drop(self) -> None:
        """Delete this generation's keys (SCAN + UNLINK) and its checkpoint."""
        batch: list[str | bytes] = []
        async for key in self.client.scan_iter(match=self.keys.pattern, count=_SCAN_BATCH):
            batch.append(key)
            if len(batch) >= _SCAN_BATCH:
                await self.client.unlink(*batch)
                batch = []
        if batch:
            await self.client.unlink(*batch)
        await self.client.unlink(self.keys.checkpoint)

    async def ensure_indexes(self) -> None:
        """Nothing to do: the index's own keys are its indexes."""

    async def close(self) -> None:
        """Nothing to release: the client belongs to the caller."""

    # ---------------------------------------------------------------- helpers
    def _script_input(self, p: Plan) -> tuple[list[str], list[str | bytes | int | float]]:
        sets, ranges = self.keys.query_sources(p)
        base = self.keys.tenant(p.tenant_id)
        others = [f"{base}:s:{state}" for state in STATES if p.state in STATES and state != p.state]
        keys: list[str] = [
            f"{base}:z:{p.state}:{p.sort_key}",
            self.keys.created(p.tenant_id, p.state),
            f"{base}:s:{p.state}",
            f"{base}:tmp",
            f"{base}:n:{p.sort_key}",
            f"{base}:k:{p.sort_key}",
            *others,
            *sets,
        ]
        low, high = _bounds(p)
        ranged = p.created_from is not None or p.created_to is not None
        created_from = epoch_ms(p.created_from) if p.created_from else None
        created_to = epoch_ms(p.created_to) if p.created_to else None
        covered = cover(created_from, created_to) if ranged and sets and not ranges else None
        buckets = self.keys.buckets(p.tenant_id, p.state, covered.buckets) if covered else []
        edges = [bound for edge in covered.edges for bound in edge] if covered else []
        keys += buckets
        keys += [zset for zset, _, _, _ in ranges]
        args: list[str | bytes | int | float] = [
            int(p.descending),
            p.limit + 1,
            low,
            high,
            int(ranged),
            -_NO_TIME if created_from is None else created_from,
            _NO_TIME if created_to is None else created_to,
            int(p.sort_key == "createdAt"),
            len(others),
            len(sets),
            *_runs(p, low, high),
            len(buckets),
            len(edges) // 2,
            *edges,
        ]
        for _, group, minimum, maximum in ranges:
            args += [group, minimum, maximum]
        return keys, args


def _bounds(p: Plan) -> tuple[str, str]:
    """Lex bounds (ascending terms) of the page in the sort zset."""
    by_created = p.sort_key == "createdAt"
    low_key = "0" + p.created_from if by_created and p.created_from else None
    high = "(0" + p.created_to + "\x01" if by_created and p.created_to else "+"
    low = "[" + low_key if low_key else "-"
    if p.after is None:
        return low, high
    after = member(p.after.key, p.after.id)
    if p.descending:
        if high == "+" or after < high[1:]:
            high = "(" + after
    elif low_key is None or after >= low_key:
        low = "(" + after
    return low, high


def _runs(p: Plan, low: str, high: str) -> tuple[str, str, str, str]:
    """The page's bounds among the members with a value, then among those without: customers
    without a value come last in both directions. Descending, a cursor among the values
    leaves every member without one still to read; a cursor among those without, no value."""
    values = _clip(low, high, "-", "(" + NULL_KEY)
    if not p.descending or p.after is None:
        return (*values, *_clip(low, high, "[" + NULL_KEY, "+"))
    if p.after.key >= NULL_KEY:
        return ("", "", *_clip(low, high, "[" + NULL_KEY, "+"))
    return (*values, *_clip(*_bounds(replace(p, after=None)), "[" + NULL_KEY, "+"))


def _clip(low: str, high: str, segment_low: str, segment_high: str) -> tuple[str, str]:
    """The intersection of two lex ranges in Redis bound syntax (`-`, `+`, `[x`, `(x`), or
    `("", "")` when it is empty."""
    if low == "-" or (segment_low != "-" and _bound(segment_low) > _bound(low)):
        low = segment_low
    if high == "+" or (
        segment_high != "+" and _bound(segment_high, upper=True) < _bound(high, upper=True)
    ):
        high = segment_high
    if low == "-" or high == "+":
        return low, high
    start, end = low[1:], high[1:]
    if start > end or (start == end and "(" in (low[0], high[0])):
        return "", ""
    return low, high


def _bound(bound: str, *, upper: bool = False) -> tuple[str, int]:
    """A bound as a sortable pair: at equal text, `(` is tighter than `[`."""
    tighter = bound[0] == "("
    return bound[1:], (-1 if tighter else 0) if upper else (1 if tighter else 0)
