"""One contract suite for the `SearchIndex` port, run against SQLite and Redis."""

from __future__ import annotations

import dataclasses
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import redis.asyncio as redis

from read_side.events import EventEnvelope
from read_side.ports import SORT_KEYS, InvalidCursor, ListQuery
from read_side.search import ManagedSearchIndex
from read_side.search.redis_index import RedisSearchIndex
from read_side.search.sqlite_index import SQLiteSearchIndex
from read_side.search.sqlite_write import write

T0 = datetime(2024, 5, 1, 12, 0, tzinfo=UTC)


def cid(n: int) -> str:
    """Ids whose order is their number, so ties in the expected orders are plain to read."""
    return f"00000000-0000-4000-8000-{n:012d}"


class Log:
    """Builds EventEnvelopes with increasing positions and per-customer versions."""

    def __init__(self) -> None:
        self.position = 0
        self.versions: dict[tuple[str, str], int] = {}

    def event(
        self, kind: str, tenant: str, customer: str, at: datetime | None = None, **data: Any
    ) -> EventEnvelope:
        self.position += 1
        version = self.versions.get((tenant, customer), 0) + 1
        self.versions[(tenant, customer)] = version
        return EventEnvelope(
            position=self.position,
            event_id=str(uuid.uuid4()),
            type=f"customer.{kind}",
            customer_id=customer,
            version=version,
            occurred_at=at or T0 + timedelta(seconds=self.position),
            tenant_id=tenant,
            actor="user-1",
            data=data,
        )

    def created(
        self, customer: str, tenant: str = "t1", at: datetime | None = None, **profile: Any
    ) -> EventEnvelope:
        kind = profile.pop("customer_type", "new")
        return self.event("created", tenant, customer, at, customer_type=kind, profile=profile)

    def changed(self, customer: str, tenant: str = "t1", **changes: Any) -> EventEnvelope:
        return self.event("profile_changed", tenant, customer, changes=changes)


