"""A batch's keys stay at hand on its thread however small the shared key LRU is (it was
65,536 keys, ~29 MB, and is now a few thousand), and a shred seen in the block still wins."""

from __future__ import annotations

import uuid

import pytest

from tests.unit.test_pii_cipher import MemoryKeyStore
from write_side.application.crypto.key_store import KeyShredded


def _stored(store: MemoryKeyStore, count: int) -> list[uuid.UUID]:
    ids = [uuid.uuid4() for _ in range(count)]
    for customer_id in ids:
        store.get_or_create(customer_id)
    store.forget_all()
    store.selects = 0
    return ids


def test_a_batch_larger_than_the_cache_reads_no_key_twice() -> None:
    store = MemoryKeyStore("secret")  # an LRU of 4 keys
    ids = _stored(store, 20)
    with store.batch(ids):
        assert store.selects == 20  # the prefetch: one look-up each (this store has no IN)
        keys = [store.key_for_read(customer_id) for customer_id in ids]
        assert store.selects == 20
    assert all(key is not None for key in keys)
    assert [key.customer_id for key in keys if key is not None] == ids
    store.key_for_read(ids[0])  # evicted from the LRU: read again after the block
    assert store.selects == 21


def test_a_shred_on_the_batch_thread_wins_over_its_held_key() -> None:
    store = MemoryKeyStore("secret")
    ids = _stored(store, 3)
    with store.batch(ids):
        store.shred(ids[1])
        assert store.key_for_read(ids[1]) is None
        with pytest.raises(KeyShredded):
            store.get_or_create(ids[1])
        assert store.key_for_read(ids[0]) is not None


def test_nested_batches_give_the_outer_block_its_keys_back() -> None:
    store = MemoryKeyStore("secret")
    ids = _stored(store, 10)
    with store.batch(ids[:8]):
        with store.batch(ids[8:]):
            assert store.key_for_read(ids[9]) is not None
        selects = store.selects
        assert all(store.key_for_read(customer_id) for customer_id in ids[:8])
        assert store.selects == selects
