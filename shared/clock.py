"""Time, behind a seam so tests can inject it."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(tz=UTC)


def iso_utc(moment: datetime) -> str:
    """ISO-8601 with a `Z` suffix and millisecond precision, as the API returns times."""
    text = moment.astimezone(UTC).isoformat(timespec="milliseconds")
    return text.replace("+00:00", "Z")
