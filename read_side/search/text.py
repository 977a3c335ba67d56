"""Pure text rules of the search index, shared by every adapter.

- `fold`: NFKD, combining marks stripped, casefolded (repeated until stable), NUL removed.
- Words: maximal runs of letters/digits of the folded text ("ann.lee@example.com" -> ann, lee,
  example, com). A word of `q` matches a customer when it is a prefix of a word of the
  customer's first name, last name or email.
- Phone digit forms: the international digits of the E.164 number, its national
  significant number (with Italy's leading zero kept) and its national dialling form (trunk
  prefix included, e.g. GB `020…`). A digit token of `q` (3+ digits) matches when a form
  starts with it or ends with it.
- Sort keys: `"0" + folded value` (or the raw ISO time for time fields), `"1"` for a missing
  value, so missing values sort after every value and plain code-point / UTF-8 byte order of
  the key is the exact order (descending, the adapters read the missing ones last too).
"""

from __future__ import annotations

import functools
import math
import re
import unicodedata
from dataclasses import dataclass

import phonenumbers
from phonenumbers import COUNTRY_CODE_TO_REGION_CODE

from shared.json_types import JSONObject

MIN_DIGITS = 3
MAX_DIGITS = 15
TEXT_FIELDS = ("firstName", "lastName", "email")
TIME_SORT_KEYS = frozenset({"createdAt", "updatedAt", "lastVisitAt"})
NULL_KEY = "1"

_WORD = re.compile(r"[^\W_]+")
_DIGITS_ONLY = re.compile(r"[0-9]+")
_PHONE_GLUE = re.compile(r"[\s+().\-/]*")


@dataclass(frozen=True)
class ParsedText:
    """`q` split into word tokens (prefix-match words) and digit tokens (phone match)."""

    words: tuple[str, ...]
    digits: tuple[str, ...]

    @property
    def empty(self) -> bool:
        """True when `q` holds nothing searchable."""
        return not self.words and not self.digits


def _strip_marks(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def fold(text: str) -> str:
    """Case- and accent-insensitive form: NFKD, marks stripped, casefolded, NUL removed."""
    current = text.replace("\x00", "")
    if current.isascii():
        return current.lower()  # ASCII: NFKD changes nothing, casefold is lower
    for _ in range(4):
        folded = _strip_marks(_strip_marks(current).casefold())
        if folded == current:
            break
        current = folded
    return current


def words(text: str | None) -> list[str]:
    """The folded words of a text (letters and digits; everything else separates)."""
    if not text:
        return []
    return _WORD.findall(fold(text))


def customer_words(doc: JSONObject) -> set[str]:
    """Every word of the customer's first name, last name and email."""
    found: set[str] = set()
    for field in TEXT_FIELDS:
        value = doc.get(field)
        if isinstance(value, str):
            found.update(words(value))
    return found


def prefixes(word: str, max_length: int | None = None) -> list[str]:
    """Every non-empty prefix of `word`, up to `max_length` characters."""
    top = len(word) if max_length is None else min(len(word), max_length)
    return [word[:size] for size in range(1, top + 1)]


@functools.lru_cache(maxsize=16_384)
def phone_forms(e164: str | None) -> tuple[str, ...]:
    """Digit forms of a phone: international digits, the national significant number (the
    digits after the country code: E.164 country codes are prefix-free, 1-3 digits), and the
    number as dialled at home (its national format, trunk prefix included: GB `020…`,
    DE `030…`, FR `01…`, RU `8…`), when that differs. An extension (`;ext=`) is not dialled
    digits and takes no part."""
    if not e164:
        return ()
    number = number_part(e164)
    international = "".join(_DIGITS_ONLY.findall(number))
    if not international:
        return ()
    forms = [international]
    for size in (1, 2, 3):
        if int(international[:size]) in COUNTRY_CODE_TO_REGION_CODE:
            if international[size:]:
                forms.append(international[size:])
            break
    dialled = _dialled_at_home(number)
    if dialled and dialled not in forms:
        forms.append(dialled)
    return tuple(forms)


def number_part(phone: str) -> str:
    """The number without its extension (`+14155552672;ext=5` → `+14155552672`)."""
    return phone.split(";", 1)[0]


def _dialled_at_home(number: str) -> str | None:
    try:
        parsed = phonenumbers.parse(number, None)
    except phonenumbers.NumberParseException:
        return None
    national = phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.NATIONAL)
    return "".join(_DIGITS_ONLY.findall(national)) or None


