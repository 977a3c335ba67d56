"""Verification of the tamper-evident log (pure: the stores hand it rows in position order).

It names the first event that was modified, deleted, reordered or inserted in the store by
hand, and checks each checkpoint's signature and the log digest it seals. A forger who rewrites
events and recomputes every hash after them is caught by the first checkpoint after his edit;
only events after the newest checkpoint (at most N events or T seconds old) rest on the hashes
alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import NamedTuple
from uuid import UUID

from write_side.application.audit_chain import (
    GENESIS,
    ChainRow,
    Checkpoint,
    hash_of_stored,
    log_link,
    topic_prefix,
)


class StoredRow(NamedTuple):
    """One stored event as the verifier reads it (a tuple: one is built per stored event).

    `id_bytes` is the id's 16 bytes when the store has them at hand (`UUID.bytes` is a Python
    property, a noticeable cost at 50,000 events/s); empty, they are taken from the UUID.
    """

    position: int
    originator_id: UUID
    version: int
    topic: str
    state: bytes
    id_bytes: bytes = b""


@dataclass(frozen=True)
class Finding:
    """The first thing found wrong: `kind` is modified, deleted, reordered, inserted or unsealed."""

    kind: str
    position: int
    customer_id: str | None
    version: int | None
    detail: str

    def describe(self) -> str:
        """One line for the CLI and logs (ids and positions only, no personal value)."""
        who = f" (aggregate {self.customer_id} v{self.version})" if self.customer_id else ""
        return f"event at position {self.position}{who} was {self.kind}: {self.detail}"


@dataclass
class Report:
    """What verification found; `ok` when nothing was."""

    events: int = 0
    checkpoints: int = 0
    finding: Finding | None = None
    #: each aggregate's last verified (version, hash), by the id's 16 bytes
    last_hash: dict[bytes, tuple[int, bytes]] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.finding is None


Joined = tuple[int, StoredRow | None, ChainRow | None]
Progress = Callable[[int], None]
Flat = tuple[
    int, bytes | None, int | None, str | None, bytes | None, bytes | None, int | None,
    bytes | None, bytes | None,
]  # fmt: skip
"""One position of the log as the stores read it, no object built: (position, event id's 16
bytes, version, topic, stored state, chain row's id bytes, its version, hash, log hash), with
None for a side that is missing (an event without chain row, or a chain row without event)."""

PROGRESS_EVERY = 10_000


class Verifier:
    """Walks the log's rows in position order; stops at the first finding.

    `whole_log` also checks the running log digest and the checkpoints (the whole global log
    in order); a single aggregate's rows are checked for its own chain only.

    `feed` checks flat rows in one tight loop (two sha256 and a few comparisons per event:
    `customers audit verify` must reach 50,000 events/s); any row that is not plainly right —
    a missing side, ids that differ, a version out of turn, a hash or digest that does not
    match, a checkpoint's position — goes through the precise checks that name the finding.
    """

    def __init__(self, key: bytes, checkpoints: Sequence[Checkpoint], *, whole_log: bool) -> None:
        self._key = key
        self._checkpoints = sorted(checkpoints, key=lambda c: c.position)
        self._next_seal = 0
        self._whole = whole_log
        self._log = GENESIS
        self.report = Report()

    def feed(self, rows: Iterable[Flat], progress: Progress | None = None) -> Report:
        """Check rows until the first finding; returns the report so far."""
        report, whole, last_hash = self.report, self._whole, self.report.last_hash
        topics: dict[str, bytes] = {}
        sha256, log, seal_at = hashlib.sha256, self._log, self._seal_position()
        for row in rows:
            position, oid, version, topic, state, c_oid, c_version, c_hash, c_log = row
            plain = False
            if (
                oid is not None
                and version is not None
                and topic is not None
                and state is not None
                and oid == c_oid
                and version == c_version
                and position < seal_at
            ):
                last = last_hash.get(oid)
                if version == (1 if last is None else last[0] + 1):
                    prefix = topics.get(topic) or topics.setdefault(topic, topic_prefix(topic))
                    previous = GENESIS if last is None else last[1]
                    joined = b"".join((previous, oid, version.to_bytes(8, "big"), prefix, state))
                    digest = sha256(joined).digest()
                    if digest == c_hash and whole:
                        linked = sha256(b"".join((log, position.to_bytes(8, "big"), digest)))
                        plain = (link := linked.digest()) == c_log
                        log = link if plain else log
                    else:
                        plain = digest == c_hash
                    if plain:
                        last_hash[oid] = (version, digest)
            if not plain:
                self._log = log
                finding = self._check(position, *_objects(row))
                if finding is not None:
                    report.finding = finding
                    return report
                log, seal_at = self._log, self._seal_position()
            report.events += 1
            if progress is not None and report.events % PROGRESS_EVERY == 0:
                progress(report.events)
        self._log = log
        return report

    def _seal_position(self) -> int:
        """Where the next checkpoint is (rows from there on take the precise path)."""
        if not self._whole or self._next_seal >= len(self._checkpoints):
            return 1 << 62
        return self._checkpoints[self._next_seal].position

    def finish(self) -> Report:
        """After the last row: a checkpoint beyond the log means its tail was deleted."""
        report = self.report
        if report.ok and self._whole and self._next_seal < len(self._checkpoints):
            seal = self._checkpoints[self._next_seal]
            report.finding = Finding(
                "deleted", seal.position, None, None, "the log ends before a signed checkpoint"
            )
        return report

    def _check(
        self, position: int, stored: StoredRow | None, chain: ChainRow | None
    ) -> Finding | None:
        if self._whole:
            finding = self._seals_before(position)
            if finding is not None:
                return finding
        if stored is None:
            assert chain is not None
            return _found("deleted", chain, "the stored event is missing; its chain entry remains")
        if chain is None:
            return _found("inserted", stored, "it has no chain entry")
        if (chain.originator_id, chain.version) != (stored.originator_id, stored.version):
            detail = f"the chain has aggregate {chain.originator_id} v{chain.version} here"
            return _found("reordered", stored, detail)
        finding = self._check_aggregate(stored, chain)
        if finding is None and self._whole:
            finding = self._check_log(position, stored, chain)
        return finding

    def _check_aggregate(self, stored: StoredRow, chain: ChainRow) -> Finding | None:
        key = stored.id_bytes or stored.originator_id.bytes
        last = self.report.last_hash.get(key)
        expected = 1 if last is None else last[0] + 1
        if stored.version > expected:
            return _found("deleted", stored, f"version {expected} of this aggregate is missing")
        if stored.version < expected:
            return _found("reordered", stored, f"it comes after version {expected - 1}")
        previous = GENESIS if last is None else last[1]
        digest = hash_of_stored(previous, key, stored.version, stored.topic, stored.state)
        if digest != chain.hash:
            return _found("modified", stored, "its content no longer matches its hash")
        self.report.last_hash[key] = (stored.version, digest)
        return None

    def _check_log(self, position: int, stored: StoredRow, chain: ChainRow) -> Finding | None:
        self._log = log_link(self._log, position, chain.hash)
        if self._log != chain.log_hash:
            return _found(
                "deleted", stored, "the log digest breaks here: an event before it is gone"
            )
        if self._next_seal < len(self._checkpoints):
            seal = self._checkpoints[self._next_seal]
            if seal.position == position:
                self._next_seal += 1
                self.report.checkpoints += 1
                if not seal.valid_under(self._key) or seal.log_hash != self._log:
                    return _found("modified", stored, "the signed checkpoint here does not match")
        return None

    def _seals_before(self, position: int) -> Finding | None:
        if self._next_seal < len(self._checkpoints):
            seal = self._checkpoints[self._next_seal]
            if seal.position < position:
                return Finding(
                    "deleted", seal.position, None, None, "a signed checkpoint's event is gone"
                )
        return None


def _found(kind: str, row: StoredRow | ChainRow, detail: str) -> Finding:
    return Finding(kind, row.position, str(row.originator_id), row.version, detail)


def _objects(row: Flat) -> tuple[StoredRow | None, ChainRow | None]:
    """The precise checks' view of a flat row (built only for rows off the plain path)."""
    position, oid, version, topic, state, c_oid, c_version, c_hash, c_log = row
    stored = chain = None
    if oid is not None:
        assert version is not None
        assert topic is not None
        assert state is not None
        stored = StoredRow(position, UUID(bytes=oid), version, topic, state, oid)
    if c_oid is not None:
        assert c_version is not None
        assert c_hash is not None
        assert c_log is not None
        chain = ChainRow(position, UUID(bytes=c_oid), c_version, c_hash, c_log)
    return stored, chain
