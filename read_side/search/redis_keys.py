"""Key layout of the Redis search index (pure).

Every key of a tenant carries the hash tag `{tenant}` (percent-encoded), so a tenant lives in
one Redis Cluster slot. With `P = {prefix}:g{generation}:{tenant}`:

| key | type | holds |
|---|---|---|
| `P:c:<id>` | string | the customer document as JSON, without notes, date of birth, history |
| `P:k:<sort>` | hash | id -> exact sort key (one hash per sort field) |
| `P:n:<sort>` | set | ids without a value for that sort field |
| `P:w:<prefix>` | set | ids with a word starting with `<prefix>` (1-10 characters) |
| `P:d:<digits>` | set | ids whose phone digit forms start or end with `<digits>` (3-4) |
| `P:s:<state>`, `P:y:<type>` | set | ids per state, per type |
| `P:f:<facet>` | set | ids per tag / attribute pair / granted consent |
| `P:b:<state>:<y / y-m / y-m-d>` | set | ids per state and UTC createdAt year, month, day |
| `P:wx` | zset, lex | `<word>\\0<id>` for words longer than 10 characters |
| `P:pf`, `P:ps` | zset, lex | `<digits>\\0<id>`: phone digit forms; reversed international digits |
| `P:ex`, `P:hx` | zset, lex | `<email>\\0<id>`, `<phone>\\0<id>` (exact filters) |
| `P:mx` | zset, lex | `<match key>\\0<id>` of active customers (`match_keys`: duplicates) |
| `P:z:<state>:<sort>` | zset, lex | `<sort key>\\0<id>`: BYLEX order is the exact order |
| `P:t:<state>` | zset | id scored by createdAt (epoch ms), for createdAt ranges |
| `P:tmp` | zset | scratch of the search script, deleted before it returns |
| `P:epoch` | string | on a Redis Cluster: the largest lease epoch that wrote this tenant |

Short prefixes are sets (cardinality and membership in O(1)); long prefixes, long digit runs,
emails and phones, which are nearly unique, are ranges of one lex zset each instead of
hundreds of thousands of one-member sets. Outside tenants, with `M = {prefix}:projection:{name}`:
`M:g{n}:checkpoint`, `M:epoch` (the largest lease epoch that wrote) and `M:active`. On a Redis
Cluster `M` is `{prefix}:projection:{{name}}` instead: the hash tag puts the checkpoint and the
epoch in one slot, as the script that moves the checkpoint under the epoch's check needs.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import quote

from read_side.ports import SORT_KEYS
from read_side.search.model import Entry, Plan
from read_side.search.redis_buckets import bucket_names
from read_side.search.text import NULL_KEY, phone_forms, prefixes

SET_PREFIX = 10  # word prefixes up to this length are sets; longer ones are `wx` ranges
SET_DIGITS = 4  # digit tokens up to this length are sets; longer ones are `pf`/`ps` ranges
_PREFIX = re.compile(r"^[A-Za-z0-9_.-]{1,64}$")

ListRange = tuple[str, int, bytes, bytes]  # lex zset, group, min bound, max bound


def check_prefix(prefix: str) -> str:
    """`prefix` after checking it is safe in key names and SCAN patterns."""
    if not isinstance(prefix, str) or not _PREFIX.match(prefix):
        raise ValueError(f"invalid key prefix {prefix!r}")
    return prefix


def member(key: str, customer_id: str) -> str:
    """A member of a lex zset: key, NUL, id."""
    return f"{key}\x00{customer_id}"


def epoch_ms(iso: str) -> int:
    """Epoch milliseconds of an ISO-8601 time (`Z` accepted)."""
    return int(datetime.fromisoformat(iso.replace("Z", "+00:00")).timestamp() * 1000)


def _starting(zset: str, group: int, start: str) -> ListRange:
    encoded = start.encode()
    return (zset, group, b"[" + encoded, b"(" + encoded + b"\xff")


@dataclass(frozen=True)
class Keys:
    """Key names of one generation of the index."""

    prefix: str
    name: str
    generation: int
    cluster: bool = False

    @property
    def meta(self) -> str:
        """`M`, the start of the keys of `name` outside tenants (see the module's docstring)."""
        name = f"{{{self.name}}}" if self.cluster else self.name
        return f"{self.prefix}:projection:{name}"

    @property
    def checkpoint(self) -> str:
        """The checkpoint of this generation."""
        return f"{self.meta}:g{self.generation}:checkpoint"

    @property
    def epoch(self) -> str:
        """The largest lease epoch that wrote to `name` (fences a paused former holder)."""
        return f"{self.meta}:epoch"

    @property
    def active(self) -> str:
        """The active generation of `name`."""
        return f"{self.meta}:active"

    @property
    def pattern(self) -> str:
        """A SCAN pattern matching every tenant key of this generation."""
        return f"{self.prefix}:g{self.generation}:*"

    @property
    def generation_patterns(self) -> tuple[str, str]:
        """SCAN patterns of the keys and checkpoints of every generation of `name`."""
        return f"{self.prefix}:g*", f"{self.meta}:g*:checkpoint"

    def generation_of(self, key: str) -> int | None:
        """The generation a key of this index belongs to (None for other keys)."""
        for template in (f"{self.prefix}:g", f"{self.meta}:g"):
            if key.startswith(template):
                number = key[len(template) :].split(":", 1)[0]
                return int(number) if number.isdigit() and ":" in key[len(template) :] else None
        return None

    def tenant(self, tenant_id: str) -> str:
        """`{prefix}:g{n}:{tenant}`, the start of every key of that tenant."""
        return f"{self.prefix}:g{self.generation}:{{{quote(tenant_id, safe='')}}}"

    def tenant_epoch(self, tenant_id: str) -> str:
        """On a cluster, the largest lease epoch that wrote this tenant's keys (its slot)."""
        return f"{self.tenant(tenant_id)}:epoch"

    def customer(self, tenant_id: str, customer_id: str) -> str:
        """The hash of one customer."""
        return f"{self.tenant(tenant_id)}:c:{customer_id}"

    def sets(self, item: Entry) -> set[str]:
        """Every set a customer belongs to."""
        base = self.tenant(item.tenant_id)
        found = {f"{base}:w:{p}" for word in item.words for p in prefixes(word, SET_PREFIX)}
        found.update(f"{base}:d:{d}" for d in item.digits if len(d) <= SET_DIGITS)
        found.update(f"{base}:f:{facet}" for facet in item.facets)
        found.add(f"{base}:s:{item.state}")
        found.add(f"{base}:y:{item.type}")
        found.update(f"{base}:n:{k}" for k, value in item.sort_keys.items() if value == NULL_KEY)
        found.update(f"{base}:b:{item.state}:{name}" for name in bucket_names(item.created_at))
        return found

    def buckets(self, tenant_id: str, state: str, names: tuple[str, ...]) -> list[str]:
        """The createdAt bucket sets of a state (see `redis_buckets`)."""
        base = self.tenant(tenant_id)
        return [f"{base}:b:{state}:{name}" for name in names]

    def lex_members(self, item: Entry) -> set[tuple[str, str]]:
        """Every (lex zset, member) pair of a customer."""
        base, cid, forms = self.tenant(item.tenant_id), item.id, phone_forms(item.phone)
        found = {(f"{base}:wx", member(w, cid)) for w in item.words if len(w) > SET_PREFIX}
        found.update((f"{base}:pf", member(form, cid)) for form in forms)
        if forms:
            found.add((f"{base}:ps", member(forms[0][::-1], cid)))
        if item.email:
            found.add((f"{base}:ex", member(item.email, cid)))
        if item.phone:
            found.add((f"{base}:hx", member(item.phone, cid)))
        found.update((f"{base}:mx", member(key, cid)) for key in item.match_keys)
        for sort in SORT_KEYS:
            found.add((f"{base}:z:{item.state}:{sort}", member(item.sort_keys[sort], cid)))
        return found

    def matched(self, tenant_id: str) -> str:
        """The lex zset of the match keys (`match_keys`)."""
        return f"{self.tenant(tenant_id)}:mx"

    def created(self, tenant_id: str, state: str) -> str:
        """The createdAt-scored zset of a state."""
        return f"{self.tenant(tenant_id)}:t:{state}"

    def query_sources(self, plan: Plan) -> tuple[list[str], list[ListRange]]:
        """The sets a query's matches must all belong to (state excluded), and the lex ranges
        (grouped: a match must be in some range of every group)."""
        base = self.tenant(plan.tenant_id)
        sets: list[str] = []
        ranges: list[ListRange] = []
        groups = 0
        for word in plan.words:
            if len(word) <= SET_PREFIX:
                sets.append(f"{base}:w:{word}")
            else:
                ranges.append(_starting(f"{base}:wx", groups, word))
                groups += 1
        for digits in plan.digits:
            if len(digits) <= SET_DIGITS:
                sets.append(f"{base}:d:{digits}")
                continue
            ranges.append(_starting(f"{base}:pf", groups, digits))
            ranges.append(_starting(f"{base}:ps", groups, digits[::-1]))
            groups += 1
        for zset, value in ((f"{base}:ex", plan.email), (f"{base}:hx", plan.phone)):
            if value is not None:
                exact = value.encode()
                ranges.append((zset, groups, b"[" + exact + b"\x00", b"(" + exact + b"\x01"))
                groups += 1
        if plan.type is not None:
            sets.append(f"{base}:y:{plan.type}")
        sets += [f"{base}:f:{facet}" for facet in plan.facets]
        return list(dict.fromkeys(sets)), ranges
