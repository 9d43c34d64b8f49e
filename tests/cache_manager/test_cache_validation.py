"""Bad cache options fail when the cache or decorator is created, with a clear error."""

from __future__ import annotations

from typing import Any

import pytest

from codomyrmex.performance import CacheManager, cached_function
from codomyrmex.performance.cache_manager._redis import RedisBackend


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_size": -1}, ValueError),
        ({"max_size": 1.5}, TypeError),
        ({"max_size": "10"}, TypeError),
        ({"max_size": True}, TypeError),
        ({"ttl_seconds": -1}, ValueError),
        ({"ttl_seconds": float("nan")}, ValueError),
        ({"ttl_seconds": "60"}, TypeError),
        ({"ttl_seconds": False}, TypeError),
        ({"name": ""}, TypeError),
        ({"name": 3}, TypeError),
        ({"backend": 42}, TypeError),
        ({"backend": object()}, TypeError),
        ({"backend": "memcached://localhost"}, ValueError),
    ],
)
def test_cache_manager_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        CacheManager(**kwargs)


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"max_size": -5}, ValueError),
        ({"max_size": 2.0}, TypeError),
        ({"ttl_seconds": -0.1}, ValueError),
        ({"ttl": -1}, ValueError),
        ({"ttl": "1h"}, TypeError),
        ({"ttl": 60, "ttl_seconds": 30}, ValueError),
        ({"key": "not callable"}, TypeError),
        ({"typed": "yes"}, TypeError),
        ({"cache_manager": {}}, TypeError),
        ({"cache_manager": CacheManager(name="test-validation-shared"), "max_size": 5}, ValueError),
        ({"cache_manager": CacheManager(name="test-validation-shared"), "ttl": 5}, ValueError),
        ({"backend": 1.5}, TypeError),
        ({"backend": "http://localhost"}, ValueError),
        ({"name": ""}, TypeError),
    ],
)
def test_cached_function_rejects_at_decoration(
    kwargs: dict[str, Any], error: type[Exception]
) -> None:
    with pytest.raises(error):
        cached_function(**kwargs)


def test_non_callable_target() -> None:
    with pytest.raises(TypeError, match="callable"):
        cached_function(ttl=5)(42)  # type: ignore[arg-type]


def test_agreeing_ttl_spellings_are_fine() -> None:
    assert cached_function(ttl=30, ttl_seconds=30)(lambda: 1).cache.ttl_seconds == 30


def test_infinite_ttl_means_never() -> None:
    assert CacheManager(ttl_seconds=float("inf")).ttl_seconds is None


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"serializer": "pickle"}, ValueError),
        ({"serializer": "pickle", "hmac_key": b"short"}, ValueError),
        ({"serializer": "pickle", "hmac_key": "not-bytes-but-long-enough"}, TypeError),
        ({"serializer": "json", "hmac_key": b"too short"}, ValueError),
        ({"serializer": "yaml"}, ValueError),
        ({"socket_timeout": 0}, ValueError),
        ({"retry_after": "1"}, TypeError),
    ],
)
def test_redis_backend_rejects(kwargs: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        RedisBackend("redis://127.0.0.1:1/0", **kwargs)
