"""The tamper-evident log: hashes chaining each stored event, and signed checkpoints.

Each stored event gets `hash = sha256(previous hash of the same aggregate ‖ id ‖ version ‖
topic ‖ stored state)` — over the stored form, whose personal values are sealed, so shredding a
customer's key never changes a hash — and `log_hash = sha256(previous log_hash ‖ position ‖
hash)`, a running digest of the whole global log. Anyone can recompute sha256, so a careful
forger could rewrite both; the checkpoint is what he cannot forge: an HMAC, under a key that is
not the data key (`CUSTOMERS_AUDIT_KEY`), of the log_hash at a position, written every N events
or T seconds. The hashes are computed once per group-commit batch inside the store's write
transaction (the aggregates' previous hashes and the log head are read once per batch, never
once per command).
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import NamedTuple
from uuid import UUID

from eventsourcing.persistence import StoredEvent

GENESIS = bytes(32)


def event_hash(
    previous: bytes, originator_id: UUID, version: int, topic: str, state: bytes
) -> bytes:
    """The hash of one stored event, chained to its aggregate's previous event."""
    return hash_of_stored(previous, originator_id.bytes, version, topic, state)


def hash_of_stored(
    previous: bytes, id_bytes: bytes, version: int, topic: str, state: bytes
) -> bytes:
    """`event_hash` with the id as its 16 bytes (the verifier's loop has them at hand)."""
    return hashlib.sha256(
        b"".join((previous, id_bytes, version.to_bytes(8, "big"), _topic(topic), state))
    ).digest()


@functools.lru_cache(maxsize=256)
def _topic(topic: str) -> bytes:
    """`topic_prefix`, cached (a handful of topics)."""
    return topic_prefix(topic)


def topic_prefix(topic: str) -> bytes:
    """The topic as hashed: its length, then its UTF-8."""
    encoded = topic.encode()
    return len(encoded).to_bytes(4, "big") + encoded


def log_link(previous: bytes, position: int, hash_: bytes) -> bytes:
    """The running digest of the global log after the event at `position`."""
    return hashlib.sha256(previous + position.to_bytes(8, "big") + hash_).digest()


class ChainRow(NamedTuple):
    """What the store keeps beside one stored event (same transaction); a tuple, since
    verification builds one per stored event."""

    position: int
    originator_id: UUID
    version: int
    hash: bytes
    log_hash: bytes


@dataclass(frozen=True)
class Checkpoint:
    """A signed seal of the global log up to `position`."""

    position: int
    log_hash: bytes
    at: str
    signature: bytes

    def message(self) -> bytes:
        """The bytes the signature covers."""
        return b"customers-log-checkpoint|%d|%s|%s" % (
            self.position,
            self.log_hash.hex().encode(),
            self.at.encode(),
        )

    def valid_under(self, key: bytes) -> bool:
        """True when the signature is this checkpoint's under `key`."""
        expected = hmac.new(key, self.message(), hashlib.sha256).digest()
        return hmac.compare_digest(expected, self.signature)


def sign_checkpoint(
    key: bytes, position: int, log_hash: bytes, at: str | None = None
) -> Checkpoint:
    """A checkpoint of the log at `position`, signed with the audit key."""
    moment = at or datetime.now(UTC).isoformat(timespec="microseconds")
    unsigned = Checkpoint(position, log_hash, moment, b"")
    signature = hmac.new(key, unsigned.message(), hashlib.sha256).digest()
    return Checkpoint(position, log_hash, moment, signature)


Head = tuple[int, bytes]  # (position, log_hash) of the last chained event


def chain_rows(
    stored_events: Sequence[StoredEvent],
    positions: Sequence[int],
    previous: dict[UUID, bytes],
    head: Head | None,
) -> list[ChainRow]:
    """Chain rows for a batch, in position order; `previous` holds each aggregate's last hash.

    An aggregate whose first event of the batch has version 1 starts from GENESIS; `previous`
    is updated in place as the batch goes on.
    """
    log = head[1] if head else GENESIS
    rows = []
    for position, stored in sorted(zip(positions, stored_events, strict=True), key=_first):
        oid = _uuid(stored.originator_id)
        version = int(stored.originator_version)
        before = GENESIS if version == 1 else previous.get(oid, GENESIS)
        digest = event_hash(before, oid, version, stored.topic, stored.state)
        log = log_link(log, position, digest)
        previous[oid] = digest
        rows.append(ChainRow(position, oid, version, digest, log))
    return rows


def _uuid(value: object) -> UUID:
    """The recorder's ids are UUIDs already; parsing them again cost microseconds per event."""
    return value if isinstance(value, UUID) else UUID(str(value))


def _first(pair: tuple[int, StoredEvent]) -> int:
    return pair[0]


def continuing(stored_events: Sequence[StoredEvent]) -> list[UUID]:
    """Aggregates of the batch that already have events (their first version here is > 1)."""
    firsts: dict[UUID, int] = {}
    for stored in stored_events:
        oid = _uuid(stored.originator_id)
        firsts[oid] = min(firsts.get(oid, stored.originator_version), stored.originator_version)
    return [oid for oid, version in firsts.items() if version > 1]


class Sealer:
    """Decides when to write a checkpoint: every `every_events` events or `every_seconds`."""

    def __init__(
        self,
        key: bytes,
        *,
        every_events: int = 1000,
        every_seconds: float = 60.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.key = key
        self.every_events = every_events
        self.every_seconds = every_seconds
        self._clock = clock
        self._sealed_position: int | None = None
        self._sealed_at = clock()

    def known(self) -> bool:
        """True once the last stored checkpoint's position is known."""
        return self._sealed_position is not None

    def remember(self, position: int) -> None:
        """Note the position of the last stored checkpoint (0: none yet)."""
        self._sealed_position = position

    def due(self, rows: Sequence[ChainRow], *, force: bool = False) -> Checkpoint | None:
        """A checkpoint of the batch's last row when N events or T seconds have passed."""
        if not rows:
            return None
        return self.due_at(rows[-1].position, rows[-1].log_hash, force=force)

    def due_at(self, position: int, log_hash: bytes, *, force: bool = False) -> Checkpoint | None:
        """A checkpoint of the log at `position` (the last chained event) when one is due."""
        since = self._sealed_position or 0
        elapsed = self._clock() - self._sealed_at
        if not force and position - since < self.every_events and elapsed < self.every_seconds:
            return None
        self._sealed_position, self._sealed_at = position, self._clock()
        return sign_checkpoint(self.key, position, log_hash)
