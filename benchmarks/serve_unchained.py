"""`customers serve` with the tamper-evident log detached: the baseline of
`benchmarks.audit_chain --http` only (one worker: the patch lives in this process).

The recorder writes no chain row and no checkpoint, as before issue 15; nothing else changes.
The service itself has no switch for this on purpose: a tamper-evident log that can be turned
off by configuration proves nothing.
"""

from __future__ import annotations

from typing import Any

from entrypoints import cli
from write_side.adapters import event_store
from write_side.adapters.phone_books import attach_audit_chain as _attach


def _detached(recorder: Any, sealer: Any) -> Any:
    chain = _attach(recorder, sealer)
    recorder.audit_chain = None
    return chain


if __name__ == "__main__":
    vars(event_store)["attach_audit_chain"] = _detached  # the name `event_store` calls
    raise SystemExit(cli.main())
