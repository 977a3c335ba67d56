"""given(events) / when(command) / then(events | error) for the Customer aggregate.

Modelled on Emmett's DeciderSpecification: a rule of the domain reads as the facts already
recorded, the command, and the facts it adds (or the error it raises), with no store, clock or
HTTP in between. `given` folds real stored event classes, so a test also holds the folds.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest
from eventsourcing.domain import Aggregate
from eventsourcing.utils import get_topic

from write_side.domain.customer import Customer

A = TypeVar("A", bound=Aggregate)
T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
TENANT = "acme"


@dataclass
class History:
    """Events of one customer, built in order with consecutive versions and times."""

    customer_id: uuid.UUID = field(default_factory=uuid.uuid4)
    events: list[Any] = field(default_factory=list)

    def created(self, customer_type: str = "new", **profile: Any) -> History:
        """The first event: `profile` over an empty one (as `Customer.register` builds it)."""
        from write_side.domain.profile import empty_profile

        return self._add(
            Customer.Created,
            originator_topic=get_topic(Customer),
            customer_type=customer_type,
            profile=empty_profile() | profile,
        )

    def then_(self, name: str, **fields: Any) -> History:
        """A later event by class name (`VisitRecorded`, `Deleted`, ...)."""
        return self._add(getattr(Customer, name), **fields)

    def _add(self, cls: Any, **fields: Any) -> History:
        version = len(self.events) + 1
        self.events.append(
            cls(
                originator_id=self.customer_id,
                originator_version=version,
                timestamp=T0 + timedelta(minutes=version),
                tenant_id=TENANT,
                actor="alice",
                **fields,
            )
        )
        return self


@dataclass
class Outcome:
    """What a command did: the events it recorded, or the error it raised (`customer` is the
    aggregate the command ran on: a Customer, or a loyalty ledger)."""

    customer: Any
    events: list[Any]
    error: Exception | None
    result: Any

    def then(self, *expected: tuple[str, Mapping[str, Any]]) -> Outcome:
        """Exactly these events, in order; each named with the fields that must match."""
        assert self.error is None, f"the command raised {self.error!r}"
        assert [type(e).__name__ for e in self.events] == [name for name, _ in expected]
        for event, (_, fields) in zip(self.events, expected, strict=True):
            for key, value in fields.items():
                assert getattr(event, key) == value, (type(event).__name__, key)
        return self

    def then_nothing(self) -> Outcome:
        """No event: a repeat or a no-op."""
        return self.then()

    def then_error(self, kind: type[Exception], match: str = "") -> Exception:
        """The command was refused with `kind` (message matching `match`) and recorded nothing."""
        assert isinstance(self.error, kind), f"expected {kind.__name__}, got {self.error!r}"
        if match:
            with pytest.raises(kind, match=match):
                raise self.error
        assert self.events == []
        return self.error


def given(history: History) -> Customer:
    """The aggregate as the repository would load it from `history`."""
    customer: Any = None
    for event in history.events:
        customer = event.mutate(customer)
    assert isinstance(customer, Customer)
    return customer


def reloaded(aggregate: A) -> A:
    """`aggregate` as the repository would load it from the events it recorded so far (the
    facts of a `given`, decided by the aggregate's own commands, then folded again)."""
    loaded: Any = None
    for event in aggregate.collect_events():
        loaded = event.mutate(loaded)
    assert type(loaded) is type(aggregate)
    result: A = loaded
    return result


def when(customer: A, command: Callable[[A], Any]) -> Outcome:
    """Run `command` on the loaded aggregate and collect what it recorded."""
    try:
        result = command(customer)
    except Exception as error:
        return Outcome(customer, list(customer.collect_events()), error, None)
    return Outcome(customer, list(customer.collect_events()), None, result)
