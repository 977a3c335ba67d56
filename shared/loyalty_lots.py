"""How points leave a loyalty ledger: the one rule the write side's ledger and the read
side's loyalty view both fold by (neither imports the other).

A *lot* is what one earning (or positive adjustment) left: `{id, points, at, expiresAt}` with
its remaining points. Points are taken from lots oldest first — lots that expire before lots
that never do, earliest expiry first, then by when they were earned — so the points that
expire are always the oldest still unspent.
"""

from __future__ import annotations

from shared.json_types import JSONObject


def lot_order(lot: JSONObject) -> tuple[int, str, str]:
    """The sort key of oldest first."""
    expires = lot.get("expiresAt")
    return (0 if expires else 1, expires or "", lot["at"])


def take_from_lots(lots: list[JSONObject], points: int, first: str | None = None) -> int:
    """Take up to `points` from the lots, in place: the lot with id `first` before the others
    (a refund takes back its own payment's points first), then oldest first. Returns how many
    were taken; emptied lots are removed."""
    ordered = sorted(lots, key=lambda lot: (lot["id"] != first, *lot_order(lot)))
    taken = 0
    for lot in ordered:
        if taken == points:
            break
        step = min(int(lot["points"]), points - taken)
        lot["points"] -= step
        taken += step
    lots[:] = [lot for lot in lots if lot["points"] > 0]
    return taken
