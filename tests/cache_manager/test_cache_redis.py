"""The Redis backend against a real redis-server: sharing, expiry, serializers, outages."""

from __future__ import annotations

import asyncio
import math
import pickle
import time
from typing import TYPE_CHECKING, Any

import pytest
import redis

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager._redis import RedisBackend
from harness.metrics import MetricsProbe
from harness.subprocesses import run_python

if TYPE_CHECKING:
    from harness.redis_server import RedisServer


HMAC_KEY = b"test-hmac-key-0123456789"


def raw(server: RedisServer) -> redis.Redis:
    return redis.Redis.from_url(server.url)


def counter(calls: list[Any]) -> Any:
    def func(*args: Any, **kwargs: Any) -> Any:
        calls.append(args)
        return {"args": list(args), "n": len(calls)}

    return func


def test_miss_then_hit_with_namespaced_expiring_keys(redis_server: RedisServer) -> None:
    calls: list[Any] = []
    cached = cached_function(ttl=60, backend=redis_server.url, name="test-redis-basic")(
        counter(calls)
    )
    assert cached(1) == {"args": [1], "n": 1}
    assert cached(1) == {"args": [1], "n": 1}
    assert len(calls) == 1
    keys = raw(redis_server).keys("*")
    assert len(keys) == 1
    prefix, digest = keys[0].decode().rsplit(":", 1)
    assert prefix == "codomyrmex:cache:test-redis-basic"
    assert len(digest) == 32
    assert 0 < raw(redis_server).pttl(keys[0]) <= 60_000
    assert cached.cache_info() == (1, 1, 128, 1)


def test_values_round_trip_exactly(redis_server: RedisServer) -> None:
    value = {
        "none": None,
        "tuple": (1, "a", (2.5,)),
        "list": [1, [2, 3]],
        1: "int key",
        (1, 2): frozenset({1, 2}),
        "set": {3, 4},
        "bytes": b"\x00\xff",
        "big": 2**80,
        "inf": math.inf,
        "bool": True,
    }
    cached = cached_function(backend=redis_server.url, name="test-redis-values")(lambda x: value)
    cached(1)
    again = cached(1)
    assert again == value
    assert type(again["tuple"]) is tuple
    assert type(again["set"]) is set
    assert cached.cache_info().hits == 1


def test_unserializable_value_is_returned_uncached_and_counted(redis_server: RedisServer) -> None:
    calls: list[Any] = []

    @cached_function(backend=redis_server.url, name="test-redis-unserializable")
    def make(x: int) -> object:
        calls.append(x)
        return object()

    first = make(1)
    second = make(1)
    assert first is not second
    assert len(calls) == 2
    stats = make.cache.stats()
    assert (stats.hits, stats.misses, stats.errors) == (0, 2, 2)
    assert raw(redis_server).keys("*") == []


def test_keys_are_exact_across_the_wire(redis_server: RedisServer) -> None:
    calls: list[Any] = []
    cached = cached_function(backend=redis_server.url, name="test-redis-keys")(counter(calls))
    cached(1)
    cached(1.0)
    cached(True)
    cached("1")
    cached([1, 2])
    cached((1, 2))
    cached({"b": 2, "a": 1})
    cached({"a": 1, "b": 2})
    cached(1, x=2)
    cached(1, x=2.0)
    assert [c[0] for c in calls] == [1, "1", [1, 2], (1, 2), {"b": 2, "a": 1}, 1]
    typed_calls: list[Any] = []
    typed = cached_function(backend=redis_server.url, typed=True, name="test-redis-typed")(
        counter(typed_calls)
    )
    typed(1)
    typed(1.0)
    typed(1)
    assert len(typed_calls) == 2


def test_arguments_without_a_stable_key_run_uncached(redis_server: RedisServer) -> None:
    calls: list[Any] = []
    cached = cached_function(backend=redis_server.url, name="test-redis-opaque")(counter(calls))
    thing = object()
    cached(thing)
    cached(thing)
    assert len(calls) == 2
    assert cached.cache.stats().errors == 2
    keyed = cached_function(
        backend=redis_server.url, key=lambda obj: "fixed", name="test-redis-custom-key"
    )(lambda obj: calls.append(obj) or "plain")
    assert keyed(object()) == "plain"
    assert keyed(object()) == "plain"
    assert len(calls) == 3


