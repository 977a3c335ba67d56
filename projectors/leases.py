"""A projection's lease as its runner holds it: taken, renewed in the background, checked
before every write, and given back on stop (issue 16 A.1; PostgreSQL rows in
`shared.adapters.pg_leases`).

The holder trusts its lease only until `ttl` after the moment it *sent* its last successful
renewal (by this process's monotonic clock, which keeps running while the process is
stopped): past that, the next write first renews, and a failed renewal means the lease is
lost. The database expires the lease at least that late, so the holder always gives up
before another process can have taken over. The fence (epoch) closes the remaining gap, a
pause in the middle of a write.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Callable, Coroutine
from time import monotonic
from typing import Protocol

from shared.fencing import Fence

logger = logging.getLogger(__name__)


class Leases(Protocol):
    """Named leases granted to this process, each with a growing epoch."""

    holder: str
    ttl: float

    async def acquire(self, name: str, ttl: float | None = None) -> int | None:
        """The new epoch when granted; None while another live process holds it."""
        ...

    async def renew(self, name: str, epoch: int, ttl: float | None = None) -> bool:
        """Extend the lease; False when it is no longer held at that epoch."""
        ...

    async def release(self, name: str, epoch: int) -> None:
        """Give the lease up at once."""
        ...

    async def live(self, prefix: str) -> int:
        """How many leases whose name starts with `prefix` are held now."""
        ...


class LeaseLost(Exception):
    """This process no longer holds the lease it was writing under."""


class HeldLease:
    """One granted lease, renewed every `ttl / 3` seconds until `release()`."""

    def __init__(self, leases: Leases, name: str, epoch: int, granted_at: float) -> None:
        self.leases = leases
        self.fence = Fence(name, epoch)
        self.lost = False
        self._valid_until = granted_at + leases.ttl
        self._heartbeat = asyncio.create_task(self._keep(), name=f"lease:{name}")

    @classmethod
    async def take(cls, leases: Leases, name: str) -> HeldLease | None:
        """The lease when granted now, else None."""
        sent = monotonic()
        epoch = await leases.acquire(name)
        return None if epoch is None else cls(leases, name, epoch, sent)

    async def check(self) -> None:
        """Raise `LeaseLost` unless the lease is surely still ours (renewing first when this
        process has not heard back within `ttl`, e.g. after being paused)."""
        if not self.lost and monotonic() >= self._valid_until:
            await self._renew()
        if self.lost:
            raise LeaseLost(f"lease {self.fence.name!r} (epoch {self.fence.epoch}) was lost")

    async def release(self) -> None:
        """Stop renewing and give the lease up (unless already lost)."""
        self._heartbeat.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._heartbeat
        if not self.lost:
            self.lost = True
            try:
                await self.leases.release(self.fence.name, self.fence.epoch)
            except Exception as error:  # it expires by itself
                logger.warning("could not release lease %s: %r", self.fence.name, error)

    async def _keep(self) -> None:
        while not self.lost:
            await asyncio.sleep(self.leases.ttl / 3)
            await self._renew()

    async def _renew(self) -> None:
        sent = monotonic()
        try:
            kept = await self.leases.renew(self.fence.name, self.fence.epoch)
        except Exception as error:
            logger.warning("could not renew lease %s: %r", self.fence.name, error)
            if monotonic() >= self._valid_until:
                self.lost = True
            return
        if kept:
            self._valid_until = sent + self.leases.ttl
        else:
            self.lost = True
            logger.warning("lease %s (epoch %d) was taken over", self.fence.name, self.fence.epoch)


async def run_leased(
    leases: Leases, name: str, job: Callable[[], Coroutine[None, None, None]], retry: float = 1.0
) -> None:
    """Run `job` only while holding lease `name` (a deployment's single-process duty: the
    retention sweep, the alert relay): started on taking it, cancelled on losing it, started
    again when it is taken again. Returns when `job` returns."""
    while True:
        try:
            held = await HeldLease.take(leases, name)
        except Exception as error:
            logger.warning("cannot take lease %s: %r", name, error)
            held = None
        if held is None:
            await asyncio.sleep(retry)
            continue
        task = asyncio.create_task(job(), name=f"leased:{name}")
        try:
            while not task.done():
                await asyncio.wait({task}, timeout=leases.ttl / 3)
                await held.check()
            return task.result()
        except LeaseLost as error:
            logger.warning("%s stops in this process: %s", name, error)
        finally:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
            await held.release()
