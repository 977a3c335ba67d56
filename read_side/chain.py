"""The tamper-evident log as the read side sees it: what verifying it found, nothing personal.

The write side computes and checks the hash chain; `projectors.envelopes.EventLog` hands its
result over in these neutral shapes, so the read side never imports the write side. Hashes,
positions, versions and ids are not personal values: an auditor may see them without the
read being an access to personal data.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import msgspec


class ChainBreak(msgspec.Struct, rename="camel", kw_only=True):
    """The first event found changed by hand in the store (`kind`: modified, deleted,
    reordered, inserted)."""

    kind: str
    position: int
    customer_id: str | None
    version: int | None
    detail: str


class ChainCheck(msgspec.Struct, rename="camel", kw_only=True):
    """The result of verifying the whole log (`scope` log) or one customer's chain (customer).

    `verified` counts the events checked before the first break (all of them when `ok`);
    `checkpoints` the signed checkpoints checked (the whole log only).
    """

    ok: bool
    scope: str
    verified: int
    checkpoints: int
    first_broken: ChainBreak | None = None

    def hiding_customer(self) -> ChainCheck:
        """The same result without naming the broken event's customer (another tenant's)."""
        if self.first_broken is None or self.first_broken.customer_id is None:
            return self
        broken = msgspec.structs.replace(self.first_broken, customer_id=None, version=None)
        return msgspec.structs.replace(self, first_broken=broken)


#: verify the whole log (None) or one customer's chain; runs off the event loop
ChainVerifier = Callable[[str | None], Awaitable[ChainCheck]]
