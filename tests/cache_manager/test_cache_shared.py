"""Functions sharing one ``CacheManager``: each counts its own lookups, the cache sums them."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from codomyrmex.performance import CacheManager, cached_function
from harness.metrics import MetricsProbe

if TYPE_CHECKING:
    from harness.redis_server import RedisServer


def requests(probe: MetricsProbe, cache_name: str) -> dict[str, Any]:
    return {
        p.attributes["codomyrmex.cache.result"]: p.point.value
        for p in probe.points("codomyrmex.cache.requests", **{"codomyrmex.cache.name": cache_name})
    }


def test_cache_info_counts_only_that_functions_lookups(metric_probe: MetricsProbe) -> None:
    shared = CacheManager(name="test-shared-counts")
    first = cached_function(cache_manager=shared, name="first")(lambda x: x)
    second = cached_function(cache_manager=shared, name="second")(lambda x: -x)
    never = cached_function(cache_manager=shared, name="never")(lambda x: x)
    for _ in range(3):
        first(1)
    second(2)
    shared.get("direct")  # a miss of the mapping API, no function's
    assert first.cache_info() == (2, 1, 128, 1)
    assert second.cache_info() == (0, 1, 128, 1)
    assert never.cache_info() == (0, 0, 128, 0)
    stats = shared.stats()
    assert (stats.hits, stats.misses, stats.size) == (2, 3, 2)
    assert requests(metric_probe, "test-shared-counts") == {"hit": 2, "miss": 3, "error": 0}
    first.cache_clear()
    assert first.cache_info() == (0, 0, 128, 0)
    assert second.cache_info() == (0, 1, 128, 1)
    assert (shared.stats().hits, shared.stats().misses) == (2, 3)


def test_a_function_owning_its_cache_counts_direct_use_of_it_too() -> None:
    own = cached_function(name="test-shared-own")(lambda x: x)
    own(1)
    own.cache.get(1)
    assert own.cache_info() == (1, 1, 128, 1)


def test_per_function_counts_lose_nothing_under_threads() -> None:
    shared = CacheManager(max_size=None, name="test-shared-threads")
    first = cached_function(cache_manager=shared, name="first")(lambda x: x)
    second = cached_function(cache_manager=shared, name="second")(lambda x: x)
    barrier = threading.Barrier(4)

    def work(function: Any) -> None:
        barrier.wait()
        for i in range(2000):
            function(i % 10)

    threads = [threading.Thread(target=work, args=(f,)) for f in (first, second, first, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    for function in (first, second):
        info = function.cache_info()
        assert info.hits + info.misses == 4000
        assert info.currsize == 10
    stats = shared.stats()
    assert stats.hits + stats.misses == 8000


def test_redis_functions_sharing_a_cache_count_their_own(redis_server: RedisServer) -> None:
    shared = CacheManager(backend=redis_server.url, name="test-shared-redis")
    first = cached_function(cache_manager=shared, name="first")(lambda x: x)
    never = cached_function(cache_manager=shared, name="never")(lambda x: x)
    first(1)
    first(1)
    assert first.cache_info() == (1, 1, 128, 1)
    assert never.cache_info() == (0, 0, 128, 0)
    assert (shared.stats().hits, shared.stats().misses) == (1, 1)
