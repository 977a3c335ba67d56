"""Contactability rules, with the clock pinned: quiet hours on the customer's own wall clock,
also on the nights the clocks change."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from read_side.contactability import contactability, in_quiet_hours
from shared.engagement import default_preferences

NOON_UTC = datetime(2026, 1, 15, 12, 0, tzinfo=UTC)


def doc(**overrides: Any) -> dict[str, Any]:
    base: dict[str, Any] = {
        "state": "active",
        "email": "ann@example.com",
        "phone": "+14155552671",
        "consents": {},
        "emailDeliverable": True,
        "preferences": default_preferences(),
    }
    return base | overrides


def reasons(document: dict[str, Any], purpose: str, now: datetime = NOON_UTC) -> dict[str, Any]:
    answer = contactability(document, purpose, now)
    return {name: getattr(answer.channels, name).reason for name in ("email", "sms", "push")}


def test_transactional_purposes_need_no_consent_marketing_ones_do() -> None:
    assert reasons(doc(), "order_confirmation") == {"email": None, "sms": None, "push": None}
    assert reasons(doc(), "marketing_email") == {
        "email": "no_consent", "sms": "no_consent", "push": "no_consent"
    }  # fmt: skip
    granted = doc(consents={"marketing_email": {"granted": True}})
    assert reasons(granted, "marketing_email")["email"] is None
    withdrawn = doc(consents={"push": {"granted": False}})
    assert reasons(withdrawn, "push")["push"] == "no_consent"


def test_the_first_failing_rule_is_the_reason() -> None:
    assert set(reasons(doc(state="deleted"), "invoice").values()) == {"not_active"}
    assert reasons(doc(email=None, phone=None), "invoice") == {
        "email": "no_address", "sms": "no_address", "push": None
    }  # fmt: skip
    prefs = default_preferences()
    prefs["channels"]["sms"]["enabled"] = False
    assert reasons(doc(preferences=prefs), "invoice")["sms"] == "channel_disabled"
    assert reasons(doc(emailDeliverable=False), "invoice")["email"] == "bounced"


def test_an_old_document_without_engagement_fields_reads_as_the_defaults() -> None:
    old: dict[str, Any] = {"state": "active", "email": "a@b.example", "phone": None, "consents": {}}
    assert reasons(old, "invoice") == {"email": None, "sms": "no_address", "push": None}


def quiet(zone: str | None, start: str = "22:00", end: str = "07:00") -> dict[str, Any]:
    return default_preferences() | {"timezone": zone, "quietHours": {"start": start, "end": end}}


@pytest.mark.parametrize(
    ("utc", "inside"),
    [
        # Europe/Paris is UTC+1 in winter: 21:30 UTC is 22:30 local (inside)
        (datetime(2026, 1, 15, 21, 30, tzinfo=UTC), True),
        (datetime(2026, 1, 15, 20, 59, tzinfo=UTC), False),
        (datetime(2026, 1, 16, 5, 59, tzinfo=UTC), True),  # 06:59 local
        (datetime(2026, 1, 16, 6, 0, tzinfo=UTC), False),  # 07:00 local: the end is open
        # UTC+2 in summer: 20:30 UTC is 22:30 local, 21:30 UTC would wrongly look like 22:30
        (datetime(2026, 7, 15, 20, 30, tzinfo=UTC), True),
        (datetime(2026, 7, 15, 19, 59, tzinfo=UTC), False),
        (datetime(2026, 7, 16, 4, 59, tzinfo=UTC), True),
        (datetime(2026, 7, 16, 5, 0, tzinfo=UTC), False),
    ],
)
def test_quiet_hours_follow_the_customers_wall_clock(utc: datetime, inside: bool) -> None:
    assert in_quiet_hours(quiet("Europe/Paris"), utc) is inside


def test_quiet_hours_across_the_spring_forward_night() -> None:
    # 2026-03-29 in Paris: 02:00 CET jumps to 03:00 CEST (00:59 UTC is 01:59 CET, 01:00 UTC 03:00).
    prefs = quiet("Europe/Paris", "01:00", "03:00")
    assert in_quiet_hours(prefs, datetime(2026, 3, 29, 0, 59, tzinfo=UTC)) is True
    assert in_quiet_hours(prefs, datetime(2026, 3, 29, 1, 0, tzinfo=UTC)) is False  # 03:00 CEST


def test_quiet_hours_across_the_fall_back_night() -> None:
    # 2026-11-01 in New York: 02:00 EDT falls back to 01:00 EST; 01:30 happens twice, both quiet.
    prefs = quiet("America/New_York", "01:00", "02:00")
    assert in_quiet_hours(prefs, datetime(2026, 11, 1, 5, 30, tzinfo=UTC)) is True  # 01:30 EDT
    assert in_quiet_hours(prefs, datetime(2026, 11, 1, 6, 30, tzinfo=UTC)) is True  # 01:30 EST
    assert in_quiet_hours(prefs, datetime(2026, 11, 1, 7, 0, tzinfo=UTC)) is False  # 02:00 EST


def test_quiet_hours_stop_sms_and_push_not_email() -> None:
    night = datetime(2026, 1, 15, 23, 0, tzinfo=UTC)  # 00:00 in Paris
    assert reasons(doc(preferences=quiet("Europe/Paris")), "invoice", night) == {
        "email": None, "sms": "quiet_hours", "push": "quiet_hours"
    }  # fmt: skip


def test_without_a_timezone_quiet_hours_are_read_in_utc() -> None:
    assert in_quiet_hours(quiet(None), datetime(2026, 1, 15, 22, 30, tzinfo=UTC)) is True
    assert in_quiet_hours(quiet(None, "09:00", "17:00"), NOON_UTC) is True
