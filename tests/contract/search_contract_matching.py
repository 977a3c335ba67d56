"""Search-index contract, part 1: what matches (text, digits, filters, states, tenants)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from tests.contract.event_builder import T0
from tests.contract.search_contract_base import Log, SearchIndexHarness, cid


class MatchingContract(SearchIndexHarness):
    """Which customers a query finds."""

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
    async def _three_customers(self) -> tuple[Any, datetime, datetime, datetime]:
        """Three customers created a day apart with every filterable field varied."""
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
        return index, d1, d2, d3

    async def test_every_filter(self) -> None:
        index, d1, d2, d3 = await self._three_customers()

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

    async def test_changes_outside_the_searched_fields_keep_the_customer_findable(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(1), firstName="Ann", lastName="Lee", tags=["vip"]),
            log.created(cid(2), firstName="Bob"),
        )
        visit = log.visit("t1", cid(1), "o-1", "2024-06-01T00:00:00.000Z")
        await index.apply([visit], visit.position)
        assert await self.ids(index, text="ann lee") == [cid(1)]
        assert await self.ids(index, tags=("vip",), sort="-lastVisitAt") == [cid(1)]
        assert await self.ids(index) == [cid(2), cid(1)]  # total: each customer once
        deleted = log.event("deleted", "t1", cid(1), reason="asked")
        await index.apply([deleted], deleted.position)
        assert await self.ids(index, text="ann") == []
        assert await self.ids(index, state="deleted", text="ann") == [cid(1)]
        assert await self.ids(index) == [cid(2)]

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
