"""The verifier's one-loop path agrees with the definition of the chain and hands every row
that is not plainly right to the precise checks, which name the first break (issue 15.2)."""

from __future__ import annotations

import uuid

import pytest
from eventsourcing.persistence import StoredEvent

from write_side.application import audit_verify
from write_side.application.audit_chain import ChainRow, chain_rows, sign_checkpoint
from write_side.application.audit_verify import Flat, Report, Verifier

KEY = b"audit-key"
A, B = uuid.UUID(int=1), uuid.UUID(int=2)
TOPIC = "customers:Customer.Changed"


def log() -> tuple[list[StoredEvent], list[int], list[ChainRow]]:
    """Eight events of two aggregates, interleaved, at positions with a gap (sequences skip)."""
    stored, positions, versions = [], [], {A: 0, B: 0}
    for number, oid in enumerate([A, A, B, A, B, B, A, B]):
        versions[oid] += 1
        stored.append(StoredEvent(oid, versions[oid], TOPIC, b"state %d" % number))
        positions.append(number + 1 if number < 4 else number + 3)
    return stored, positions, chain_rows(stored, positions, {}, None)


def flat(stored: list[StoredEvent], rows: list[ChainRow]) -> list[Flat]:
    return [
        (r.position, uuid.UUID(str(s.originator_id)).bytes, s.originator_version, s.topic, s.state,
         r.originator_id.bytes, r.version, r.hash, r.log_hash)
        for s, r in zip(stored, rows, strict=True)
    ]  # fmt: skip


def verify(rows: list[Flat], seals: int = 2, *, whole: bool = True) -> Report:
    _, _, chain = log()
    checkpoints = [sign_checkpoint(KEY, r.position, r.log_hash) for r in chain[2 :: 8 // seals]]
    verifier = Verifier(KEY, checkpoints, whole_log=whole)
    verifier.feed(rows)
    return verifier.finish()


def test_an_intact_log_verifies_with_its_count_and_checkpoints() -> None:
    stored, _, chain = log()
    report = verify(flat(stored, chain))
    assert report.ok, report.finding
    assert (report.events, report.checkpoints) == (8, 2)
    assert report.last_hash[A.bytes] == (4, chain[6].hash)


def test_progress_is_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(audit_verify, "PROGRESS_EVERY", 3)
    stored, _, chain = log()
    seen: list[int] = []
    verifier = Verifier(KEY, [], whole_log=True)
    verifier.feed(flat(stored, chain), seen.append)
    assert seen == [3, 6]


def replace(row: Flat, index: int, value: bytes | int) -> Flat:
    items = list(row)
    items[index] = value
    return tuple(items)  # type: ignore[return-value]


@pytest.mark.parametrize("whole", [True, False])
def test_a_changed_state_is_modified(whole: bool) -> None:
    stored, _, chain = log()
    rows = flat(stored, chain)
    rows[3] = replace(rows[3], 4, b"edited")
    finding = verify(rows, whole=whole).finding
    assert finding is not None
    assert (finding.kind, finding.position, finding.version) == ("modified", 4, 3)
    assert finding.customer_id == str(A)


def test_a_missing_event_is_deleted() -> None:
    stored, _, chain = log()
    rows = flat(stored, chain)
    position, *_, c_oid, c_version, c_hash, c_log = rows[1]
    rows[1] = (position, None, None, None, None, c_oid, c_version, c_hash, c_log)
    finding = verify(rows).finding
    assert finding is not None
    assert (finding.kind, finding.position) == ("deleted", 2)


def test_an_event_without_chain_row_is_inserted() -> None:
    stored, _, chain = log()
    rows = flat(stored, chain)
    rows.insert(4, (5, B.bytes, 2, TOPIC, b"forged", None, None, None, None))
    finding = verify(rows).finding
    assert finding is not None
    assert (finding.kind, finding.position, finding.version) == ("inserted", 5, 2)


def test_swapped_versions_are_reordered() -> None:
    stored, _, chain = log()
    rows = flat(stored, chain)
    rows[0], rows[1] = replace(rows[0], 2, 2), replace(rows[1], 2, 1)
    finding = verify(rows).finding
    assert finding is not None
    assert finding.kind == "reordered"
    assert finding.position == 1


def test_a_forged_checkpoint_is_found() -> None:
    stored, _, chain = log()
    rows = flat(stored, chain)
    forged = sign_checkpoint(b"another key", chain[2].position, chain[2].log_hash)
    verifier = Verifier(KEY, [forged], whole_log=True)
    verifier.feed(rows)
    finding = verifier.finish().finding
    assert finding is not None
    assert (finding.kind, finding.position) == ("modified", chain[2].position)


def test_a_log_cut_before_its_checkpoint_is_deleted() -> None:
    stored, _, chain = log()
    report = verify(flat(stored, chain)[:5])
    assert report.finding is not None
    assert report.finding.kind == "deleted"
