"""The search script of the Redis index: counts matches and returns one page in one call.

KEYS: 1 sort zset (lex) of the state, 2 createdAt-scored zset of the state, 3 state set,
4 scratch zset, 5 set of ids without a value for the sort key, 6 hash id -> sort key,
then `no` sets of the other states, `ns` filter sets, `nb` createdAt bucket sets, one lex
zset per list range.
ARGV: 1 "1" descending, 2 page size + 1, 3-4 lex bounds (ascending terms) of the page in the
sort zset (the cursor and, when sorting by createdAt, the range), 5 "1" when a createdAt range
applies, 6-7 its bounds in epoch ms, 8 "1" when sorting by createdAt, 9 `no`, 10 `ns`,
11-12 and 13-14 the page's bounds among the members with a value / without ("" if empty):
customers without a value come last in both directions, so a page reads the first run, then
the second (descending, a cursor among the values leaves the whole second run to read),
15 `nb`, 16 `ne`, then `ne` (min, max) score ranges of the createdAt zset that the buckets
leave out (see `redis_buckets`), then (group, min, max) per list range.
Returns `{total, member...}`.

Totals: SCARD / SINTERCARD / ZCARD / ZCOUNT; for the big state (active) by complement,
`|sets| - |sets & deleted| - |sets & erased|`, so the big state set is never iterated.
Pages: with many matches, a walk of the sort zset from the cursor testing each member (ends
after about `limit / density` members; a block of customers without a sort value that holds
no match is skipped; abandoned after a budget); with few matches, their sort members go to
the scratch zset, read back with ZRANGE BYLEX. Redis (byte order), never Lua string
comparison (locale collation), decides every order.
"""

from __future__ import annotations

