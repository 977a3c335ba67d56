"""Read-your-writes waits: pass once projections reach the token, 503 with Retry-After after."""

from __future__ import annotations

import time

import pytest

from read_side.consistency import ConsistencyWaiter
from shared.errors import MalformedRequest, ServiceUnavailable
from shared.http.problems import problem_kind


async def test_waits_until_every_projection_passes_the_token() -> None:
    positions = {"a": 3, "b": 1}

    async def read_a() -> int:
        positions["a"] += 1
        return positions["a"]

    async def read_b() -> int:
        positions["b"] += 1
        return positions["b"]

    await ConsistencyWaiter([read_a, read_b], timeout=2, interval=0.001).wait("6")
    assert positions["b"] >= 6


async def test_times_out_with_503_and_retry_after() -> None:
    async def stuck() -> int:
        return 1

    with pytest.raises(ServiceUnavailable) as refused:
        await ConsistencyWaiter([stuck], timeout=0.05, interval=0.01).wait("2")
    assert refused.value.retry_after == 1
    assert problem_kind(refused.value).status == 503


async def test_absent_token_does_not_wait_and_garbage_is_400() -> None:
    async def never() -> int:
        raise AssertionError("should not be read")

    await ConsistencyWaiter([never]).wait(None)
    for token in ("abc", "-1", "9" * 40):
        with pytest.raises(MalformedRequest):
            await ConsistencyWaiter([never]).wait(token)


async def test_a_token_beyond_the_log_head_is_400_at_once() -> None:
    """No command ever returned it, so waiting could only end in a 503 after the timeout."""

    async def behind() -> int:
        return 5

    async def head() -> int:
        return 10

    waiter = ConsistencyWaiter([behind], head=head, timeout=5, interval=0.01)
    started = time.monotonic()
    with pytest.raises(MalformedRequest) as refused:
        await waiter.wait("999999")
    assert time.monotonic() - started < 0.5
    assert refused.value.errors[0].field == "X-Consistency-Token"
    with pytest.raises(ServiceUnavailable):  # within the head: still a wait, then 503
        await ConsistencyWaiter([behind], head=head, timeout=0.05).wait("10")


async def test_a_reader_behind_the_projections_hurries_them_and_one_past_does_not() -> None:
    position, hurried = {"at": 1}, []

    async def read() -> int:
        position["at"] += 1
        return position["at"]

    waiter = ConsistencyWaiter(
        [read], timeout=2, interval=0.001, on_wait=lambda _s: hurried.append(1)
    )
    await waiter.wait("1")
    assert not hurried
    await waiter.wait("5")
    assert hurried