class SearchIndexContract:
    """The behaviour every `SearchIndex` adapter must have."""

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        """An index on this test's isolated storage (same storage for every generation)."""
        raise NotImplementedError

    async def loaded(self, *events: EventEnvelope) -> ManagedSearchIndex:
        index = await self.make_index()
        await index.apply(list(events), events[-1].position)
        return index

    async def ids(self, index: ManagedSearchIndex, limit: int = 3, **query: Any) -> list[str]:
        """Every page of the query, concatenated; checks `total` on each page."""
        found: list[str] = []
        cursor: str | None = None
        query.setdefault("tenant_id", "t1")
        while True:
            page = await index.search(ListQuery(limit=limit, cursor=cursor, **query))
            found += page.ids
            cursor = page.next_cursor
            assert len(page.ids) == (limit if cursor else page.total - len(found) + len(page.ids))
            if cursor is None:
                assert page.total == len(found)
                assert len(set(found)) == len(found)
                return found

    # ------------------------------------------------------------------ text search
    async def test_every_word_must_prefix_match_first_last_or_email(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="Ann", lastName="Lee", email="ann.lee@example.com"),
            log.created(cid(2), firstName="Anna", lastName="Smith", email="a.smith@mail.org"),
            log.created(cid(3), firstName="Lee", lastName="Annabel"),
            log.created(cid(4), firstName="Bob", lastName="Leeds", email="bob@anvil.io"),
        )
        assert await self.ids(index, text="ann lee", sort="firstName") == [cid(1), cid(3)]
        assert await self.ids(index, text="an", sort="firstName") == [
            cid(1),
            cid(2),
            cid(4),
            cid(3),
        ]
        assert await self.ids(index, text="nn") == []
        assert await self.ids(index, text="ann bob") == []
        assert await self.ids(index, text="smith mail", sort="firstName") == [cid(2)]
        assert await self.ids(index, text="example.com") == [cid(1)]
        assert await self.ids(index, text="ANVIL", sort="firstName") == [cid(4)]
        assert await self.ids(index, text="leeds bob anvil io") == [cid(4)]
        assert await self.ids(index, text="annabelle") == []
        assert await self.ids(index, text="!!!", sort="firstName") == [cid(n) for n in (1, 2, 4, 3)]

    async def test_accents_and_case_do_not_matter(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="Zoë", lastName="Straße"),
            log.created(cid(2), firstName="ZOE", lastName="Renée-Éloïse"),
            log.created(cid(3), firstName="Zola"),
        )
        assert await self.ids(index, text="zoe", sort="firstName") == [cid(1), cid(2)]
        assert await self.ids(index, text="ZO", sort="firstName") == [cid(1), cid(2), cid(3)]
        assert await self.ids(index, text="Zoë strasse") == [cid(1)]
        assert await self.ids(index, text="eloise renee") == [cid(2)]
        assert await self.ids(index, text="ÉLOÏSE") == [cid(2)]

    async def test_long_words_and_prefixes_match(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(
                cid(1), firstName="Maximiliana", email="maximiliana@extraordinarily.example"
            ),
            log.created(cid(2), firstName="Maximilian", email="max@extraordinary.example"),
        )
        assert await self.ids(index, text="maximilian", sort="firstName") == [cid(2), cid(1)]
        assert await self.ids(index, text="maximiliana") == [cid(1)]
        assert await self.ids(index, text="extraordinar", sort="firstName") == [cid(2), cid(1)]
        assert await self.ids(index, text="extraordinari") == [cid(1)]
        assert await self.ids(index, text="extraordinaryx") == []

    async def test_digits_match_phone_prefix_or_suffix_in_both_forms(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="A", phone="+14155552671"),
            log.created(cid(2), firstName="B", phone="+442079460958"),
            log.created(cid(3), firstName="C", phone="+14155550000", email="x415@example.com"),
        )
        both = [cid(1), cid(3)]
        for q in ("415", "1415", "+1 415", "(415) 555", "41555", "4155552"):
            assert await self.ids(index, text=q, sort="firstName") == (
                both if q != "4155552" else [cid(1)]
            ), q
        for q in ("2671", "671", "5552671", "14155552671", "4155552671", "+1 (415) 555-2671"):
            assert await self.ids(index, text=q) == [cid(1)], q
        assert await self.ids(index, text="2079") == [cid(2)]
        assert await self.ids(index, text="0958") == [cid(2)]
        assert await self.ids(index, text="442079") == [cid(2)]
        assert await self.ids(index, text="555") == []
        assert await self.ids(index, text="41") == []
        assert await self.ids(index, text="0000 c") == [cid(3)]
        assert await self.ids(index, text="0000 b") == []

    # ------------------------------------------------------------------ filters
    async def test_every_filter(self) -> None:
        log = Log()
        d1, d2, d3 = (T0 + timedelta(days=n) for n in (1, 2, 3))
        yes = {"granted": True, "source": "web", "legalBasis": "consent"}
        no = yes | {"granted": False}
        index = await self.loaded(
            log.created(
                cid(1),
                at=d1,
                customer_type="regular",
                firstName="A",
                lastName="X",
                email="Ann@Example.com",
                phone="+14155552671",
                tags=["vip", "b2b"],
                attributes={"plan": "gold", "seats": 3, "beta": True},
            ),
            log.created(
                cid(2),
                at=d2,
                firstName="B",
                email="bob@example.com",
                phone="+14155552672",
                tags=["vip"],
                attributes={"plan": "gold", "beta": False},
            ),
            log.created(cid(3), at=d3, customer_type="unregistered", firstName="C", tags=["b2b"]),
        )
        await index.apply(
            [
                log.event("consent_changed", "t1", cid(2), purpose="marketing_email", consent=yes),
                log.event("consent_changed", "t1", cid(3), purpose="marketing_email", consent=no),
            ],
            99,
        )

        async def match(**query: Any) -> list[str]:
            return await self.ids(index, **{"sort": "firstName", **query})

        assert await match(type="regular") == [cid(1)]
        assert await match(type="new") == [cid(2)]
        assert await match(email="ANN@example.COM") == [cid(1)]
        assert await match(email="ann@example") == []
        assert await match(phone="+14155552672") == [cid(2)]
        assert await match(phone="+1415555267") == []
        assert await match(tags=("vip",)) == [cid(1), cid(2)]
        assert await match(tags=("vip", "b2b")) == [cid(1)]
        assert await match(tags=("VIP",)) == []
        assert await match(attrs=(("plan", "gold"),)) == [cid(1), cid(2)]
        assert await match(attrs=(("plan", "gold"), ("seats", "3"))) == [cid(1)]
        assert await match(attrs=(("beta", "true"),)) == [cid(1)]
        assert await match(attrs=(("beta", "false"),)) == [cid(2)]
        assert await match(attrs=(("plan", "Gold"),)) == []
        assert await match(consent="marketing_email") == [cid(2)]
        assert await match(consent="push") == []
        assert await match(created_from=d2) == [cid(2), cid(3)]
        assert await match(created_to=d2) == [cid(1), cid(2)]
        assert await match(created_from=d2, created_to=d2) == [cid(2)]
        assert await match(created_from=d2, created_to=d3, sort="-updatedAt") == [cid(3), cid(2)]
        assert await match(created_from=d3 + timedelta(seconds=1)) == []
        assert await match(text="a b c", tags=("vip",)) == []
        assert await match(
            text="example",
            tags=("vip",),
            attrs=(("plan", "gold"),),
            type="new",
            created_from=d1,
            consent="marketing_email",
        ) == [cid(2)]

    async def test_deleted_customers_only_with_state_deleted(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="Ann", tags=["vip"]),
            log.created(cid(2), firstName="Ann", tags=["vip"]),
            log.event("deleted", "t1", cid(2), reason="asked"),
        )
        assert await self.ids(index, text="ann") == [cid(1)]
        assert await self.ids(index, tags=("vip",)) == [cid(1)]
        assert await self.ids(index, state="deleted", text="ann") == [cid(2)]
        assert await self.ids(index, state="deleted") == [cid(2)]
        await index.apply([log.event("restored", "t1", cid(2))], 99)
        assert await self.ids(index, text="ann", sort="firstName") == [cid(1), cid(2)]
        assert await self.ids(index, state="deleted") == []

    async def test_erased_customers_keep_no_searchable_personal_data(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="Ann", email="ann@x.io", phone="+14155552671"),
            log.created(cid(2), firstName="Ann"),
            log.event("erased", "t1", cid(1)),
        )
        assert await self.ids(index, text="ann") == [cid(2)]
        assert await self.ids(index, state="erased") == [cid(1)]
        gone: list[dict[str, Any]] = [{"text": "ann"}, {"text": "2671"}, {"email": "ann@x.io"}]
        for query in gone:
            assert await self.ids(index, state="erased", **query) == [], query

    async def test_tenants_are_isolated(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), "t1", firstName="Ann", email="ann@example.com", tags=["vip"]),
            log.created(cid(2), "t2", firstName="Ann", email="ann@example.com", tags=["vip"]),
            log.created(cid(3), "t{2}:x", firstName="Ann"),
        )
        for tenant, expected in (
            ("t1", [cid(1)]),
            ("t2", [cid(2)]),
            ("t{2}:x", [cid(3)]),
            ("t3", []),
        ):
            assert await self.ids(index, tenant_id=tenant, text="ann") == expected
            assert await self.ids(index, tenant_id=tenant) == expected
        assert await self.ids(index, tenant_id="t2", email="ann@example.com", tags=("vip",)) == [
            cid(2)
        ]

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
            )
            for n, *_, v in rows
            if v
        ]
        index = await self.loaded(*events)
        expected = {
            "firstName": [3, 4, 2, 1, 5],
            "lastName": [1, 3, 4, 5, 2],
            "email": [2, 4, 5, 1, 3],
            "createdAt": [4, 5, 2, 3, 1],
            "updatedAt": [4, 2, 5, 3, 1],
            "lastVisitAt": [3, 1, 5, 2, 4],
        }
        assert set(expected) == set(SORT_KEYS)
        for key, order in expected.items():
            for limit in (1, 2, 100):
                assert await self.ids(index, limit=limit, sort=key) == [cid(n) for n in order], key
                assert await self.ids(index, limit=limit, sort="-" + key) == [
                    cid(n) for n in reversed(order)
                ]

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
                log.event("type_changed", "t1", cid(1), to="regular"),
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


