"""Read-your-writes: wait until every read-model projection has passed a command's position."""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Awaitable, Callable, Sequence

from read_side.deadline import within
from shared.errors import FieldError, MalformedRequest, ServiceUnavailable

Checkpoint = Callable[[], Awaitable[int]]
#: What a consistency token looks like (empty = none): the OpenAPI document declares it too.
TOKEN_PATTERN = "^([0-9]{1,18})?$"  # noqa: S105 - a pattern, not a secret
_TOKEN = re.compile(TOKEN_PATTERN)


class ConsistencyWaiter:
    """Polls the projections' checkpoints (cheap reads) until they reach the token."""

    def __init__(
        self,
        checkpoints: Sequence[Checkpoint],
        *,
        head: Checkpoint | None = None,
        timeout: float = 5.0,
        interval: float = 0.01,
        read_timeout: float = 2.0,
        on_wait: Callable[[float], None] | None = None,
    ) -> None:
        self._checkpoints = list(checkpoints)
        self._on_wait = on_wait  # told once per wait that blocks (projections held: lift it)
        self._head = head
        self._timeout = timeout
        self._interval = interval
        self._read_timeout = read_timeout

    async def wait(self, token: str | None) -> None:
        """Return once every projection is at or past `token`; 503 after the timeout.

        A token past the event store's head was never returned by a command and can never
        be reached: it is refused (400) at once instead of waiting out the timeout."""
        if not token:
            return
        if not _TOKEN.match(token):  # ASCII digits only: `isdigit` also takes "²"
            raise _bad_token("X-Consistency-Token must be a token returned by a command.")
        wanted = int(token)
        deadline = time.monotonic() + self._timeout
        head_checked = False
        while True:
            positions = await within(
                self._read_timeout,
                asyncio.gather(*(read() for read in self._checkpoints)),
                "the read models",
            )
            if min(positions, default=wanted) >= wanted:
                return
            if not head_checked:
                head_checked = True
                if self._on_wait is not None:
                    self._on_wait(self._timeout)
                if self._head is not None and wanted > await self._head():
                    raise _bad_token(
                        "X-Consistency-Token is beyond the last stored event: "
                        "no command returned it."
                    )
            if time.monotonic() >= deadline:
                raise ServiceUnavailable(
                    "The read models have not caught up with this consistency token yet.",
                    retry_after=1,
                )
            await asyncio.sleep(self._interval)


def _bad_token(detail: str) -> MalformedRequest:
    return MalformedRequest(
        detail, errors=[FieldError("X-Consistency-Token", "is not a token a command returned")]
    )
