"""The retention-cohorts projection: customers grouped by the month of their first visit,
and how many of each cohort visited again 0, 1, 2, … months later.

Per tenant it keeps one `cohorts` document (`{cohort: {size, active: {offset: customers}}}`)
and one document per customer under a hashed id, holding only the months in which that
customer visited (no personal value; the hash does not lead back to the customer). A late
order placed before the first known visit moves the customer to the earlier cohort: the
customer's old contribution is taken out and the new one put in. Erasure changes nothing here:
the numbers stay.
"""

from __future__ import annotations

from collections.abc import Iterable

from read_side.events import EventEnvelope
from read_side.projections.api import Document, Documents, hashed_id
from shared.events import payloads as ev

COHORTS = "analytics_cohorts"
COHORTS_KEY = "cohorts"
CUSTOMER_PREFIX = "customer:"


def month_offset(first: str, later: str) -> int:
    """Whole months from `first` to `later` (both `YYYY-MM`)."""
    return (int(later[:4]) - int(first[:4])) * 12 + int(later[5:7]) - int(first[5:7])


def contribution(months: Iterable[str]) -> tuple[str, set[int]] | None:
    """The cohort a customer with visits in `months` belongs to, and the offsets active."""
    ordered = sorted(set(months))
    if not ordered:
        return None
    first = ordered[0]
    return first, {month_offset(first, month) for month in ordered}


def add_contribution(cohorts: Document, months: Iterable[str], sign: int) -> None:
    """Add (`sign` 1) or take out (-1) one customer's part of the cohort counts."""
    part = contribution(months)
    if part is None:
        return
    cohort, offsets = part
    entry = cohorts.setdefault(cohort, {"size": 0, "active": {}})
    entry["size"] += sign
    for offset in offsets:
        key = str(offset)
        entry["active"][key] = entry["active"].get(key, 0) + sign
        if entry["active"][key] == 0:
            del entry["active"][key]
    if entry["size"] == 0 and not entry["active"]:
        del cohorts[cohort]


class CohortsProjection:
    """Monthly cohorts by first visit (`GET /analytics/cohorts`). A merge counts two records
    of one person once: the source leaves the counts while merged, and the target counts
    with the months of the orders it took (`merged`, per hashed source) besides its own
    (`own`); an unmerge puts both back (docs/decisions.md "Merge and unmerge")."""

    name = COHORTS
    version = 2
    description = "monthly retention cohorts by first visit"
    events = frozenset(
        {
            "customer.visit_recorded", "customer.merged", "customer.merge_absorbed",
            "customer.unmerged", "customer.merge_undone",
        }
    )  # fmt: skip

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The customer's visit months and the tenant's cohort counts."""
        return (CUSTOMER_PREFIX + hashed_id(event.tenant_id, event.customer_id), COHORTS_KEY)

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Record the visit's month (or the merge); move the customer's contribution if it
        changed."""
        customer_key = CUSTOMER_PREFIX + hashed_id(event.tenant_id, event.customer_id)
        customer, cohorts = docs.get(customer_key), docs.get(COHORTS_KEY)
        if customer is None or cohorts is None:
            return  # one of them has seen this event already: a batch re-applied
        customer["own"] = _own(customer)  # a document from before merges were counted
        before = counted_months(customer)
        payload = event.payload
        match payload:
            case ev.VisitRecorded(placed_at=placed_at):
                customer["own"] = sorted({*_own(customer), placed_at[:7]})
            case ev.MergeAbsorbed(customer_id=source_id, orders=orders):
                source = hashed_id(event.tenant_id, source_id)
                customer.setdefault("merged", {})[source] = sorted(
                    {o.placed_at[:7] for o in orders}
                )
            case ev.MergeUndone(source_id=source_id):
                customer.get("merged", {}).pop(hashed_id(event.tenant_id, source_id), None)
            case ev.Merged():
                customer["counted"] = False
            case ev.Unmerged():
                customer["counted"] = True
            case _:
                return
        after = counted_months(customer)
        customer["months"] = _months(customer)
        if after != before:
            add_contribution(cohorts, before, -1)
            add_contribution(cohorts, after, 1)


def _months(customer: Document) -> list[str]:
    """Its own visit months and those of the orders merges gave it."""
    months = set(_own(customer))
    for taken in (customer.get("merged") or {}).values():
        months.update(taken)
    return sorted(months)


def _own(customer: Document) -> list[str]:
    """Its own visit months (`months` in documents from before merges were counted)."""
    own: list[str] = customer["own"] if "own" in customer else customer.get("months") or []
    return own


def counted_months(customer: Document) -> list[str]:
    """The months a customer counts with (none while merged into another)."""
    return _months(customer) if customer.get("counted", True) else []
