"""``cached_function`` under threads: exact counts and one computation per key."""

from __future__ import annotations

import sys
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest

from codomyrmex.performance import cached_function

THREADS = 8
CALLS = 2000


@pytest.fixture(autouse=True)
def _frequent_switches() -> Iterator[None]:
    """Switch threads every few bytecodes so that races would show."""
    previous = sys.getswitchinterval()
    sys.setswitchinterval(1e-6)
    yield
    sys.setswitchinterval(previous)


def hammer(func: Callable[[int], Any], keys: int) -> None:
    barrier = threading.Barrier(THREADS)

    def work(seed: int) -> None:
        barrier.wait()
        for i in range(CALLS):
            func((i * 7 + seed) % keys)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_no_lost_counts_and_one_computation_per_key() -> None:
    computed: list[int] = []

    @cached_function(max_size=None)
    def square(x: int) -> int:
        computed.append(x)
        return x * x

    hammer(square, keys=50)
    info = square.cache_info()
    assert info.hits + info.misses == THREADS * CALLS
    assert sorted(computed) == list(range(50))  # single-flight: each key computed once
    assert info.misses >= 50  # callers that waited for a computation count as misses too
    assert info.currsize == 50


def test_no_lost_counts_with_evictions() -> None:
    computed: list[int] = []

    @cached_function(max_size=16)
    def square(x: int) -> int:
        computed.append(x)
        return x * x

    hammer(square, keys=40)
    stats = square.cache.stats()
    assert stats.hits + stats.misses == THREADS * CALLS
    assert stats.size == 16
    assert stats.misses - stats.evictions >= stats.size
    assert stats.evictions == len(computed) - stats.size
    for x in range(40):
        assert square(x) == x * x


def test_concurrent_misses_compute_once_and_share_the_result() -> None:
    calls = []
    barrier = threading.Barrier(THREADS)

    @cached_function
    def slow(x: int) -> list[int]:
        calls.append(x)
        time.sleep(0.1)
        return [x]

    results: list[Any] = []

    def work() -> None:
        barrier.wait()
        results.append(slow(1))

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert len(results) == THREADS
    assert all(result is results[0] for result in results)


def test_concurrent_misses_share_the_exception_which_is_not_cached() -> None:
    calls = []
    barrier = threading.Barrier(THREADS)

    @cached_function
    def failing(x: int) -> int:
        calls.append(x)
        time.sleep(0.1)
        raise LookupError(f"no {x}")

    errors: list[BaseException] = []

    def work() -> None:
        barrier.wait()
        try:
            failing(1)
        except LookupError as exc:
            errors.append(exc)

    threads = [threading.Thread(target=work) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert calls == [1]
    assert len(errors) == THREADS
    assert {str(e) for e in errors} == {"no 1"}
    with pytest.raises(LookupError):
        failing(1)
    assert calls == [1, 1]
    assert failing.cache_info().currsize == 0
