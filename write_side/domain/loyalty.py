"""Loyalty rules, pure: what a payment or a visit earns under a program, which tier lifetime
points reach, and which lots are due to expire (lots: `shared.loyalty_lots`).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from decimal import ROUND_FLOOR, Decimal

from shared.clock import iso_utc
from shared.currencies import is_invoice_currency, minor_unit_exponent
from shared.errors import FieldError, ValidationFailed
from shared.json_types import JSONObject
from shared.loyalty_lots import lot_order

_NAMESPACE = uuid.UUID("3b0f5f1e-5f8e-4d55-9a2e-6c0de1a7a001")
#: Ledger entry kinds, as `GET /customers/{id}/loyalty` names them.
ENTRY_KINDS = ("earned", "redeemed", "expired", "adjusted", "reversed")


def ledger_id(customer_id: uuid.UUID) -> uuid.UUID:
    """The id of a customer's ledger: one per customer, derived, so nobody has to look it up."""
    return uuid.uuid5(_NAMESPACE, f"ledger:{customer_id}")


def program_id(tenant_id: str) -> uuid.UUID:
    """The id of a tenant's program (one per tenant)."""
    return uuid.uuid5(_NAMESPACE, f"program:{tenant_id}")


def entry_id(customer_id: uuid.UUID | str, *parts: str) -> str:
    """A ledger entry id derived from what caused it (`"earn", "payment", id`): the same cause
    always names the same entry, which is how an entry is recorded once."""
    return str(uuid.uuid5(_NAMESPACE, ":".join((str(customer_id), *parts))))


@dataclass(frozen=True)
class Tier:
    """A tier reached at `min_points` lifetime points."""

    name: str
    min_points: int


@dataclass(frozen=True)
class Program:
    """A tenant's program as of now. Earnings are valued with the program in force when they
    are recorded; nothing recorded before a change is revalued (never retroactive)."""

    points_per_unit: dict[str, Decimal]
    points_per_visit: int
    expiry_days: int | None
    tiers: tuple[Tier, ...]

    @classmethod
    def from_document(cls, document: JSONObject) -> Program:
        """The program from its API document (already checked by `check_program`)."""
        return cls(
            points_per_unit={k: Decimal(str(v)) for k, v in document["pointsPerUnit"].items()},
            points_per_visit=int(document["pointsPerVisit"]),
            expiry_days=document.get("expiryDays"),
            tiers=tuple(Tier(t["name"], int(t["minPoints"])) for t in document["tiers"]),
        )

    def points_for_payment(self, amount_minor: int, currency: str) -> int:
        """Points for a payment: major units times points per unit of its currency, rounded down
        (a currency the program does not list earns nothing)."""
        rate = self.points_per_unit.get(currency)
        if rate is None or amount_minor <= 0:
            return 0
        major = Decimal(amount_minor).scaleb(-minor_unit_exponent(currency))
        return int((major * rate).to_integral_value(rounding=ROUND_FLOOR))

    def expires_at(self, earned_at: datetime) -> str | None:
        """When points earned at `earned_at` expire (None: the program keeps them forever)."""
        if self.expiry_days is None:
            return None
        return iso_utc(earned_at + timedelta(days=self.expiry_days))

    def tier_for(self, lifetime_points: int) -> Tier | None:
        """The highest tier `lifetime_points` reach, None below the lowest."""
        reached = [tier for tier in self.tiers if lifetime_points >= tier.min_points]
        return max(reached, key=lambda tier: tier.min_points, default=None)


def next_tier(program: Program, lifetime_points: int, current_min: int | None) -> Tier | None:
    """The tier to move to, or None. A tier only ever goes up: the one reached must need more
    points than the one held (as it was when reached, whatever the program says since)."""
    reached = program.tier_for(lifetime_points)
    if reached is None or (current_min is not None and reached.min_points <= current_min):
        return None
    return reached


def check_program(document: JSONObject) -> JSONObject:
    """The program document, normalised (tiers by `minPoints`), or `ValidationFailed` naming
    every rule the schema cannot express: unknown currencies, repeated tier names or
    thresholds."""
    errors = [
        FieldError(f"pointsPerUnit.{code}", "an ISO 4217 code in capitals, e.g. EUR")
        for code in document["pointsPerUnit"]
        if not is_invoice_currency(code)
    ]
    tiers = sorted(document["tiers"], key=lambda tier: tier["minPoints"])
    names = [tier["name"] for tier in tiers]
    if len(set(names)) != len(names):
        errors.append(FieldError("tiers", "tier names must differ"))
    if len({tier["minPoints"] for tier in tiers}) != len(tiers):
        errors.append(FieldError("tiers", "each tier needs its own minPoints"))
    if errors:
        raise ValidationFailed("The loyalty program breaks a rule.", errors=errors)
    return {**document, "tiers": tiers}


def due_lots(lots: list[JSONObject], now: datetime) -> list[JSONObject]:
    """Lots whose expiry has come (`expiresAt` at or before `now`), oldest first."""
    moment = iso_utc(now)
    due = [lot for lot in lots if lot.get("expiresAt") and lot["expiresAt"] <= moment]
    return sorted(due, key=lot_order)
