"""Validation of `GET /customers` parameters into a `ListQuery`."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import phonenumbers
from litestar.params import HeaderParameter, QueryParameter

from read_side.consistency import TOKEN_PATTERN
from read_side.ports import SORT_KEYS, ListQuery
from shared.errors import FieldError, MalformedRequest, ValidationFailed

KNOWN_PARAMETERS = {
    "q", "type", "state", "email", "phone", "tag", "attr", "consent",
    "createdFrom", "createdTo", "sort", "limit", "cursor", "externalId",
}  # fmt: skip
TYPES = ("regular", "unregistered", "new", "anonymous")
STATES = ("active", "deleted", "erased")


#: RFC 3339 `date-time` with its offset, as the OpenAPI document declares it (`format` and this
#: pattern): a bare number (`0.5`, read as a Unix time by a lenient decoder) or a time without
#: an offset is refused (400) rather than guessed.
RFC3339 = (
    r"^[0-9]{4}-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])[Tt]([01][0-9]|2[0-3]):[0-5][0-9]"
    r":[0-5][0-9](\.[0-9]{1,9})?([Zz]|[+-]([01][0-9]|2[0-3]):[0-5][0-9])$"
)


def instant_parameter(name: str) -> QueryParameter:
    """The query parameter `name` holding an RFC 3339 date-time."""
    return QueryParameter(
        name=name, required=False, pattern=RFC3339, schema_extra={"format": "date-time"}
    )


def instant(name: str, value: str | None) -> datetime | None:
    """The parsed date-time, or None when the parameter is absent (see `parse_instant`)."""
    return None if value is None else parse_instant(name, value)


def parse_instant(name: str, value: str) -> datetime:
    """The parsed date-time (its pattern already checked); 400 naming `name` for a day that
    does not exist (`2026-02-30`)."""
    try:
        return datetime.fromisoformat(value.upper()).astimezone(UTC)
    except ValueError:
        raise MalformedRequest(
            "Invalid query parameters.", errors=[FieldError(name, "is not a date-time")]
        ) from None


def utc(moment: datetime | None) -> datetime | None:
    """Naive datetimes are read as UTC."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def check_names(names: set[str]) -> None:
    """Unknown parameter names are refused rather than ignored."""
    unknown = sorted(names - KNOWN_PARAMETERS)
    if unknown:
        raise MalformedRequest(
            "Unknown query parameters.",
            errors=[
                FieldError(name[:50], "is not a parameter of this endpoint") for name in unknown
            ],
        )


def build_query(
    *,
    tenant_id: str,
    region: str,
    q: str | None,
    type_: str | None,
    state: str,
    email: str | None,
    phone: str | None,
    tags: list[str],
    attrs: list[str],
    consent: str | None,
    created_from: datetime | None,
    created_to: datetime | None,
    sort: str,
    limit: int,
    cursor: str | None,
    external_id: str | None = None,
) -> ListQuery:
    """Validate every parameter, naming each bad one, and build the query."""
    errors: list[FieldError] = []
    if type_ is not None and type_ not in TYPES:
        errors.append(FieldError("type", f"must be one of {', '.join(TYPES)}"))
    if state not in STATES:
        errors.append(FieldError("state", f"must be one of {', '.join(STATES)}"))
    if sort.removeprefix("-") not in SORT_KEYS:
        errors.append(FieldError("sort", f"must be one of {', '.join(SORT_KEYS)}, '-' to reverse"))
    pairs = [attr.partition(":") for attr in attrs]
    errors += [FieldError("attr", "must be key:value") for k, sep, _ in pairs if not sep or not k]
    if q is not None and len(q) > 200:
        errors.append(FieldError("q", "must be at most 200 characters"))
    if errors:
        raise MalformedRequest("Invalid query parameters.", errors=errors)
    normalized_phone = _checked_rules(phone, region, utc(created_from), utc(created_to))
    return ListQuery(
        tenant_id=tenant_id,
        text=q.strip() or None if q else None,
        type=type_,
        state=state,
        email=email.strip().lower() if email else None,
        phone=normalized_phone,
        tags=tuple(tags),
        attrs=tuple((key, value) for key, _, value in pairs),
        consent=consent,
        external_id=external_id.strip() or None if external_id else None,
        created_from=utc(created_from),
        created_to=utc(created_to),
        sort=sort,
        limit=limit,
        cursor=cursor,
    )


def _checked_rules(
    phone: str | None, region: str, created_from: datetime | None, created_to: datetime | None
) -> str | None:
    """The phone filter in E.164 (None without one), once the rules the OpenAPI document cannot
    express hold: a well-formed request against one of them is 422, naming each field."""
    rules: list[FieldError] = []
    normalized_phone = None
    if phone:
        normalized_phone = _e164(phone, region)
        if normalized_phone is None:
            rules.append(FieldError("phone", "is not a valid phone number"))
        elif _has_extension(phone, region):
            # Stored numbers never carry one (refused on write); matching the number without
            # it would answer a question the client did not ask.
            rules.append(FieldError("phone", "must not carry an extension"))
    if created_from and created_to and created_from > created_to:
        rules.append(FieldError("createdFrom", "must not be after createdTo"))
    if rules:
        raise ValidationFailed("Invalid query parameters.", errors=rules)
    return normalized_phone


def _e164(phone: str, region: str) -> str | None:
    """The number in E.164, or None when it is not a valid phone number."""
    try:
        parsed = phonenumbers.parse(phone, None if phone.startswith("+") else region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _has_extension(phone: str, region: str) -> bool:
    """True when the (valid) number names an extension: `;ext=5`, `ext. 5`, `x5`."""
    parsed = phonenumbers.parse(phone, None if phone.startswith("+") else region)
    return bool(parsed.extension)


#: The `X-Consistency-Token` header every read takes (declared once for the OpenAPI document).
Token = Annotated[
    str | None,
    HeaderParameter(
        name="X-Consistency-Token",
        required=False,
        description="From a command response: wait until the read models include it.",
        schema_extra={"pattern": TOKEN_PATTERN},
    ),
]
