"""Queries of the SQLite search index (runs on the adapter's worker thread).

Each customer is a row of `{table}` (filter columns, exact sort keys, the document) and a row
of the FTS5 table `{table}_fts` whose only column holds the customer's folded words plus
`#`-tokens for everything a query can filter on: `#s` tenant+state, `#y` type, `#e` email,
`#h` phone, `#f` tag/attribute/consent facets (hashed), `#d` every 3+ digit prefix/suffix
of the phone's digit forms (hashed tokens are 80-bit BLAKE2b digests). A query is one FTS5
AND expression (a word of `q` is a prefix query `"ann"*`), so counting matches is a doclist
merge, not a table scan; without any filter the total comes from the `_counts` table.

Paging is keyset-based on `(tenant_id, state, sort key, id)` indexes. With few matches
(`SORT_MAX`) the matches are fetched and sorted; with many, the sort index is walked and
each row tested against the matches, which ends after about `limit / density` rows. A
createdAt range is read from the createdAt index (which also carries updatedAt and
lastVisitAt, the keys that follow createdAt, so a range sorted by them is never walked);
with a range and FTS filters, the cheaper of the two drives.
"""

from __future__ import annotations

import hashlib
import sqlite3
from collections.abc import Sequence
from typing import TypeAlias

from read_side.ports import ListQuery, Page
from read_side.search.cursor import Position, encode_cursor
from read_side.search.match_keys import PER_KEY
from read_side.search.model import SEP, Entry, Plan
from read_side.search.text import NULL_KEY

#: A value bound to an SQL parameter.
SQLValue: TypeAlias = str | int | float | None
SORT_MAX = 4000
SORT_COLUMNS = {
    "createdAt": "k_created",
    "updatedAt": "k_updated",
    "firstName": "k_first",
    "lastName": "k_last",
    "email": "k_email",
    "lastVisitAt": "k_visit",
}


def _digest(*parts: str) -> str:
    return hashlib.blake2b(SEP.join(parts).encode(), digest_size=10).hexdigest()


def state_token(tenant_id: str, state: str) -> str:
    """The token every query includes: it pins the tenant and the state."""
    return "#s" + _digest(tenant_id, state)


def fts_body(item: Entry) -> str:
    """The FTS5 text of one customer (see the module docstring)."""
    tokens = sorted(item.words)
    tokens.append(state_token(item.tenant_id, item.state))
    tokens.append("#y" + _digest(item.type))
    if item.email:
        tokens.append("#e" + _digest(item.email))
    if item.phone:
        tokens.append("#h" + _digest(item.phone))
    tokens.extend(sorted("#f" + _digest(facet) for facet in item.facets))
    tokens.extend(sorted("#d" + digits for digits in item.digits))
    return " ".join(tokens)


def match_expression(plan: Plan) -> str | None:
    """The FTS5 expression of the query's filters, or None when only tenant and state apply."""
    terms = [f'"{word}"*' for word in plan.words]
    terms += [f'"#d{digits}"' for digits in plan.digits]
    if plan.type is not None:
        terms.append(f'"#y{_digest(plan.type)}"')
    if plan.email is not None:
        terms.append(f'"#e{_digest(plan.email)}"')
    if plan.phone is not None:
        terms.append(f'"#h{_digest(plan.phone)}"')
    terms += [f'"#f{_digest(facet)}"' for facet in plan.facets]
    if not terms:
        return None
    return " AND ".join([*terms, f'"{state_token(plan.tenant_id, plan.state)}"'])


def search(db: sqlite3.Connection, table: str, plan: Plan, query: ListQuery) -> Page:
    """One page of the query (see the module docstring for the strategy)."""
    column = SORT_COLUMNS[plan.sort_key]
    fts = f"{table}_fts"
    base: list[str] = ["t.tenant_id = ?", "t.state = ?"]
    base_args: list[SQLValue] = [plan.tenant_id, plan.state]
    if plan.created_from is not None:
        base.append("t.k_created >= ?")
        base_args.append("0" + plan.created_from)
    if plan.created_to is not None:
        base.append("t.k_created <= ?")
        base_args.append("0" + plan.created_to)
    ranged = len(base) > 2
    match = match_expression(plan)
    in_fts = f"t.rid IN ({_select('rowid', fts, [f'{fts} MATCH ?'])})"
    walk = f"{table} AS t INDEXED BY {table}_s_{column}"
    if match is None and not ranged:
        return _walk(db, walk, base, base_args, _state_count(db, table, plan), plan, query)
    # Candidates come from the createdAt range (a covering index scan, each row tested against
    # the materialised FTS matches) or from the FTS matches (a rowid lookup each): the cheaper.
    joined = f"{fts} CROSS JOIN {table} AS t ON t.rid = {fts}.rowid"
    by_range = f"{table} AS t INDEXED BY {table}_s_k_created"
    in_range = _count(db, by_range, base, base_args) if ranged else None
    matched = _count(db, fts, [f"{fts} MATCH ?"], [match]) if match is not None else None
    if matched is None or (in_range is not None and in_range + 3 * matched < 10 * matched):
        source, where, args = by_range, list(base), list(base_args)
        if match is not None:
            where, args = [*where, in_fts], [*args, match]
    else:
        source, where, args = joined, [f"{fts} MATCH ?", *base], [match, *base_args]
    size = min(count for count in (in_range, matched) if count is not None)
    single = in_range is None or matched is None
    # updatedAt / lastVisitAt follow createdAt: walking them under a range would crawl.
    correlated = ranged and plan.sort_key in ("updatedAt", "lastVisitAt")
    if size <= SORT_MAX or correlated:
        return _sorted(db, source, where, args, size if single else None, plan, query)
    if not single:
        size = _count(db, source, where, args)
    if size <= SORT_MAX:
        return _sorted(db, source, where, args, size, plan, query)
    where, args = list(base), list(base_args)
    if match is not None:
        where, args = [*where, in_fts], [*args, match]
    return _walk(db, walk, where, args, size, plan, query)


