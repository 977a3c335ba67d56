"""Retention: customers deleted longer than CUSTOMERS_RETENTION_DAYS are erased automatically,
and unspent loyalty points expire when their time comes (the same scheduled job)."""

from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import TYPE_CHECKING

from shared.clock import Clock, iso_utc, utc_now
from shared.errors import CustomerError
from shared.json_types import JSONObject
from shared.principal import Principal, Role
from write_side.application.decisions import CommandMeta

if TYPE_CHECKING:  # the runtime imports this module
    from entrypoints.runtime import Runtime

logger = logging.getLogger(__name__)
RETENTION_ACTOR = "system:retention"


async def run_retention(
    runtime: Runtime, *, clock: Clock = utc_now, dry_run: bool = False
) -> list[JSONObject]:
    """Erase (or, dry run, list) customers deleted before now minus the retention period."""
    cutoff = iso_utc(clock() - timedelta(days=runtime.settings.retention_days))
    views = await runtime.read.views.current()
    due = await views.deleted_before(cutoff)
    report = []
    for tenant_id, customer_id, deleted_at in sorted(due, key=lambda row: row[2]):
        erased = False
        if not dry_run:
            principal = Principal(RETENTION_ACTOR, tenant_id, frozenset({Role.ADMIN}))
            try:
                erased = await runtime.privacy.erase_expired(
                    CommandMeta(principal), uuid.UUID(customer_id), cutoff
                )
            except CustomerError as error:
                logger.warning("retention skipped a customer: %s", error.detail)
        report.append(
            {
                "tenantId": tenant_id,
                "customerId": customer_id,
                "deletedAt": deleted_at,
                "erased": erased,
            }
        )
    return report


async def run_loyalty_expiry(runtime: Runtime, *, clock: Clock = utc_now) -> int:
    """Expire unspent loyalty points whose time has come, oldest first, in every ledger the
    read model says has some due; returns the points expired. The ledger decides by `clock`,
    so a customer the read model lists too early (or twice) expires nothing more."""
    now = clock()
    views = await runtime.read.views.current()
    expired = 0
    for _, customer_id in await views.loyalty_due(iso_utc(now)):
        try:
            expired += await runtime.loyalty.expire(uuid.UUID(customer_id), now)
        except CustomerError as error:
            logger.warning("loyalty expiry skipped a ledger: %s", error.detail)
    return expired


async def retention_loop(runtime: Runtime, interval_seconds: float, clock: Clock = utc_now) -> None:
    """The scheduled job inside the service (runs where the projections run)."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            erased = [row for row in await run_retention(runtime, clock=clock) if row["erased"]]
            if erased:
                logger.info("retention erased customers", extra={"count": len(erased)})
            expired = await run_loyalty_expiry(runtime, clock=clock)
            if expired:
                logger.info("loyalty points expired", extra={"count": expired})
        except Exception:
            logger.exception("retention run failed; will retry at the next interval")
