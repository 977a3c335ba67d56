"""Who may see which customer a hand edit broke (issue 15.2): the whole log is shared by the
tenants, so a break is named only to the tenant owning the customer. The owner is found in the
read model, or — not projected yet — by the customer's first event alone: the clean-clone CI
met a victim whose edited second event no longer decoded, so reading the whole stream
disowned it and its own tenant saw an anonymous break."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import cast

from read_side.cache import DocCache
from read_side.chain import ChainBreak, ChainCheck
from read_side.consistency import ConsistencyWaiter
from read_side.events import EventEnvelope
from read_side.generations import ActiveGeneration
from read_side.ports import SearchModel, ViewModel
from read_side.queries import CustomerQueries
from read_side.views import CustomerDoc

VICTIM = "21d89499-adab-49c3-8b64-b19798961464"


class NothingProjected:
    """A view store that has not seen the customer yet."""

    async def get(self, tenant_id: str, customer_id: str) -> CustomerDoc | None:
        return None


class Generations:
    async def current(self) -> NothingProjected:
        return NothingProjected()


async def undecodable_stream(customer_id: str) -> list[EventEnvelope]:
    raise ValueError("event 2 was edited by hand and does not decrypt")


async def first_event(customer_id: str) -> list[EventEnvelope]:
    created = EventEnvelope(1, "e1", "customer.created", customer_id, 1, datetime.now(UTC), "acme")
    return [created]


async def broken_victim(customer_id: str | None) -> ChainCheck:
    broken = ChainBreak(kind="modified", position=5, customer_id=VICTIM, version=2, detail="x")
    return ChainCheck(ok=False, scope="log", verified=4, checkpoints=0, first_broken=broken)


def queries() -> CustomerQueries:
    return CustomerQueries(
        cast(ActiveGeneration[ViewModel], Generations()),
        cast(ActiveGeneration[SearchModel], Generations()),
        cast(DocCache, None),
        cast(ConsistencyWaiter, None),
        undecodable_stream,
        chain=broken_victim,
        first_event=first_event,
    )


async def test_given_an_unprojected_victim_when_its_tenant_verifies_then_it_is_named() -> None:
    check = await queries().verify_chain("acme", None)

    assert check.first_broken is not None
    assert (check.first_broken.customer_id, check.first_broken.version) == (VICTIM, 2)


async def test_given_an_unprojected_victim_when_another_tenant_verifies_then_it_is_not() -> None:
    check = await queries().verify_chain("other", None)

    assert check.first_broken is not None
    assert (check.first_broken.customer_id, check.first_broken.version) == (None, None)
    assert check.first_broken.kind == "modified"
