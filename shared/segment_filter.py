"""The segment filter language (contract, "Segments"): every `GET /customers` filter plus
visit, spend, loyalty and reachability keys, all combined with AND.

`parse_filter` turns a JSON object into a `SegmentFilter` or raises `ValidationFailed` (422)
naming every bad key as `filter.<key>`; `matches` evaluates one against a customer document at
a given moment, so membership is the same function whether computed for a count, a page of
members, or a property test.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime

from shared.clock import iso_utc
from shared.currencies import is_invoice_currency
from shared.errors import FieldError, ValidationFailed
from shared.json_types import JSONObject

TYPES = ("regular", "unregistered", "new", "anonymous")
STATES = ("active", "deleted", "erased")
MARKETING = re.compile(r"^(marketing_[a-z0-9_]+|push)$")
PURPOSE = re.compile(r"^[a-z][a-z0-9_]{0,49}$")
MAX_DAYS = 36_500
KEYS = (
    "q", "type", "state", "tag", "attr", "consent", "createdFrom", "createdTo",
    "visitCountMin", "visitCountMax", "lastVisitWithinDays", "noVisitWithinDays",
    "totalSpentMin", "tier", "hasEmail", "hasPhone", "contactableFor",
)  # fmt: skip


@dataclass(frozen=True)
class Money:
    """An amount in minor units of a currency."""

    amount: int
    currency: str


@dataclass(frozen=True)
class SegmentFilter:
    """A checked filter; None (or empty) means the key was not given."""

    q: str | None = None
    type: str | None = None
    state: str | None = None
    tags: tuple[str, ...] = ()
    attrs: tuple[tuple[str, str], ...] = ()
    consent: str | None = None
    created_from: str | None = None  # ISO UTC, as the documents store times
    created_to: str | None = None
    visit_count_min: int | None = None
    visit_count_max: int | None = None
    last_visit_within_days: int | None = None
    no_visit_within_days: int | None = None
    total_spent_min: Money | None = None
    tier: str | None = None
    has_email: bool | None = None
    has_phone: bool | None = None
    contactable_for: str | None = None
    raw: JSONObject = field(default_factory=dict, compare=False)

    @property
    def uses_time(self) -> bool:
        """True when membership changes with the passing of time alone."""
        return self.last_visit_within_days is not None or self.no_visit_within_days is not None


class _Errors:
    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, key: str, message: str) -> None:
        self.found.append(FieldError(f"filter.{key}"[:80], message))


def parse_filter(raw: object) -> SegmentFilter:
    """The filter, or `ValidationFailed` naming every offending key."""
    errors = _Errors()
    if not isinstance(raw, dict):
        problem = [FieldError("filter", "an object")]
        raise ValidationFailed("The filter must be an object.", errors=problem)
    for key in sorted(set(raw) - set(KEYS)):
        errors.add(str(key), "is not a filter key")
    parsed = SegmentFilter(
        q=_text(raw, "q", errors, 200),
        type=_choice(raw, "type", TYPES, errors),
        state=_choice(raw, "state", STATES, errors),
        tags=tuple(_strings(raw, "tag", errors)),
        attrs=tuple(_attrs(raw, errors)),
        consent=_purpose(raw, "consent", errors),
        created_from=_instant(raw, "createdFrom", errors),
        created_to=_instant(raw, "createdTo", errors),
        visit_count_min=_count(raw, "visitCountMin", errors, 1_000_000),
        visit_count_max=_count(raw, "visitCountMax", errors, 1_000_000),
        last_visit_within_days=_count(raw, "lastVisitWithinDays", errors, MAX_DAYS, low=1),
        no_visit_within_days=_count(raw, "noVisitWithinDays", errors, MAX_DAYS, low=1),
        total_spent_min=_money(raw, errors),
        tier=_text(raw, "tier", errors, 50),
        has_email=_flag(raw, "hasEmail", errors),
        has_phone=_flag(raw, "hasPhone", errors),
        contactable_for=_purpose(raw, "contactableFor", errors),
        raw=dict(raw),
    )
    low, high = parsed.visit_count_min, parsed.visit_count_max
    if low is not None and high is not None and low > high:
        errors.add("visitCountMin", "is above visitCountMax")
    start, end = parsed.created_from, parsed.created_to
    if start is not None and end is not None and start > end:
        errors.add("createdFrom", "is after createdTo")
    if errors.found:
        raise ValidationFailed("The segment filter is not valid.", errors=errors.found)
    return parsed


def _text(raw: JSONObject, key: str, errors: _Errors, limit: int) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > limit:
        errors.add(key, f"a non-blank string of at most {limit} characters")
        return None
    return value.strip()


def _choice(raw: JSONObject, key: str, allowed: tuple[str, ...], errors: _Errors) -> str | None:
    value = raw.get(key)
    if value is not None and value not in allowed:
        errors.add(key, f"one of {', '.join(allowed)}")
        return None
    return value if isinstance(value, str) else None


def _strings(raw: JSONObject, key: str, errors: _Errors) -> list[str]:
    value = raw.get(key)
    if value is None:
        return []
    items = value if isinstance(value, list) else [value]
    if len(items) > 20 or not all(isinstance(i, str) and 1 <= len(i) <= 50 for i in items):
        errors.add(key, "a list of at most 20 strings of 1-50 characters")
        return []
    return list(items)


def _attrs(raw: JSONObject, errors: _Errors) -> list[tuple[str, str]]:
    pairs = []
    for item in _strings(raw, "attr", errors) if raw.get("attr") is not None else []:
        name, separator, value = item.partition(":")
        if not separator or not name:
            errors.add("attr", "each item is key:value")
            return []
        pairs.append((name, value))
    return pairs


def _purpose(raw: JSONObject, key: str, errors: _Errors) -> str | None:
    value = raw.get(key)
    if value is not None and (not isinstance(value, str) or not PURPOSE.match(value)):
        errors.add(key, "a purpose in lower_snake_case")
        return None
    return value if isinstance(value, str) else None


def _instant(raw: JSONObject, key: str, errors: _Errors) -> str | None:
    value = raw.get(key)
    if value is None:
        return None
    try:
        moment = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
    except ValueError:
        moment = None
    if not isinstance(value, str) or moment is None or moment.tzinfo is None:
        errors.add(key, "an RFC 3339 date-time with an offset")
        return None
    return iso_utc(moment)


def _count(raw: JSONObject, key: str, errors: _Errors, top: int, *, low: int = 0) -> int | None:
    value = raw.get(key)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= top:
        errors.add(key, f"an integer from {low} to {top}")
        return None
    return value


def _flag(raw: JSONObject, key: str, errors: _Errors) -> bool | None:
    value = raw.get(key)
    if value is not None and not isinstance(value, bool):
        errors.add(key, "true or false")
        return None
    return value


def _money(raw: JSONObject, errors: _Errors) -> Money | None:
    value = raw.get("totalSpentMin")
    if value is None:
        return None
    amount = value.get("amount") if isinstance(value, dict) else None
    currency = value.get("currency") if isinstance(value, dict) else None
    valid = (
        isinstance(value, dict)
        and set(value) == {"amount", "currency"}
        and isinstance(amount, int) and not isinstance(amount, bool) and amount >= 0
        and isinstance(currency, str) and is_invoice_currency(currency)
    )  # fmt: skip
    if not valid:
        errors.add("totalSpentMin", "{amount: minor units ≥ 0, currency: ISO 4217}")
        return None
    assert isinstance(amount, int)
    assert isinstance(currency, str)
    return Money(amount, currency)
