"""Index changes of one `apply` batch on Redis, as the JSON argument of the `BULK` script
(pure until sent). Each customer's old and new indexed forms are diffed, so a change touches
only the sets and zset members that differ, and removes stale tokens (a renamed customer
leaves the sets of its old name)."""

from __future__ import annotations

import json
from collections import defaultdict

from read_side.search.model import Entry, entry, stored
from read_side.search.redis_keys import Keys, epoch_ms
from read_side.views import CustomerDoc
from shared.json_types import JSONObject

# Runs the changes of `Changes.payload()` server-side: one call instead of a command per key
# (the client's per-command cost dominates bulk writes). Removals first, as in `queue`. With
# ARGV[3] (a lease epoch, `shared.fencing`) it first refuses the whole call when KEYS[2] holds a
# newer epoch, else stores ARGV[3] there. With ARGV[2] (a position) it also moves the checkpoint
# KEYS[1] forward to it, atomically with the changes (a script runs as one unit). An empty or
# absent ARGV leaves its key alone (a key given only to route the call to its slot).
BULK = r"""
local position, epoch = ARGV[2] or '', ARGV[3] or ''
if epoch ~= '' then
  local stored = tonumber(redis.call('GET', KEYS[2]) or '0')
  if stored > tonumber(epoch) then return redis.error_reply('FENCED ' .. stored) end
  if stored < tonumber(epoch) then redis.call('SET', KEYS[2], epoch) end
end
local ops = cjson.decode(ARGV[1])
local function chunks(list, command, key)
  for i = 1, #list, 500 do
    redis.call(command, key, unpack(list, i, math.min(i + 499, #list)))
  end
end
for key, members in pairs(ops.srem) do chunks(members, 'SREM', key) end
for key, members in pairs(ops.zrem) do chunks(members, 'ZREM', key) end
for key, fields in pairs(ops.hdel) do chunks(fields, 'HDEL', key) end
for key, members in pairs(ops.sadd) do chunks(members, 'SADD', key) end
for key, scored in pairs(ops.zadd) do chunks(scored, 'ZADD', key) end
for key, pairs_ in pairs(ops.hset) do chunks(pairs_, 'HSET', key) end
for key, document in pairs(ops.docs) do
  if document == cjson.null then redis.call('DEL', key) else redis.call('SET', key, document) end
end
if position ~= '' then
  local current = tonumber(redis.call('GET', KEYS[1]) or '0')
  if tonumber(position) > current then redis.call('SET', KEYS[1], position) end
end
return 0
"""


class Changes:
    """Index changes of a batch, grouped per key so that each key gets one command."""

    def __init__(self, keys: Keys) -> None:
        self.keys = keys
        self.sadd: dict[str, list[str]] = defaultdict(list)
        self.srem: dict[str, list[str]] = defaultdict(list)
        self.zadd: dict[str, dict[str, float]] = defaultdict(dict)
        self.zrem: dict[str, list[str]] = defaultdict(list)
        self.hset: dict[str, dict[str, str]] = defaultdict(dict)
        self.hdel: dict[str, list[str]] = defaultdict(list)
        self.docs: dict[str, str | None] = {}

    def add(self, old: CustomerDoc | None, new: CustomerDoc | None) -> None:
        """Record the change of one customer from `old` to `new` (None: absent)."""
        before = entry(old) if old is not None else None
        after = entry(new) if new is not None else None
        item = after or before
        if item is None:
            return
        old_sets, new_sets = self._sets(before), self._sets(after)
        for key in old_sets - new_sets:
            self.srem[key].append(item.id)
        for key in new_sets - old_sets:
            self.sadd[key].append(item.id)
        old_members, new_members = self._members(before), self._members(after)
        for key, value in old_members.keys() - new_members.keys():
            self.zrem[key].append(value)
        for (key, value), score in new_members.items():
            if old_members.get((key, value)) != score:
                self.zadd[key][value] = score
        base = self.keys.tenant(item.tenant_id)
        for sort, value in item.sort_keys.items():
            if after is None:
                self.hdel[f"{base}:k:{sort}"].append(item.id)
            elif before is None or before.sort_keys[sort] != value:
                self.hset[f"{base}:k:{sort}"][item.id] = value
        document = None if new is None else json.dumps(stored(new), separators=(",", ":"))
        self.docs[self.keys.customer(item.tenant_id, item.id)] = document

    def _sets(self, item: Entry | None) -> set[str]:
        return self.keys.sets(item) if item is not None else set()

    def _members(self, item: Entry | None) -> dict[tuple[str, str], float]:
        if item is None:
            return {}
        found = dict.fromkeys(self.keys.lex_members(item), 0.0)
        created = self.keys.created(item.tenant_id, item.state)
        found[(created, item.id)] = float(epoch_ms(item.created_at)) if item.created_at else 0.0
        return found

    def payload(self) -> str:
        """Every change as the JSON argument of the `BULK` script."""
        return json.dumps(
            {
                "srem": self.srem,
                "zrem": self.zrem,
                "hdel": self.hdel,
                "sadd": self.sadd,
                "zadd": {k: _flat(v, score_first=True) for k, v in self.zadd.items()},
                "hset": {k: _flat(v, score_first=False) for k, v in self.hset.items()},
                "docs": self.docs,
            },
            separators=(",", ":"),
        )


def _flat(mapping: JSONObject, *, score_first: bool) -> list[object]:
    """`{member: score}` as `[score, member, ...]` (ZADD), `{field: value}` as
    `[field, value, ...]` (HSET); scores as text, so Lua keeps every digit."""
    flat: list[object] = []
    for name, value in mapping.items():
        flat += [repr(value), name] if score_first else [name, value]
    return flat
