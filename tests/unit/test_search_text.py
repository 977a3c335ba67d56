"""Pure rules of the search index: folding, words, phone digit forms, `q` parsing, sort keys,
cursors and query plans, with Hypothesis properties."""

from __future__ import annotations

import phonenumbers
import pytest
from hypothesis import given
from hypothesis import strategies as st

from read_side.ports import InvalidCursor, ListQuery
from read_side.search import text
from read_side.search.cursor import Position, decode_cursor, encode_cursor
from read_side.search.model import plan


@pytest.mark.parametrize(
    ("raw", "folded"),
    [("Zoë", "zoe"), ("ZOË", "zoe"), ("Straße", "strasse"), ("ﬁle", "file"), ("\uff21nn", "ann")],
)
def test_fold_is_case_and_accent_insensitive(raw: str, folded: str) -> None:
    assert text.fold(raw) == folded


def test_words_split_on_everything_but_letters_and_digits() -> None:
    assert text.words("ann.lee@example.com") == ["ann", "lee", "example", "com"]
    assert text.words("O'Brien-Smith Zoë_2") == ["o", "brien", "smith", "zoe", "2"]
    assert text.words(None) == [] and text.words("") == []
    doc = {"firstName": "Ann", "lastName": None, "email": "a.lee@x.io", "phone": "+1415"}
    assert text.customer_words(doc) == {"ann", "a", "lee", "x", "io"}


def test_prefixes() -> None:
    assert text.prefixes("anna") == ["a", "an", "ann", "anna"]
    assert text.prefixes("anna", 2) == ["a", "an"]


def test_phone_forms_international_and_national() -> None:
    assert text.phone_forms("+14155552671") == ("14155552671", "4155552671")
    assert text.phone_forms("+442079460958") == ("442079460958", "2079460958", "02079460958")
    assert text.phone_forms("+390612345678") == ("390612345678", "0612345678")
    assert text.phone_forms(None) == () and text.phone_forms("") == ()


def test_phone_digit_tokens_are_3_plus_digit_prefixes_and_suffixes() -> None:
    tokens = text.phone_digit_tokens("+14155552671")
    assert {"141", "1415", "415", "4155", "14155552671", "4155552671"} <= tokens
    assert {"671", "2671", "5552671", "155552671"} <= tokens
    assert not {"55", "555", "5555", "41", "1"} & tokens


@pytest.mark.parametrize(
    ("q", "words", "digits"),
    [
        ("+1 415", (), ("1415",)),
        ("(415) 555-2671", (), ("4155552671",)),
        ("ann 415", ("ann",), ("415",)),
        ("415 Ann 555", ("ann",), ("415", "555")),
        ("Zoë  LEE lee", ("zoe", "lee"), ()),
        ("ann.lee@Example.com", ("ann", "lee", "example", "com"), ()),
        ("12 ann", ("12", "ann"), ()),
        ("ann2024", ("ann2024",), ()),
        ("", (), ()),
        (None, (), ()),
        ("!!! --", (), ()),
    ],
)
def test_parse_text(q: str | None, words: tuple[str, ...], digits: tuple[str, ...]) -> None:
    parsed = text.parse_text(q)
    assert (parsed.words, parsed.digits) == (words, digits)
    assert parsed.empty == (not words and not digits)


def test_sort_keys_are_exact_with_missing_values_last() -> None:
    doc = {
        "firstName": "Ädam",
        "lastName": "  ",
        "email": None,
        "createdAt": "2024-01-02T03:04:05.006Z",
    }
    assert text.sort_key(doc, "firstName") == "0adam"
    assert text.sort_key(doc, "lastName") == text.NULL_KEY
    assert text.sort_key(doc, "email") == text.NULL_KEY
    assert text.sort_key(doc, "createdAt") == "02024-01-02T03:04:05.006Z"
    long_a, long_b = "x" * 90 + "a", "x" * 90 + "b"
    assert text.sort_key({"f": long_a}, "f") < text.sort_key({"f": long_b}, "f") < text.NULL_KEY


def test_attribute_text_and_email_key() -> None:
    assert [text.attribute_text(v) for v in (True, False, 3, 2.5, "Gold")] == [
        "true",
        "false",
        "3",
        "2.5",
        "Gold",
    ]
    assert text.email_key(" Ann.Lee@Example.com ") == "ann.lee@example.com"
    assert text.email_key(None) is None


@pytest.mark.parametrize(
    ("values", "canonical"),
    [
        ((3, 3.0, "3", "3.0", "3e0", "0.3e1"), "3"),
        ((2.5, "2.50", "25e-1"), "2.5"),
        ((-0.0, 0, "-0"), "0"),
        ((2**53, float(2**53)), "9007199254740992"),
        (("007",), "007"),
        (("3 seats",), "3 seats"),
        (("1e999",), "inf"),
    ],
)
def test_numbers_compare_as_numbers(values: tuple[object, ...], canonical: str) -> None:
    assert {text.attribute_text(value) for value in values} == {canonical}


