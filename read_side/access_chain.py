"""The access log's chain: each tenant's entries are numbered 1, 2, 3… and each carries
`hash = HMAC-SHA256(audit key, previous hash ‖ tenant ‖ seq ‖ canonical entry)`.

The event log chains with plain sha256 and seals the running digest with an HMAC checkpoint
every N events; here every link is itself keyed (one HMAC per entry costs microseconds, and an
access entry is written once per read anyway), so every entry is a signed checkpoint of its
tenant's log up to it: whoever edits, inserts, deletes or reorders entries by hand without the
audit key breaks the chain at that entry. Only the removal of a tenant's newest entries cannot
be seen from the log alone, as with the events after the event log's newest checkpoint.
Pure: the stores hand rows in (tenant, seq) order and get back the first thing found wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from shared.json_types import JSONObject

AccessRecord = JSONObject
GENESIS = bytes(32)
CHAIN_FIELDS = ("seq", "hash")
Head = tuple[int, bytes]  # (seq, hash) of a tenant's newest entry


def canonical(entry: AccessRecord) -> bytes:
    """The entry's bytes under the hash: sorted keys, no chain fields, UTF-8."""
    body = {key: value for key, value in entry.items() if key not in CHAIN_FIELDS}
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def link(key: bytes, previous: bytes, tenant: str, seq: int, entry: AccessRecord) -> bytes:
    """The keyed hash of entry number `seq` of `tenant`, chained to the entry before it."""
    mac = hmac.new(key, previous, hashlib.sha256)
    encoded = tenant.encode()
    mac.update(len(encoded).to_bytes(4, "big") + encoded + seq.to_bytes(8, "big"))
    mac.update(canonical(entry))
    return mac.digest()


def chained(
    key: bytes, tenant: str, head: Head | None, entries: Sequence[AccessRecord]
) -> list[AccessRecord]:
    """`entries` numbered and hashed after `head` (None: the tenant's log is empty)."""
    seq, previous = head or (0, GENESIS)
    rows = []
    for entry in entries:
        seq += 1
        previous = link(key, previous, tenant, seq, entry)
        rows.append(entry | {"seq": seq, "hash": previous.hex()})
    return rows


@dataclass(frozen=True)
class AccessFinding:
    """The first entry found wrong: `kind` is modified, deleted or reordered (ids only)."""

    kind: str
    tenant: str
    seq: int
    detail: str

    def describe(self) -> str:
        """One line for an auditor (no personal value: tenant, number, reason)."""
        return f"access entry {self.seq} of tenant {self.tenant} was {self.kind}: {self.detail}"

    def as_dict(self) -> JSONObject:
        """JSON shape."""
        return {"kind": self.kind, "tenantId": self.tenant, "seq": self.seq, "detail": self.detail}


@dataclass
class AccessReport:
    """What verification found; `ok` when nothing was."""

    entries: int = 0
    tenants: int = 0
    finding: AccessFinding | None = None

    @property
    def ok(self) -> bool:
        return self.finding is None

    def as_dict(self) -> JSONObject:
        """JSON shape of `GET /audit/access/verify`."""
        finding = self.finding.as_dict() if self.finding else None
        return {"ok": self.ok, "entries": self.entries, "finding": finding}


INDEXED = "_indexed"  # optional: the customer ids a store's lookup index files the entry under


class ChainVerifier:
    """Checks stored entries fed in (tenantId, seq) order; stops at the first finding.

    A gap in the numbers is a deletion, a number met twice or going back is a reordering (or
    an insertion), and a hash that does not follow from the entry and the one before it is a
    modification: an entry whose content, number, tenant or predecessor changed. A row that
    carries `_indexed` must be filed under exactly the customers it names (else an entry
    could be hidden from `/audit/access` without touching the chain).
    """

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._tenant: str | None = None
        self._seq, self._previous = 0, GENESIS
        self.report = AccessReport()

    def feed(self, row: AccessRecord) -> bool:
        """Check one row; False once something was found (stop feeding)."""
        tenant = str(row.get("tenantId"))
        if tenant != self._tenant:
            self._tenant, self._seq, self._previous = tenant, 0, GENESIS
            self.report.tenants += 1
        number = int(row.get("seq") or 0)
        if number > self._seq + 1:
            return self._found("deleted", tenant, number, f"entry {self._seq + 1} is missing")
        if number <= self._seq:
            return self._found("reordered", tenant, number, "its number repeats")
        indexed = row.pop(INDEXED, None)
        expected = link(self._key, self._previous, tenant, number, row)
        if not hmac.compare_digest(expected.hex(), str(row.get("hash"))):
            return self._found("modified", tenant, number, "its content no longer matches its hash")
        if indexed is not None and sorted(indexed) != sorted(map(str, customer_ids(row))):
            return self._found("modified", tenant, number, "its customer index was changed")
        self._seq, self._previous = number, expected
        self.report.entries += 1
        return True

    def _found(self, kind: str, tenant: str, seq: int, detail: str) -> bool:
        self.report.finding = AccessFinding(kind, tenant, seq, detail)
        return False


def customer_ids(entry: AccessRecord) -> list[str]:
    """The customers an entry names (a list page names several, a bulk export none)."""
    named = entry.get("customerIds") or [entry.get("customerId")]
    return [customer_id for customer_id in named if customer_id]


def verify(key: bytes, rows: Iterable[AccessRecord]) -> AccessReport:
    """Check stored entries given in (tenantId, seq) order (see `ChainVerifier`)."""
    verifier = ChainVerifier(key)
    for row in rows:
        if not verifier.feed(row):
            break
    return verifier.report
