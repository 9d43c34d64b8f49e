"""``cached_function`` on coroutine functions: awaited results, single-flight, errors."""

from __future__ import annotations

import asyncio
import inspect

import pytest

from codomyrmex.performance import cached_function


async def test_awaited_result_is_cached_not_the_coroutine() -> None:
    calls = []

    @cached_function
    async def fetch(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0)
        return x * 10

    assert inspect.iscoroutinefunction(fetch)
    assert await fetch(1) == 10
    assert await fetch(1) == 10
    assert await fetch(1.0) == 10
    assert calls == [1]
    assert fetch.cache_info().hits == 2
    assert fetch.cache.get(1) == 10  # the stored value is the result itself


async def test_concurrent_misses_run_once() -> None:
    calls = []

    @cached_function
    async def fetch(x: int) -> dict[str, int]:
        calls.append(x)
        await asyncio.sleep(0.05)
        return {"x": x}

    results = await asyncio.gather(*(fetch(7) for _ in range(10)), fetch(8))
    assert calls == [7, 8]
    assert all(result is results[0] for result in results[:10])
    info = fetch.cache_info()
    assert info.hits + info.misses == 11
    assert info.currsize == 2


async def test_exception_reaches_every_waiter_and_is_not_cached() -> None:
    calls = []

    @cached_function
    async def fetch(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.05)
        raise ConnectionError(f"down {len(calls)}")

    results = await asyncio.gather(*(fetch(1) for _ in range(5)), return_exceptions=True)
    assert calls == [1]
    assert all(isinstance(r, ConnectionError) and str(r) == "down 1" for r in results)
    with pytest.raises(ConnectionError, match="down 2"):
        await fetch(1)
    assert fetch.cache_info().currsize == 0


async def test_cancelled_leader_lets_a_waiter_compute() -> None:
    calls = []
    started = asyncio.Event()

    @cached_function
    async def fetch(x: int) -> int:
        calls.append(x)
        started.set()
        await asyncio.sleep(0.05)
        return x

    leader = asyncio.create_task(fetch(3))
    await started.wait()
    waiter = asyncio.create_task(fetch(3))
    await asyncio.sleep(0)
    leader.cancel()
    assert await waiter == 3
    with pytest.raises(asyncio.CancelledError):
        await leader
    assert calls == [3, 3]
    assert await fetch(3) == 3
    assert len(calls) == 2


async def test_cancelled_waiter_does_not_cancel_the_computation() -> None:
    calls = []

    @cached_function
    async def fetch(x: int) -> int:
        calls.append(x)
        await asyncio.sleep(0.05)
        return x

    leader = asyncio.create_task(fetch(4))
    await asyncio.sleep(0)
    waiter = asyncio.create_task(fetch(4))
    await asyncio.sleep(0.01)
    waiter.cancel()
    assert await leader == 4
    assert calls == [4]


async def test_unhashable_and_keyword_arguments() -> None:
    calls = []

    @cached_function
    async def total(values: list[int], *, scale: int = 1) -> int:
        calls.append(1)
        return sum(values) * scale

    assert await total([1, 2], scale=2) == 6
    assert await total([1, 2], scale=2) == 6
    assert await total([1, 2]) == 3
    assert len(calls) == 2


def test_cache_survives_across_event_loops() -> None:
    calls = []

    @cached_function
    async def fetch(x: int) -> int:
        calls.append(x)
        return x

    assert asyncio.run(fetch(1)) == 1
    assert asyncio.run(fetch(1)) == 1
    assert calls == [1]


async def test_async_ttl_expiry() -> None:
    calls = []

    @cached_function(ttl=0.05)
    async def fetch(x: int) -> int:
        calls.append(x)
        return x

    await fetch(1)
    await fetch(1)
    await asyncio.sleep(0.08)
    await fetch(1)
    assert calls == [1, 1]
    assert fetch.cache.stats().expirations == 1
