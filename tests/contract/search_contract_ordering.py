"""Search-index contract, part 2: order, pages, cursors, updates, re-applies, generations."""

from __future__ import annotations

import dataclasses
import random
from datetime import timedelta
from typing import Any

import pytest

from read_side.ports import SORT_KEYS, InvalidCursor, ListQuery
from tests.contract.event_builder import T0
from tests.contract.search_contract_base import Log, SearchIndexHarness, cid


class OrderingContract(SearchIndexHarness):
    """In which order, in which pages, and through which changes."""

    # ------------------------------------------------------------------ sorting and paging
    async def test_six_sort_keys_both_ways_exact_with_nulls(self) -> None:
        log, stem = Log(), "Alexandrina-Maria " + "x" * 70
        rows = [  # n, firstName, lastName, email, created day, visit
            (1, stem + "b", "Ñúñez", "b@x.io", 5, "2024-06-02T00:00:00.000Z"),
            (2, stem + "a", None, "A@x.io", 3, None),
            (3, "Ädam", "nunez", None, 4, "2024-06-01T00:00:00.000Z"),
            (4, "adam", "Nuñez", "a@x.io", 1, None),
            (5, None, "Zed", "ä@x.io", 2, "2024-06-02T00:00:00.000Z"),
        ]
        events = [
            log.created(
                cid(n), at=T0 + timedelta(days=day), firstName=first, lastName=last, email=email
            )
            for n, first, last, email, day, _ in rows
        ]
        events += [
            log.event(
                "visit_recorded",
                "t1",
                cid(n),
                T0 + timedelta(days=9 - n),
                order_id=f"o{n}",
                placed_at=v,
                first_time=True,
                snapshot=None,
            )
            for n, *_, v in rows
            if v
        ]
        index = await self.loaded(*events)
        expected = {  # ascending, then descending: customers without a value last both ways
            "firstName": ([3, 4, 2, 1, 5], [1, 2, 4, 3, 5]),
            "lastName": ([1, 3, 4, 5, 2], [5, 4, 3, 1, 2]),
            "email": ([2, 4, 5, 1, 3], [1, 5, 4, 2, 3]),
            "createdAt": ([4, 5, 2, 3, 1], [1, 3, 2, 5, 4]),
            "updatedAt": ([4, 2, 5, 3, 1], [1, 3, 5, 2, 4]),
            "lastVisitAt": ([3, 1, 5, 2, 4], [5, 1, 3, 4, 2]),
        }
        assert set(expected) == set(SORT_KEYS)
        for key, (up, down) in expected.items():
            for limit in (1, 2, 100):
                assert await self.ids(index, limit=limit, sort=key) == [cid(n) for n in up], key
                assert await self.ids(index, limit=limit, sort="-" + key) == [
                    cid(n) for n in down
                ], key

    async def test_nulls_last_both_ways_on_every_nullable_key_and_path(self) -> None:
        """Customers without a value for the sort key come after every customer with one, in
        both directions (a descending list starts with real values, never with blanks);
        among themselves, and among equal values, the id breaks ties (reversed when
        descending). Checked page by page across the boundary, unfiltered (an index walk),
        with a dense filter (a filtered walk) and with a sparse one (a sorted candidate set)."""
        rng, log, events = random.Random(16), Log(), []
        values: dict[str, dict[str, str | None]] = {}
        for n in range(1, 61):
            row: dict[str, Any] = {
                "firstName": rng.choice([None, None, "ann", "bo", "cy", "dee"]),
                "lastName": rng.choice([None, "lee", "moe", "ng"]),
                "email": rng.choice([None, None, None, f"u{n % 7}@x.io"]),
            }
            values[cid(n)] = row | {"lastVisitAt": None}
            labels = ["dense"] * (n % 2) + ["sparse"] * (n % 9 == 0)
            events.append(log.created(cid(n), tags=labels, **row))
        for n in rng.sample(range(1, 61), 25):
            at = f"2024-06-{rng.randint(1, 3):02d}T00:00:00.000Z"
            values[cid(n)]["lastVisitAt"] = at
            events.append(log.visit("t1", cid(n), f"o{n}", at))
        index = await self.loaded(*events)
        for key in ("firstName", "lastName", "email", "lastVisitAt"):
            for tag in (None, "dense", "sparse"):
                shown = [c for c in values if tag is None or _tagged(c, tag)]
                with_value = sorted(
                    (c for c in shown if values[c][key] is not None),
                    key=lambda c: (values[c][key], c),
                )
                blank = sorted(c for c in shown if values[c][key] is None)
                only = (tag,) if tag else ()
                for limit in (1, 4, 100):
                    up = await self.ids(index, limit=limit, sort=key, tags=only)
                    assert up == with_value + blank, (key, tag, limit)
                    down = await self.ids(index, limit=limit, sort="-" + key, tags=only)
                    assert down == with_value[::-1] + blank[::-1], (key, tag, limit)

    async def test_default_order_is_newest_first_and_pages_concatenate(self) -> None:
        log = Log()
        events = [
            log.created(cid(n), firstName=f"N{n % 4}", tags=["t"] * (n % 2)) for n in range(1, 26)
        ]
        index = await self.loaded(*events)
        newest_first = [cid(n) for n in range(25, 0, -1)]
        page = await index.search(ListQuery(tenant_id="t1"))
        assert (page.ids, page.total) == (newest_first[:20], 25) and page.next_cursor
        last = await index.search(ListQuery(tenant_id="t1", cursor=page.next_cursor))
        assert (last.ids, last.total, last.next_cursor) == (newest_first[20:], 25, None)
        for limit in (1, 7, 25, 100):
            assert await self.ids(index, limit=limit) == newest_first
            odd = await self.ids(index, limit=limit, tags=("t",), sort="firstName")
            assert odd == sorted(
                (cid(n) for n in range(1, 26, 2)), key=lambda c: (int(c[-12:]) % 4, c)
            )

    async def test_cursor_stays_valid_while_unrelated_customers_arrive(self) -> None:
        log = Log()
        index = await self.loaded(
            *[log.created(cid(n), firstName=f"M{n:02d}") for n in range(10, 30)]
        )
        for sort in ("firstName", "-firstName", "-createdAt", "createdAt"):
            first = await index.search(ListQuery(tenant_id="t1", sort=sort, limit=5))
            n = 100 + log.position
            await index.apply(
                [
                    log.created(cid(n), firstName="M00"),
                    log.created(cid(n + 1), firstName="M99"),
                    log.created(cid(n + 2), firstName="M15b"),
                ],
                log.position + 3,
            )
            rest: list[str] = []
            cursor = first.next_cursor
            while cursor:
                page = await index.search(
                    ListQuery(tenant_id="t1", sort=sort, limit=5, cursor=cursor)
                )
                rest, cursor = rest + page.ids, page.next_cursor
            full = await self.ids(index, limit=100, sort=sort)
            assert first.ids + rest == full[full.index(first.ids[0]) :], sort
            assert {cid(n) for n in range(10, 30)} <= set(first.ids + rest)

    async def test_invalid_cursor_raises(self) -> None:
        log = Log()
        index = await self.loaded(*[log.created(cid(n), firstName="Ann") for n in range(5)])
        page = await index.search(ListQuery(tenant_id="t1", limit=2, sort="firstName"))
        assert page.next_cursor
        for bad in ("garbage", "eyJ2IjoxfQ", page.next_cursor[:-4], "💥"):
            with pytest.raises(InvalidCursor):
                await index.search(ListQuery(tenant_id="t1", limit=2, sort="firstName", cursor=bad))
        others: list[dict[str, Any]] = [
            {"sort": "-firstName"},
            {"text": "ann"},
            {"tenant_id": "t2"},
        ]
        for other in others:
            query = dataclasses.replace(ListQuery(tenant_id="t1", sort="firstName"), **other)
            with pytest.raises(InvalidCursor):
                await index.search(dataclasses.replace(query, cursor=page.next_cursor))

    # ------------------------------------------------------------------ projection behaviour
    async def test_updates_remove_stale_tokens(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(
                cid(1),
                firstName="Ann",
                lastName="Lee",
                email="ann@old.io",
                phone="+14155552671",
                tags=["vip"],
                attributes={"p": 1},
            )
        )
        await index.apply(
            [
                log.changed(
                    cid(1),
                    firstName="Bob",
                    email="bob@new.io",
                    phone="+442079460958",
                    tags=["new"],
                    attributes={"p": 2},
                ),
                log.event("type_changed", "t1", cid(1), previous="new", to="regular"),
            ],
            9,
        )
        for gone in (
            {"text": "ann"},
            {"text": "old"},
            {"text": "2671"},
            {"text": "41555"},
            {"tags": ("vip",)},
            {"attrs": (("p", "1"),)},
            {"email": "ann@old.io"},
            {"type": "new"},
        ):
            assert await self.ids(index, **gone) == [], gone
        for found in (
            {"text": "bob lee"},
            {"text": "new.io"},
            {"text": "2079"},
            {"text": "0958"},
            {"tags": ("new",)},
            {"attrs": (("p", "2"),)},
            {"email": "bob@new.io"},
            {"type": "regular"},
        ):
            assert await self.ids(index, **found) == [cid(1)], found
        await index.apply([log.changed(cid(1), firstName=None, email=None, phone=None)], 10)
        assert await self.ids(index, text="bob") == [] and await self.ids(index, text="lee") == [
            cid(1)
        ]
        assert await self.ids(index, sort="firstName") == [cid(1)]

    async def test_reapplying_batches_is_harmless_and_checkpoint_moves(self) -> None:
        log, index = Log(), await self.make_index()
        assert await index.checkpoint() == 0
        first = [log.created(cid(1), firstName="Ann"), log.created(cid(2), firstName="Bo")]
        second = [log.changed(cid(1), firstName="Cy")]
        await index.apply(first, 2)
        assert await index.checkpoint() == 2
        await index.apply(second, 3)
        for batch, position in ((first, 2), (second, 3), (first + second, 3)):
            await index.apply(batch, position)
            assert await index.checkpoint() == 3
            assert await self.ids(index, text="cy") == [cid(1)]
            assert await self.ids(index, text="ann") == []
            assert await self.ids(index, sort="firstName") == [cid(2), cid(1)]

    async def test_generations_are_isolated_switchable_and_droppable(self) -> None:
        log = Log()
        blue, green = await self.make_index(1), await self.make_index(2)
        assert await blue.active_generation() == 1
        await blue.apply([log.created(cid(1), firstName="Ann")], 1)
        await green.apply([log.created(cid(2), firstName="Ann")], 7)
        assert await self.ids(blue, text="ann") == [cid(1)]
        assert await self.ids(green, text="ann") == [cid(2)]
        assert (await blue.checkpoint(), await green.checkpoint()) == (1, 7)
        await green.activate()
        assert await blue.active_generation() == 2 and await green.active_generation() == 2
        await blue.drop()
        assert await self.ids(blue, text="ann") == [] and await blue.checkpoint() == 0
        assert await self.ids(green, text="ann") == [cid(2)] and await green.checkpoint() == 7


def _tagged(customer: str, tag: str) -> bool:
    """The tags `test_nulls_last_both_ways_on_every_nullable_key_and_path` gave customer n."""
    n = int(customer[-12:])
    return n % 2 == 1 if tag == "dense" else n % 9 == 0
