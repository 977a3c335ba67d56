"""Bound every read-model access on the request path: a store that is down or silent turns
into a quick 503 with Retry-After, never a hang or a 500.

The clients' own timeouts (connect, server selection) catch refused connections; this
deadline also catches a server that accepts connections and never answers, without
shortening the socket timeout the projector's large batch writes need.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable
from typing import TypeVar

from shared.errors import ServiceUnavailable
from shared.transient import is_transient

T = TypeVar("T")
RETRY_AFTER_SECONDS = 5


async def within(seconds: float, work: Awaitable[T], what: str) -> T:
    """Await `work` for at most `seconds`; a timeout or an unavailable dependency raises
    `ServiceUnavailable` naming `what` (e.g. "the search index")."""
    try:
        async with asyncio.timeout(seconds):
            return await work
    except TimeoutError as error:
        raise unavailable(what, f"did not answer within {seconds:g} s") from error
    except Exception as error:
        if is_transient(error):
            raise unavailable(what, "is unreachable") from error
        raise


def unavailable(what: str, why: str) -> ServiceUnavailable:
    """The 503 for a read model that cannot be used now."""
    return ServiceUnavailable(
        f"{what[:1].upper()}{what[1:]} {why}; retry later.", retry_after=RETRY_AFTER_SECONDS
    )
