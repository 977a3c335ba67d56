"""The timeline as a projection: every customer's items, newest first, by kind, so a page is a
few reads by key however long the customer's stream is (issue 12.5).

Per customer (keys inside the tenant, as every projection's):

- `{customer}`: the index, `{"buckets": {"c12": {"low", "top", "kinds": {kind: count}}}}`,
  one entry per bucket: the lowest and highest log position in it and how many items of each
  kind it holds;
- `{customer}/c12`, `{customer}/l0`: a bucket, `{"items": [item, ...]}` oldest first, holding
  the items of `BUCKET` consecutive versions of one stream (`c`: the customer's own events,
  `l`: its loyalty ledger's entries, which have versions of their own).

A bucket is named by the event alone (stream and `version // BUCKET`), so the projection stays
pure and a re-applied batch changes nothing twice (the store's per-document positions). A page
reads the index, then only the buckets that hold the kinds asked for below the cursor, newest
first (`read_side.timeline_pages`). Items carry no personal value (see `timeline_item`), so
erasure leaves them as they are, like the stream they come from.
"""

from __future__ import annotations

from collections.abc import Iterable

from read_side import loyalty_view
from read_side.events import EventEnvelope
from read_side.projections.api import Documents
from read_side.timeline import timeline_item
from shared.events.catalog import CUSTOMER_EVENTS
from shared.json_types import JSONObject

TIMELINE = "timeline"
BUCKET = 64
LEDGER_TYPES = frozenset(loyalty_view.LEDGER_ENTRY_TYPES)


def bucket_name(event: EventEnvelope) -> str:
    """`c{n}` for the customer's stream, `l{n}` for its ledger (n = version // BUCKET)."""
    stream = "l" if loyalty_view.is_loyalty_event(event) else "c"
    return f"{stream}{event.version // BUCKET}"


def bucket_key(customer_id: str, name: str) -> str:
    """The key of one bucket of a customer's timeline."""
    return f"{customer_id}/{name}"


def item_of(event: EventEnvelope) -> JSONObject | None:
    """The stored item of an event (`p`: its log position, the cursor's unit), None for an
    event the timeline does not show."""
    if loyalty_view.is_loyalty_event(event):
        item = loyalty_view.timeline_item(event)
        return None if item is None else {"p": event.position, **item}
    shown = timeline_item(event)
    return {
        "p": event.position, "at": shown.at, "kind": shown.kind, "type": shown.type,
        "summary": shown.summary, "actor": shown.actor, "ref": shown.ref,
    }  # fmt: skip


class TimelineProjection:
    """`GET /customers/{id}/timeline` (built in; an internal projection: its documents are not
    listed by `GET /projections/{name}/documents`)."""

    name = TIMELINE
    version = 1
    description = "each customer's timeline by kind, newest first (GET .../timeline)"
    events = frozenset(event.name for event in CUSTOMER_EVENTS) | LEDGER_TYPES
    internal = True

    def keys(self, event: EventEnvelope) -> Iterable[str]:
        """The customer's index and the bucket the event's item goes to."""
        return (event.customer_id, bucket_key(event.customer_id, bucket_name(event)))

    def apply(self, event: EventEnvelope, docs: Documents) -> None:
        """Append the item to its bucket and count it in the index (each document only when it
        has not seen the event: after a crash between two writes one may have, one not)."""
        item = item_of(event)
        if item is None:
            return
        name = bucket_name(event)
        bucket = docs.get(bucket_key(event.customer_id, name))
        if bucket is not None:
            bucket.setdefault("items", []).append(item)
        index = docs.get(event.customer_id)
        if index is not None:
            entry = index.setdefault("buckets", {}).setdefault(
                name, {"low": event.position, "top": event.position, "kinds": {}}
            )
            entry["low"] = min(entry["low"], event.position)
            entry["top"] = max(entry["top"], event.position)
            kinds = entry["kinds"]
            kinds[item["kind"]] = kinds.get(item["kind"], 0) + 1
