"""Personal by default: every field of every stored event is declared personal (sealed under
the customer's key) or public. A new event, or a new field of an old one, fails here until it
is put in one of the two tables of `personal_paths`."""

from __future__ import annotations

import inspect
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

from eventsourcing.domain import Aggregate

from shared.engagement import default_preferences
from write_side.application.crypto.personal_paths import (
    LEDGER_PERSONAL_PATHS,
    PUBLIC_PATHS,
    Plan,
    compile_plan,
    plan_for_event,
)
from write_side.domain import (
    claims,
    customer,
    engagement,
    imports,
    loyalty_ledger,
    merge,
    segment,
)
from write_side.domain.claims import (
    EmailClaim,
    ExternalIdClaim,
    IdempotencyRecord,
    InvoiceSequence,
    OrderRecord,
    PhoneIndex,
)
from write_side.domain.customer import Customer
from write_side.domain.engagement import Communication
from write_side.domain.imports import ImportJob
from write_side.domain.loyalty_ledger import LoyaltyLedger, LoyaltyProgram
from write_side.domain.profile import CustomerType
from write_side.domain.segment import Segment, SegmentList

PROFILE = {
    "firstName": "Ann", "lastName": "Lee", "email": "ann@example.com", "phone": "+14155552671",
    "dateOfBirth": "1980-01-02", "notes": "n", "tags": ["t"], "attributes": {"k": "v"},
}  # fmt: skip


def every_event_class() -> set[str]:
    """The qualified name of every concrete event class of every aggregate of the domain
    (a class that others derive from, such as `Customer.Event`, is a base, not an event)."""
    found: set[type] = set()
    for module in (customer, claims, loyalty_ledger, imports, segment):
        for _, aggregate in inspect.getmembers(module, inspect.isclass):
            if issubclass(aggregate, Aggregate) and aggregate is not Aggregate:
                for _, member in inspect.getmembers(aggregate, inspect.isclass):
                    if issubclass(member, Aggregate.Event) and member.__qualname__.startswith(
                        aggregate.__name__ + "."
                    ):
                        found.add(member)
    bases = {base for cls in found for base in cls.__mro__[1:]}
    concrete = found - bases
    # An aggregate whose __init__ is `@event("Claimed")` keeps an unused default `Created`.
    renamed = {
        cls.__qualname__.split(".")[0] + ".Created"
        for cls in concrete
        if issubclass(cls, Aggregate.Created) and not cls.__qualname__.endswith(".Created")
    }
    return {cls.__qualname__ for cls in concrete} - renamed


def customer_events() -> list[Any]:
    """One event of each kind of a customer's life, every optional field filled."""
    ann = Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW, profile=PROFILE
    )
    ann.update(actor="a", changes={"notes": "m", "tags": ["u"]}, customer_type=CustomerType.REGULAR)
    ann.change_consent(
        actor="a", purpose="marketing_email",
        consent={"granted": True, "source": "web", "legalBasis": "consent"},
    )  # fmt: skip
    ann.record_visit(actor="a", order_id="o-1", placed_at="2026-01-01T00:00:00.000Z")
    ann.close_order(actor="a", order_id="o-1", status="completed")
    payment = {"paymentId": "p-1", "orderId": "o-1", "amount": 100, "currency": "EUR",
               "status": "succeeded", "at": "2026-01-01T00:00:00.000Z", "method": "card"}  # fmt: skip
    ann.record_payment(actor="a", payment=payment)
    ann.set_billing(actor="a", billing={"name": "Ann", "address": {"line1": "1 St"}})
    ann.issue_invoice(actor="a", number=1, issued_at="2026-01-02T00:00:00.000Z")
    ann.reach_tier(actor="a", tier="Gold", min_points=100, lifetime_points=120)
    preferences = default_preferences() | {
        "language": "fr-CA", "timezone": "Europe/Paris", "quietHours": {"start": "22:00", "end": "07:00"},
        "paymentMethod": {"type": "card", "brand": "visa", "last4": "4242", "expMonth": 1, "expYear": 2030},
    }  # fmt: skip
    engagement.change_preferences(ann, actor="a", preferences=preferences)
    engagement.add_note(ann, actor="a", note_id="n-1", text="Ann prefers mornings")
    engagement.delete_note(ann, actor="a", note_id="n-1", may_delete_any=False)
    engagement.record_communication(ann, actor="a", communication=Communication(
        "c-1", "notification", "email", "outbound", "invoice", "Your invoice, Ann", "tpl", "bounced",
        "hard", "2026-01-02T00:00:00.000Z",
    ))  # fmt: skip
    bo = _merged_away(ann)
    ann.delete(actor="a", reason="asked by Ann")
    ann.restore(actor="a", reason="asked by Ann")
    ann.erase(actor="a", reason="asked by Ann")
    return [*ann.collect_events(), *bo]


def _merged_away(ann: Customer) -> list[Any]:
    """Bo, with something of each kind a merge moves, merged into Ann and unmerged: the
    merge events of both (Ann's stay with her own)."""
    bo = Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW,
        profile={"firstName": "Bo", "dateOfBirth": "1990-01-02", "tags": ["b"],
                 "attributes": {"b": 1}},
    )  # fmt: skip
    bo.record_visit(actor="a", order_id="o-2", placed_at="2025-01-01T00:00:00.000Z")
    bo.record_payment(actor="a", payment={"paymentId": "p-2", "orderId": "o-2", "amount": 5,
                      "currency": "EUR", "status": "succeeded", "at": "2025-01-01T00:00:00.000Z"})  # fmt: skip
    bo.issue_invoice(actor="a", number=2, issued_at="2025-01-02T00:00:00.000Z")
    bo.change_consent(actor="a", purpose="sms",
                      consent={"granted": True, "source": "Bo at the desk", "legalBasis": "consent"})  # fmt: skip
    engagement.add_note(bo, actor="a", note_id="n-2", text="Bo is tall")
    merge.merge(ann, bo, actor="a", claims=[str(uuid.uuid4())])
    merge.unmerge(ann, bo, actor="a", now=datetime.now(UTC))
    return list(bo.collect_events())


