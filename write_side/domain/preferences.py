"""Communication preferences: language, timezone, channels, quiet hours, payment method.

Pure rules. A change arrives as an RFC 7396 merge patch over the current document
(`merge_patch`); the merged document is then validated as a whole (`check_preferences`), so a
patch that leaves, say, quiet hours half set is refused with the field named.
"""

from __future__ import annotations

import re
import zoneinfo
from functools import cache

from shared.engagement import CHANNELS, default_preferences
from shared.errors import FieldErrors
from shared.json_types import JSONObject

PAYMENT_TYPES = ("card", "sepa_debit", "paypal", "cash", "invoice")
# BCP 47 as people write it: language, optional script, optional region, optional variants.
_LANGUAGE = re.compile(
    r"^(?P<lang>[A-Za-z]{2,3})(?:-(?P<script>[A-Za-z]{4}))?(?:-(?P<region>[A-Za-z]{2}|[0-9]{3}))?"
    r"(?P<variants>(?:-(?:[A-Za-z0-9]{5,8}|[0-9][A-Za-z0-9]{3}))*)$"
)
_TIME = re.compile(r"^([01][0-9]|2[0-3]):[0-5][0-9]$")
_LAST4 = re.compile(r"^[0-9]{4}$")
MAX_BRAND = 30


def merge_patch(target: object, patch: object) -> object:
    """RFC 7396: objects merge key by key, `null` removes, anything else replaces."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def patched_preferences(current: JSONObject, patch: JSONObject) -> JSONObject:
    """The current preferences with `patch` merged in, every key back in place (a removed
    key reads `null`, a removed channel its default), normalised and checked."""
    merged = merge_patch(current, patch)
    assert isinstance(merged, dict)
    full = default_preferences()
    channels = merged.get("channels") or {}
    for name in CHANNELS:
        full["channels"][name] |= channels.get(name) or {}
    for key in ("language", "timezone", "quietHours", "paymentMethod"):
        full[key] = merged.get(key)
    return check_preferences(full)


def check_preferences(preferences: JSONObject) -> JSONObject:
    """The normalised document, or `ValidationFailed` naming every bad field."""
    errors = FieldErrors()
    result = dict(preferences)
    if preferences.get("language") is not None:
        result["language"] = _language(str(preferences["language"]), errors)
    timezone = preferences.get("timezone")
    if timezone is not None and timezone not in known_timezones():
        errors.add("timezone", "must be an IANA time zone name such as Europe/Paris")
    quiet = preferences.get("quietHours")
    if quiet is not None:
        for end in ("start", "end"):
            if not _TIME.match(str(quiet.get(end) or "")):
                errors.add(f"quietHours.{end}", "must be HH:MM (00:00-23:59)")
        if quiet.get("start") == quiet.get("end"):
            errors.add("quietHours", "start and end must differ")
    method = preferences.get("paymentMethod")
    if method is not None:
        result["paymentMethod"] = _payment_method(method, errors)
    errors.raise_if_any("Invalid preferences.")
    return result


def _language(tag: str, errors: FieldErrors) -> str | None:
    match = _LANGUAGE.match(tag)
    if match is None:
        errors.add("language", "must be a BCP 47 language tag such as en or fr-CA")
        return None
    parts = [match["lang"].lower()]
    if match["script"]:
        parts.append(match["script"].title())
    if match["region"]:
        parts.append(match["region"].upper())
    return "-".join(parts) + match["variants"].lower()


def _payment_method(method: JSONObject, errors: FieldErrors) -> JSONObject:
    kind = method.get("type")
    if kind not in PAYMENT_TYPES:
        errors.add("paymentMethod.type", f"must be one of {', '.join(PAYMENT_TYPES)}")
    brand = method.get("brand")
    if brand is not None and not 1 <= len(str(brand).strip()) <= MAX_BRAND:
        errors.add("paymentMethod.brand", f"1-{MAX_BRAND} characters")
    last4 = method.get("last4")
    if last4 is not None and not _LAST4.match(str(last4)):
        errors.add("paymentMethod.last4", "exactly the last four digits")
    month, year = method.get("expMonth"), method.get("expYear")
    if month is not None and not 1 <= int(month) <= 12:
        errors.add("paymentMethod.expMonth", "1-12")
    if year is not None and not 2000 <= int(year) <= 2100:
        errors.add("paymentMethod.expYear", "2000-2100")
    return {
        "type": kind,
        "brand": str(brand).strip() if brand is not None else None,
        "last4": last4,
        "expMonth": month,
        "expYear": year,
    }


@cache
def known_timezones() -> frozenset[str]:
    """The IANA zone names this machine's tz database knows (read once)."""
    return frozenset(zoneinfo.available_timezones())
