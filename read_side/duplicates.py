"""Likely duplicates of a customer, found through the search index and scored by pure rules.

Candidates come from the search index's exact match keys (`read_side.search.match_keys`: the
phone, the folded email local part, the folded name in any word order, the folded last name —
one range read each, in one round trip), not from full-text queries. Each candidate's
document is then scored (`score`):

- `same_phone` (weight 0.6): equal E.164 numbers.
- `same_email_local_part` (0.45): equal local parts (case-folded) at other domains.
- `similar_name` (0.5 * similarity): trigram similarity of at least 0.6 between the accent-
  and case-folded full names, in either order (`Zoë Lee` ~ `zoe lee` ~ `Lee Zoe`,
  `Jon Smith` ~ `John Smith`).
- `same_birth_date` (0.3): equal dates of birth, only beside another reason (alone it says
  little).

The score is `1 - prod(1 - weight)` over the reasons found: from 0 to 1, higher with every
independent piece of evidence. Suggestions below `MIN_SCORE` are dropped; the best
`MAX_SUGGESTIONS` are returned, best first (ties by id). Trigrams were chosen over a phonetic
code: they work for every script the names come in, not only English spelling.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence

from read_side.deadline import within
from read_side.ports import CustomerViewStore, SearchIndex
from read_side.queries import CustomerQueries
from read_side.search.match_keys import match_keys
from read_side.search.text import fold, words
from read_side.views import CustomerDoc
from shared.errors import NotFound
from shared.json_types import JSONObject

MIN_SCORE = 0.3
MAX_SUGGESTIONS = 10
SIMILAR_NAME = 0.6
#: The fields `score` and `rank` read: a candidate's orders, payments and history are not
#: decoded (up to a hundred candidates per suggestion at 100,000 customers).
SCORED = ("state", "phone", "email", "firstName", "lastName", "dateOfBirth")


@functools.lru_cache(maxsize=4096)
def trigrams(text: str) -> frozenset[str]:
    """The trigrams of a folded, space-padded text (`"ann"` → `"  a", " an", "ann", "nn "`);
    cached: the asking customer's name meets every candidate's."""
    padded = f"  {text} "
    return frozenset(padded[i : i + 3] for i in range(len(padded) - 2))


def similarity(left: str, right: str) -> float:
    """Jaccard similarity of the trigram sets (1.0 for equal texts, 0.0 with nothing shared)."""
    a, b = trigrams(left), trigrams(right)
    return len(a & b) / len(a | b) if a and b else 0.0


def full_name(doc: CustomerDoc, *, transposed: bool = False) -> str:
    """The folded `first last` (or `last first`) name, single-spaced."""
    parts = [doc.get("firstName"), doc.get("lastName")]
    if transposed:
        parts.reverse()
    return " ".join(" ".join(words(part)) for part in parts if isinstance(part, str)).strip()


def _local_part(doc: CustomerDoc) -> tuple[str, str] | None:
    email = doc.get("email")
    if not isinstance(email, str) or "@" not in email:
        return None
    local, _, domain = email.rpartition("@")
    return fold(local), domain.casefold()


def score(doc: CustomerDoc, other: CustomerDoc) -> tuple[float, list[str]]:
    """How likely `other` is the same person as `doc`, and why."""
    reasons: list[tuple[str, float]] = []
    if doc.get("phone") and doc.get("phone") == other.get("phone"):
        reasons.append(("same_phone", 0.6))
    mine, theirs = _local_part(doc), _local_part(other)
    if mine and theirs and mine[0] == theirs[0] and mine[1] != theirs[1]:
        reasons.append(("same_email_local_part", 0.45))
    name = full_name(doc)
    if name:
        alike = max(similarity(name, full_name(other)),
                    similarity(name, full_name(other, transposed=True)))  # fmt: skip
        if alike >= SIMILAR_NAME:
            reasons.append(("similar_name", 0.5 * alike))
    if reasons and doc.get("dateOfBirth") and doc.get("dateOfBirth") == other.get("dateOfBirth"):
        reasons.append(("same_birth_date", 0.3))
    remaining = 1.0
    for _, weight in reasons:
        remaining *= 1 - weight
    return round(1 - remaining, 3), [reason for reason, _ in reasons]


def rank(doc: CustomerDoc, candidates: Sequence[CustomerDoc]) -> list[JSONObject]:
    """The suggestions for `doc` among `candidates`, best first."""
    found: list[JSONObject] = []
    for other in candidates:
        if other["id"] == doc["id"] or other.get("state") != "active":
            continue
        value, reasons = score(doc, other)
        if value >= MIN_SCORE:
            found.append({"customerId": other["id"], "score": value, "reasons": reasons})
    found.sort(key=lambda item: (-float(item["score"]), str(item["customerId"])))
    return found[:MAX_SUGGESTIONS]


def candidate_keys(doc: CustomerDoc) -> list[str]:
    """The match keys a customer's likely duplicates are filed under: its own, the phone's
    and the local part's first (the strongest evidence), then the names'."""
    return sorted(
        match_keys({**doc, "state": "active"}), key=lambda key: ("plns".index(key[0]), key)
    )


class DuplicateFinder:
    """`GET /customers/{id}/duplicates` over the search index and the view store."""

    def __init__(self, queries: CustomerQueries) -> None:
        self._queries = queries

    async def suggest(
        self, tenant_id: str, customer_id: str, token: str | None
    ) -> list[JSONObject]:
        """Likely duplicates of the customer, best first; 404 when it is not the tenant's."""
        await self._queries.search_waiter.wait(token)
        doc = await self._queries.document(tenant_id, customer_id)
        if doc is None:
            raise NotFound("No customer with this id.")
        index = await self._queries.index.current()
        views = await self._queries.views.current()
        return await within(
            self._queries.timeout, find_duplicates(doc, index, views), "the search index"
        )


async def find_duplicates(
    doc: CustomerDoc, index: SearchIndex, views: CustomerViewStore
) -> list[JSONObject]:
    """The suggestions for a customer document: candidates from the index, scored."""
    tenant_id = str(doc["tenantId"])
    ids = [i for i in await index.candidates(tenant_id, candidate_keys(doc)) if i != doc["id"]]
    candidates = await views.get_many(tenant_id, ids, SCORED) if ids else []
    return rank(doc, candidates)
