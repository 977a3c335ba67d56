"""The bulk path's decisions for a chunk of import rows: given rows and what each decides,
then which events are stored together, which rows are deferred and what is counted."""

from __future__ import annotations

import uuid

from shared.errors import Conflict, FieldError, ValidationFailed
from shared.events.values import CustomerType
from write_side.application.commands import ProfileInput
from write_side.application.decisions import Decision, Event, Outcome
from write_side.application.import_batch import decide_chunk, outcome_name
from write_side.domain.claims import EmailClaim
from write_side.domain.customer import Customer
from write_side.imports.rows import Row


def row(line: int, email: str) -> Row:
    return Row(line, ProfileInput(fields={"email": email}))


def new_customer(email: str) -> Customer:
    profile = {"firstName": "Ann", "email": email}
    return Customer.register(
        tenant_id="t", actor="importer", customer_type=CustomerType.UNREGISTERED, profile=profile
    )


def claim_events(email: str, owner: uuid.UUID) -> tuple[Event, ...]:
    claim = EmailClaim(claim_id=uuid.uuid5(uuid.NAMESPACE_URL, email), owner_id=owner)
    return tuple(claim.collect_events())


def creating(data: Row) -> Decision[None]:
    email = str(data.data.fields["email"])
    customer = new_customer(email)
    return Decision(customer, Outcome.CREATED, claim_events(email, customer.id))


def test_rows_about_different_customers_are_stored_together() -> None:
    chunk = decide_chunk(creating, [row(2, "a@x.io"), row(3, "b@x.io")])
    assert chunk.deferred == []
    assert len(chunk.events) == 4  # two customers' creation, two claims
    assert chunk.tally.counts["created"] == 2 and chunk.tally.counts["processed"] == 2


def test_a_row_touching_what_an_earlier_row_touches_is_deferred() -> None:
    rows = [row(2, "a@x.io"), row(3, "b@x.io"), row(4, "a@x.io"), row(5, "c@x.io")]
    chunk = decide_chunk(creating, rows)
    assert [item.line for item in chunk.deferred] == [4]  # the same email claim as line 2
    assert chunk.tally.counts["created"] == 3
    assert {e.originator_id for e in chunk.events} >= {
        uuid.uuid5(uuid.NAMESPACE_URL, email) for email in ("a@x.io", "b@x.io", "c@x.io")
    }


def test_rows_after_a_deferred_row_about_the_same_customer_wait_too() -> None:
    customer = new_customer("a@x.io")
    list(customer.collect_events())

    def updating(data: Row) -> Decision[None]:
        if data.line == 2:
            return creating(data)
        return Decision(customer, Outcome.CHANGED)  # line 3 and 4: one stored customer

    chunk = decide_chunk(updating, [row(2, "a@x.io"), row(3, "b@x.io"), row(4, "b@x.io")])
    assert [item.line for item in chunk.deferred] == [4]
    assert chunk.tally.counts["unchanged"] == 1  # line 3 decided nothing to store


def test_refused_rows_fail_alone_by_line_and_field() -> None:
    def refusing(data: Row) -> Decision[None]:
        if data.line == 3:
            raise ValidationFailed("bad", errors=[FieldError("email", "is not an email")])
        if data.line == 4:
            raise Conflict("Another customer of this tenant already has this externalId.")
        return creating(data)

    chunk = decide_chunk(refusing, [row(2, "a@x.io"), row(3, "b"), row(4, "c@x.io")])
    assert chunk.tally.errors == [
        {"line": 3, "field": "email", "message": "is not an email"},
        {"line": 4, "field": "externalId", "message": str(Conflict(
            "Another customer of this tenant already has this externalId."))},
    ]  # fmt: skip
    assert chunk.tally.counts == {
        "processed": 3, "created": 1, "updated": 0, "unchanged": 0, "failed": 2
    }  # fmt: skip


def test_a_change_that_stores_nothing_counts_as_unchanged() -> None:
    assert outcome_name(Outcome.CHANGED, changed=False) == "unchanged"
    assert outcome_name(Outcome.CHANGED, changed=True) == "updated"
    assert outcome_name(Outcome.CREATED, changed=True) == "created"
