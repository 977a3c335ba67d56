"""The PII cipher: sealed values round-trip, are bound to their customer, and read as
"[erased]" once the customer's key is shredded."""

from __future__ import annotations

import base64
import dataclasses
import uuid
from collections.abc import Sequence
from typing import Any

import msgspec
import pytest
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from eventsourcing.persistence import (
    DatetimeAsISO,
    DecimalAsStr,
    JSONTranscoder,
    MapperDeserialisationError,
    StoredEvent,
    UUIDAsHex,
)

from write_side.application.crypto.key_cache import KeyCache
from write_side.application.crypto.key_ring import KeyRing
from write_side.application.crypto.key_store import (
    KeyShredded,
    MasterKeyMismatch,
    StoredRow,
    WrappedKeyStore,
)
from write_side.application.crypto.mapper import EncryptingMapper
from write_side.application.crypto.personal_paths import apply_plan, compile_plan
from write_side.application.crypto.pii_cipher import (
    ERASED,
    customer_aad,
    derive_wrapping_key,
    is_sealed,
    new_data_key,
    seal,
    unseal,
    unwrap_key,
    wrap_key,
)
from write_side.domain.billing import normalize_billing
from write_side.domain.claims import EmailClaim
from write_side.domain.customer import Customer
from write_side.domain.profile import CustomerType


class MemoryKeyStore(WrappedKeyStore):
    """The shared wrapping/caching logic over a dict (the SQL adapters are tested elsewhere)."""

    def __init__(self, master_secret: str) -> None:
        super().__init__(KeyRing.of(master_secret), KeyCache(max_entries=4))
        self.rows: dict[uuid.UUID, StoredRow] = {}
        self.selects = 0

    def _select(self, customer_id: uuid.UUID) -> StoredRow | None:
        self.selects += 1
        return self.rows.get(customer_id)

    def _insert_if_absent(self, customer_id: uuid.UUID, wrapped: bytes) -> None:
        self.rows.setdefault(customer_id, (wrapped, self.kek_id))

    def _tombstone(self, customer_id: uuid.UUID) -> None:
        self.rows[customer_id] = (None, self.kek_id)

    def save(self, mapper: EncryptingMapper, events: Sequence[Any]) -> list[StoredEvent]:
        """What `EventStore.put` plus the keyed recorder do: map, then write staged keys."""
        stored = [mapper.to_stored_event(e) for e in events]
        staged = self.take_staged()
        for item in staged:
            self.rows[item.key.customer_id] = (item.wrapped, self.kek_id)
        self.committed(staged)
        return stored


def _transcoder() -> JSONTranscoder:
    transcoder = JSONTranscoder()
    for transcoding in (UUIDAsHex(), DecimalAsStr(), DatetimeAsISO()):
        transcoder.register(transcoding)
    return transcoder


@pytest.fixture
def store() -> MemoryKeyStore:
    return MemoryKeyStore("test master secret")


@pytest.fixture
def mapper(store: MemoryKeyStore) -> EncryptingMapper:
    return EncryptingMapper(_transcoder(), keys=store)


def _customer(**profile: Any) -> Customer:
    return Customer.register(
        tenant_id="acme", actor="alice", customer_type=CustomerType.NEW, profile=profile
    )


def test_seal_round_trip_and_ciphertext_hides_the_value() -> None:
    customer_id = uuid.uuid4()
    aead, aad = AESGCM(new_data_key()), customer_aad(customer_id)
    sealed = seal(aead, aad, b'"Zebediah"')
    assert is_sealed(sealed)
    assert b"Zebediah" not in base64.b64decode(sealed["$enc"])
    assert unseal(aead, aad, sealed) == b'"Zebediah"'
    assert seal(aead, aad, b'"Zebediah"') != sealed  # a fresh nonce every time


def test_another_customer_id_as_aad_does_not_decrypt() -> None:
    aead = AESGCM(new_data_key())
    sealed = seal(aead, customer_aad(uuid.uuid4()), b'"Zebediah"')
    with pytest.raises(InvalidTag):
        unseal(aead, customer_aad(uuid.uuid4()), sealed)


def test_a_wrapped_key_unwraps_only_for_its_customer_and_master_key() -> None:
    customer_id, data_key = uuid.uuid4(), new_data_key()
    wrapper = AESGCM(derive_wrapping_key("secret"))
    wrapped = wrap_key(wrapper, customer_id, data_key)
    assert data_key not in wrapped
    assert unwrap_key(wrapper, customer_id, wrapped) == data_key
    with pytest.raises(InvalidTag):
        unwrap_key(wrapper, uuid.uuid4(), wrapped)
    with pytest.raises(InvalidTag):
        unwrap_key(AESGCM(derive_wrapping_key("other")), customer_id, wrapped)


