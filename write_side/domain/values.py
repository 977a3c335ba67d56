"""Value normalisation for customer fields: pure functions that accept or explain a refusal.

Each `normalize_*` returns the canonical form or raises `InvalidValue` with a message for the
client. Normalising an already-normalised value returns it unchanged (idempotent).
"""

from __future__ import annotations

import math
import re
import unicodedata
from datetime import date

import phonenumbers

from shared.countries import is_assigned_country

MAX_NAME = 100
MAX_EMAIL = 254
MAX_NOTES = 2000
MAX_TAGS = 50
MAX_TAG = 50
MAX_ATTRIBUTES = 50
MAX_ATTRIBUTE_KEY = 40
MAX_ATTRIBUTE_TEXT = 500
MAX_PHONE_INPUT = 40
MAX_EXTERNAL_ID = 100

AttributeValue = str | int | float | bool

_LOCAL_PART = re.compile(r"^[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+(\.[A-Za-z0-9!#$%&'*+/=?^_`{|}~-]+)*$")
_DOMAIN_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_TOP_LEVEL = re.compile(r"^([a-z]{2,63}|xn--[a-z0-9-]{1,59})$")
_ATTRIBUTE_KEY = re.compile(r"^[A-Za-z][A-Za-z0-9_.-]*$")


class InvalidValue(ValueError):
    """A value that cannot be accepted; the message is meant for the client."""


# Controls, format characters (bidi overrides, zero-width), surrogates, private use,
# unassigned, and the Unicode line and paragraph separators (U+2028, U+2029): none belongs
# in a name, a tag or a reason, and text breaks lines only with CR/LF (where it may).
_REFUSED_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Co", "Cn", "Zl", "Zp"})


def _has_control_characters(text: str, allow_newlines: bool = False) -> bool:
    if text.isascii() and text.isprintable():  # no ASCII character outside Cc is refused
        return False  # (a per-character category look-up was a tenth of an import's rows)
    allowed = {"\n", "\r", "\t"} if allow_newlines else set()
    return any(
        unicodedata.category(char) in _REFUSED_CATEGORIES and char not in allowed for char in text
    )


def is_plain_text(text: str) -> bool:
    """True when `text` is one line of printable text (what a reason or an order id may be)."""
    return not _has_control_characters(text)


def normalize_text(value: str, *, max_length: int, allow_newlines: bool = False) -> str:
    """Trim, NFC-normalise and bound a free text; refuse empty text and control characters."""
    text = unicodedata.normalize("NFC", value).strip()
    if not text:
        raise InvalidValue("must not be blank")
    if len(text) > max_length:
        raise InvalidValue(f"must be at most {max_length} characters")
    if _has_control_characters(text, allow_newlines=allow_newlines):
        raise InvalidValue("must not contain control characters")
    return text


def normalize_name(value: str) -> str:
    """A first or last name: trimmed, 1-100 characters, no control characters."""
    return normalize_text(value, max_length=MAX_NAME)


def normalize_external_id(value: str) -> str:
    """The customer's id in the tenant's other system: trimmed, 1-100 characters of one line,
    compared exactly (case-sensitive: other systems' keys often are)."""
    return normalize_text(value, max_length=MAX_EXTERNAL_ID)


def normalize_notes(value: str) -> str:
    """Free notes: trimmed, at most 2000 characters; newlines and tabs allowed."""
    return normalize_text(value, max_length=MAX_NOTES, allow_newlines=True)


def _ascii_domain(domain: str) -> str:
    if domain.isascii():  # the codec checks only label lengths then, as `_DOMAIN_LABEL` does
        return domain
    try:
        return domain.encode("idna").decode("ascii")
    except UnicodeError as error:
        raise InvalidValue("is not a valid email address (bad domain)") from error


def normalize_email(value: str) -> str:
    """Trim the address, lower-case its domain and check its syntax (RFC 5321 dot-atom form)."""
    text = value.strip()
    if not text:
        raise InvalidValue("must not be blank")
    if len(text) > MAX_EMAIL:
        raise InvalidValue(f"must be at most {MAX_EMAIL} characters")
    if text.count("@") != 1:
        raise InvalidValue("is not a valid email address")
    local, domain = text.split("@")
    domain = unicodedata.normalize("NFC", domain).lower().rstrip(".")
    if not local or len(local) > 64 or not _LOCAL_PART.match(local):
        raise InvalidValue("is not a valid email address (bad local part)")
    labels = _ascii_domain(domain).split(".")
    if len(labels) < 2 or not all(_DOMAIN_LABEL.match(label) for label in labels):
        raise InvalidValue("is not a valid email address (bad domain)")
    if not _TOP_LEVEL.match(labels[-1]):
        raise InvalidValue("is not a valid email address (bad top-level domain)")
    return f"{local}@{domain}"