def test_cursor_round_trip_and_rejections() -> None:
    query = ListQuery(tenant_id="t1", text="ann", sort="firstName")
    cursor = encode_cursor(query, Position(key="0ann", id="c-1"))
    assert decode_cursor(
        ListQuery(tenant_id="t1", text="ann", sort="firstName", limit=5, cursor=cursor)
    ) == Position("0ann", "c-1")
    for other in (
        ListQuery(tenant_id="t1", text="ann", sort="-firstName", cursor=cursor),
        ListQuery(tenant_id="t1", text="bob", sort="firstName", cursor=cursor),
        ListQuery(tenant_id="t2", text="ann", sort="firstName", cursor=cursor),
    ):
        with pytest.raises(InvalidCursor):
            decode_cursor(other)
    for garbage in ("", "!!!", "abc", cursor[:-3], "eyJ2IjoxfQ", "x" * 5000):
        with pytest.raises(InvalidCursor):
            decode_cursor(ListQuery(tenant_id="t1", text="ann", sort="firstName", cursor=garbage))


def test_plan_validates_sort_and_limit() -> None:
    for bad in (
        ListQuery(tenant_id="t", sort="name"),
        ListQuery(tenant_id="t", limit=0),
        ListQuery(tenant_id="t", limit=1001),
    ):
        with pytest.raises(ValueError, match=r"sort|limit"):
            plan(bad)
    prepared = plan(ListQuery(tenant_id="t", text="Zoë +1 415", sort="-email", email="A@B.co"))
    assert (prepared.words, prepared.digits, prepared.descending) == (("zoe",), ("1415",), True)
    assert (prepared.sort_key, prepared.email) == ("email", "a@b.co")


# ------------------------------------------------------------------ properties
@given(st.text())
def test_fold_is_idempotent(raw: str) -> None:
    assert text.fold(text.fold(raw)) == text.fold(raw)


@given(st.text())
def test_parsed_tokens_are_folded(raw: str) -> None:
    parsed = text.parse_text(raw)
    assert all(text.fold(token) == token for token in parsed.words)
    assert all(token.isdigit() and len(token) >= 3 for token in parsed.digits)


def _found(name: str, q: str) -> bool:
    words = text.words(name)
    return all(any(word.startswith(token) for word in words) for token in text.parse_text(q).words)


@given(st.text(min_size=1, max_size=40))
def test_every_word_of_a_name_is_found_by_each_of_its_prefixes(name: str) -> None:
    for word in text.words(name):
        for prefix in text.prefixes(word):
            if not (prefix.isascii() and prefix.isdigit() and len(prefix) >= 3):
                assert _found(name, prefix), (name, prefix)


@given(st.lists(st.from_regex(r"[A-Za-zÀ-ÿ]{1,12}", fullmatch=True), min_size=1, max_size=3))
def test_latin_names_are_found_whatever_the_case_of_the_query(parts: list[str]) -> None:
    name = " ".join(parts)
    for part in parts:
        for size in range(1, len(part) + 1):
            assert _found(name, part[:size].upper()) and _found(name, part[:size].lower())


@given(st.sampled_from(sorted(phonenumbers.SUPPORTED_REGIONS)))
def test_every_phone_is_found_by_its_3_plus_digit_prefixes_and_suffixes(region: str) -> None:
    number = phonenumbers.example_number(region)
    if number is None:
        return
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    tokens = text.phone_digit_tokens(e164)
    for form in text.phone_forms(e164):
        for size in range(3, len(form) + 1):
            assert form[:size] in tokens
    digits = text.phone_forms(e164)[0]
    assert all(digits[-size:] in tokens for size in range(3, len(digits) + 1))


@pytest.mark.parametrize("region", sorted(phonenumbers.SUPPORTED_REGIONS))
def test_every_region_finds_a_phone_by_how_it_is_dialled_at_home(region: str) -> None:
    """The national dialling form (trunk prefix included: GB 020…, DE 030…, FR 01…, RU 8…)
    is searchable in every region, not only the digits after the country code."""
    number = phonenumbers.example_number(region)
    if number is None:
        return
    e164 = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)
    national = phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.NATIONAL)
    dialled = "".join(ch for ch in national if ch.isdigit())
    tokens = text.phone_digit_tokens(e164)
    assert dialled in text.phone_forms(e164), (region, national)
    for size in range(3, len(dialled) + 1):
        assert dialled[:size] in tokens, (region, dialled[:size])


@pytest.mark.parametrize(
    ("e164", "typed"),
    [
        ("+442079460055", "020 7946 0055"),
        ("+493012345678", "030 12345678"),
        ("+33123456789", "01 23 45 67 89"),
        ("+79123456789", "8 (912) 345-67-89"),
        ("+34912345678", "912 34 56 78"),
        ("+14155552671", "(415) 555-2671"),
        ("+14155552672;ext=5", "(415) 555-2672"),
    ],
)
def test_national_forms_as_typed(e164: str, typed: str) -> None:
    (token,) = text.parse_text(typed).digits
    assert token in text.phone_digit_tokens(e164)
    assert token[:6] in text.phone_digit_tokens(e164)
