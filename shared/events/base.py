"""The base of every event payload (`payloads`, `merge_payloads`)."""

from __future__ import annotations

from typing import ClassVar

import msgspec


class Payload(msgspec.Struct, frozen=True, kw_only=True):
    """Base of every event payload."""

    #: The public name on the broker when it differs from the event's own name.
    published_as: ClassVar[str | None] = None