def test_two_processes_share_one_cache(redis_server: RedisServer) -> None:
    snippet = f"""
        from codomyrmex.performance import cached_function
        @cached_function(backend={redis_server.url!r}, name="test-redis-shared")
        def rate(currency):
            print("computed")
            return {{"currency": currency, "rate": 1.25}}
        print(rate("EUR"))
        print(rate.cache_info().misses)
    """
    first = run_python(snippet)
    assert first.returncode == 0, first.stderr
    assert first.stdout.split("\n")[0] == "computed"
    second = run_python(snippet)
    assert second.returncode == 0, second.stderr
    assert "computed" not in second.stdout
    assert second.stdout.strip().endswith("0")

    @cached_function(backend=redis_server.url, name="test-redis-shared")
    def rate(currency: str) -> dict[str, Any]:
        raise AssertionError("should come from the other process")

    assert rate("EUR") == {"currency": "EUR", "rate": 1.25}


def test_ttl_is_enforced_by_redis(redis_server: RedisServer) -> None:
    calls: list[Any] = []
    cached = cached_function(ttl=0.15, backend=redis_server.url, name="test-redis-ttl")(
        counter(calls)
    )
    cached(1)
    cached(1)
    time.sleep(0.25)
    assert raw(redis_server).keys("*") == []
    cached(1)
    assert len(calls) == 2


def test_cache_clear_only_that_function(redis_server: RedisServer) -> None:
    shared = CacheManager(backend=redis_server.url, name="test-redis-clear")
    calls: list[Any] = []
    first = cached_function(cache_manager=shared, name="first")(counter(calls))
    second = cached_function(cache_manager=shared, name="second")(counter(calls))
    other = cached_function(backend=redis_server.url, name="test-redis-clear-other")(counter(calls))
    first(1)
    first(2)
    second(1)
    other(1)
    shared.set("direct", 1)
    assert first.cache_info().currsize == 2
    first.cache_clear()
    assert first.cache_info() == (0, 0, 128, 0)
    assert second.cache_info().currsize == 1
    assert len(shared) == 2  # second's entry and the direct one
    shared.clear()
    assert len(shared) == 0
    assert other.cache_info().currsize == 1


def test_manager_mapping_api_over_redis(redis_server: RedisServer) -> None:
    cache = CacheManager(ttl_seconds=30, backend=redis_server.url, name="test-redis-mapping")
    assert cache.get("k", "default") == "default"
    cache.set("k", None)
    cache.set(["list", "key"], (1, 2), ttl_seconds=5)
    assert "k" in cache
    assert cache.get("k", "default") is None
    assert cache.get(["list", "key"]) == (1, 2)
    assert len(cache) == 2
    assert cache.delete("k") is True
    assert cache.delete("k") is False
    assert cache.get_or_set("made", lambda: [1]) == [1]
    assert cache.get_or_set("made", lambda: [2]) == [1]
    stats = cache.stats()
    assert (stats.hits, stats.misses, stats.errors, stats.size) == (3, 2, 0, 2)


def test_a_redis_client_can_be_passed(redis_server: RedisServer) -> None:
    client = redis.Redis(host="127.0.0.1", port=redis_server.port, socket_timeout=0.2)
    calls: list[Any] = []
    cached = cached_function(backend=client, name="test-redis-client")(counter(calls))
    cached(1)
    cached(1)
    assert len(calls) == 1
    assert cached.cache.backend is not None
    assert cached.cache.backend.client is client


def test_signed_pickle_round_trips_any_picklable_value(redis_server: RedisServer) -> None:
    backend = RedisBackend(redis_server.url, serializer="pickle", hmac_key=HMAC_KEY)
    cached = cached_function(backend=backend, name="test-redis-pickle")(
        lambda x: pytest.approx(x)  # a class the JSON codec would refuse
    )
    first = cached(1.5)
    second = cached(1.5)
    assert second == first
    assert cached.cache_info().hits == 1


class Boom:
    triggered: list[str] = []  # noqa: RUF012 - shared on purpose: records unpickling

    def __reduce__(self) -> Any:
        return (Boom.triggered.append, ("unpickled!",))


def test_tampered_or_unsigned_payload_is_a_miss_and_never_unpickled(
    redis_server: RedisServer,
) -> None:
    backend = RedisBackend(redis_server.url, serializer="pickle", hmac_key=HMAC_KEY)
    calls: list[Any] = []
    cached = cached_function(backend=backend, name="test-redis-tamper")(counter(calls))
    cached(1)
    (key,) = raw(redis_server).keys("*")
    stored = raw(redis_server).get(key)
    assert stored is not None
    evil = pickle.dumps(Boom())
    raw(redis_server).set(key, stored[:33] + evil)  # valid-looking signature, other body
    assert cached(1) == {"args": [1], "n": 2}
    assert Boom.triggered == []
    raw(redis_server).set(key, b"P" + b"\0" * 32 + evil)
    cached(1)
    raw(redis_server).set(key, evil)
    cached(1)
    assert Boom.triggered == []
    assert len(calls) == 4
    stats = cached.cache.stats()
    assert (stats.misses, stats.errors) == (4, 3)
    assert cached(1) == {"args": [1], "n": 4}  # the bad entry was overwritten
    assert Boom.triggered == []

    json_reader = cached_function(backend=redis_server.url, name="test-redis-tamper")(
        counter(calls)
    )
    json_reader(1)  # a pickle payload seen by the JSON codec: a miss plus an error
    assert Boom.triggered == []
    assert json_reader.cache.stats().errors == 1