def other_events() -> list[Any]:
    """One event of each kind of the other aggregates."""
    owner = uuid.uuid4()
    claim = EmailClaim(claim_id=uuid.uuid4(), owner_id=owner)
    claim.release(owner_id=owner)
    claim.claim(owner_id=owner)
    external = ExternalIdClaim(claim_id=uuid.uuid4(), owner_id=owner)
    external.release(owner_id=owner)
    external.claim(owner_id=owner)
    record = IdempotencyRecord(record_id=uuid.uuid4(), fingerprint="f", outcome={"status": 201})
    record.renew(fingerprint="g", outcome={"status": 200})
    index = PhoneIndex(index_id=uuid.uuid4(), owner_id=owner)
    index.add(owner_id=uuid.uuid4())
    order = OrderRecord(
        record_id=uuid.uuid4(), tenant_id="acme", actor="a", order_id="o-1",
        placed_at="2026-01-01T00:00:00.000Z", results=[{"customerId": str(owner), "created": False, "firstTime": True,
                  "matchedBy": "email"}],
    )  # fmt: skip
    job = ImportJob(tenant_id="acme", actor="a", file_format="csv", dry_run=False, total=2)
    job.record_progress(3, {"processed": 2, "failed": 1},
                        [{"line": 3, "field": "email", "message": "is not valid"}])  # fmt: skip
    job.finish()
    failed = ImportJob(tenant_id="acme", actor="a", file_format="csv", dry_run=False, total=2)
    failed.fail(reason="the uploaded file is no longer available")
    numbers = InvoiceSequence(sequence_id=uuid.uuid4())
    numbers.issue(number=1, customer_id=str(owner))
    at = datetime(2026, 1, 1, tzinfo=UTC)
    ledger = LoyaltyLedger(customer_id=owner, tenant_id="acme")
    ledger.earn(actor="a", cause=("payment", "p-1"), points=10, at=at, expires_at="2027-01-01")
    ledger.redeem(actor="a", points=2, reason="a gift for Ann", at=at, request="r")
    ledger.adjust(actor="a", points=5, reason="sorry, Ann", at=at, expires_at=None)
    ledger.reverse(actor="a", payment_id="p-1", at=at)
    ledger.earn(actor="a", cause=("order", "o-1"), points=3, at=at, expires_at="2027-01-01")
    ledger.expire(actor="a", now=datetime(2030, 1, 1, tzinfo=UTC))
    program = LoyaltyProgram(tenant_id="acme", actor="a", program={"pointsPerVisit": 1})
    program.change(actor="a", program={"pointsPerVisit": 2})
    defined = Segment("acme", "a", "VIP", "desc", {"tag": ["vip"], "q": "x"})
    defined.redefine("a", "VIP2", None, {"tag": ["vip"]})
    defined.remove("a")
    listing = SegmentList("acme")
    listing.add(str(defined.id))
    listing.drop(str(defined.id))
    aggregates: list[Aggregate] = [claim, external, job, failed, record, index, order, numbers,
                                   ledger, program, defined, listing]  # fmt: skip
    return [event for aggregate in aggregates for event in aggregate.collect_events()]


def leaves(value: Any, path: str) -> Iterator[str]:
    """Dotted paths to every value that is not a dict (list items share their list's path)."""
    if isinstance(value, dict) and value:
        for key, inner in value.items():
            yield from leaves(inner, f"{path}.{key}" if path else str(key))
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for item in value:
            yield from leaves(item, path)
    else:
        yield path


def covered(path: str, plan: Plan | None) -> bool:
    node: Plan | None = plan
    for part in path.split("."):
        if node is None or part not in node:
            return False
        node = node[part]
        if node is None:
            return True
    return False


def is_public(path: str, public: tuple[str, ...]) -> bool:
    return any(path == entry or path.startswith(entry + ".") for entry in public)


def test_every_event_class_has_a_sample_here() -> None:
    sampled = {type(e).__qualname__ for e in customer_events() + other_events()}
    assert every_event_class() - sampled == set()


def test_every_field_of_every_event_is_declared_personal_or_public() -> None:
    undeclared, both = [], []
    for event in customer_events() + other_events():
        name = type(event).__qualname__
        is_customer = name.startswith("Customer.")
        plan = plan_for_event(name.split(".", 1)[1]) if is_customer else None
        if name.startswith("LoyaltyLedger."):
            plan = compile_plan(LEDGER_PERSONAL_PATHS)
        public = PUBLIC_PATHS.get(name, ())
        for path in leaves(vars(event), ""):
            personal, known = covered(path, plan), is_public(path, public)
            if not personal and not known:
                undeclared.append(f"{name}: {path}")
            if personal and known:
                both.append(f"{name}: {path}")
    assert undeclared == [], "declare each in personal_paths.PERSONAL_PATHS or PUBLIC_PATHS"
    assert both == []


def test_free_text_and_free_form_fields_are_personal() -> None:
    """Tags, attribute values, consent sources and reasons can hold anything a person typed."""
    assert covered("profile.tags", plan_for_event("Created"))
    assert covered("profile.attributes.k", plan_for_event("Created"))
    assert covered("changes.attributes", plan_for_event("ProfileChanged"))
    assert covered("consent.source", plan_for_event("ConsentChanged"))
    for name in ("Deleted", "Restored", "Erased"):
        assert covered("reason", plan_for_event(name))
