"""The values Customer events carry, typed once for both sides (camelCase, as stored).

Every field says whether it is personal (`Personal[...]`: sealed under the customer's key,
"[erased]" once that key is shredded) or public (`Public[...]`); a field of a nested value
object (`Consent`, `Invoice`, …) without a marker is looked into, so that only its own
fields need one; a value held only under a personal field (`Snapshot`, `BillingDetails`)
needs no markers at all. `shared.events.catalog` derives the cipher's personal paths from these
markers, and a test fails on a leaf that has neither.
"""

from __future__ import annotations

import enum
from typing import Annotated, Final, Literal, TypeAlias, TypeVar

import msgspec

T = TypeVar("T")

#: Marks a field whose value is personal data (sealed at rest, erased with its key).
PERSONAL: Final = msgspec.Meta(extra={"personal": True})
#: Marks a field that holds no personal data (stored in clear, kept after erasure).
PUBLIC: Final = msgspec.Meta(extra={"personal": False})
Personal: TypeAlias = Annotated[T, PERSONAL]
Public: TypeAlias = Annotated[T, PUBLIC]

#: What a personal value reads as once its customer's key is shredded.
ERASED: Final = "[erased]"
ErasedValue: TypeAlias = Literal["[erased]"]
#: A free-form JSON value kept as the client sent it (customer attributes).
FreeForm: TypeAlias = dict[str, object]


class CustomerType(enum.StrEnum):
    """Kinds of customer; each has its own required fields."""

    REGULAR = "regular"
    UNREGISTERED = "unregistered"
    NEW = "new"
    ANONYMOUS = "anonymous"


class CustomerState(enum.StrEnum):
    """Lifecycle states."""

    ACTIVE = "active"
    DELETED = "deleted"
    ERASED = "erased"
    MERGED = "merged"


class OrderStatus(enum.StrEnum):
    """An order is open (`placed`) until the order system completes or cancels it."""

    PLACED = "placed"
    COMPLETED = "completed"
    CANCELLED = "cancelled"


class PaymentStatus(enum.StrEnum):
    """Payment lifecycle as reported by the payment system."""

    PENDING = "pending"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    REFUNDED = "refunded"


class Value(msgspec.Struct, frozen=True, kw_only=True, rename="camel"):
    """Base of the stored value objects: immutable, camelCase keys."""


class ProfileFields(Value, frozen=True):
    """Profile fields as a creation (all of them) or a change (those that changed) stores
    them; an absent field is `UNSET` and stays absent when encoded again."""

    first_name: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    last_name: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    email: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    phone: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    date_of_birth: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    notes: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET
    tags: Personal[list[str] | ErasedValue | msgspec.UnsetType | None] = msgspec.UNSET
    attributes: Personal[FreeForm | ErasedValue | msgspec.UnsetType | None] = msgspec.UNSET
    external_id: Personal[str | msgspec.UnsetType | None] = msgspec.UNSET


#: The profile's field names as stored and served (`firstName`, …, `attributes`).
PROFILE_FIELDS: Final = tuple(f.encode_name for f in msgspec.structs.fields(ProfileFields))


class Snapshot(Value, frozen=True):
    """The identifying profile fields as they were when an order was placed."""

    first_name: str | None = None
    last_name: str | None = None
    email: str | None = None
    phone: str | None = None


class Payment(Value, frozen=True, kw_only=True):
    """One payment status as the payment system reported it: ids, amount, status, method."""

    payment_id: Public[str]
    order_id: Public[str | None] = None
    amount: Public[int]
    currency: Public[str]
    status: Public[PaymentStatus]
    at: Public[str]
    method: Public[str | None] = None


class Address(Value, frozen=True):
    """A postal address; each line may be empty."""

    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    postal_code: str | None = None
    region: str | None = None
    country: str | None = None


class BillingDetails(Value, frozen=True):
    """Who an invoice is made out to."""

    name: str | None = None
    tax_id: str | None = None
    email: str | None = None
    address: Address | None = None


class Consent(Value, frozen=True):
    """A purpose granted or withdrawn, by whom or what (`source`) and on which legal basis."""

    granted: Public[bool]
    source: Personal[str | None]  # free text: it may name the person
    legal_basis: Public[str]


class InvoiceLine(Value, frozen=True):
    """A charge or a refund of one payment (a refund's amount is negative)."""

    payment_id: str
    kind: Literal["charge", "refund"]
    description: str  # made of the payment and order ids
    amount: int
    currency: str
    at: str


class Invoice(Value, frozen=True):
    """An invoice with its tenant-wide number, in one currency."""

    number: Public[int]
    customer_id: Public[str]
    tenant_id: Public[str]
    issued_at: Public[str]
    currency: Public[str]
    lines: Public[list[InvoiceLine]]
    total: Public[int]
    billing: Personal[BillingDetails | ErasedValue | None]


class AttendeeResult(Value, frozen=True):
    """What processing an order did for one attendee."""

    customer_id: str
    created: bool
    first_time: bool
    matched_by: str | None


class LedgerEntry(Value, frozen=True):
    """One loyalty ledger entry as `GET /customers/{id}/loyalty` lists it (`points` signed).

    Its `reason` is free text a manager or the customer typed (or a fixed cause such as
    `payment.succeeded`): personal, sealed under the customer's key."""

    id: Public[str]
    kind: Public[str]
    points: Public[int]
    reason: Personal[str | None]
    ref: Public[str | None]
    at: Public[str]
    shortfall: Public[int] = 0


class Lot(Value, frozen=True):
    """What one earning (or positive adjustment) left: its unspent points and their expiry."""

    id: Public[str]
    points: Public[int]
    at: Public[str]
    expires_at: Public[str | None]


class MovedOrder(Value, frozen=True):
    """An order as a merge moves it (its snapshot travels apart, sealed: `MergeAbsorbed`)."""

    order_id: str
    placed_at: str
    status: OrderStatus
    first_time: bool
    closed_at: str | None = None


class MovedPayment(Value, frozen=True):
    """A payment as a merge moves it: its latest status, when it reached each status, and
    which kinds of invoice line invoice it."""

    latest: Payment
    dated: dict[str, str]
    invoiced_as: list[str]


class MovedConsent(Value, frozen=True):
    """A consent as a merge moves it (its free-text `source` travels apart, sealed)."""

    granted: bool
    legal_basis: str
    at: str
    by: str


class HeldTier(Value, frozen=True):
    """A loyalty tier as a customer holds it: its name and its threshold when reached."""

    name: str
    min_points: int


class MovedNote(Value, frozen=True):
    """A live note as a merge moves it (its text travels apart, sealed)."""

    note_id: str
    author: str
    at: str
