"""A customer's loyalty ledger (its own stream, one per customer) and a tenant's program.

Every entry is an event carrying the entry as `GET /customers/{id}/loyalty` lists it
(`{id, kind, points, reason, ref, at, shortfall}`, `points` signed), and the fold keeps the
balance, the lifetime points and the unspent lots. Entries caused by a message (a payment, an
order, an expiry) have ids derived from their cause, and the ledger records an id once, so a
message applied twice still earns once. Each event also names `customer_id`: the mapper seals
its `reason` under that customer's key (reasons are free text), and the read side folds it into
that customer's document.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import msgspec
from eventsourcing.domain import Aggregate, event

from shared.clock import iso_utc
from shared.errors import Conflict
from shared.events import payloads as ev
from shared.events.catalog import stored_fields
from shared.events.values import LedgerEntry, Lot
from shared.json_types import JSONObject
from shared.loyalty_lots import take_from_lots
from write_side.domain.loyalty import due_lots, entry_id, ledger_id, program_id


class LedgerEntryEvent(Aggregate.Event):
    """One ledger entry; its attributes are those of its payload in `shared.events`
    (`LedgerEntryRecorded`: `_record` builds the payload, so what is stored is what the catalog
    declares, sealed where it says)."""

    tenant_id: str
    actor: str
    customer_id: str
    entry: JSONObject
    lot: JSONObject | None
    first_lot: str | None
    lifetime: int
    request: str | None

    def apply(self, aggregate: Any) -> None:
        """Move the balance and the lots; remember the entry id (and a redemption's answer)."""
        points = int(self.entry["points"])
        aggregate.applied.add(self.entry["id"])
        aggregate.balance += points
        aggregate.lifetime_points += self.lifetime
        if self.lot is not None:
            aggregate.lots.append(dict(self.lot))
        elif points < 0:
            take_from_lots(aggregate.lots, -points, self.first_lot)
        ref = self.entry.get("ref") or ""
        if self.entry["kind"] == "earned" and ref:
            aggregate.earned[ref] = points
        if ref.startswith("merge:") and self.lifetime:  # what an unmerge gives back
            moved = aggregate.merged_lifetime.get(ref, 0) + self.lifetime
            aggregate.merged_lifetime[ref] = moved
        if self.request is not None:
            aggregate.requests[self.request] = {**self.entry, "balance": aggregate.balance}


class LoyaltyLedger(Aggregate):
    """Points of one customer. Invariant: the balance never goes below zero."""

    @staticmethod
    def create_id(customer_id: uuid.UUID, tenant_id: str) -> uuid.UUID:  # noqa: ARG004
        """Derived from the customer's id (`loyalty.ledger_id`)."""
        return ledger_id(customer_id)

    @event("Opened")
    def __init__(self, customer_id: uuid.UUID, tenant_id: str) -> None:
        self.customer_id = str(customer_id)
        self.tenant_id = tenant_id
        self.balance = 0
        self.lifetime_points = 0
        self.lots: list[JSONObject] = []
        self.applied: set[str] = set()
        self.earned: dict[str, int] = {}
        self.merged_lifetime: dict[str, int] = {}  # per `merge:<source>`: lifetime points held
        self.requests: dict[str, JSONObject] = {}

    class PointsEarned(LedgerEntryEvent):
        """Points for a payment or a completed order."""

    class PointsRedeemed(LedgerEntryEvent):
        """Points spent by the customer."""

    class PointsAdjusted(LedgerEntryEvent):
        """A manager's correction, either way."""

    class PointsReversed(LedgerEntryEvent):
        """A refunded payment's points taken back (as far as the balance allows)."""

    class PointsExpired(LedgerEntryEvent):
        """Unspent points of a lot whose time ran out."""

    def earn(
        self, *, actor: str, cause: tuple[str, str], points: int, at: datetime,
        expires_at: str | None,
    ) -> JSONObject | None:  # fmt: skip
        """Earn `points` for `cause` (`("payment", id)` or `("order", id)`); None when it earns
        nothing or was earned before."""
        kind, ref = cause
        entry_key = entry_id(self.customer_id, "earn", kind, ref)
        if points <= 0 or entry_key in self.applied:
            return None
        reason = "payment.succeeded" if kind == "payment" else "order.completed"
        entry = _entry(entry_key, "earned", points, reason, f"{kind}:{ref}", at)
        lot = {"id": entry_key, "points": points, "at": entry["at"], "expiresAt": expires_at}
        self._record(self.PointsEarned, actor, entry, lot=lot, lifetime=points)
        return entry

    def reverse(self, *, actor: str, payment_id: str, at: datetime) -> JSONObject | None:
        """Take back what a refunded payment earned. The balance stops at zero: what could not
        be taken back (already redeemed) is the entry's `shortfall`. None when the payment
        earned nothing or was reversed before."""
        ref = f"payment:{payment_id}"
        entry_key = entry_id(self.customer_id, "reverse", "payment", payment_id)
        earned = self.earned.get(ref, 0)
        if earned <= 0 or entry_key in self.applied:
            return None
        taken = min(earned, self.balance)
        entry = _entry(entry_key, "reversed", -taken, "payment.refunded", ref, at)
        entry["shortfall"] = earned - taken
        first = entry_id(self.customer_id, "earn", "payment", payment_id)
        self._record(self.PointsReversed, actor, entry, first_lot=first, lifetime=-earned)
        return entry

    def redeem(
        self, *, actor: str, points: int, reason: str, at: datetime, request: str | None
    ) -> JSONObject:
        """Spend points (oldest first); `Conflict` when they are more than the balance."""
        self._check_covers(points)
        entry = _entry(str(uuid.uuid4()), "redeemed", -points, reason, None, at)
        self._record(self.PointsRedeemed, actor, entry, request=request)
        return entry

    def adjust(
        self, *, actor: str, points: int, reason: str, at: datetime, expires_at: str | None,
        request: str | None = None,
    ) -> JSONObject:  # fmt: skip
        """A manager's correction: positive points open a lot and count toward lifetime points
        (they are points granted); negative ones are taken like a redemption."""
        if points < 0:
            self._check_covers(-points)
        entry = _entry(str(uuid.uuid4()), "adjusted", points, reason, None, at)
        if points > 0:
            lot = {"id": entry["id"], "points": points, "at": entry["at"], "expiresAt": expires_at}
            self._record(
                self.PointsAdjusted, actor, entry, lot=lot, lifetime=points, request=request
            )
        else:
            self._record(self.PointsAdjusted, actor, entry, request=request)
        return entry

    def expire(self, *, actor: str, now: datetime) -> list[JSONObject]:
        """Expire every lot whose time has come, oldest first (one entry per lot)."""
        entries = []
        for lot in due_lots(self.lots, now):
            key = entry_id(self.customer_id, "expire", lot["id"])
            entry = _entry(key, "expired", -int(lot["points"]), "expired", lot["id"], now)
            self._record(self.PointsExpired, actor, entry, first_lot=lot["id"])
            entries.append(entry)
        return entries

    def absorb(self, *, actor: str, source: LoyaltyLedger, at: datetime) -> None:
        """A merge: the source's unspent lots move here, each with its expiry (an adjustment
        per lot, its id `merge:<source>:…`), and its lifetime points with the first (or with
        an entry of 0 points when nothing is left unspent): one person's history, together."""
        reason, ref = f"merged from {source.customer_id}", f"merge:{source.customer_id}"
        lifetime = source.lifetime_points
        for lot in source.lots:
            key = entry_id(self.customer_id, "merge", source.customer_id, lot["id"], iso_utc(at))
            entry = _entry(key, "adjusted", int(lot["points"]), reason, ref, at)
            moved = {**lot, "id": f"{ref}:{key}"}
            self._record(self.PointsAdjusted, actor, entry, lot=moved, lifetime=lifetime)
            lifetime = 0
        if lifetime:
            key = entry_id(self.customer_id, "merge", source.customer_id, "lifetime", iso_utc(at))
            entry = _entry(key, "adjusted", 0, reason, ref, at)
            self._record(self.PointsAdjusted, actor, entry, lifetime=lifetime)

    def give_back(self, *, actor: str, source_id: str, at: datetime) -> None:
        """An unmerge: what is left of the lots a merge brought from `source_id` goes, and
        the lifetime points it brought (with the first, or an entry of 0 points)."""
        reason, ref = f"unmerged {source_id}", f"merge:{source_id}"
        lifetime = -self.merged_lifetime.get(ref, 0)
        for lot in [lot for lot in self.lots if lot["id"].startswith(f"{ref}:")]:
            key = entry_id(self.customer_id, "unmerge", lot["id"])
            entry = _entry(key, "adjusted", -int(lot["points"]), reason, ref, at)
            self._record(self.PointsAdjusted, actor, entry, first_lot=lot["id"], lifetime=lifetime)
            lifetime = 0
        if lifetime:
            key = entry_id(self.customer_id, "unmerge", ref, "lifetime", iso_utc(at))
            entry = _entry(key, "adjusted", 0, reason, ref, at)
            self._record(self.PointsAdjusted, actor, entry, lifetime=lifetime)

    def next_expiry(self) -> str | None:
        """When the next unspent points expire (None: none do)."""
        return min((lot["expiresAt"] for lot in self.lots if lot.get("expiresAt")), default=None)

    def answer_for(self, request: str) -> JSONObject | None:
        """The entry (and the balance after it) recorded under `request` (a redemption's or an
        adjustment's `Idempotency-Key`)."""
        return self.requests.get(request)

    def _check_covers(self, points: int) -> None:
        if points > self.balance:
            raise Conflict(
                f"The balance is {self.balance} points, fewer than {points}.",
                extra={"balance": self.balance},
            )

    def _record(
        self, cls: type[LedgerEntryEvent], actor: str, entry: JSONObject, *,
        lot: JSONObject | None = None, first_lot: str | None = None, lifetime: int = 0,
        request: str | None = None,
    ) -> None:  # fmt: skip
        payload_type: type[ev.LedgerEntryRecorded] = getattr(ev, cls.__name__)
        payload = payload_type(
            customer_id=self.customer_id, entry=msgspec.convert(entry, LedgerEntry),
            lot=None if lot is None else msgspec.convert(lot, Lot), first_lot=first_lot,
            lifetime=lifetime, request=request,
        )  # fmt: skip
        self.trigger_event(cls, tenant_id=self.tenant_id, actor=actor, **stored_fields(payload))


def _entry(
    key: str, kind: str, points: int, reason: str, ref: str | None, at: datetime
) -> JSONObject:
    return {
        "id": key, "kind": kind, "points": points, "reason": reason, "ref": ref,
        "at": iso_utc(at), "shortfall": 0,
    }  # fmt: skip


class LoyaltyProgram(Aggregate):
    """A tenant's program document (`PUT /loyalty/program`): every change is an event, so
    what was in force when an entry was recorded stays known."""

    @staticmethod
    def create_id(tenant_id: str, actor: str, program: JSONObject) -> uuid.UUID:  # noqa: ARG004
        """One per tenant (`loyalty.program_id`)."""
        return program_id(tenant_id)

    @event("Defined")
    def __init__(self, tenant_id: str, actor: str, program: JSONObject) -> None:
        self.tenant_id = tenant_id
        self.program = program

    @event("Changed")
    def _changed(self, tenant_id: str, actor: str, program: JSONObject) -> None:
        self.program = program

    def change(self, *, actor: str, program: JSONObject) -> None:
        """Replace the program (from now on; nothing recorded is revalued)."""
        if program != self.program:
            self._changed(tenant_id=self.tenant_id, actor=actor, program=program)
