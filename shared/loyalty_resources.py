"""The loyalty resources as the API reads and writes them (exact OpenAPI schemas).

Shared by the write side (program, redemptions, adjustments) and the read side (a customer's
loyalty account), so both describe one shape.
"""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

from shared.json_types import JSONObject

Points = Annotated[int, msgspec.Meta(ge=-1_000_000_000, le=1_000_000_000)]
Reason = Annotated[str, msgspec.Meta(min_length=1, max_length=500)]
EntryKind = Literal["earned", "redeemed", "expired", "adjusted", "reversed"]


class Tier(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A tier reached at `minPoints` lifetime points."""

    name: Annotated[str, msgspec.Meta(min_length=1, max_length=50)]
    min_points: Annotated[int, msgspec.Meta(ge=0, le=1_000_000_000)]


class LoyaltyProgram(msgspec.Struct, forbid_unknown_fields=True, rename="camel", kw_only=True):
    """A tenant's program. `pointsPerUnit` maps an ISO 4217 code to the points one major unit
    earns (payments are rounded down); `expiryDays` null keeps points forever."""

    points_per_unit: dict[str, Annotated[float, msgspec.Meta(ge=0, le=1_000_000)]]
    points_per_visit: Annotated[int, msgspec.Meta(ge=0, le=1_000_000)]
    expiry_days: Annotated[int, msgspec.Meta(ge=1, le=36_500)] | None = None
    tiers: Annotated[list[Tier], msgspec.Meta(max_length=20)] = msgspec.field(default_factory=list)

    def to_document(self) -> JSONObject:
        """The program as stored (camelCase JSON)."""
        document: JSONObject = msgspec.to_builtins(self)
        document.setdefault("expiryDays", None)
        return document


class LoyaltyEntry(msgspec.Struct, rename="camel", kw_only=True):
    """One ledger entry; `points` is signed (what it did to the balance). A reversal that met
    a balance too low to take everything back records what it could not take in `shortfall`."""

    id: str
    kind: EntryKind
    points: int
    reason: str | None
    ref: str | None
    at: str
    shortfall: int = 0


class EntryPage(msgspec.Struct, rename="camel", kw_only=True):
    """A page of entries, newest first."""

    items: list[LoyaltyEntry]
    next_cursor: str | None


class ExpiringPoints(msgspec.Struct, kw_only=True):
    """Unspent points and when they expire."""

    points: int
    at: str


class LoyaltyAccount(msgspec.Struct, rename="camel", kw_only=True):
    """`GET /customers/{id}/loyalty`."""

    balance: int
    lifetime_points: int
    tier: str | None
    expiring: list[ExpiringPoints]
    entries: EntryPage


class RecordedEntry(LoyaltyEntry, kw_only=True):
    """A redemption or adjustment as recorded, with the balance right after it."""

    balance: int


class Redemption(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of `POST /customers/{id}/loyalty/redemptions`."""

    points: Annotated[int, msgspec.Meta(ge=1, le=1_000_000_000)]
    reason: Reason


class Adjustment(msgspec.Struct, forbid_unknown_fields=True, kw_only=True):
    """Body of `POST /customers/{id}/loyalty/adjustments` (`points` non-zero, either sign)."""

    points: Points
    reason: Reason
