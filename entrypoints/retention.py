"""Retention: customers deleted longer than CUSTOMERS_RETENTION_DAYS are erased automatically."""

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


async def retention_loop(runtime: Runtime, interval_seconds: float, clock: Clock = utc_now) -> None:
    """The scheduled job inside the service (runs where the projections run)."""
    while True:
        await asyncio.sleep(interval_seconds)
        try:
            erased = [row for row in await run_retention(runtime, clock=clock) if row["erased"]]
            if erased:
                logger.info("retention erased customers", extra={"count": len(erased)})
        except Exception:
            logger.exception("retention run failed; will retry at the next interval")
