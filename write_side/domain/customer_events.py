"""The Customer aggregate's stored event classes, made from the payloads of `shared.events`.

An event class is `tenant_id`, `actor` and its payload's fields, in the payload's order, so
the stored attributes are the payload's (`stored_fields`) and `payload()` reads them back
typed. `Customer` names each class in its body (`VisitRecorded = event_class(…)`), and
eventsourcing redefines a class named there as `Customer.<Name>`: the stored topics
(`write_side.domain.customer:Customer.VisitRecorded`, …) and fields are those the events
always had (pinned by tests/unit/test_event_topics.py), so every stored event reads back
unchanged. The fold itself is `customer_fold.fold`, one `match` over the payloads.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, cast

import msgspec
from eventsourcing.domain import Aggregate

from shared.events.payloads import Payload
from write_side.domain.customer_fold import fold

if TYPE_CHECKING:
    from write_side.domain.customer import Customer


class CustomerEvent(Aggregate.Event):
    """A Customer event whose attributes are a payload's: `apply` folds the typed payload."""

    tenant_id: str
    actor: str
    payload_type: ClassVar[type[Payload]]

    def payload(self) -> Payload:
        """The event's own attributes as its typed payload."""
        return msgspec.convert(vars(self), self.payload_type)

    def apply(self, aggregate: object) -> None:
        """Fold the payload into the aggregate (with this event's time and actor)."""
        fold(cast("Customer", aggregate), self.payload(), self)


def event_class(payload_type: type[Payload]) -> type[CustomerEvent]:
    """The stored event class of a payload: named like it, with its fields."""
    fields = msgspec.structs.fields(payload_type)
    namespace = {
        "__annotations__": {field.name: "object" for field in fields},
        "__module__": __name__,
        "__qualname__": payload_type.__name__,
        "payload_type": payload_type,
    }
    return cast("type[CustomerEvent]", type(payload_type.__name__, (CustomerEvent,), namespace))
