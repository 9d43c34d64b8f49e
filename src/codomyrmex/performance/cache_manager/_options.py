"""Validation of cache options, so that bad ones fail when a cache is created."""

from __future__ import annotations

import math
import sys

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from codomyrmex.performance.cache_manager._redis import RedisBackend

__all__ = [
    "check_max_size",
    "check_name",
    "check_ttl",
    "creation_site",
    "resolve_backend",
    "resolve_ttl",
]


def check_name(value: object) -> str | None:
    """A cache name: a non-empty string that encodes to UTF-8 (no lone surrogate).

    It labels telemetry and, with Redis, every key, so an unencodable one would fail on
    every export and every call instead of once, here.
    """
    if value is None:
        return None
    if not isinstance(value, str) or not value:
        raise TypeError("name must be a non-empty string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise ValueError(
            f"name must be encodable as UTF-8 (it labels telemetry and Redis keys), got {value!r}"
        ) from None
    return value


def check_ttl(value: Any, label: str) -> float | None:
    """Seconds, ``None`` or ``inf`` (never expire); ``0`` keeps nothing."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(f"{label} must be a number of seconds or None, not {type(value).__name__}")
    try:
        seconds = float(value)
    except OverflowError:
        raise ValueError(f"{label} is too large; pass None for entries that never expire") from None
    if math.isnan(seconds) or seconds < 0:
        raise ValueError(f"{label} must be >= 0, got {value!r}")
    return None if math.isinf(seconds) else value


def check_max_size(value: Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"max_size must be an int or None, not {type(value).__name__}")
    if value < 0:
        raise ValueError(f"max_size must be >= 0, got {value!r}")
    return value


def resolve_ttl(ttl_seconds: Any, ttl: Any) -> float | None:
    seconds = check_ttl(ttl_seconds, "ttl_seconds")
    if ttl is None:
        return seconds
    alias = check_ttl(ttl, "ttl")
    if ttl_seconds != 300 and alias != seconds:
        raise ValueError(f"ttl={ttl!r} conflicts with ttl_seconds={ttl_seconds!r}; pass one")
    return alias


def resolve_backend(backend: Any) -> RedisBackend | None:
    if backend is None or (isinstance(backend, str) and backend == "memory"):
        return None
    from codomyrmex.performance.cache_manager._redis import RedisBackend

    if isinstance(backend, RedisBackend):
        return backend
    if isinstance(backend, str):
        if not backend.startswith(("redis://", "rediss://", "unix://")):
            raise ValueError(
                f"backend must be 'memory' or a redis://, rediss:// or unix:// URL, got {backend!r}"
            )
        return RedisBackend(backend)
    return RedisBackend(backend)  # raises TypeError unless it is a redis.Redis client


def creation_site() -> str:
    frame = sys._getframe(2)
    return f"{frame.f_globals.get('__name__', '?')}:{frame.f_lineno}"
