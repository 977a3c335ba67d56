"""The Customer's lifecycle and consent events: deleted, restored, erased (one `StateEvent`
shape, told apart by the state they lead to) and a consent granted or withdrawn.

Written as event classes with `apply` rather than `@event` methods because the fold needs the
event's own timestamp. `Customer` names each in its body, so eventsourcing redefines them as
`Customer.<Name>` in `customer.py`: their stored topics and fields are those they had when
they were written inside the class (pinned by tests/unit/test_event_topics.py).
"""

from __future__ import annotations

from typing import Any, ClassVar

from eventsourcing.domain import Aggregate

from shared.clock import iso_utc
from shared.json_types import JSONObject
from write_side.domain.profile import CustomerState


class StateEvent(Aggregate.Event):
    """A lifecycle change; `apply` sees the event's own timestamp (an `@event` body would
    see the previous `modified_on`)."""

    tenant_id: str
    actor: str
    reason: str | None
    target: ClassVar[CustomerState]

    def apply(self, aggregate: Any) -> None:
        """Record the new state with this event's time."""
        at = iso_utc(self.timestamp)
        aggregate.state = self.target.value
        if self.target is not CustomerState.ERASED:
            aggregate.deleted_at = at if self.target is CustomerState.DELETED else None
        aggregate.state_history.append(
            {"state": self.target.value, "at": at, "by": self.actor, "reason": self.reason}
        )
        if self.target is CustomerState.ERASED:
            aggregate.forget_personal_data()


class Deleted(StateEvent):
    """Soft-deleted."""

    target = CustomerState.DELETED


class Restored(StateEvent):
    """Back to active."""

    target = CustomerState.ACTIVE


class Erased(StateEvent):
    """Personal data erased (the data key is shredded right after)."""

    target = CustomerState.ERASED


class ConsentChanged(Aggregate.Event):
    """A purpose granted or withdrawn."""

    tenant_id: str
    actor: str
    purpose: str
    consent: JSONObject

    def apply(self, aggregate: Any) -> None:
        """Keep the consent with this event's time and actor."""
        stamp = {"at": iso_utc(self.timestamp), "by": self.actor}
        aggregate.consents[self.purpose] = dict(self.consent) | stamp
