"""``CacheManager`` used directly: the mapping API, TTL per entry, LRU, stats, naming."""

from __future__ import annotations

import time

import pytest

from codomyrmex.performance import CacheManager, CacheStats
from codomyrmex.performance.cache_manager import live_caches


def test_get_set_delete_contains_len() -> None:
    cache = CacheManager(name="test-manager-basic")
    assert cache.get("a") is None
    assert cache.get("a", "fallback") == "fallback"
    cache.set("a", 1)
    cache.set("b", None)
    assert "a" in cache
    assert "b" in cache
    assert "c" not in cache
    assert cache.get("b", "fallback") is None  # None is a value, not a miss
    assert len(cache) == 2
    assert cache.delete("a") is True
    assert cache.delete("a") is False
    assert len(cache) == 1
    stats = cache.stats()
    assert (stats.hits, stats.misses) == (1, 2)


def test_unhashable_keys() -> None:
    cache = CacheManager(name="test-manager-unhashable")
    cache.set(["x", {"k": 1}], "list-key")
    assert cache.get(["x", {"k": 1}]) == "list-key"
    assert ["x", {"k": 1}] in cache
    assert cache.get(("x", {"k": 1})) is None
    assert cache.delete(["x", {"k": 1}]) is True


def test_per_entry_ttl_and_expiry_counts() -> None:
    cache = CacheManager(ttl_seconds=60, name="test-manager-ttl")
    cache.set("short", 1, ttl_seconds=0.05)
    cache.set("long", 2)
    time.sleep(0.08)
    assert "short" not in cache
    assert cache.get("short") is None
    assert cache.get("long") == 2
    stats = cache.stats()
    assert (stats.expirations, stats.evictions, stats.size) == (1, 0, 1)


def test_len_drops_expired_entries() -> None:
    cache = CacheManager(ttl_seconds=0.05, name="test-manager-len")
    for i in range(3):
        cache.set(i, i)
    assert len(cache) == 3
    time.sleep(0.08)
    assert len(cache) == 0
    assert cache.stats().expirations == 3


def test_lru_bound_and_stats() -> None:
    cache = CacheManager(max_size=2, name="test-manager-lru")
    cache.set("a", 1)
    cache.set("b", 2)
    assert cache.get("a") == 1  # b is now the least recently used
    cache.set("c", 3)
    assert "b" not in cache
    assert cache.get("a") == 1
    assert cache.get("b") is None
    assert cache.stats() == CacheStats(
        hits=2, misses=1, evictions=1, expirations=0, size=2, max_size=2, hit_rate=2 / 3
    )


def test_set_existing_key_refreshes_value_and_recency() -> None:
    cache = CacheManager(max_size=2, name="test-manager-refresh")
    cache.set("a", 1)
    cache.set("b", 2)
    cache.set("a", 10)
    cache.set("c", 3)
    assert cache.get("a") == 10
    assert "b" not in cache


def test_get_or_set_calls_factory_once() -> None:
    cache = CacheManager(name="test-manager-get-or-set")
    calls = []

    def factory() -> str:
        calls.append(1)
        return "made"

    assert cache.get_or_set("k", factory) == "made"
    assert cache.get_or_set("k", factory) == "made"
    assert calls == [1]
    with pytest.raises(RuntimeError):
        cache.get_or_set("boom", lambda: (_ for _ in ()).throw(RuntimeError("x")))
    assert "boom" not in cache


@pytest.mark.parametrize("factory", ["made", 5, None])
def test_get_or_set_rejects_a_factory_that_is_not_callable_on_hit_and_miss(
    factory: object,
) -> None:
    cache = CacheManager(name="test-manager-get-or-set-type")
    cache.set("hit", "cached")
    before = cache.stats()
    message = f"factory must be callable, not {type(factory).__name__}"
    for key in ("hit", "miss"):
        with pytest.raises(TypeError) as raised:
            cache.get_or_set(key, factory)  # type: ignore[arg-type]
        assert str(raised.value) == message
    assert "miss" not in cache
    assert cache.stats() == before


def test_clear_keeps_lifetime_counts() -> None:
    cache = CacheManager(name="test-manager-clear")
    cache.set(1, 1)
    cache.get(1)
    cache.clear()
    assert len(cache) == 0
    assert cache.get(1) is None
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.size) == (1, 1, 0)
    assert stats.hit_rate == 0.5


def test_stats_of_an_empty_cache() -> None:
    assert CacheManager(name="test-manager-empty").stats() == CacheStats(
        hits=0, misses=0, evictions=0, expirations=0, size=0, max_size=128, hit_rate=0.0
    )


def test_generated_name_is_the_creation_site() -> None:
    cache = CacheManager()
    line = cache.name.rsplit(":", 1)
    assert line[0] == __name__
    assert int(line[1]) > 0
    assert CacheManager().name != cache.name


def test_live_caches_is_weak() -> None:
    cache = CacheManager(name="test-manager-live")
    assert cache in live_caches()
    del cache
    import gc

    gc.collect()
    assert "test-manager-live" not in {c.name for c in live_caches()}


def test_repr() -> None:
    assert repr(CacheManager(10, 5, name="r")) == (
        "CacheManager(name='r', ttl_seconds=10, max_size=5, backend=memory)"
    )
