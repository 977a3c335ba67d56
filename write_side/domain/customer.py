"""The Customer aggregate: every change is an immutable event that names tenant and actor."""

from __future__ import annotations

from typing import Any

from eventsourcing.domain import Aggregate, event

from shared.clock import iso_utc
from shared.errors import Conflict, FieldError, PreconditionFailed, ValidationFailed
from write_side.domain.profile import (
    CustomerState,
    CustomerType,
    Profile,
    check_type_rules,
    empty_profile,
)


class Customer(Aggregate):
    """A tenant's customer. Invariants are checked in `check_*` methods before events fire."""

    @classmethod
    def register(
        cls, *, tenant_id: str, actor: str, customer_type: CustomerType, profile: Profile
    ) -> Customer:
        """Create a customer after checking the per-type rules on its profile."""
        full = empty_profile() | profile
        check_type_rules(full, customer_type).raise_if_any()
        return cls(
            tenant_id=tenant_id, actor=actor, customer_type=customer_type.value, profile=full
        )

    @event("Created")
    def __init__(self, tenant_id: str, actor: str, customer_type: str, profile: Profile) -> None:
        self.tenant_id = tenant_id
        self.customer_type = customer_type
        self.profile: Profile = dict(profile)
        self.state = CustomerState.ACTIVE.value
        self.deleted_at: str | None = None
        self.state_history: list[dict[str, Any]] = []
        self._record_state(CustomerState.ACTIVE, actor, None)

    # -- commands ---------------------------------------------------------------------------

    def update(self, *, actor: str, changes: Profile, customer_type: CustomerType | None) -> None:
        """Apply a partial update: only fields that differ produce an event."""
        self.check_mutable()
        effective = {k: v for k, v in changes.items() if self.profile.get(k) != v}
        new_type = CustomerType(customer_type or self.customer_type)
        check_type_rules(self.profile | effective, new_type).raise_if_any()
        if new_type.value != self.customer_type:
            self._type_changed(
                tenant_id=self.tenant_id,
                actor=actor,
                previous=self.customer_type,
                to=new_type.value,
            )
        if effective:
            self._profile_changed(tenant_id=self.tenant_id, actor=actor, changes=effective)

    def delete(self, *, actor: str, reason: str | None) -> None:
        """Soft-delete: the customer stays readable but leaves lists and frees its email."""
        self.check_mutable()
        self._deleted(tenant_id=self.tenant_id, actor=actor, reason=reason)

    def restore(self, *, actor: str, reason: str | None) -> None:
        """Bring a soft-deleted customer back to `active`."""
        if self.state != CustomerState.DELETED.value:
            raise Conflict(
                f"Only a deleted customer can be restored; this one is {self.state}.",
                extra={"state": self.state},
            )
        self._restored(tenant_id=self.tenant_id, actor=actor, reason=reason)

    # -- invariants -------------------------------------------------------------------------

    def check_mutable(self) -> None:
        """Deleted and erased customers refuse changes (409)."""
        if self.state != CustomerState.ACTIVE.value:
            raise Conflict(
                f"The customer is {self.state}; restore it before changing it.",
                extra={"state": self.state},
            )

    def check_version(self, expected: int | None) -> None:
        """`If-Match` support: refuse when the caller saw another version."""
        if expected is not None and expected != self.version:
            raise PreconditionFailed(
                f"The customer is at version {self.version}, not {expected}.",
                extra={"currentVersion": self.version},
            )

    @property
    def email(self) -> str | None:
        """The current normalised email, if any."""
        value = self.profile.get("email")
        return value if isinstance(value, str) else None

    # -- events -----------------------------------------------------------------------------

    @event("ProfileChanged")
    def _profile_changed(self, tenant_id: str, actor: str, changes: Profile) -> None:
        self.profile.update(changes)

    @event("TypeChanged")
    def _type_changed(self, tenant_id: str, actor: str, previous: str, to: str) -> None:
        self.customer_type = to

    @event("Deleted")
    def _deleted(self, tenant_id: str, actor: str, reason: str | None) -> None:
        self.state = CustomerState.DELETED.value
        self.deleted_at = iso_utc(self.modified_on)
        self._record_state(CustomerState.DELETED, actor, reason)

    @event("Restored")
    def _restored(self, tenant_id: str, actor: str, reason: str | None) -> None:
        self.state = CustomerState.ACTIVE.value
        self.deleted_at = None
        self._record_state(CustomerState.ACTIVE, actor, reason)

    def _record_state(self, state: CustomerState, actor: str, reason: str | None) -> None:
        self.state_history.append(
            {"state": state.value, "at": iso_utc(self.modified_on), "by": actor, "reason": reason}
        )


def assert_valid_type(value: str) -> CustomerType:
    """Parse a customer type, refusing unknown names with a field error."""
    try:
        return CustomerType(value)
    except ValueError as error:
        allowed = ", ".join(t.value for t in CustomerType)
        raise ValidationFailed(
            "Unknown customer type.",
            errors=[FieldError("type", f"must be one of {allowed}")],
        ) from error
