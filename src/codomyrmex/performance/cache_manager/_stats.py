"""What ``CacheManager.stats()`` and ``cache_info()`` return.

Loaded on first use (``dataclasses`` imports ``inspect``, ``typing`` costs milliseconds),
so importing or decorating with the cache costs neither.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["CacheInfo", "CacheStats"]


@dataclass(frozen=True)
class CacheStats:
    """Counts since the cache was created (``clear()`` empties it but keeps the counts).

    ``hits``, ``misses`` and ``errors`` sum every lookup: the mapping API and every
    function using the cache. ``evictions`` are LRU evictions for size; ``expirations``
    are entries dropped because their TTL passed; ``errors`` are lookups or stores that
    failed (backend down, unusable key or value).
    """

    hits: int
    misses: int
    evictions: int
    expirations: int
    size: int
    max_size: int | None
    hit_rate: float
    errors: int = 0


class CacheInfo(NamedTuple):
    """What ``cache_info()`` returns, shaped like ``functools``' own, for one function."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int
