"""Merge and unmerge of two customers of a tenant: the decisions, pure (no store, no claims).

A merge records `MergeAbsorbed` on the target (what it takes from the source) and `Merged` on
the source (state `merged`, pointing at the target); the source's own record stays as it was,
so an unmerge gives it back exactly what it had (`Unmerged`), and the target gives back what
it took and has not changed since (`MergeUndone`). Rules: docs/CONTRACT.md "Duplicates, merge,
import and export" and docs/decisions.md "Merge and unmerge".
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime, timedelta

import msgspec

from shared.errors import Conflict, FieldError, ValidationFailed
from shared.events import payloads as ev
from shared.events.values import (
    CustomerState,
    ErasedValue,
    HeldTier,
    MovedConsent,
    MovedNote,
    ProfileFields,
    Snapshot,
)
from shared.json_types import JSONObject
from write_side.domain.customer import Customer
from write_side.domain.merge_fold import SCALAR_FIELDS, moved_order, moved_payment
from write_side.domain.profile import CustomerType

UNMERGE_WINDOW = timedelta(days=30)


def check_merge(target: Customer, source: Customer) -> None:
    """Same tenant (the repository saw to it), two customers, the target active, neither
    erased nor merged already."""
    if target.id == source.id:
        raise ValidationFailed(
            "A customer cannot be merged into itself.",
            errors=[FieldError("sourceId", "must name another customer")],
        )
    target.check_not_merged()
    if target.state is not CustomerState.ACTIVE:
        raise Conflict(
            f"The target is {target.state}; only an active customer takes a merge.",
            extra={"state": target.state},
        )
    if source.state is CustomerState.MERGED:
        raise Conflict(
            f"The source was already merged into {source.merged_into}.",
            extra={"state": source.state, "mergedInto": source.merged_into},
        )
    if source.state is CustomerState.ERASED:
        raise Conflict("The source is erased.", extra={"state": source.state})


def merge(
    target: Customer, source: Customer, *, actor: str, claims: Collection[str],
    keep: Collection[str] = (), reached: HeldTier | None = None,
) -> None:  # fmt: skip
    """Fold `source` into `target`. `claims` are the claim ids that now point at the target;
    `keep` names identifying fields the target must not take (their claim is someone else's);
    `reached` is the tier both ledgers' lifetime points reach together (the program's)."""
    check_merge(target, source)
    moved = absorbed(target, source, claims=claims, keep=keep)
    tier = merged_tier(target, source, reached)
    target.raise_event(actor, moved if tier is None else msgspec.structs.replace(moved, tier=tier))
    previous = CustomerState(source.state)
    source.raise_event(
        actor,
        ev.Merged(source_id=str(source.id), target_id=str(target.id), previous_state=previous),
    )


def merged_tier(target: Customer, source: Customer, reached: HeldTier | None) -> HeldTier | None:
    """The tier the target takes: the highest (by threshold) of the source's and the one the
    lifetime points of both reach, when it is above the target's own; None: it keeps its own.
    A merge is one person's history put together, so the tier is what that history earned
    (it never goes down, as a tier never does)."""
    own = _held(target)
    candidates = [t for t in (_held(source), reached) if t is not None]
    best = max(candidates, key=lambda t: t.min_points, default=None)
    if best is None or (own is not None and best.min_points <= own.min_points):
        return None
    return best


def _held(customer: Customer) -> HeldTier | None:
    if customer.tier is None or customer.tier_min_points is None:
        return None
    return HeldTier(name=customer.tier, min_points=customer.tier_min_points)


def taken_values(target: Customer, source: Customer, keep: Collection[str]) -> JSONObject:
    """The source's values for the target's empty fields, the tags it lacks, and the
    attribute keys it lacks (the target's value wins a clash)."""
    own, theirs = target.profile, source.profile
    skip = set(keep)
    if target.customer_type is CustomerType.ANONYMOUS:
        skip |= {"email", "phone"}  # an anonymous customer has neither
    values = {
        k: theirs[k] for k in SCALAR_FIELDS if k not in skip and not own.get(k) and theirs.get(k)
    }
    tags = [t for t in theirs.get("tags") or [] if t not in (own.get("tags") or [])]
    mine = own.get("attributes") or {}
    attributes = {k: v for k, v in (theirs.get("attributes") or {}).items() if k not in mine}
    if tags:
        values["tags"] = tags
    if attributes:
        values["attributes"] = attributes
    return values


def absorbed(
    target: Customer, source: Customer, *, claims: Collection[str], keep: Collection[str]
) -> ev.MergeAbsorbed:
    """What moves: values (`taken_values`), billing details when the target has none, the
    orders, payments and invoices it does not hold, the consents whose latest change was the
    source's, the live notes and the communications."""
    orders = [o for k, o in source.orders.items() if k not in target.orders]
    payments = [p for k, p in source.payments.items() if k not in target.payments]
    invoices = [i for n, i in source.invoices.items() if n not in target.invoices]
    consents = {
        purpose: c
        for purpose, c in source.consents.items()
        if purpose not in target.consents or c.at > target.consents[purpose].at
    }
    notes = [n for k, n in source.note_items.items() if k not in target.note_items]
    return ev.MergeAbsorbed(
        customer_id=str(source.id),
        target_id=str(target.id),
        values=msgspec.convert(taken_values(target, source, keep), ProfileFields),
        billing=source.billing if target.billing is None else None,
        orders=[moved_order(o) for o in orders],
        snapshots={o.order_id: _snapshot(o.snapshot) for o in orders},
        payments=[moved_payment(p) for p in payments],
        invoices=[msgspec.structs.replace(i, billing=None) for i in invoices],
        invoice_billing={str(i.number): i.billing for i in invoices},
        consents={
            purpose: MovedConsent(granted=c.granted, legal_basis=c.legal_basis, at=c.at, by=c.by)
            for purpose, c in consents.items()
        },
        consent_sources={purpose: c.source for purpose, c in consents.items()},
        notes=[MovedNote(note_id=n["id"], author=n["author"], at=n["at"]) for n in notes],
        note_texts={n["id"]: n["text"] for n in notes},
        communications=sorted(source.communications - target.communications),
        claims=list(claims),
    )


def _snapshot(value: Snapshot | ErasedValue | None) -> Snapshot | None:
    return value if not isinstance(value, str) else None  # "[erased]" moves as nothing


def previous_state(source: Customer) -> CustomerState:
    """The state a merged source had before its merge (the entry before the last `merged`)."""
    for change in reversed(source.state_history[:-1]):
        if change["state"] != CustomerState.MERGED.value:
            return CustomerState(change["state"])
    return CustomerState.ACTIVE


def check_unmerge(target: Customer, source: Customer, now: datetime) -> None:
    """The source is merged into this target, which still remembers it, within 30 days."""
    memory = target.merges.get(str(source.id))
    if source.state is not CustomerState.MERGED or source.merged_into != str(target.id):
        raise Conflict(
            "The source is not merged into this customer.",
            extra={"state": source.state, "mergedInto": source.merged_into},
        )
    target.check_not_merged()
    if memory is None or target.state is CustomerState.ERASED:
        raise Conflict("The target is erased: the merge can no longer be undone.")
    if now - datetime.fromisoformat(memory.at) > UNMERGE_WINDOW:
        raise Conflict(
            f"The merge was recorded at {memory.at}; it can be undone within 30 days only.",
            extra={"mergedAt": memory.at},
        )


def unmerge(target: Customer, source: Customer, *, actor: str, now: datetime) -> None:
    """Undo the merge: the target gives back what it took and has not changed since, the
    source goes back to its state with its orders and payments as they are now."""
    check_unmerge(target, source, now)
    memory = target.merges[str(source.id)]
    orders = [moved_order(target.orders[k]) for k in memory.order_ids if k in target.orders]
    payments = [
        moved_payment(target.payments[k]) for k in memory.payment_ids if k in target.payments
    ]
    source_id, target_id = str(source.id), str(target.id)
    target.raise_event(actor, ev.MergeUndone(source_id=source_id, target_id=target_id))
    returned = ev.Unmerged(
        source_id=source_id, target_id=target_id, state=previous_state(source),
        orders=orders, payments=payments,
    )  # fmt: skip
    source.raise_event(actor, returned)
