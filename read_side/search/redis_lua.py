"""The search script of the Redis index: counts matches and returns one page in one call.

KEYS: 1 sort zset (lex) of the state, 2 createdAt-scored zset of the state, 3 state set,
4 scratch zset, 5 set of ids without a value for the sort key, 6 hash id -> sort key,
then `no` sets of the other states, `ns` filter sets, one lex zset per list range.
ARGV: 1 "1" descending, 2 page size + 1, 3-4 lex bounds (ascending terms) of the page in the
sort zset (the cursor and, when sorting by createdAt, the range), 5 "1" when a createdAt range
applies, 6-7 its bounds in epoch ms, 8 "1" when sorting by createdAt, 9 "1" when walking the
sort zset would crawl (updatedAt/lastVisitAt under a createdAt range), 10 `no`, 11 `ns`, then
(group, min, max) per list range. Returns `{total, member...}`.

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
local desc, n, wmin, wmax = ARGV[1] == '1', tonumber(ARGV[2]), ARGV[3], ARGV[4]
local ranged, lo, hi = ARGV[5] == '1', ARGV[6], ARGV[7]
local lon, hin = tonumber(lo), tonumber(hi)
local sort_created, correlated = ARGV[8] == '1', ARGV[9] == '1'
local no, ns = tonumber(ARGV[10]), tonumber(ARGV[11])

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

local groups, gsize, argi = {}, {}, 12
for i = 7 + no + ns, #KEYS do
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
  local args = {skey, unpack(set_keys)}
  local found = {}
  for _, id in ipairs(redis.call('SINTER', unpack(args))) do
    if not ranged or in_range(id) then found[#found + 1] = id end
  end
  return found
end

local total, cands
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
elseif ranged then
  local found = redis.call('ZCOUNT', tkey, lo, hi)
  if #set_keys == 0 then
    total = found
  elseif found <= sets[1][2] then
    cands = {}
    for _, id in ipairs(redis.call('ZRANGE', tkey, lo, hi, 'BYSCORE')) do
      if in_sets(id) then cands[#cands + 1] = id end
    end
  else
    cands = matching_ids()
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
local nulls_checked = false
local function walk(pred, budget, size)
  local low, high, scanned = wmin, wmax, 0
  while true do
    local chunk
    if desc then
      chunk = redis.call('ZRANGE', zkey, high, low, 'BYLEX', 'REV', 'LIMIT', 0, size)
    else
      chunk = redis.call('ZRANGE', zkey, low, high, 'BYLEX', 'LIMIT', 0, size)
    end
    local skip = false
    for _, m in ipairs(chunk) do
      if not nulls_checked and pred and not ranged and not cands
          and string.sub(m, 1, 2) == '1\0' then
        nulls_checked = true
        if card(nkey, skey) == 0 then
          if not desc then return true end
          skip = true
          break
        end
      end
      if pred == nil or pred(id_of(m)) then
        out[#out + 1] = m
        if #out > n then return true end
      end
    end
    if skip then
      high = '(1'
    else
      if #chunk < size then return true end
      scanned = scanned + #chunk
      if budget and scanned >= budget then return false end
      if desc then high = '(' .. chunk[#chunk] else low = '(' .. chunk[#chunk] end
    end
  end
end

if not best and #set_keys == 0 and (not ranged or sort_created) then
  walk(nil, nil, n)
  return out
end
local population = redis.call('ZCARD', zkey)
if total > math.sqrt(n * population) and not correlated then
  local pred
  if cands then
    local member = {}
    for _, id in ipairs(cands) do member[id] = true end
    pred = function(id) return member[id] == true end
  else
    pred = function(id) return in_sets(id) and (not ranged or in_range(id)) end
  end
  if walk(pred, math.max(500, 4 * n * population / total), 128) then return out end
  out = {total}
end

if not cands then
  if #set_keys == 0 then cands = redis.call('ZRANGE', tkey, lo, hi, 'BYSCORE')
  else cands = matching_ids() end
end
redis.call('DEL', tmp)
for start = 1, #cands, 500 do
  local ids = {unpack(cands, start, math.min(start + 499, #cands))}
  local keys = redis.call('HMGET', kkey, unpack(ids))
  local batch = {}
  for i, key in ipairs(keys) do
    if key then
      batch[#batch + 1] = 0
      batch[#batch + 1] = key .. '\0' .. ids[i]
    end
  end
  if #batch > 0 then redis.call('ZADD', tmp, unpack(batch)) end
end
local page
if desc then
  page = redis.call('ZRANGE', tmp, wmax, wmin, 'BYLEX', 'REV', 'LIMIT', 0, n)
else
  page = redis.call('ZRANGE', tmp, wmin, wmax, 'BYLEX', 'LIMIT', 0, n)
end
redis.call('DEL', tmp)
for _, m in ipairs(page) do out[#out + 1] = m end
return out
"""

CHECKPOINT = r"""
local current = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > current then redis.call('SET', KEYS[1], ARGV[1]) end
return 0
"""
