"""Fencing tokens for projection writes (issue 16 A.1).

A projection runs under a lease (`projectors.leases`); each grant of a lease has a larger
epoch than the one before. The runner sets the holder's `Fence` for the task applying a batch,
and a sink stores the epoch with its checkpoint, in the same condition as the checkpoint write:
a write whose epoch is below the stored one is refused with `Fenced`. So a holder that was
paused (SIGSTOP, a long GC, a frozen VM) while another took its lease over cannot move the
checkpoint after waking, even mid-batch; its document writes in that batch are version-guarded
and therefore harmless.

Outside a lease (the embedded profile, tests, rebuilds) no fence is set and sinks write as
before. A contextvar rather than a parameter: the port stays `apply(events, position)` for
every sink and wrapper (generations, caches, plug-ins), and each projection's task has its own.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass


@dataclass(frozen=True)
class Fence:
    """The lease a write is made under: its name and the epoch it was granted with."""

    name: str
    epoch: int


class Fenced(Exception):
    """A newer holder of the lease stored a larger epoch: this process lost the lease."""

    def __init__(self, fence: Fence, stored: int | None = None) -> None:
        seen = f" (stored epoch {stored})" if stored is not None else ""
        super().__init__(f"lease {fence.name!r} epoch {fence.epoch} was superseded{seen}")
        self.fence = fence


_current: ContextVar[Fence | None] = ContextVar("customers_fence", default=None)


def current_fence() -> Fence | None:
    """The fence of the lease the running task writes under (None: not under a lease)."""
    return _current.get()


@contextmanager
def fenced(fence: Fence | None) -> Iterator[None]:
    """Write under `fence` within the block (None: unfenced)."""
    token = _current.set(fence)
    try:
        yield
    finally:
        _current.reset(token)
