"""Telemetry of the caches: a registry of live caches read by observable instruments.

Caches count in plain integers; nothing here runs on a cache's call path. The first cache
created registers three observable instruments on the ``codomyrmex.performance`` scope,
each with one callback that walks the live caches when a metric reader collects
(names and attributes are listed in :mod:`codomyrmex.performance.cache_manager`).
Caches sharing a name are summed into one series.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from codomyrmex.performance.cache_manager._decorator import read_count

if TYPE_CHECKING:
    from opentelemetry.metrics import CallbackOptions, Observation

    from codomyrmex.performance.cache_manager import CacheManager

__all__ = ["live_caches", "register"]

_registry: weakref.WeakSet[CacheManager] = weakref.WeakSet()
_registry_lock = threading.Lock()
_instruments_ready = False

_NAME = "codomyrmex.cache.name"
_RESULT = "codomyrmex.cache.result"
_REASON = "codomyrmex.cache.reason"


def register(cache: CacheManager) -> None:
    """Track a new cache (weakly) and make sure the instruments exist."""
    with _registry_lock:
        _registry.add(cache)
    if not _instruments_ready:
        _create_instruments()


def _create_instruments() -> None:
    """Create the three observable instruments once for the package scope."""
    global _instruments_ready
    from opentelemetry.metrics import Observation

    from codomyrmex.performance.telemetry import scope_telemetry

    scope = scope_telemetry()

    def observe(read: Callable[[], Iterable[tuple[int, dict[str, str]]]]) -> Any:
        def callback(options: CallbackOptions) -> Iterable[Observation]:
            try:
                return [Observation(value, attributes) for value, attributes in read()]
            except Exception:  # telemetry never breaks the collection of other metrics
                return []

        return callback

    scope.instrument(
        "codomyrmex.cache.requests",
        lambda meter: meter.create_observable_counter(
            "codomyrmex.cache.requests",
            callbacks=[observe(_request_counts)],
            unit="{request}",
            description="Cache lookups by result (hit, miss, error).",
        ),
    )
    scope.instrument(
        "codomyrmex.cache.evictions",
        lambda meter: meter.create_observable_counter(
            "codomyrmex.cache.evictions",
            callbacks=[observe(_eviction_counts)],
            unit="{entry}",
            description="Cache entries removed for size (LRU) or because their TTL passed.",
        ),
    )
    scope.instrument(
        "codomyrmex.cache.entries",
        lambda meter: meter.create_observable_up_down_counter(
            "codomyrmex.cache.entries",
            callbacks=[observe(_entry_counts)],
            unit="{entry}",
            description="Entries held by in-memory caches.",
        ),
    )
    _instruments_ready = True


def _by_name(read: Callable[[CacheManager], tuple[int, ...]]) -> dict[str, list[int]]:
    """Per cache name, the element-wise sum of ``read(cache)`` (names may repeat)."""
    totals: dict[str, list[int]] = {}
    for cache in live_caches():
        values = read(cache)
        found = totals.setdefault(cache.name, [0] * len(values))
        for index, value in enumerate(values):
            found[index] += value
    return totals


def _request_counts() -> list[tuple[int, dict[str, str]]]:
    totals = _by_name(lambda c: (read_count(c._hits), read_count(c._misses), read_count(c._errors)))
    return [
        (count, {_NAME: name, _RESULT: result})
        for name, counts in totals.items()
        for result, count in zip(("hit", "miss", "error"), counts, strict=True)
    ]


def _eviction_counts() -> list[tuple[int, dict[str, str]]]:
    totals = _by_name(lambda c: (c._evictions, c._expirations))
    return [
        (count, {_NAME: name, _REASON: reason})
        for name, counts in totals.items()
        for reason, count in zip(("size", "ttl"), counts, strict=True)
    ]


def _entry_counts() -> list[tuple[int, dict[str, str]]]:
    totals: dict[str, int] = {}
    for cache in live_caches():
        if cache.backend is None:
            totals[cache.name] = totals.get(cache.name, 0) + len(cache._data)
    return [(count, {_NAME: name}) for name, count in totals.items()]


def live_caches() -> list[CacheManager]:
    """The caches alive in this process (each has ``.name`` and ``.stats()``)."""
    with _registry_lock:
        return list(_registry)