def phone_prefixes(e164: str | None) -> set[str]:
    """Every 3+ digit prefix of every digit form of the phone."""
    return {
        form[:size]
        for form in phone_forms(e164)
        for size in range(MIN_DIGITS, min(len(form), MAX_DIGITS) + 1)
    }


def phone_suffixes(e164: str | None) -> set[str]:
    """Every 3+ digit suffix of the phone's digits (national suffixes are among them)."""
    forms = phone_forms(e164)
    if not forms:
        return set()
    international = forms[0]
    top = min(len(international), MAX_DIGITS)
    return {international[-size:] for size in range(MIN_DIGITS, top + 1)}


def phone_digit_tokens(e164: str | None) -> set[str]:
    """Every digit token that matches this phone (its 3+ digit prefixes and suffixes)."""
    return phone_prefixes(e164) | phone_suffixes(e164)


def _is_digits(part: str) -> bool:
    return part.isascii() and part.isdigit()


def parse_text(text: str | None) -> ParsedText:
    """Split `q` into tokens. Words made of ASCII digits only, separated by nothing but spaces
    or phone punctuation (`+1 (415) 555-2671`), join into one digit run; a run of 3+ digits
    is a digit token, anything else is a folded word token. Duplicates are dropped."""
    found_words: list[str] = []
    found_digits: list[str] = []
    group: list[str] = []

    def flush() -> None:
        joined = "".join(group)
        if len(joined) >= MIN_DIGITS:
            found_digits.append(joined)
        else:
            found_words.extend(group)
        group.clear()

    folded = fold(text or "")
    last_end = 0
    for match in _WORD.finditer(folded):
        part = match.group()
        joins = _PHONE_GLUE.fullmatch(folded[last_end : match.start()]) is not None
        if group and not (_is_digits(part) and joins):
            flush()
        if _is_digits(part):
            group.append(part)
        else:
            found_words.append(part)
        last_end = match.end()
    if group:
        flush()
    return ParsedText(tuple(dict.fromkeys(found_words)), tuple(dict.fromkeys(found_digits)))


def sort_key(doc: JSONObject, key: str) -> str:
    """The exact sort key of a document for a sort field (see the module docstring)."""
    value = doc.get(key)
    if value is None or (isinstance(value, str) and not value.strip()):
        return NULL_KEY
    text = str(value)
    if key in TIME_SORT_KEYS:
        return "0" + text.replace("\x00", "")
    return "0" + fold(text)


_JSON_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")


def attribute_text(value: object) -> str:
    """The string form attribute filters compare: `true`/`false` for booleans, and one
    canonical form per number, so `attr=seats:3` finds `3`, `3.0` and `"3"` alike (a query
    value has no type, and a stored float `3.0` is the number 3)."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number_text(value)
    text = str(value)
    if _JSON_NUMBER.fullmatch(text):
        is_integer = text.lstrip("-").isdigit()
        return _number_text(int(text) if is_integer else float(text))
    return text


def _number_text(number: float) -> str:
    """Integers (and integral floats within 2^53) as digits, other floats as `repr`."""
    if isinstance(number, int):
        return str(number)
    if not math.isfinite(number):
        return repr(number)
    if number.is_integer() and abs(number) <= 2**53:
        return str(int(number))
    return repr(number)


def email_key(email: str | None) -> str | None:
    """The form the exact, case-insensitive email filter compares."""
    if email is None:
        return None
    folded = email.strip().casefold()
    return folded or None
