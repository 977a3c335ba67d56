"""Search-index contract, part 3: the exact match keys duplicate suggestions read."""

from __future__ import annotations

from read_side.search.match_keys import PER_KEY
from tests.contract.search_contract_base import Log, SearchIndexHarness, cid

PHONE, NAME, SURNAME, LOCAL = "p\x1f+14155552671", "n\x1flee zoe", "s\x1flee", "l\x1fzoe.lee"


class CandidatesContract(SearchIndexHarness):
    """Which active customers are filed under which match keys."""

    async def test_customers_are_found_by_their_keys_in_key_then_id_order(self) -> None:
        log = Log()
        index = await self.loaded(
            log.created(cid(3), firstName="Zoë", lastName="Lee", phone="+14155552671"),
            log.created(cid(1), firstName="LEE", lastName="Zoe", email="Zoe.Lee@mail.org"),
            log.created(cid(2), firstName="Ann", lastName="Lee", email="zoe.lee@example.com"),
            log.created(
                cid(4), firstName="Bob", lastName="Stone", tenant="t2", phone="+14155552671"
            ),
        )
        assert await index.candidates("t1", [PHONE]) == [cid(3)]
        assert await index.candidates("t1", [NAME]) == [cid(1), cid(3)]
        assert await index.candidates("t1", [SURNAME]) == [cid(2), cid(3)]
        assert await index.candidates("t1", [LOCAL, PHONE, NAME]) == [cid(1), cid(2), cid(3)]
        assert await index.candidates("t2", [PHONE]) == [cid(4)]
        assert await index.candidates("t1", ["n\x1fzoe"]) == []
        assert await index.candidates("t1", []) == []

    async def test_a_change_refiles_and_only_active_customers_are_filed(self) -> None:
        log = Log()
        events = [
            log.created(cid(1), firstName="Zoe", lastName="Lee", phone="+14155552671"),
            log.created(cid(2), firstName="Zoe", lastName="Lee"),
            log.changed(cid(1), lastName="Stone", phone=None),
            log.event("deleted", "t1", cid(2), reason="asked"),
        ]
        index = await self.loaded(*events)
        assert await index.candidates("t1", [NAME, PHONE, SURNAME]) == []
        assert await index.candidates("t1", ["n\x1fstone zoe"]) == [cid(1)]
        restored = log.event("restored", "t1", cid(2))
        await index.apply([restored], restored.position)
        assert await index.candidates("t1", [NAME]) == [cid(2)]

    async def test_a_key_gives_at_most_per_key_candidates(self) -> None:
        log = Log()
        many = [log.created(cid(n), firstName=f"A{n}", lastName="Lee") for n in range(40)]
        index = await self.loaded(*many)
        assert await index.candidates("t1", [SURNAME]) == [cid(n) for n in range(PER_KEY)]
