"""The eventsourcing `Mapper` that seals personal values of Customer events at rest.

Storing: the event's state is copied (copy-on-write) with each personal value replaced by
`{"$enc": ...}`, then handed to the library's own mapping (transcoder, compressor, cipher).
Reading: the library decodes the event, then sealed values are opened with the customer's
key, or become "[erased]" when that key was shredded. Values are serialised with the
application's transcoder, so UUIDs, datetimes and decimals keep their types.
"""

from __future__ import annotations

from json.encoder import encode_basestring
from typing import Any
from uuid import UUID

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.domain import DomainEventProtocol
from eventsourcing.persistence import (
    Cipher,
    Compressor,
    JSONTranscoder,
    Mapper,
    MapperDeserialisationError,
    StoredEvent,
    Transcoder,
)
from eventsourcing.utils import get_topic

from write_side.application.crypto.key_cache import DataKey
from write_side.application.crypto.key_store import WrappedKeyStore
from write_side.application.crypto.personal_paths import (
    LEDGER_PERSONAL_PATHS,
    Plan,
    apply_plan,
    compile_plan,
    plan_for_event,
)
from write_side.application.crypto.pii_cipher import ERASED, is_sealed, seal, unseal
from write_side.domain.customer import Customer
from write_side.domain.loyalty_ledger import LoyaltyLedger


class EncryptingMapper(Mapper[UUID]):
    """Seals the personal values of the key owner's events (the Customer aggregate's), and of
    its loyalty ledger's (their reasons: free text), under the same customer's key."""

    def __init__(
        self,
        transcoder: Transcoder,
        compressor: Compressor | None = None,
        cipher: Cipher | None = None,
        *,
        keys: WrappedKeyStore,
        owner_topic: str | None = None,
    ) -> None:
        super().__init__(transcoder, compressor, cipher)
        self.keys = keys
        self._prefix = (owner_topic or get_topic(Customer)) + "."
        self._ledger_prefix = get_topic(LoyaltyLedger) + "."
        self._plans: dict[str, Plan | None] = {}
        self._json = type(transcoder) is JSONTranscoder

    def plan(self, topic: str) -> Plan | None:
        """The personal paths of events with this topic; None for other aggregates' events."""
        try:
            return self._plans[topic]
        except KeyError:
            plan = None
            if topic.startswith(self._prefix):
                plan = plan_for_event(topic[len(self._prefix) :]) or None
            elif topic.startswith(self._ledger_prefix):
                plan = compile_plan(LEDGER_PERSONAL_PATHS)
            self._plans[topic] = plan
            return plan

    def to_stored_event(self, domain_event: DomainEventProtocol[UUID]) -> StoredEvent:
        """Seal personal values, then map as the library does."""
        cls = type(domain_event)
        plan = self.plan(get_topic(cls))
        if plan is None:
            return super().to_stored_event(domain_event)
        state = vars(domain_event)
        customer_id = _key_owner(state)
        first_event = state["originator_version"] == 1 and customer_id == state["originator_id"]
        cipher: tuple[AESGCM, bytes] | None = None

        def seal_value(value: Any) -> Any:
            nonlocal cipher
            if cipher is None:  # one key and cipher per event, not per value
                key = self.keys.key_for_write(customer_id, first_event=first_event)
                cipher = key.aead, key.aad
            return seal(*cipher, self._encode(value))

        try:
            sealed = apply_plan(state, plan, seal_value)
        except BaseException:
            self.keys.discard_staged()
            raise
        if sealed is state:
            return super().to_stored_event(domain_event)
        shadow = object.__new__(cls)
        object.__setattr__(shadow, "__dict__", sealed)
        return super().to_stored_event(shadow)

    def to_domain_event(self, stored_event: StoredEvent) -> DomainEventProtocol[UUID]:
        """Map as the library does, then open sealed values ("[erased]" once shredded)."""
        domain_event = super().to_domain_event(stored_event)
        plan = self.plan(stored_event.topic)
        if plan is None:
            return domain_event
        state = vars(domain_event)
        customer_id = _key_owner(state)
        looked_up = False
        key: DataKey | None = None

        def open_value(value: Any) -> Any:
            nonlocal looked_up, key
            if is_sealed(value):
                if not looked_up:
                    key, looked_up = self.keys.key_for_read(customer_id), True
                if key is None:
                    return ERASED
                try:
                    return self._decode(unseal(key.aead, key.aad, value))
                except InvalidTag as error:
                    raise MapperDeserialisationError(
                        f"a sealed value of {stored_event.topic} v{stored_event.originator_version}"
                        f" of {customer_id} does not decrypt (tampered, or a different key)"
                    ) from error
            if type(value) is dict:  # sealed under a finer-grained table than today's
                return {name: open_value(inner) for name, inner in value.items()}
            return value

        opened = apply_plan(state, plan, open_value)
        if opened is not state:
            object.__setattr__(domain_event, "__dict__", opened)
        return domain_event

    def _encode(self, value: Any) -> bytes:
        # The transcoder sets up its encoder on every call: for a string (most values) that
        # was most of sealing it. The same JSON as its `ensure_ascii=False` encoder writes.
        if self._json and type(value) is str:
            return encode_basestring(value).encode()
        return self.transcoder.encode(value)

    def _decode(self, plaintext: bytes) -> Any:
        # Most values are strings: JSON without a backslash has no escapes to undo.
        if self._json and plaintext[:1] == b'"' and b"\\" not in plaintext:
            return plaintext[1:-1].decode()
        return self.transcoder.decode(plaintext)


def _key_owner(state: dict[str, Any]) -> UUID:
    """Whose key seals the event: the customer's own, or the one its ledger names."""
    owner = state.get("customer_id")
    if owner is None:
        found: UUID = state["originator_id"]
        return found
    return owner if isinstance(owner, UUID) else UUID(str(owner))
