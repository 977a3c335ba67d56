"""Value objects: normalisation rules and Hypothesis properties."""

from __future__ import annotations

from datetime import date

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from write_side.domain import values
from write_side.domain.values import InvalidValue

TODAY = date(2026, 1, 15)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("  Ann.Lee@Example.COM ", "Ann.Lee@example.com"),
        ("x+tag@sub.example.org", "x+tag@sub.example.org"),
        ("o'brien@example.ie", "o'brien@example.ie"),
    ],
)
def test_email_is_trimmed_and_domain_lower_cased(raw: str, expected: str) -> None:
    assert values.normalize_email(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "",
        "plain",
        "a@b",
        "a@@b.com",
        "a b@c.com",
        ".a@b.com",
        "a.@b.com",
        "a@-b.com",
        "a@b.c0m",
        "a" * 65 + "@b.com",
        "a@" + "b" * 250 + ".com",
        "a@b..com",
        "a\x00@b.com",
    ],
)
def test_invalid_emails_are_refused(raw: str) -> None:
    with pytest.raises(InvalidValue):
        values.normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "region", "expected"),
    [
        ("(415) 555-2671", "US", "+14155552671"),
        ("+1 415 555 2671", "DE", "+14155552671"),
        ("020 7183 8750", "GB", "+442071838750"),
        ("030 123456", "DE", "+4930123456"),
    ],
)
def test_phone_is_stored_in_e164(raw: str, region: str, expected: str) -> None:
    assert values.normalize_phone(raw, region) == expected


@pytest.mark.parametrize("raw", ["123", "+1 555 0100", "not a phone", "+999 1234567", "1" * 41])
def test_invalid_phones_are_refused_not_formatted(raw: str) -> None:
    with pytest.raises(InvalidValue):
        values.normalize_phone(raw, "US")


def test_names_refuse_blank_control_characters_and_overlong_text() -> None:
    assert values.normalize_name("  Zoë ") == "Zoë"
    for bad in ["   ", "A\x07nn", "A" * 101, "bad\u202eRTL"]:
        with pytest.raises(InvalidValue):
            values.normalize_name(bad)


def test_notes_allow_newlines_but_not_other_control_characters() -> None:
    assert values.normalize_notes("line 1\nline 2") == "line 1\nline 2"
    with pytest.raises(InvalidValue):
        values.normalize_notes("bell\x07")
    with pytest.raises(InvalidValue):
        values.normalize_notes("x" * 2001)


def test_date_of_birth_must_be_real_and_not_in_the_future() -> None:
    assert values.normalize_date_of_birth("1990-02-28", TODAY) == "1990-02-28"
    for bad in ["1990-02-30", "2026-01-16", "90-1-1", "1899-12-31"]:
        with pytest.raises(InvalidValue):
            values.normalize_date_of_birth(bad, TODAY)


def test_tags_and_attributes_limits() -> None:
    assert values.normalize_tags([" vip ", "vip", "new"]) == ["vip", "new"]
    with pytest.raises(InvalidValue):
        values.normalize_tags([str(i) for i in range(51)])
    with pytest.raises(InvalidValue):
        values.normalize_tags(["x" * 51])
    assert values.normalize_attributes({"tier": "gold", "score": 3, "ok": True}) == {
        "tier": "gold",
        "score": 3,
        "ok": True,
    }
    for bad in [{f"k{i}": i for i in range(51)}, {"1bad": 1}, {"k": float("nan")}, {"k": 2**60}]:
        with pytest.raises(InvalidValue):
            values.normalize_attributes(bad)  # type: ignore[arg-type]


emails = st.from_regex(
    r"[A-Za-z0-9._%+-]{1,20}@[A-Za-z0-9]{1,10}\.(com|ORG|Net|io)", fullmatch=True
)


@given(emails)
def test_email_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = values.normalize_email(raw)
    except InvalidValue:
        return
    assert values.normalize_email(once) == once


@given(st.text(max_size=30), st.sampled_from(["US", "GB", "DE", "FR", "IN", "BR"]))
def test_every_accepted_phone_is_valid_e164_and_stable(raw: str, region: str) -> None:
    try:
        e164 = values.normalize_phone(raw, region)
    except InvalidValue:
        return
    parsed = phonenumbers.parse(e164, None)
    assert phonenumbers.is_valid_number(parsed)
    assert e164.startswith("+") and e164[1:].isdigit() and len(e164) <= 16
    assert values.normalize_phone(e164, "US") == e164


@given(st.integers(min_value=2_000_000_000, max_value=9_999_999_999))
def test_us_digit_strings_normalise_to_e164_or_are_refused(number: int) -> None:
    try:
        e164 = values.normalize_phone(str(number), "US")
    except InvalidValue:
        return
    assert e164 == "+1" + str(number)


@given(st.text(max_size=120))
def test_name_normalisation_is_idempotent(raw: str) -> None:
    try:
        once = values.normalize_name(raw)
    except InvalidValue:
        return
    assert values.normalize_name(once) == once


LINE_BREAKS = ["\u2028", "\u2029", "\x85", "\x0b", "\x0c", "\x1c", "\x1e"]


@pytest.mark.parametrize("separator", LINE_BREAKS)
def test_unicode_line_and_paragraph_separators_are_refused_in_every_text(separator: str) -> None:
    """A name or tag is one line; notes may break lines, but only with CR, LF (and tabs)."""
    text = f"Ann{separator}Lee"
    for normalize in (values.normalize_name, values.normalize_notes):
        with pytest.raises(InvalidValue):
            normalize(text)
    with pytest.raises(InvalidValue):
        values.normalize_tags([text])
    with pytest.raises(InvalidValue):
        values.normalize_attributes({"note": text})
    assert values.normalize_notes("line one\r\nline two\tend") == "line one\r\nline two\tend"


@pytest.mark.parametrize(
    "raw", ["+1 415 555 2672 ext. 5", "+1 415 555 2672 x5", "(415) 555-2672 ext 12",
            "+14155552672;ext=5", "+44 20 7946 0055 extension 3"],
)  # fmt: skip
def test_a_phone_extension_is_refused_not_dropped(raw: str) -> None:
    with pytest.raises(InvalidValue, match="extension"):
        values.normalize_phone(raw, "US")
