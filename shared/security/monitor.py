"""Real-time threat detection: counts what probing looks like and raises security alerts.

Kinds (thresholds from `CUSTOMERS_ALERT_*`, counted over `CUSTOMERS_ALERT_WINDOW`):
`unauthenticated_burst` (401s from one client address), `forbidden_burst` (403s of one
subject), `cross_tenant_burst` (404s of one subject for customers that exist in another
tenant), `bulk_read` (customer records listed or exported by one tenant) and
`token_addresses` (one token used from many client addresses). An alert is raised once, when
its count reaches the threshold, and is stored (`GET /audit/alerts`), logged, counted in
`/metrics` and published (`security.alert`); then the client it names — the address, the
subject or the token — is refused with 429 for `CUSTOMERS_ALERT_LOCKOUT` seconds, so probing
is not free.
"""

from __future__ import annotations

import contextvars
import hashlib
import logging
import time
import uuid
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Protocol

from shared.clock import Clock, iso_utc, utc_now
from shared.json_types import JSONObject
from shared.principal import Principal
from shared.security.counters import AlertCounters
from shared.settings import Settings

logger = logging.getLogger("customers.security")
client_address_var: contextvars.ContextVar[str | None] = contextvars.ContextVar(
    "client_address", default=None
)
KINDS = (
    "unauthenticated_burst",
    "forbidden_burst",
    "cross_tenant_burst",
    "bulk_read",
    "token_addresses",
)


@dataclass(frozen=True)
class AlertRules:
    """Thresholds (0 turns that kind off), the counting window and the lockout, in seconds."""

    burst: int = 20
    window: float = 60.0
    bulk_records: int = 1000
    token_addresses: int = 5
    lockout: float = 300.0

    @classmethod
    def from_settings(cls, settings: Settings) -> AlertRules:
        """From `Settings` (`CUSTOMERS_ALERT_*`)."""
        return cls(
            burst=settings.alert_burst,
            window=settings.alert_window_seconds,
            bulk_records=settings.alert_bulk_records,
            token_addresses=settings.alert_token_addresses,
            lockout=settings.alert_lockout_seconds,
        )


@dataclass(frozen=True)
class Alert:
    """One security alert (ids, addresses and counts only; never a token or personal value)."""

    id: str
    kind: str
    at: str
    subject: str | None
    client_address: str | None
    tenant: str | None
    count: int
    detail: str

    def as_dict(self) -> JSONObject:
        """The contract's shape: `{id, kind, at, subject, clientAddress, tenant, count, detail}`."""
        return {"id": self.id, "kind": self.kind, "at": self.at, "subject": self.subject,
                "clientAddress": self.client_address, "tenant": self.tenant,
                "count": self.count, "detail": self.detail}  # fmt: skip


class AlertStore(Protocol):
    """Where alerts are kept for `GET /audit/alerts` and the `security.alert` relay."""

    async def add(self, alert: JSONObject) -> None:
        """Store one alert (unpublished)."""
        ...


@dataclass(frozen=True)
class Outcome:
    """What the monitor learns from one finished request."""

    status: int
    principal: Principal | None
    address: str
    token: str | None  # a fingerprint of the bearer token, never the token
    customer_id: str | None = None  # path parameter of a 404, for the cross-tenant check


def fingerprint(token: str) -> str:
    """A short, non-reversible name for a bearer token (counters and lock keys)."""
    return hashlib.sha256(token.encode()).hexdigest()[:32]


def subject_key(principal: Principal) -> str:
    """The lock and counter key of a token subject (subjects are per tenant)."""
    return key_of_subject(principal.tenant_id, principal.subject)


def key_of_subject(tenant: str, subject: str) -> str:
    """`subject_key` from the token's claims."""
    return f"s:{len(tenant)}:{tenant}/{subject}"


TenantOf = Callable[[str], Awaitable[str | None]]


