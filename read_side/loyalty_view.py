"""The loyalty read model: a `loyalty` part of the customer's document, folded from the events
of the customer's ledger (`loyalty.*` envelopes), and the answers read from it.

It lives in the customer document, so it is stored by the same view-store adapters (MongoDB,
SQLite), rebuilt blue/green with them, and erased with the customer. The ledger has its own
version: `fold` is guarded by it (the customer's version does not move with points).
"""

from __future__ import annotations

import base64
from dataclasses import dataclass

import msgspec

from read_side.events import EventEnvelope
from shared.events import payloads as ev
from shared.json_types import JSONObject
from shared.loyalty_lots import take_from_lots

#: The envelope types of ledger events (`loyalty.points_earned`, …).
LOYALTY_PREFIX = "loyalty."
_TIMELINE_TYPES = {
    "loyalty.points_earned": "loyalty.earned",
    "loyalty.points_redeemed": "loyalty.redeemed",
    "loyalty.points_adjusted": "loyalty.adjusted",
    "loyalty.points_reversed": "loyalty.reversed",
    "loyalty.points_expired": "loyalty.expired",
}
#: The ledger events that are entries (the timeline shows them; the opening it does not).
LEDGER_ENTRY_TYPES = tuple(_TIMELINE_TYPES)


def empty_loyalty() -> JSONObject:
    """The part of a document whose customer has no ledger yet."""
    return {"version": 0, "balance": 0, "lifetimePoints": 0, "lots": [], "entries": []}


def is_loyalty_event(event: EventEnvelope) -> bool:
    """True for an event of a customer's ledger."""
    return event.type.startswith(LOYALTY_PREFIX)


def fold(doc: JSONObject, event: EventEnvelope) -> None:
    """Apply one ledger event to `doc` in place (the caller copies and version-guards)."""
    loyalty = doc.setdefault("loyalty", empty_loyalty())
    loyalty["version"] = event.version
    recorded = event.payload
    if not isinstance(recorded, ev.LedgerEntryRecorded):  # the opening: nothing to show yet
        return
    points = recorded.entry.points
    loyalty["balance"] += points
    loyalty["lifetimePoints"] += recorded.lifetime
    loyalty["entries"].append(msgspec.to_builtins(recorded.entry))
    if recorded.lot is not None:
        loyalty["lots"].append(msgspec.to_builtins(recorded.lot))
    elif points < 0:
        take_from_lots(loyalty["lots"], -points, recorded.first_lot)
    loyalty["nextExpiryAt"] = min(
        (lot["expiresAt"] for lot in loyalty["lots"] if lot.get("expiresAt")), default=None
    )


def version_of(doc: JSONObject) -> int:
    """The ledger version the document reflects (0 before any)."""
    loyalty = doc.get("loyalty")
    return int(loyalty["version"]) if loyalty else 0


def forget_reasons(doc: JSONObject) -> None:
    """Erasure: reasons are free text a person typed; the points stay."""
    for entry in (doc.get("loyalty") or {}).get("entries", []):
        entry["reason"] = None


@dataclass(frozen=True)
class EntryPage:
    """Entries newest first from `cursor`, and the cursor of the next page."""

    items: list[JSONObject]
    next_cursor: str | None


class BadCursor(ValueError):
    """Not a cursor this read handed out."""


def entries_page(doc: JSONObject, cursor: str | None, limit: int) -> EntryPage:
    """A page of the ledger's entries, newest first. The cursor is the count of entries older
    than the page's last one, so entries added meanwhile do not shift later pages."""
    entries = (doc.get("loyalty") or {}).get("entries", [])
    end = len(entries)
    if cursor is not None:
        try:
            end = int(base64.urlsafe_b64decode(cursor.encode()).decode().removeprefix("e:"))
        except (ValueError, UnicodeDecodeError) as error:
            raise BadCursor(cursor) from error
        if not 0 <= end <= len(entries):
            raise BadCursor(cursor)
    start = max(0, end - limit)
    items = [_public_entry(e) for e in reversed(entries[start:end])]
    following = base64.urlsafe_b64encode(f"e:{start}".encode()).decode() if start else None
    return EntryPage(items, following)


def summary(doc: JSONObject) -> JSONObject:
    """Balance, lifetime points, tier and what expires when (soonest first)."""
    loyalty = doc.get("loyalty") or empty_loyalty()
    expiring = sorted(
        ({"points": lot["points"], "at": lot["expiresAt"]} for lot in loyalty["lots"]
         if lot.get("expiresAt")),
        key=lambda item: item["at"],
    )  # fmt: skip
    return {
        "balance": loyalty["balance"],
        "lifetimePoints": loyalty["lifetimePoints"],
        "tier": doc.get("tier"),
        "expiring": expiring,
    }


def export(doc: JSONObject) -> JSONObject:
    """The customer's loyalty record for a GDPR export: the summary and every entry."""
    entries = (doc.get("loyalty") or {}).get("entries", [])
    return {**summary(doc), "entries": [_public_entry(e) for e in entries]}


def timeline_item(event: EventEnvelope) -> JSONObject | None:
    """The timeline's `loyalty` item for a ledger event (`{at, kind, type, summary, actor,
    ref}`), None for events the timeline does not show (the ledger's opening). The tier's
    own event is the customer's `customer.tier_changed`."""
    public_type = _TIMELINE_TYPES.get(event.type)
    recorded = event.payload
    if public_type is None or not isinstance(recorded, ev.LedgerEntryRecorded):
        return None
    entry = recorded.entry
    return {
        "at": entry.at,
        "kind": "loyalty",
        "type": public_type,
        "summary": f"{entry.points:+d} points ({entry.kind})",
        "actor": event.actor,
        "ref": entry.ref or entry.id,
    }


def _public_entry(entry: JSONObject) -> JSONObject:
    return {
        key: entry.get(key, 0 if key == "shortfall" else None)
        for key in ("id", "kind", "points", "reason", "ref", "at", "shortfall")
    }
