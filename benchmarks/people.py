"""Realistic, deterministic customer data for the benchmarks: accented first and last names,
emails derived from them, E.164 phones of several countries, tags, types, attributes.

Every function takes a `random.Random`, so a seed gives the same data set on every run.
"""

from __future__ import annotations

import random
import re
import unicodedata
from typing import Any

import phonenumbers

FIRST_NAMES = (
    "Ann", "Anna", "Anne", "Annika", "Annette", "Anouk", "Zoë", "José", "Jörg", "Chloé",
    "Renée", "Søren", "Łukasz", "François", "Mónica", "João", "Björn", "Inês", "Noémie",
    "Zoltán", "Ángel", "Héloïse", "John", "Joanna", "Jonas", "Josh", "Jolene", "Maria",
    "Mário", "Olivia", "Liam", "Emma", "Noah", "Ava", "Mia", "Lucas", "Sofía", "Mateo",
    "Léa", "Hugo", "Chiara", "Giulia", "Matteo", "Aleksander", "Małgorzata", "Dmitri",
    "Yuki", "Wei", "Priya", "Aarav", "Fatima", "Omar", "Nuno", "Ærin", "Çağla", "Øyvind",
    "Eléonore", "Agnès", "Pál", "Dagný", "Ilse", "Kai", "Sven", "Ingrid", "Tomás", "Ciarán",
)  # fmt: skip
LAST_NAMES = (
    "Smith", "Smythe", "Smart", "Johnson", "Jones", "García", "Martínez", "Müller",
    "Schmidt", "Østergaard", "Dubois", "Lefèvre", "Rossi", "Kowalski", "Nowak", "Silva",
    "Gonçalves", "Lee", "Kim", "Nguyễn", "Tanaka", "Brown", "Sánchez", "Fernández", "Öztürk",
    "Łęcki", "Novák", "Dvořák", "Andersson", "Jóhannsdóttir", "O'Brien", "MacDonald",
    "van der Berg", "Zhang", "Annan", "Petrović", "Şahin", "Bäcker", "Weiß", "Ruiz",
    "Moreau", "Laurent", "Bianchi", "Romano", "Horváth", "Kovač", "Jensen", "Hansen",
    "Virtanen", "Korhonen", "Murphy", "Kelly", "Walsh", "Costa", "Pereira", "Ferreira",
)  # fmt: skip
DOMAINS = ("example.com", "mail.example.org", "corp.example.net", "posteo.example", "web.de")
TAGS = (
    "vip", "newsletter", "b2b", "wholesale", "loyal", "event-2026", "spring", "summer",
    "family", "student", "press", "partner", "late-payer", "allergy", "wheelchair",
)  # fmt: skip
TYPES = (("regular", 50), ("new", 25), ("unregistered", 20), ("anonymous", 5))
_NOT_ALNUM = re.compile(r"[^a-z0-9]+")


def ascii_slug(text: str) -> str:
    """`Łęcki O'Brien` → `lecki.obrien` (for email local parts)."""
    decomposed = unicodedata.normalize("NFKD", text.replace("ł", "l").replace("Ł", "L"))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    plain = plain.replace("ø", "o").replace("æ", "ae").replace("ß", "ss").replace("'", "")
    return _NOT_ALNUM.sub(".", plain).strip(".")


def phone(rng: random.Random) -> str:
    """A valid E.164 number: US, UK, France, Germany or Italy (leading zero kept)."""
    while True:
        number = _any_phone(rng)
        if phonenumbers.is_valid_number(phonenumbers.parse(number, None)):
            return number


def _any_phone(rng: random.Random) -> str:
    country = rng.random()
    if country < 0.5:
        area = rng.choice(("212", "415", "646", "718", "312", "617"))
        return f"+1{area}{rng.randint(200, 999)}{rng.randint(0, 9999):04d}"
    if country < 0.65:
        return f"+447{rng.randint(100, 999)}{rng.randint(0, 999999):06d}"
    if country < 0.8:
        return f"+336{rng.randint(0, 99999999):08d}"
    if country < 0.9:
        return f"+4930{rng.randint(1000000, 9999999)}"
    return f"+3906{rng.randint(1000000, 99999999)}"


def customer_type(rng: random.Random) -> str:
    """A type with the weights of `TYPES`."""
    return rng.choices([name for name, _ in TYPES], [weight for _, weight in TYPES])[0]


def profile(rng: random.Random, number: int, kind: str) -> dict[str, Any]:
    """A full profile valid for `kind` (anonymous customers have no email nor phone).

    `number` makes the email unique."""
    first, last = rng.choice(FIRST_NAMES), rng.choice(LAST_NAMES)
    tags = rng.sample(TAGS, rng.choice((0, 1, 1, 2, 3)))
    result: dict[str, Any] = {
        "firstName": first,
        "lastName": last,
        "email": f"{ascii_slug(first)}.{ascii_slug(last)}{number}@{rng.choice(DOMAINS)}",
        "phone": phone(rng) if rng.random() < 0.85 else None,
        "dateOfBirth": None,
        "notes": "prefers e-mail" if rng.random() < 0.1 else None,
        "tags": tags,
        "attributes": {"tier": rng.choice(("gold", "silver", "bronze"))}
        if rng.random() < 0.3
        else {},
    }
    if kind == "anonymous":
        result["email"] = None
        result["phone"] = None
    return result


def change(rng: random.Random, number: int, current: dict[str, Any]) -> dict[str, Any]:
    """A realistic partial update: new tags, a new phone, a married name or a new email."""
    pick = rng.random()
    if pick < 0.35:
        return {"tags": rng.sample(TAGS, rng.choice((1, 2, 3)))}
    if pick < 0.6 and current.get("phone"):
        return {"phone": phone(rng)}
    if pick < 0.8:
        return {"lastName": rng.choice(LAST_NAMES)}
    if current.get("email"):
        first = ascii_slug(str(current.get("firstName") or "x"))
        return {"email": f"{first}.{number}@{rng.choice(DOMAINS)}"}
    return {"notes": f"called on {number}"}
