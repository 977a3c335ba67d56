"""Whom a notification sender may contact, on which channel, now: a pure function of the
customer's document, the purpose and the time (so tests pin the clock across DST changes).

Checked in this order, the first failing rule giving the reason: the customer is active, the
address is present, the channel is enabled, the email has not hard-bounced, a marketing
purpose has a current consent, and SMS or push fall outside the quiet hours.
"""

from __future__ import annotations

from datetime import datetime, time
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import msgspec

from shared.engagement import CHANNELS, Reason, default_preferences, needs_consent
from shared.json_types import JSONObject

#: The consent purpose each channel needs for a marketing message, besides the purpose itself.
_QUIET_CHANNELS = ("sms", "push")


class ChannelAnswer(msgspec.Struct):
    """Whether a message may go out on this channel now; `reason` when it may not."""

    allowed: bool
    reason: Reason | None


class ChannelAnswers(msgspec.Struct):
    """One answer per channel."""

    email: ChannelAnswer
    sms: ChannelAnswer
    push: ChannelAnswer


class Contactability(msgspec.Struct):
    """`GET /customers/{id}/contactability?purpose=P`."""

    purpose: str
    channels: ChannelAnswers


def contactability(doc: JSONObject, purpose: str, now: datetime) -> Contactability:
    """The answer for every channel (`now` is timezone-aware)."""
    answers = {channel: _answer(doc, purpose, channel, now) for channel in CHANNELS}
    return Contactability(purpose, ChannelAnswers(**answers))


def _answer(doc: JSONObject, purpose: str, channel: str, now: datetime) -> ChannelAnswer:
    reason = _refusal(doc, purpose, channel, now)
    return ChannelAnswer(allowed=reason is None, reason=reason)


def _refusal(doc: JSONObject, purpose: str, channel: str, now: datetime) -> Reason | None:
    preferences = doc.get("preferences") or default_preferences()
    if doc.get("state") != "active":
        return "not_active"
    if not _has_address(doc, channel):
        return "no_address"
    if not ((preferences.get("channels") or {}).get(channel) or {}).get("enabled", True):
        return "channel_disabled"
    if channel == "email" and doc.get("emailDeliverable") is False:
        return "bounced"
    if needs_consent(purpose) and not ((doc.get("consents") or {}).get(purpose) or {}).get(
        "granted"
    ):
        return "no_consent"
    if channel in _QUIET_CHANNELS and in_quiet_hours(preferences, now):
        return "quiet_hours"
    return None


def _has_address(doc: JSONObject, channel: str) -> bool:
    """Email needs an email, SMS a phone; push goes to the customer's app installations, which
    the notification system holds, so this service cannot say one is missing."""
    if channel == "email":
        return bool(doc.get("email"))
    if channel == "sms":
        return bool(doc.get("phone"))
    return True


def in_quiet_hours(preferences: JSONObject, now: datetime) -> bool:
    """Whether `now`, read on the wall clock of the customer's timezone (UTC when none is
    set), falls in `[start, end)`; a window may wrap midnight (`22:00`-`07:00`). The wall
    clock is what matters across DST changes: 22:00 stays 22:00 local in summer and winter."""
    quiet = preferences.get("quietHours")
    if not quiet:
        return False
    try:
        zone = ZoneInfo(preferences.get("timezone") or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    local = now.astimezone(zone).time().replace(second=0, microsecond=0)
    start, end = _hhmm(quiet["start"]), _hhmm(quiet["end"])
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _hhmm(text: str) -> time:
    hours, minutes = text.split(":")
    return time(int(hours), int(minutes))