def email_identity(normalized_email: str) -> str:
    """The comparison key of an email: emails compare case-insensitively."""
    return normalized_email.casefold()


def normalize_region(value: str) -> str:
    """An assigned ISO 3166-1 alpha-2 country that libphonenumber knows (`XK`, `AC`, `TA`
    are phone regions but not assigned countries: such numbers go in `+` form)."""
    region = value.strip().upper()
    if not is_assigned_country(region) or region not in phonenumbers.SUPPORTED_REGIONS:
        raise InvalidValue("is not an ISO 3166-1 alpha-2 country code with phone numbers")
    return region


def normalize_phone(value: str, region: str) -> str:
    """Parse a phone number (national numbers in `region`) and return it in E.164.

    The number must be valid for its country, not merely well-formed.
    """
    text = value.strip()
    if not text:
        raise InvalidValue("must not be blank")
    if len(text) > MAX_PHONE_INPUT or _has_control_characters(text):
        raise InvalidValue("is not a valid phone number")
    try:
        parsed = phonenumbers.parse(text, None if text.startswith("+") else region)
    except phonenumbers.NumberParseException as error:
        raise InvalidValue("is not a valid phone number") from error
    if not phonenumbers.is_valid_number(parsed):
        raise InvalidValue("is not a valid phone number for its country")
    if parsed.extension:
        # E.164 has no extension: storing the number alone would drop what the client sent.
        raise InvalidValue("must not carry an extension (store it elsewhere, e.g. in notes)")
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def normalize_date_of_birth(value: str, today: date) -> str:
    """A `YYYY-MM-DD` date, not in the future and not before 1900."""
    text = value.strip()
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", text):
        raise InvalidValue("must be a date in YYYY-MM-DD form")
    try:
        parsed = date.fromisoformat(text)
    except ValueError as error:
        raise InvalidValue("is not a real calendar date") from error
    if parsed > today:
        raise InvalidValue("must not be in the future")
    if parsed.year < 1900:
        raise InvalidValue("must not be before 1900")
    return parsed.isoformat()


def normalize_tags(values: list[str]) -> list[str]:
    """At most 50 tags of 1-50 characters each; trimmed, duplicates removed, order kept."""
    if len(values) > MAX_TAGS:
        raise InvalidValue(f"must have at most {MAX_TAGS} tags")
    seen: dict[str, None] = {}
    for index, tag in enumerate(values):
        try:
            seen.setdefault(normalize_text(tag, max_length=MAX_TAG), None)
        except InvalidValue as error:
            raise InvalidValue(f"tag {index} {error}") from error
    return list(seen)


def normalize_attributes(values: dict[str, AttributeValue]) -> dict[str, AttributeValue]:
    """At most 50 custom attributes with simple keys and string, number or boolean values."""
    if len(values) > MAX_ATTRIBUTES:
        raise InvalidValue(f"must have at most {MAX_ATTRIBUTES} keys")
    result: dict[str, AttributeValue] = {}
    for key, value in values.items():
        if len(key) > MAX_ATTRIBUTE_KEY or not _ATTRIBUTE_KEY.match(key):
            raise InvalidValue(
                f"key {key[:50]!r} must start with a letter and use only letters, digits, "
                f"'_', '.', '-' (at most {MAX_ATTRIBUTE_KEY} characters)"
            )
        if isinstance(value, str):
            if len(value) > MAX_ATTRIBUTE_TEXT or _has_control_characters(value):
                raise InvalidValue(
                    f"value of {key!r} must be at most {MAX_ATTRIBUTE_TEXT} characters "
                    "without control characters"
                )
        elif isinstance(value, float) and not math.isfinite(value):
            raise InvalidValue(f"value of {key!r} must be a finite number")
        elif isinstance(value, int) and not isinstance(value, bool) and abs(value) > 2**53:
            raise InvalidValue(f"value of {key!r} is out of the safe integer range")
        result[key] = value
    return result