class SecurityMonitor:
    """See the module docstring. `store`, `tenant_of` and `on_alert` are wired at start-up."""

    def __init__(self, rules: AlertRules, counters: AlertCounters, clock: Clock = utc_now) -> None:
        self.rules = rules
        self.counters = counters
        self._clock = clock
        self.store: AlertStore | None = None
        self.tenant_of: TenantOf | None = None
        self.on_alert: list[Callable[[Alert], None]] = []
        self.raised: Counter[str] = Counter()
        self.refused = 0
        # (token, address) → when the shared set that holds it expires: a pair already in the
        # current window's set cannot change its size, so it is not sent to Redis again.
        self._seen: dict[tuple[str, str], float] = {}

    async def refusal(self, keys: list[str]) -> int:
        """Whole seconds a client named by `keys` must still wait (0: admitted)."""
        left = await self.counters.locked(keys)
        if left <= 0:
            return 0
        self.refused += 1
        return max(1, int(left + 0.999))

    async def observe(self, outcome: Outcome) -> None:
        """Count one finished request; raise the alerts whose threshold it reaches."""
        rules, principal = self.rules, outcome.principal
        if principal is not None and outcome.token and rules.token_addresses:
            await self._token_address(principal, outcome.token, outcome.address)
        if not rules.burst:
            return
        if outcome.status == 401:
            count = await self.counters.add(f"401:{outcome.address}", 1, rules.window)
            if count == rules.burst:
                detail = f"{count} requests without a valid token"
                await self._raise("unauthenticated_burst", [f"a:{outcome.address}"], None,
                                  outcome.address, count, detail)  # fmt: skip
        elif principal is not None and outcome.status == 403:
            await self._subject_burst("forbidden_burst", principal, outcome, "refused (403)")
        elif principal is not None and outcome.status == 404 and await self._foreign(outcome):
            what = "answered 404 for customers of another tenant"
            await self._subject_burst("cross_tenant_burst", principal, outcome, what)

    async def _token_address(self, principal: Principal, token: str, address: str) -> None:
        pair, now = (token, address), time.monotonic()
        if self._seen.get(pair, 0.0) > now:
            return
        new, size, left = await self.counters.distinct(f"addrs:{token}", address, self.rules.window)
        if len(self._seen) > 100_000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        self._seen[pair] = now + left
        if new and size == self.rules.token_addresses:
            detail = f"one token was used from {size} client addresses"
            await self._raise("token_addresses", [f"t:{token}"], principal, address, size, detail)

    async def observe_read(self, principal: Principal, records: int) -> None:
        """Count customer records a tenant listed or exported (called by the access audit)."""
        limit = self.rules.bulk_records
        if not limit or records <= 0:
            return
        after = await self.counters.add(f"bulk:{principal.tenant_id}", records, self.rules.window)
        if after - records < limit <= after:
            detail = f"{after} customer records listed or exported by the tenant"
            address = client_address_var.get()
            await self._raise("bulk_read", [subject_key(principal)], principal, address, after,
                              detail)  # fmt: skip

    async def _foreign(self, outcome: Outcome) -> bool:
        """True when the 404 was for a customer that exists in another tenant."""
        if outcome.customer_id is None or self.tenant_of is None or outcome.principal is None:
            return False
        try:
            owner = await self.tenant_of(outcome.customer_id)
        except Exception:
            logger.warning("cross-tenant check failed", exc_info=True)
            return False
        return owner is not None and owner != outcome.principal.tenant_id

    async def _subject_burst(
        self, kind: str, principal: Principal, outcome: Outcome, what: str
    ) -> None:
        key = subject_key(principal)
        count = await self.counters.add(f"{kind}:{key}", 1, self.rules.window)
        if count == self.rules.burst:
            await self._raise(kind, [key], principal, outcome.address, count,
                              f"{count} requests of one subject {what}")  # fmt: skip

    async def _raise(
        self,
        kind: str,
        lock_keys: list[str],
        principal: Principal | None,
        address: str | None,
        count: int,
        detail: str,
    ) -> None:
        alert = Alert(
            id=str(uuid.uuid4()), kind=kind, at=iso_utc(self._clock()),
            subject=principal.subject if principal else None, client_address=address,
            tenant=principal.tenant_id if principal else None, count=count,
            detail=f"{detail} within {self.rules.window:g} s",
        )  # fmt: skip
        for key in lock_keys:
            await self.counters.lock(key, self.rules.lockout)
        self.raised[kind] += 1
        # The address stays out of the log line (it may identify a person): auditors read it
        # from GET /audit/alerts by the alert id.
        logger.warning(
            "security alert",
            extra={"alertId": alert.id, "kind": kind, "alertTenant": alert.tenant,
                   "subject": alert.subject, "count": count, "lockoutSeconds": self.rules.lockout},
        )  # fmt: skip
        if self.store is not None:
            try:
                await self.store.add(alert.as_dict())
            except Exception:
                logger.warning("security alert %s could not be stored", alert.id, exc_info=True)
        for callback in self.on_alert:
            callback(alert)

    def render(self) -> list[str]:
        """Prometheus lines: alerts raised per kind, requests refused after an alert."""
        lines = [
            "# HELP customers_security_alerts_total Security alerts raised, by kind.",
            "# TYPE customers_security_alerts_total counter",
        ]
        lines += [f'customers_security_alerts_total{{kind="{k}"}} {self.raised[k]}' for k in KINDS]
        return [
            *lines,
            "# HELP customers_security_refusals_total Requests refused (429) after an alert.",
            "# TYPE customers_security_refusals_total counter",
            f"customers_security_refusals_total {self.refused}",
        ]
