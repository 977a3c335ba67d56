"""What the adapters index per customer (`Entry`) and what they look up per query (`Plan`).

Both are derived by pure functions from a customer document and a `ListQuery`, so the
SQLite and Redis adapters agree on every matching rule.

Filter rules: `type` and `state` exact; `email` exact after trimming and casefolding;
`phone` exact E.164 (the caller normalises); `tag` exact and case-sensitive, every tag must
be present; `attr` `key:value` exact on the key and on the value's string form (`true` /
`false` for booleans), every pair must match; `consent` a purpose whose consent is currently
granted; `externalId` exact (case-sensitive, trimmed); `createdFrom` / `createdTo` inclusive
bounds on `createdAt`.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass

from read_side.ports import SORT_KEYS, ListQuery
from read_side.search import text
from read_side.search.cursor import Position, decode_cursor
from read_side.search.match_keys import match_keys
from read_side.views import CustomerDoc
from shared.clock import iso_utc
from shared.json_types import JSONObject

#: The index's page bound. The API's is its `limit` parameter's (100); a bulk reader (the
#: export) pages by `read_side.export.PAGE` (1,000: a tenth of the round trips).
MAX_LIMIT = 1000
SEP = "\x1f"
STATES = ("active", "deleted", "erased", "merged")  # a merged one is in no list
# Document fields the index never searches, dropped from its copy (less data, less personal
# data), with the empty value `evolve` starts from.
UNINDEXED: JSONObject = {
    "notes": None,
    "dateOfBirth": None,
    "stateHistory": [],
    "orders": {},
    "payments": {},
    "billing": None,
    "invoices": {},
    "merges": {},
}


@dataclass(frozen=True)
class Entry:
    """The indexed form of one customer document."""

    tenant_id: str
    id: str
    version: int
    state: str
    type: str
    email: str | None
    phone: str | None
    created_at: str
    words: frozenset[str]
    digits: frozenset[str]
    facets: frozenset[str]
    sort_keys: dict[str, str]
    match_keys: frozenset[str] = frozenset()


@dataclass(frozen=True)
class Plan:
    """A validated query: filters, text tokens, order and where to start."""

    tenant_id: str
    state: str
    type: str | None
    email: str | None
    phone: str | None
    words: tuple[str, ...]
    digits: tuple[str, ...]
    facets: tuple[str, ...]
    created_from: str | None
    created_to: str | None
    sort_key: str
    descending: bool
    limit: int
    after: Position | None


def tag_facet(tag: str) -> str:
    """The facet of a tag."""
    return f"tag{SEP}{tag}"


def attr_facet(key: str, value: object) -> str:
    """The facet of an attribute pair, compared on the value's string form."""
    return f"attr{SEP}{key}{SEP}{text.attribute_text(value)}"


def consent_facet(purpose: str) -> str:
    """The facet of a currently granted consent purpose."""
    return f"consent{SEP}{purpose}"


def external_id_facet(external_id: str) -> str:
    """The facet of an `externalId` (exact, case-sensitive: at most one customer has it)."""
    return f"ext{SEP}{external_id}"


def _doc_facets(doc: CustomerDoc) -> frozenset[str]:
    facets = {tag_facet(tag) for tag in doc.get("tags") or () if isinstance(tag, str)}
    if isinstance(doc.get("externalId"), str):
        facets.add(external_id_facet(doc["externalId"]))
    attributes = doc.get("attributes") or {}
    facets.update(attr_facet(key, value) for key, value in attributes.items())
    consents = doc.get("consents") or {}
    for purpose, consent in consents.items():
        if isinstance(consent, dict) and consent.get("granted") is True:
            facets.add(consent_facet(purpose))
    return frozenset(facets)


def entry(doc: CustomerDoc) -> Entry:
    """What gets indexed for a customer document."""
    phone = doc.get("phone") if isinstance(doc.get("phone"), str) else None
    return Entry(
        tenant_id=str(doc["tenantId"]),
        id=str(doc["id"]),
        version=int(doc["version"]),
        state=str(doc.get("state") or "active"),
        type=str(doc.get("type") or "unregistered"),
        email=text.email_key(doc.get("email") if isinstance(doc.get("email"), str) else None),
        phone=phone,
        created_at=str(doc.get("createdAt") or ""),
        words=frozenset(text.customer_words(doc)),
        digits=frozenset(text.phone_digit_tokens(phone)),
        facets=_doc_facets(doc),
        sort_keys={key: text.sort_key(doc, key) for key in SORT_KEYS},
        match_keys=match_keys(doc),
    )


def stored(doc: CustomerDoc) -> CustomerDoc:
    """The document as the index keeps it: without the fields it never searches (notes, date
    of birth, history, orders, payments, billing, invoices), so it holds only what it needs."""
    return {key: value for key, value in doc.items() if key not in UNINDEXED}


def restored(doc: CustomerDoc) -> CustomerDoc:
    """A stored document made whole enough for `evolve` (the dropped fields empty)."""
    return copy.deepcopy(UNINDEXED) | doc


def plan(query: ListQuery) -> Plan:
    """Validate and prepare a query; `ValueError` for a bad sort or limit, `InvalidCursor`
    for a bad cursor."""
    descending = query.sort.startswith("-")
    sort_key = query.sort[1:] if descending else query.sort
    if sort_key not in SORT_KEYS:
        raise ValueError(f"unknown sort {query.sort!r}")
    if isinstance(query.limit, bool) or not 1 <= query.limit <= MAX_LIMIT:
        raise ValueError(f"limit must be between 1 and {MAX_LIMIT}")
    parsed = text.parse_text(query.text)
    facets = [tag_facet(tag) for tag in query.tags]
    facets += [attr_facet(key, value) for key, value in query.attrs]
    if query.consent is not None:
        facets.append(consent_facet(query.consent))
    if query.external_id is not None:
        facets.append(external_id_facet(query.external_id))
    return Plan(
        tenant_id=query.tenant_id,
        state=query.state,
        type=query.type,
        email=text.email_key(query.email),
        phone=query.phone,
        words=parsed.words,
        digits=parsed.digits,
        facets=tuple(dict.fromkeys(facets)),
        created_from=iso_utc(query.created_from) if query.created_from else None,
        created_to=iso_utc(query.created_to) if query.created_to else None,
        sort_key=sort_key,
        descending=descending,
        limit=query.limit,
        after=decode_cursor(query),
    )


def matches(item: Entry, query: Plan) -> bool:
    """Whether an indexed customer matches a query's filters (paging aside), by the rules
    every adapter implements; for the few customers an export checks outside the index."""
    if (item.tenant_id, item.state) != (query.tenant_id, query.state):
        return False
    for wanted, held in ((query.type, item.type), (query.email, item.email),
                         (query.phone, item.phone)):  # fmt: skip
        if wanted is not None and wanted != held:
            return False
    if not all(any(word.startswith(prefix) for word in item.words) for prefix in query.words):
        return False
    if not set(query.digits) <= item.digits or not set(query.facets) <= item.facets:
        return False
    if query.created_from is not None and item.created_at < query.created_from:
        return False
    return query.created_to is None or item.created_at <= query.created_to
