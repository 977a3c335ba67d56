"""The runner of a deployment whose processes share PostgreSQL (issue 16 A.1): every process
runs one loop per projection, and a loop follows the log only while its process holds that
projection's lease.

- **One holder.** A loop takes the lease (`projectors.leases.HeldLease`), stores the lease's
  epoch with the projection's checkpoint before its first batch (the claim), checks the
  lease before every batch, and writes under its fence (`shared.fencing`). A loop that lost
  its lease, or whose write was fenced, gives it up and competes again.
- **Takeover.** A loop without the lease tries again every `lease_retry` seconds: a killed
  holder's lease expires `ttl` after its last renewal and is taken within `ttl + lease_retry`.
- **Spread.** Each process keeps a `member:` lease of its own; holding more than its share
  (projections / live members, rounded up), a process gives one lease up and waits
  `shed_pause` before competing for it again, so that a process that just started takes it.
  Member leases last half as long as projection leases, so a dead process has left the
  members before its projections' leases free up (a survivor does not hand them back).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Sequence
from typing import Any

from projectors.dead_letters import DeadLetterBook
from projectors.envelopes import EventLog
from projectors.leases import HeldLease, LeaseLost, Leases
from projectors.runner import ProjectionRunner
from read_side.ports import ProjectionSink
from shared.fencing import Fenced, fenced

logger = logging.getLogger(__name__)
MEMBER = "member:"


class _Shed(LeaseLost):
    """This process holds more than its share: the lease goes to another process."""


class LeasedRunner(ProjectionRunner):
    """`ProjectionRunner` whose loops run under their projection's lease."""

    def __init__(
        self,
        log: EventLog,
        sinks: Sequence[ProjectionSink],
        dead_letters: DeadLetterBook,
        *,
        leases: Leases,
        lease_retry: float = 1.0,
        shed_pause: float = 3.0,
        **options: Any,
    ) -> None:
        super().__init__(log, sinks, dead_letters, **options)
        self.leases = leases
        self.lease_retry = lease_retry
        self.shed_pause = shed_pause
        self.members = 1
        self._held: dict[str, HeldLease] = {}
        self._membership: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Join the members, then start one loop per projection."""
        self._membership = asyncio.create_task(self._keep_membership(), name="lease:member")
        await super().start()

    async def stop(self, grace_seconds: float = 5.0) -> None:
        """Stop the loops (each gives its lease back), then leave the members."""
        await super().stop(grace_seconds)
        if self._membership is not None:
            self._membership.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._membership

    def held(self) -> list[tuple[str, int]]:
        """(projection, epoch) of every lease this process holds."""
        return [(name, held.fence.epoch) for name, held in self._held.items()]

    async def _follow(self, sink: ProjectionSink) -> None:
        status = self.status[sink.name]
        while not self._stopping:
            try:
                held = await HeldLease.take(self.leases, sink.name)
            except Exception as error:
                held, status.last_error = None, f"lease: {type(error).__name__}: {error}"
            if held is None:
                status.state = "standby"  # another process holds it (or PostgreSQL is down)
                await self._pause(self.lease_retry)
                continue
            logger.info("projection %s: lease taken (epoch %d)", sink.name, held.fence.epoch)
            self._held[sink.name], status.state = held, "running"
            pause = 0.0
            try:
                with fenced(held.fence):
                    await sink.apply([], await sink.checkpoint())  # the claim: our epoch
                    await super()._follow(sink)
            except _Shed:
                logger.info("projection %s: lease handed over (share of %d members)",
                            sink.name, self.members)  # fmt: skip
                pause, status.state = self.shed_pause, "standby"
            except (LeaseLost, Fenced) as error:
                logger.warning("projection %s stops here: %s", sink.name, error)
            except Exception as error:  # the claim failed (a store is down): again later
                pause, status.last_error = self.lease_retry, f"{type(error).__name__}: {error}"
            finally:
                self._held.pop(sink.name, None)
                await held.release()
            await self._pause(pause)

    async def _guard(self, sink: ProjectionSink) -> None:
        held = self._held.get(sink.name)
        if held is None:
            raise LeaseLost(f"projection {sink.name!r} is not held here")
        await held.check()
        if len(self._held) <= self._share():
            return
        with contextlib.suppress(Exception):  # count again: a member may have died since
            self.members = max(1, await self.leases.live(MEMBER))
        if sink.name in self._held and len(self._held) > self._share():
            del self._held[sink.name]  # at once: the next loop's guard counts one fewer
            raise _Shed(sink.name)

    def _share(self) -> int:
        return math.ceil(len(self.sinks) / max(1, self.members))

    async def _pause(self, seconds: float) -> None:
        if seconds > 0 and not self._stopping:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopped.wait(), timeout=seconds)

    async def _keep_membership(self) -> None:
        name, ttl = f"{MEMBER}{self.leases.holder}", self.leases.ttl / 2
        epoch: int | None = None
        try:
            while True:
                try:
                    if epoch is None or not await self.leases.renew(name, epoch, ttl):
                        epoch = await self.leases.acquire(name, ttl)
                    self.members = max(1, await self.leases.live(MEMBER))
                except Exception as error:
                    logger.warning("lease membership not refreshed: %r", error)
                await asyncio.sleep(ttl / 3)
        finally:
            if epoch is not None:
                with contextlib.suppress(Exception):
                    await self.leases.release(name, epoch)