def test_master_key_forms() -> None:
    raw = bytes(range(32))
    standard = base64.b64encode(raw).decode()
    urlsafe = base64.urlsafe_b64encode(raw).decode().rstrip("=")
    assert derive_wrapping_key(standard) == derive_wrapping_key(urlsafe)
    assert derive_wrapping_key(standard) != raw  # HKDF separates it from other uses
    assert len(derive_wrapping_key("any passphrase")) == 32
    with pytest.raises(ValueError, match="empty"):
        derive_wrapping_key("")


def test_plan_copies_on_write_and_skips_nulls() -> None:
    plan = compile_plan(["profile.firstName", "profile.phone", "billing", "billing.name"])
    assert plan == {"billing": None, "profile": {"firstName": None, "phone": None}}
    state: dict[str, Any] = {"profile": {"firstName": "Zeb", "phone": None, "tags": ["x"]}}
    result = apply_plan(state, plan, lambda value: f"<{value}>")
    assert result == {"profile": {"firstName": "<Zeb>", "phone": None, "tags": ["x"]}}
    assert state["profile"]["firstName"] == "Zeb"  # the input is untouched
    assert apply_plan({"type": "new"}, plan, lambda value: 1 / 0) == {"type": "new"}


def test_mapper_round_trip(store: MemoryKeyStore, mapper: EncryptingMapper) -> None:
    customer = _customer(firstName="Zebediah", email="zeb.unique@example.com", tags=["vip"])
    notes = 'allergic to kiwi, "quoted" \\ ünïcödé\n'
    customer.update(actor="alice", changes={"notes": notes}, customer_type=None)
    events: Any = customer.collect_events()
    stored = store.save(mapper, events)
    for text in (b"Zebediah", b"zeb.unique", b"kiwi", b"vip"):  # tags are free text too
        assert all(text not in s.state for s in stored)
    assert b'"new"' in stored[0].state
    assert events[0].profile["firstName"] == "Zebediah"  # the domain event is not modified
    decoded: list[Any] = [mapper.to_domain_event(s) for s in stored]
    assert decoded[0].profile["email"] == "zeb.unique@example.com"
    assert decoded[0].profile["tags"] == ["vip"]
    assert decoded[1].changes == {"notes": notes}
    assert store.selects == 0  # the new customer's key was staged, then cached: no lookups


def test_shredded_key_reads_as_erased(store: MemoryKeyStore, mapper: EncryptingMapper) -> None:
    zeb, ann = _customer(firstName="Zebediah", phone="+14155550123"), _customer(firstName="Ann")
    stored = store.save(mapper, [*zeb.collect_events(), *ann.collect_events()])
    store.shred(zeb.id)
    erased: Any = mapper.to_domain_event(stored[0])
    assert erased.profile["firstName"] == ERASED
    assert erased.profile["phone"] == ERASED
    assert erased.profile["lastName"] is None and erased.customer_type == "new"
    assert store.get(zeb.id) is None
    with pytest.raises(KeyShredded):
        store.get_or_create(zeb.id)
    other: Any = mapper.to_domain_event(stored[1])
    assert other.profile["firstName"] == "Ann"


def test_nested_object_reads_as_erased(store: MemoryKeyStore, mapper: EncryptingMapper) -> None:
    customer = _customer(firstName="Zebediah")
    details = normalize_billing({"name": "Zeb Ltd", "address": {"city": "Oslo"}})
    customer.set_billing(actor="alice", billing=details)
    stored = store.save(mapper, customer.collect_events())
    assert b"Oslo" not in stored[1].state
    billing: Any = mapper.to_domain_event(stored[1])
    assert billing.billing == msgspec.to_builtins(details)
    store.shred(customer.id)
    billing = mapper.to_domain_event(stored[1])
    assert billing.billing == ERASED


def test_other_aggregates_pass_through(store: MemoryKeyStore, mapper: EncryptingMapper) -> None:
    claim = EmailClaim(claim_id=uuid.uuid4(), owner_id=uuid.uuid4())
    stored = store.save(mapper, claim.collect_events())
    assert b"$enc" not in stored[0].state
    assert store.rows == {}


def test_a_key_wrapped_by_another_master_key_is_refused_not_erased(
    store: MemoryKeyStore, mapper: EncryptingMapper
) -> None:
    customer = _customer(firstName="Zebediah")
    stored = store.save(mapper, customer.collect_events())
    other = MemoryKeyStore("another master secret")
    other.rows = store.rows
    with pytest.raises(MasterKeyMismatch):
        EncryptingMapper(_transcoder(), keys=other).to_domain_event(stored[0])


def test_a_tampered_value_fails_loudly(store: MemoryKeyStore, mapper: EncryptingMapper) -> None:
    stored = store.save(mapper, _customer(firstName="Zebediah").collect_events())
    token = stored[0].state.split(b'"$enc":"')[1][:24]
    flipped = token[:20] + (b"A" if token[20:21] != b"A" else b"B") + token[21:]
    tampered = dataclasses.replace(stored[0], state=stored[0].state.replace(token, flipped))
    with pytest.raises(MapperDeserialisationError, match="does not decrypt"):
        mapper.to_domain_event(tampered)
