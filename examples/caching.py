"""Caching: an in-process TTL+LRU cache, and a Redis cache shared across processes.

    python examples/caching.py                           # memory only
    python examples/caching.py redis://localhost:6379/0  # also the Redis backend

Hits, misses, evictions and sizes are exported as ``codomyrmex.cache.*`` metrics.
"""

from __future__ import annotations

import sys

from codomyrmex.performance import CacheManager, cached_function, configure_telemetry

handle = configure_telemetry("caching-example")


@cached_function(ttl_seconds=60, max_size=2, name="prices")
def price(item: str) -> float:
    return {"apple": 0.5, "pear": 0.7, "plum": 0.3}[item]


for item in ("apple", "apple", "pear", "plum", "apple"):
    price(item)
print("memory:", price.cache_info())

if len(sys.argv) > 1:
    shared = CacheManager(ttl_seconds=30, max_size=100, name="shared-rates", backend=sys.argv[1])
    shared.clear()
    shared.set("eur-usd", 1.08)
    print("redis:", shared.get("eur-usd"), shared.get("gbp-usd"), shared.stats())

handle.shutdown()