SEARCH = r"""
local zkey, tkey, skey, tmp, nkey, kkey = KEYS[1], KEYS[2], KEYS[3], KEYS[4], KEYS[5], KEYS[6]
local desc, n = ARGV[1] == '1', tonumber(ARGV[2])
local ranged, lo, hi = ARGV[5] == '1', ARGV[6], ARGV[7]
local lon, hin = tonumber(lo), tonumber(hi)
local sort_created, no, ns = ARGV[8] == '1', tonumber(ARGV[9]), tonumber(ARGV[10])

local function id_of(m) return string.sub(m, string.find(m, '\0', 1, true) + 1) end

local sets = {}
for i = 7 + no, 6 + no + ns do
  local size = redis.call('SCARD', KEYS[i])
  if size == 0 then return {0} end
  sets[#sets + 1] = {KEYS[i], size}
end
table.sort(sets, function(a, b) return a[2] < b[2] end)
local set_keys = {}
for i, s in ipairs(sets) do set_keys[i] = s[1] end

local nb, ne = tonumber(ARGV[15]), tonumber(ARGV[16])
local first_bucket = 7 + no + ns
local groups, gsize, argi = {}, {}, 17 + 2 * ne
for i = first_bucket + nb, #KEYS do
  local g = tonumber(ARGV[argi]) + 1
  local t = groups[g] or {}
  groups[g], gsize[g] = t, gsize[g] or 0
  for _, m in ipairs(redis.call('ZRANGE', KEYS[i], ARGV[argi + 1], ARGV[argi + 2], 'BYLEX')) do
    local id = id_of(m)
    if not t[id] then t[id] = true; gsize[g] = gsize[g] + 1 end
  end
  argi = argi + 3
end
local best
for g, size in pairs(gsize) do
  if size == 0 then return {0} end
  if best == nil or size < gsize[best] then best = g end
end

local function card(...)
  local keys = {unpack(set_keys)}
  for _, k in ipairs({...}) do keys[#keys + 1] = k end
  if #keys == 1 then return redis.call('SCARD', keys[1]) end
  return redis.call('SINTERCARD', #keys, unpack(keys))
end
local function in_sets(id)
  for _, k in ipairs(set_keys) do
    if redis.call('SISMEMBER', k, id) == 0 then return false end
  end
  return true
end
local function in_range(id)
  local score = redis.call('ZSCORE', tkey, id)
  if not score then return false end
  score = tonumber(score)
  return score >= lon and score <= hin
end
local function matching_ids()
  return redis.call('SINTER', skey, unpack(set_keys))
end

local total, cands, edge_ids
if best then
  cands = {}
  for id in pairs(groups[best]) do
    local ok = true
    for g, t in pairs(groups) do
      if g ~= best and not t[id] then ok = false; break end
    end
    if ok and in_sets(id) then
      if ranged then ok = in_range(id) else ok = redis.call('SISMEMBER', skey, id) == 1 end
      if ok then cands[#cands + 1] = id end
    end
  end
elseif ranged and nb + ne > 0 then
  -- createdAt buckets: SINTERCARD per whole bucket, each id of the partial edges checked.
  total, edge_ids = 0, {}
  for i = first_bucket, first_bucket + nb - 1 do total = total + card(KEYS[i]) end
  for e = 0, ne - 1 do
    local low_score, high_score = ARGV[17 + 2 * e], ARGV[18 + 2 * e]
    for _, id in ipairs(redis.call('ZRANGE', tkey, low_score, high_score, 'BYSCORE')) do
      if in_sets(id) then edge_ids[#edge_ids + 1] = id end
    end
  end
  total = total + #edge_ids
elseif ranged then
  local found = redis.call('ZCOUNT', tkey, lo, hi)
  if #set_keys == 0 then
    total = found
  elseif found * 4 * #set_keys < sets[1][2] then
    cands = {}
    for _, id in ipairs(redis.call('ZRANGE', tkey, lo, hi, 'BYSCORE')) do
      if in_sets(id) then cands[#cands + 1] = id end
    end
  else
    -- Both sides large: two C-speed reads and Lua table lookups beat a call per member.
    local window = {}
    for _, id in ipairs(redis.call('ZRANGE', tkey, lo, hi, 'BYSCORE')) do window[id] = true end
    cands = {}
    local members
    if #set_keys == 1 then members = redis.call('SMEMBERS', set_keys[1])
    else members = redis.call('SINTER', unpack(set_keys)) end
    for _, id in ipairs(members) do
      if window[id] then cands[#cands + 1] = id end
    end
  end
elseif #set_keys == 0 then
  total = redis.call('ZCARD', zkey)
else
  local others = 0
  for i = 7, 6 + no do others = others + redis.call('SCARD', KEYS[i]) end
  if no > 0 and redis.call('SCARD', skey) > others then
    total = card()
    for i = 7, 6 + no do total = total - card(KEYS[i]) end
  else
    total = card(skey)
  end
end
if cands then total = #cands end
if total == 0 then return {0} end

local out = {total}
local function walk(low, high, pred, budget)
  local size, scanned = pred and 128 or n, 0
  while true do
    local chunk
    if desc then
      chunk = redis.call('ZRANGE', zkey, high, low, 'BYLEX', 'REV', 'LIMIT', 0, size)
    else
      chunk = redis.call('ZRANGE', zkey, low, high, 'BYLEX', 'LIMIT', 0, size)
    end
    for _, m in ipairs(chunk) do
      if pred == nil or pred(id_of(m)) then
        out[#out + 1] = m
        if #out > n then return 'full' end
      end
    end
    if #chunk < size then return 'done' end
    scanned = scanned + #chunk
    if budget and scanned >= budget then return 'fail' end
    if desc then high = '(' .. chunk[#chunk] else low = '(' .. chunk[#chunk] end
  end
end
local function sort_into_page(ids, runs)
  redis.call('DEL', tmp)
  for start = 1, #ids, 500 do
    local part = {unpack(ids, start, math.min(start + 499, #ids))}
    local batch = {}
    for i, key in ipairs(redis.call('HMGET', kkey, unpack(part))) do
      if key then
        batch[#batch + 1] = 0
        batch[#batch + 1] = key .. '\0' .. part[i]
      end
    end
    if #batch > 0 then redis.call('ZADD', tmp, unpack(batch)) end
  end
  for _, run in ipairs(runs) do
    local low, high, page = run[1], run[2], {}
    if low ~= '' and #out <= n then
      if desc then
        page = redis.call('ZRANGE', tmp, high, low, 'BYLEX', 'REV', 'LIMIT', 0, n + 1 - #out)
      else
        page = redis.call('ZRANGE', tmp, low, high, 'BYLEX', 'LIMIT', 0, n + 1 - #out)
      end
    end
    for _, m in ipairs(page) do out[#out + 1] = m end
  end
  redis.call('DEL', tmp)
  return #out > n
end

-- Customers with a value, then those without, in both directions (nulls last).
local runs = {{ARGV[11], ARGV[12], false}, {ARGV[13], ARGV[14], true}}
if not best and #set_keys == 0 and (not ranged or sort_created) then
  for _, run in ipairs(runs) do
    if run[1] ~= '' and walk(run[1], run[2], nil, nil) == 'full' then break end
  end
  return out
end
local population = redis.call('ZCARD', zkey)
local few = math.sqrt(n * population)
if total > few then
  local pred
  if cands then
    local member = {}
    for _, id in ipairs(cands) do member[id] = true end
    pred = function(id) return member[id] == true end
  else
    pred = function(id) return in_sets(id) and (not ranged or in_range(id)) end
  end
  local result = 'done'
  for _, segment in ipairs(runs) do
    local low, high, nulls = segment[1], segment[2], segment[3]
    result = 'done'
    if low ~= '' then
      result = nil
      if nulls and not cands and not ranged then
        local args = {#set_keys + 1, nkey, unpack(set_keys)}
        args[#args + 1] = 'LIMIT'
        args[#args + 1] = math.floor(few) + 1
        local found = redis.call('SINTERCARD', unpack(args))
        if found == 0 then
          result = 'done'
        elseif found <= few then
          local ids = redis.call('SINTER', skey, nkey, unpack(set_keys))
          result = sort_into_page(ids, {segment}) and 'full' or 'done'
        end
      end
      result = result or walk(low, high, pred, math.max(500, 4 * n * population / total))
    end
    if result ~= 'done' then break end
  end
  if result ~= 'fail' then return out end
  out = {total}
end

if not cands and edge_ids then
  cands = edge_ids
  for i = first_bucket, first_bucket + nb - 1 do
    for _, id in ipairs(redis.call('SINTER', KEYS[i], unpack(set_keys))) do
      cands[#cands + 1] = id
    end
  end
elseif not cands then
  if #set_keys == 0 then cands = redis.call('ZRANGE', tkey, lo, hi, 'BYSCORE')
  else cands = matching_ids() end
end
sort_into_page(cands, runs)
return out
"""
