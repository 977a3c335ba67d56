"""The heap trim after a projection's burst of batches runs at most once per interval."""

from __future__ import annotations

import pytest

from shared import heap


def test_trims_at_most_once_per_interval(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(heap, "_TRIM", calls.append)
    monkeypatch.setattr(heap, "_last", 0.0)
    clock = [1000.0]
    assert heap.release_free_memory(now=lambda: clock[0])
    clock[0] += heap.TRIM_EVERY_SECONDS / 2
    assert not heap.release_free_memory(now=lambda: clock[0])
    clock[0] += heap.TRIM_EVERY_SECONDS
    assert heap.release_free_memory(now=lambda: clock[0])
    assert calls == [0, 0]


def test_the_real_trim_is_found_on_glibc() -> None:
    assert heap._TRIM is not None  # this service's images and CI run glibc
