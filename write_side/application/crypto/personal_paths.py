"""Which event attributes hold personal data, as the cipher walks them.

For the Customer aggregate's events the answer is declared once, on the payload types
(`shared.events`: each field is `Personal[...]` or `Public[...]`), and `PERSONAL_PATHS` /
`PUBLIC_PATHS` are derived from there: keyed by event class name, each path is an attribute
name, optionally followed by dotted keys inside a dict-valued attribute. Attributes named in
`PERSONAL_ATTRIBUTES` are personal on every Customer event, whatever its class (a safety net).
Events of other aggregates (email claims, idempotency records) are never sealed: every field
of theirs must be public, and is listed here. `tests/unit/test_personal_fields.py` walks every
event of every aggregate and fails on a field that is in neither table.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any

from shared.events.catalog import CUSTOMER_EVENTS, LEDGER_EVENTS, SEGMENT_EVENTS
from shared.json_types import JSONObject
from write_side.application.crypto.pii_cipher import is_sealed

PERSONAL_PATHS: Mapping[str, tuple[str, ...]] = {
    event.class_name: event.paths.personal for event in CUSTOMER_EVENTS if event.paths.personal
}

#: Personal paths of the loyalty ledger's events (an entry's reason is typed by a person),
#: declared on their payloads too. Sealed under the key of the customer the event names.
LEDGER_PERSONAL_PATHS: tuple[str, ...] = tuple(
    sorted({path for event in LEDGER_EVENTS for path in event.paths.personal})
)

PERSONAL_ATTRIBUTES: frozenset[str] = frozenset(
    {"billing", "payer", "attendee", "attendees", "reason"}
)

_EVENT = ("originator_id", "originator_version", "timestamp")
_CUSTOMER = (*_EVENT, "tenant_id", "actor")
_CREATED = ("originator_topic",)  # what the library adds to a "created" event

PUBLIC_PATHS: Mapping[str, tuple[str, ...]] = {
    **{
        f"Customer.{event.class_name}": (
            *_CUSTOMER,
            *(_CREATED if event.class_name == "Created" else ()),
            *event.paths.public,
        )
        for event in CUSTOMER_EVENTS
    },
    "EmailClaim.Claimed": (*_EVENT, "originator_topic", "claim_id", "owner_id"),
    "EmailClaim.Reclaimed": (*_EVENT, "owner_id"),
    "EmailClaim.Released": (*_EVENT, "owner_id"),
    "ExternalIdClaim.Claimed": (*_EVENT, "originator_topic", "claim_id", "owner_id"),
    "ExternalIdClaim.Reclaimed": (*_EVENT, "owner_id"),
    "ExternalIdClaim.Released": (*_EVENT, "owner_id"),
    "IdempotencyRecord.Recorded": (
        *_EVENT,
        "originator_topic",
        "record_id",
        "fingerprint",
        "outcome",
    ),
    "IdempotencyRecord.Renewed": (*_EVENT, "fingerprint", "outcome"),
    "PhoneIndex.Indexed": (*_EVENT, "originator_topic", "index_id", "owner_id"),
    "PhoneIndex.Added": (*_EVENT, "owner_id"),
    "OrderRecord.AttendeesProcessed": (
        *_EVENT,
        "originator_topic",
        "record_id",
        "tenant_id",
        "actor",
        "order_id",
        "placed_at",
        "results",
        "fingerprint",  # a keyed hash of the body: no personal value is readable from it
    ),
    "Customer.TierChanged": (*_CUSTOMER, "previous", "tier", "min_points", "lifetime_points"),
    **{
        f"LoyaltyLedger.{event.class_name}": (
            *_EVENT,
            "tenant_id",
            *(("originator_topic",) if event.class_name == "Opened" else ("actor",)),
            *event.paths.public,
        )
        for event in LEDGER_EVENTS
    },
    "LoyaltyProgram.Defined": (*_EVENT, "originator_topic", "tenant_id", "actor", "program"),
    "LoyaltyProgram.Changed": (*_EVENT, "tenant_id", "actor", "program"),
    "InvoiceSequence.Started": (*_EVENT, "originator_topic", "sequence_id"),
    # segment definitions name no customer: the tenant's business vocabulary, in the clear
    **{
        f"Segment.{event.class_name}": (
            *_EVENT,
            *(("originator_topic", "tenant_id") if event.class_name == "Defined" else ()),
            "actor",
            *event.paths.public,
        )
        for event in SEGMENT_EVENTS
    },
    "SegmentList.Opened": (*_EVENT, "originator_topic", "tenant_id"),
    "SegmentList.Listed": (*_EVENT, "segment_id"),
    "SegmentList.Unlisted": (*_EVENT, "segment_id"),
    "InvoiceSequence.NumberIssued": (*_EVENT, "number", "customer_id"),
    # An import's progress: counts, and errors naming a line, a field and a rule, never a value.
    "ImportJob.Started": (
        *_EVENT,
        "originator_topic",
        "tenant_id",
        "actor",
        "file_format",
        "dry_run",
        "total",
    ),
    "ImportJob.Progressed": (*_EVENT, "line", "counts", "errors"),
    "ImportJob.Finished": _EVENT,
    "ImportJob.Failed": (*_EVENT, "reason"),
}

# A tree of dict keys; `None` marks a leaf whose whole value is personal.
Plan = dict[str, "Plan | None"]
Transform = Callable[[Any], Any]


def compile_plan(paths: Iterable[str]) -> Plan:
    """Turn dotted paths into a tree; a shorter path wins over a longer one below it."""
    tree: Plan = {}
    for path in sorted(paths, key=lambda p: p.count(".")):
        node: Plan | None = tree
        parts = path.split(".")
        for index, part in enumerate(parts):
            assert node is not None
            if part in node and node[part] is None:
                break  # an ancestor is already personal as a whole
            if index == len(parts) - 1:
                node[part] = None
            else:
                node = node.setdefault(part, {})
    return tree


def plan_for_event(
    event_name: str,
    paths: Mapping[str, Iterable[str]] = PERSONAL_PATHS,
    attributes: Iterable[str] = PERSONAL_ATTRIBUTES,
) -> Plan:
    """The plan of one Customer event class: its table entry plus the generic attributes."""
    return compile_plan([*paths.get(event_name, ()), *attributes])


def apply_plan(container: JSONObject, plan: Plan, transform: Transform) -> JSONObject:
    """Apply `transform` to every present, non-null personal leaf (and to a sealed value met on
    the way, so events sealed under an older, coarser table still open).

    Copy-on-write: the input is never mutated; dicts on the way to a changed leaf are copied,
    and when nothing changes the very same object is returned.
    """
    result: JSONObject | None = None
    for name, below in plan.items():
        value = container.get(name)
        if value is None:
            continue
        if below is None or is_sealed(value):
            new = transform(value)
        elif type(value) is dict:
            new = apply_plan(value, below, transform)
        else:
            continue
        if new is not value:
            if result is None:
                result = dict(container)
            result[name] = new
    return container if result is None else result