def test_signature_is_bound_to_the_key(redis_server: RedisServer) -> None:
    backend = RedisBackend(redis_server.url, serializer="pickle", hmac_key=HMAC_KEY)
    calls: list[Any] = []
    cached = cached_function(backend=backend, name="test-redis-swap")(counter(calls))
    cached(1)
    cached(2)
    client = raw(redis_server)
    keys = sorted(client.keys("*"))
    values = [client.get(k) for k in keys]
    client.set(keys[0], values[1])
    client.set(keys[1], values[0])
    cached(1)
    cached(2)
    assert len(calls) == 4
    assert cached.cache.stats().errors == 2


def test_redis_killed_mid_run_falls_through_and_recovers(
    redis_server: RedisServer, metric_probe: MetricsProbe
) -> None:
    backend = RedisBackend(redis_server.url, retry_after=0.2)
    calls: list[Any] = []
    cached = cached_function(backend=backend, name="test-redis-outage")(counter(calls))
    cached(1)
    cached(1)
    redis_server.kill()
    for _ in range(20):
        assert cached(1)["args"] == [1]  # computed again, nothing raised
    assert len(calls) == 21
    errors_while_down = cached.cache.stats().errors
    assert errors_while_down == 20
    redis_server.start()
    deadline = time.monotonic() + 10
    while cached.cache.stats().hits < 2 and time.monotonic() < deadline:
        cached(1)
        time.sleep(0.05)
    assert cached.cache.stats().hits == 2  # stored again after the restart, then a hit
    points = {
        p.attributes["codomyrmex.cache.result"]: p.point.value
        for p in metric_probe.points(
            "codomyrmex.cache.requests", **{"codomyrmex.cache.name": "test-redis-outage"}
        )
    }
    stats = cached.cache.stats()
    assert points == {"hit": 2, "miss": stats.misses, "error": stats.errors}
    assert stats.errors >= 20
    assert not metric_probe.points(
        "codomyrmex.cache.entries", **{"codomyrmex.cache.name": "test-redis-outage"}
    )


def test_hung_redis_times_out_and_recovers(redis_server: RedisServer) -> None:
    calls: list[Any] = []
    cached = cached_function(
        backend=RedisBackend(redis_server.url, socket_timeout=0.05, retry_after=0.1),
        name="test-redis-hung",
    )(counter(calls))
    cached(1)
    redis_server.pause()
    try:
        cached(1)
        cached(1)
    finally:
        redis_server.resume()
    assert len(calls) == 3
    assert cached.cache.stats().errors == 2
    time.sleep(0.15)
    cached(1)
    cached(1)
    assert cached.cache.stats().hits >= 1


def test_never_started_redis_never_raises() -> None:
    cache = CacheManager(backend="redis://127.0.0.1:1/0", name="test-redis-absent")
    cache.set("k", 1)
    assert cache.get("k", "default") == "default"
    assert "k" not in cache
    assert len(cache) == 0
    assert cache.delete("k") is False
    cache.clear()
    calls: list[Any] = []
    cached = cached_function(cache_manager=cache)(counter(calls))
    cached(1)
    cached(1)
    assert len(calls) == 2
    assert cache.stats().hits == 0


async def test_async_functions_share_one_lookup(redis_server: RedisServer) -> None:
    calls: list[Any] = []

    @cached_function(backend=redis_server.url, name="test-redis-async")
    async def fetch(x: int) -> list[int]:
        calls.append(x)
        await asyncio.sleep(0.05)
        return [x]

    results = await asyncio.gather(*(fetch(5) for _ in range(6)))
    assert results == [[5]] * 6
    assert calls == [5]
    assert await fetch(5) == [5]
    assert calls == [5]
    info = fetch.cache_info()
    assert info.hits + info.misses == 7
    assert info.currsize == 1


async def test_async_redis_down_falls_through() -> None:
    @cached_function(backend="redis://127.0.0.1:1/0", name="test-redis-async-down")
    async def fetch(x: int) -> int:
        return x

    assert await fetch(1) == 1
    assert await fetch(1) == 1
    assert fetch.cache.stats().errors == 2