def _segments(plan: Plan, alias: str) -> list[tuple[str, list[SQLValue]]]:
    """The runs of the page in order, each a condition (after the cursor) on the sort column.

    Customers without a value (`NULL_KEY`, above every value) come last in both directions:
    ascending is one run of the index; descending is the values walked backwards, then the
    customers without one (ties by id, backwards too). Each run is one index range."""
    column, ident = alias + SORT_COLUMNS[plan.sort_key], alias + "id"
    after = plan.after
    if not plan.descending:
        if after is None:
            return [("", [])]
        return [(f"({column}, {ident}) > (?, ?)", [after.key, after.id])]
    values, blanks = f"{column} < ?", f"{column} >= ?"
    if after is None:
        return [(values, [NULL_KEY]), (blanks, [NULL_KEY])]
    before = f"({column}, {ident}) < (?, ?)"
    if after.key >= NULL_KEY:
        return [(f"{blanks} AND {before}", [NULL_KEY, after.key, after.id])]
    return [(f"{values} AND {before}", [NULL_KEY, after.key, after.id]), (blanks, [NULL_KEY])]


def _order(plan: Plan, alias: str) -> str:
    column = alias + SORT_COLUMNS[plan.sort_key]
    direction = "DESC" if plan.descending else "ASC"
    return f"ORDER BY {column} {direction}, {alias}id {direction} LIMIT ?"


def _walk(
    db: sqlite3.Connection,
    source: str,
    where: list[str],
    args: list[SQLValue],
    total: int,
    plan: Plan,
    query: ListQuery,
) -> Page:
    """Rows of `source` after the cursor, in sort order (an index walk when `source` is the
    sort index, else SQLite's top-N sort), run by run."""
    column = SORT_COLUMNS[plan.sort_key]
    rows: list[tuple[str, str]] = []
    for after, after_args in _segments(plan, "t."):
        sql = _select(f"t.{column}, t.id", source, [*where, after] if after else where)
        sql += " " + _order(plan, "t.")
        rows += db.execute(sql, [*args, *after_args, plan.limit + 1 - len(rows)]).fetchall()
        if len(rows) > plan.limit:
            break
    return _page(rows, total, plan, query)


def _sorted(
    db: sqlite3.Connection,
    source: str,
    where: list[str],
    args: list[SQLValue],
    total: int | None,
    plan: Plan,
    query: ListQuery,
) -> Page:
    """Collect every candidate and sort the page; when the total is not known yet, count the
    candidates in the same pass (a window count) rather than collecting them twice."""
    if total is not None:
        return _walk(db, source, where, args, total, plan, query)
    column = SORT_COLUMNS[plan.sort_key]
    inner = _select(f"t.{column} AS {column}, t.id AS id, count(*) OVER () AS n", source, where)
    rows: list[tuple[str, str]] = []
    for after, after_args in _segments(plan, ""):
        sql = f"SELECT {column}, id, n FROM ({inner}) WHERE {after or 1} {_order(plan, '')}"  # noqa: S608
        found = db.execute(sql, [*args, *after_args, plan.limit + 1 - len(rows)]).fetchall()
        total = int(found[0][2]) if found else total
        rows += [(key, ident) for key, ident, _ in found]
        if len(rows) > plan.limit:
            break
    if total is None:
        total = _count(db, source, where, args)
    return _page(rows, total, plan, query)


def _state_count(db: sqlite3.Connection, table: str, plan: Plan) -> int:
    row = db.execute(
        f"SELECT n FROM {table}_counts WHERE tenant_id = ? AND state = ?",  # noqa: S608
        (plan.tenant_id, plan.state),
    ).fetchone()
    return int(row[0]) if row else 0


def _select(columns: str, source: str, where: Sequence[str], tail: str = "") -> str:
    # Only identifiers made by this module and `?` placeholders are interpolated.
    return f"SELECT {columns} FROM {source} WHERE {' AND '.join(where)} {tail}"  # noqa: S608


def _count(
    db: sqlite3.Connection, source: str, where: Sequence[str], args: Sequence[SQLValue]
) -> int:
    row = db.execute(_select("count(*)", source, where), args).fetchone()
    return int(row[0]) if row else 0


def _page(rows: list[tuple[str, str]], total: int, plan: Plan, query: ListQuery) -> Page:
    items = rows[: plan.limit]
    next_cursor = None
    if len(rows) > plan.limit:
        key, last_id = items[-1]
        next_cursor = encode_cursor(query, Position(key=key, id=last_id))
    return Page(ids=[customer_id for _, customer_id in items], total=total, next_cursor=next_cursor)


def candidates(db: sqlite3.Connection, table: str, tenant_id: str, keys: list[str]) -> list[str]:
    """Ids filed under the match keys: per key the first `PER_KEY` by id, each id once."""
    found: dict[str, None] = {}
    for key in keys:
        rows = db.execute(
            f"SELECT id FROM {table}_mk WHERE tenant_id = ? AND key = ? "  # noqa: S608
            "ORDER BY id LIMIT ?",
            (tenant_id, key, PER_KEY),
        )
        found.update((str(customer_id), None) for (customer_id,) in rows)
    return list(found)
