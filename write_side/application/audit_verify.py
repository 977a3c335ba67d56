"""Verification of the tamper-evident log (pure: the stores hand it rows in position order).

It names the first event that was modified, deleted, reordered or inserted in the store by
hand, and checks each checkpoint's signature and the log digest it seals. A forger who rewrites
events and recomputes every hash after them is caught by the first checkpoint after his edit;
only events after the newest checkpoint (at most N events or T seconds old) rest on the hashes
alone.
"""

from __future__ import annotations

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


class Verifier:
    """Walks joined (position, stored event, chain row) tuples; stops at the first finding.

    `whole_log` also checks the running log digest and the checkpoints (the whole global log
    in order); a single aggregate's rows are checked for its own chain only.
    """

    def __init__(self, key: bytes, checkpoints: Sequence[Checkpoint], *, whole_log: bool) -> None:
        self._key = key
        self._checkpoints = sorted(checkpoints, key=lambda c: c.position)
        self._next_seal = 0
        self._whole = whole_log
        self._log = GENESIS
        self.report = Report()

    def feed(self, rows: Iterable[Joined], progress: Progress | None = None) -> Report:
        """Check rows until the first finding; returns the report so far."""
        report = self.report
        for position, stored, chain in rows:
            finding = self._check(position, stored, chain)
            if finding is not None:
                report.finding = finding
                return report
            report.events += 1
            if progress is not None and report.events % 10_000 == 0:
                progress(report.events)
        return report

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
