"""A cache that goes away keeps its counts: the monotonic counters of a name never go down."""

from __future__ import annotations

import gc

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager import live_caches
from harness.metrics import MetricsProbe

REQUESTS = "codomyrmex.cache.requests"
EVICTIONS = "codomyrmex.cache.evictions"


def deltas(probe: MetricsProbe, name: str) -> dict[tuple[str, str], int]:
    """One collection's delta points of one cache name: {(metric, result or reason): value}."""
    found: dict[tuple[str, str], int] = {}
    for point in probe.collect():
        if point.attributes.get("codomyrmex.cache.name") != name or point.name not in (
            REQUESTS,
            EVICTIONS,
        ):
            continue
        label = point.attributes.get("codomyrmex.cache.result") or point.attributes.get(
            "codomyrmex.cache.reason"
        )
        found[(point.name, label)] = point.point.value
    return found


def test_a_collected_cache_counts_on_and_a_successor_adds_to_it(
    metric_probe: MetricsProbe,
) -> None:
    name = "test-retired-successor"

    def first_generation() -> None:
        @cached_function(max_size=1, name=name)
        def square(x: int) -> int:
            return x * x

        square(1), square(1), square(2)  # miss, hit, miss (evicts 1)

    first_generation()
    assert deltas(metric_probe, name) == {
        (REQUESTS, "hit"): 1,
        (REQUESTS, "miss"): 2,
        (REQUESTS, "error"): 0,
        (EVICTIONS, "size"): 1,
        (EVICTIONS, "ttl"): 0,
    }
    gc.collect()
    assert all(cache.name != name for cache in live_caches())

    successor = CacheManager(name=name)
    successor.get("absent")
    assert successor.get("absent", 0) == 0
    after = deltas(metric_probe, name)
    assert after[(REQUESTS, "miss")] == 2
    assert all(value >= 0 for value in after.values()), after
    assert after[(REQUESTS, "hit")] == 0 and after[(EVICTIONS, "size")] == 0


def test_a_collected_cache_is_not_kept_alive_by_its_counts() -> None:
    import weakref

    cache = CacheManager(name="test-retired-alive")
    cache.set("k", bytearray(1024))
    ref = weakref.ref(cache)
    del cache
    gc.collect()
    assert ref() is None
