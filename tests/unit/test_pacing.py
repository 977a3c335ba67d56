"""`projectors.pacing.Pacer`: when projections defer to the API, and their turns."""

from __future__ import annotations

import asyncio
import time

from projectors.pacing import Pacer
from shared.http.in_flight import InFlight
from shared.settings import Settings


def busy_pacer(max_defer: float) -> Pacer:
    in_flight = InFlight()
    in_flight.count = 2
    return Pacer(turns=1, max_defer=max_defer, in_flight=in_flight)


def test_one_request_at_a_time_is_not_busy_two_are() -> None:
    pacer = Pacer(max_defer=1.0)
    pacer.in_flight.count = 1  # the write that woke the projections, alone
    assert not pacer.busy()
    pacer.in_flight.count = 2
    assert pacer.busy()


def test_a_waiting_reader_ends_the_deferral() -> None:
    pacer = busy_pacer(1.0)
    pacer.hurry(0.5)
    assert not pacer.busy()


async def test_settle_waits_while_busy_up_to_the_bound() -> None:
    pacer = busy_pacer(0.2)
    started = time.monotonic()
    await pacer.settle(lambda: False)
    assert 0.18 <= time.monotonic() - started < 1.0


async def test_settle_returns_once_the_burst_ends() -> None:
    pacer = busy_pacer(5.0)

    async def burst_ends() -> None:
        await asyncio.sleep(0.1)
        pacer.in_flight.count = 0

    started = time.monotonic()
    await asyncio.gather(pacer.settle(lambda: False), burst_ends())
    assert time.monotonic() - started < 1.0


async def test_no_deferral_when_disabled_or_stopping() -> None:
    started = time.monotonic()
    await busy_pacer(0.0).settle(lambda: False)
    await busy_pacer(5.0).settle(lambda: True)
    assert time.monotonic() - started < 0.1


async def test_turns_let_one_holder_at_a_time() -> None:
    pacer, holding, most = Pacer(turns=1), 0, 0

    async def hold() -> None:
        nonlocal holding, most
        async with pacer.turn():
            holding += 1
            most = max(most, holding)
            await asyncio.sleep(0.01)
            holding -= 1

    await asyncio.gather(*(hold() for _ in range(5)))
    assert most == 1


def test_serving_pacer_takes_turns_on_sqlite_read_models_only() -> None:
    embedded = Pacer.serving(Settings(projection_defer_seconds=3.0))
    services = Pacer.serving(Settings(mongo_url="mongodb://127.0.0.1:1/"))
    assert embedded.max_defer == 3.0
    assert embedded._turns is not None
    assert services._turns is None


def test_a_deferral_of_zero_turns_it_off() -> None:
    off = Settings.from_env({"CUSTOMERS_PROJECTION_DEFER": "0"})
    assert off.projection_defer_seconds == 0.0
    assert Settings.from_env({}).projection_defer_seconds == 2.0