class TestSQLiteSearchIndex(SearchIndexContract):
    """The contract on the embedded SQLite adapter (one file shared by all generations)."""

    @pytest.fixture(autouse=True)
    async def _storage(self, tmp_path: Path) -> AsyncIterator[None]:
        self.path = tmp_path / "read.db"
        self.indexes: list[SQLiteSearchIndex] = []
        yield
        for index in self.indexes:
            await index.close()

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        index = SQLiteSearchIndex(self.path, generation=generation)
        self.indexes.append(index)
        return index

    async def test_rows_and_checkpoint_commit_together(
        self, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        log = Log()
        index = await self.loaded(log.created(cid(1), firstName="Ann"))
        calls = []

        def fail_second(*args: Any) -> None:
            calls.append(args)
            if len(calls) == 2:
                raise RuntimeError("crash in the middle of a batch")
            write(*args)

        monkeypatch.setattr("read_side.search.sqlite_write.write", fail_second)
        batch = [log.changed(cid(1), firstName="Bob"), log.created(cid(2), firstName="Bob")]
        with pytest.raises(RuntimeError):
            await index.apply(batch, 3)
        assert await index.checkpoint() == 1
        assert await self.ids(index, text="ann") == [cid(1)]
        assert await self.ids(index, text="bob") == []
        monkeypatch.undo()
        await index.apply(batch, 3)
        assert await self.ids(index, text="bob", sort="firstName") == [cid(1), cid(2)]


class TestRedisSearchIndex(SearchIndexContract):
    """The contract on Redis, under a key prefix of its own per test."""

    @pytest.fixture(autouse=True)
    async def _storage(self, redis_url: str, unique_name: str) -> AsyncIterator[None]:
        self.client = redis.Redis.from_url(redis_url)
        self.prefix = unique_name
        yield
        keys = [key async for key in self.client.scan_iter(match=f"{unique_name}:*", count=500)]
        if keys:
            await self.client.unlink(*keys)
        await self.client.aclose()

    async def make_index(self, generation: int = 1) -> ManagedSearchIndex:
        return RedisSearchIndex(self.client, prefix=self.prefix, generation=generation)

    async def test_keys_are_hash_tagged_by_tenant(self) -> None:
        log = Log()
        await self.loaded(log.created(cid(1), "acme", firstName="Ann", phone="+14155552671"))
        keys = [key.decode() async for key in self.client.scan_iter(match=f"{self.prefix}:*")]
        tenant_keys = [key for key in keys if ":projection:" not in key]
        assert tenant_keys and all(
            key.startswith(f"{self.prefix}:g1:{{acme}}:") for key in tenant_keys
        )
        assert f"{self.prefix}:projection:search:g1:checkpoint" in keys

    async def test_works_with_resp2_and_decoded_responses(self, redis_url: str) -> None:
        log = Log()
        client = redis.Redis.from_url(redis_url, protocol=2, decode_responses=True)
        try:
            index = RedisSearchIndex(client, prefix=self.prefix, generation=3)
            await index.apply([log.created(cid(n), firstName="Zoë") for n in (1, 2, 3)], 3)
            assert await self.ids(index, limit=2, text="zoe", sort="-firstName") == [
                cid(3),
                cid(2),
                cid(1),
            ]
            await index.activate()
            assert (await index.checkpoint(), await index.active_generation()) == (3, 3)
            await index.drop()
            assert await index.checkpoint() == 0 and await self.ids(index) == []
        finally:
            await client.aclose()
