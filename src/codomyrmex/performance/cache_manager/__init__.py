"""Result caching with TTL and LRU bounds, observable as OpenTelemetry metrics.

``cached_function`` is a drop-in for ``functools.lru_cache`` / ``cachetools.cached`` that
adds a time-to-live, async support and telemetry; ``CacheManager`` is the cache itself,
usable directly as a thread-safe TTL + LRU mapping::

    from codomyrmex.performance import CacheManager, cached_function

    @cached_function(ttl=3600)               # or bare @cached_function, or ttl_seconds=
    def load_profile(user_id: int) -> dict: ...

    @cached_function(max_size=1024, typed=True)
    async def fetch(url: str) -> bytes: ...   # the awaited result is cached

    load_profile.cache_info()   # CacheInfo(hits=..., misses=..., maxsize=128, currsize=...)
    load_profile.cache_clear()  # this function's entries only

    sessions = CacheManager(ttl_seconds=900, max_size=10_000, name="sessions")
    sessions.set("abc", {"user": 1}); sessions.get("abc"); sessions.stats()

Semantics. Keys are exact, as in ``functools``: equal arguments share an entry (``1`` and
``1.0`` do unless ``typed=True``); different objects never share one because they print
alike; lists, dicts and sets work through a frozen copy. A list or dict that contains
itself has none: ``CacheManager`` raises ``TypeError`` for such a key, and a decorated
function called with one runs uncached and counts an error. ``None`` is a cached value
like any other. Each entry expires ``ttl_seconds`` after it was stored (``None``: never;
``0``: nothing is kept) and the least recently used entry is evicted beyond ``max_size``
(``None``: unbounded). Expired entries are dropped when looked up, when they reach the
LRU end, and when ``len()`` or ``stats()`` is read. Concurrent misses for one key run the
function once, for threads and for coroutines alike; the others wait and get the same
result, or the same exception, which is never cached. A recursive call for the key being
computed just computes again. Each decorated function gets its own cache named
``module.qualname``; with a shared ``cache_manager=`` every function keeps its own key
namespace and its own counts, so ``cache_info()`` and ``cache_clear()`` are that
function's alone, while ``stats()`` and the metrics sum the whole cache. A process forked
while other threads were computing starts with no computation in flight: the child
computes for itself, it never waits for a thread it does not have.

Telemetry. A hit costs no OpenTelemetry call at all: caches count hits, misses, errors,
evictions and expirations in plain integers, and three observable instruments of the
``codomyrmex.performance`` scope read every live cache when a metric reader collects:

* ``codomyrmex.cache.requests`` (counter, ``{request}``): ``codomyrmex.cache.name``,
  ``codomyrmex.cache.result`` = ``hit`` | ``miss`` | ``error`` (a backend failure, or
  arguments that cannot form a key: the call then runs uncached);
* ``codomyrmex.cache.evictions`` (counter, ``{entry}``): ``codomyrmex.cache.reason`` =
  ``size`` | ``ttl``;
* ``codomyrmex.cache.entries`` (up-down counter, ``{entry}``): entries held in memory.

The counters are monotonic for the life of the cache: ``cache_clear()`` resets what
``cache_info()`` reports, never the exported counts. No span is made per hit; a miss shows
as a span only if the function is also monitored (``@cached_function`` above ``@monitor``).
``live_caches()`` lists the caches alive in the process (reports and tools read it).
Importing this package or decorating a plain function imports neither OpenTelemetry nor
``asyncio``, ``inspect`` or ``logging``. Redis (``RedisBackend``): see
:mod:`codomyrmex.performance.cache_manager._redis`.
"""

from __future__ import annotations

import importlib

from codomyrmex.performance._shared.callables import (
    CO_ASYNC_GENERATOR,
    CO_GENERATOR,
    calling_through,
    code_flags,
    qualified_name,
)
from codomyrmex.performance.cache_manager._decorator import build
from codomyrmex.performance.cache_manager._memory import MemoryStore
from codomyrmex.performance.cache_manager._options import (
    check_max_size,
    check_name,
    check_ttl,
    creation_site,
    resolve_backend,
    resolve_ttl,
)
from codomyrmex.performance.cache_manager._telemetry import live_caches, register

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Hashable
    from typing import Any, TypeVar, overload

    from codomyrmex.performance.cache_manager._redis import RedisBackend, RedisStore
    from codomyrmex.performance.cache_manager._stats import CacheInfo, CacheStats

    F = TypeVar("F", bound=Callable[..., Any])


__all__ = [
    "CacheInfo",
    "CacheManager",
    "CacheStats",
    "RedisBackend",
    "cached_function",
    "live_caches",
]

#: Loaded on first use: their modules import dataclasses, typing and the Redis machinery.
_LAZY = {"CacheInfo": "_stats", "CacheStats": "_stats", "RedisBackend": "_redis"}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


class CacheManager:
    """A thread-safe TTL + LRU cache, in process memory or in Redis (``backend=``).

    ``name`` labels its telemetry (``codomyrmex.cache.name``) and, with Redis, its keys;
    without one the cache is named after where it was created (``module:line``), which is
    stable across runs and processes.
    """

    def __init__(
        self,
        ttl_seconds: float | None = 300,
        max_size: int | None = 128,
        *,
        name: str | None = None,
        backend: str | RedisBackend | Any | None = None,
    ) -> None:
        ttl = check_ttl(ttl_seconds, "ttl_seconds")
        size = check_max_size(max_size)
        label = check_name(name) or creation_site()
        remote = resolve_backend(backend)
        self._store: MemoryStore | RedisStore
        if remote is None:
            self._store = MemoryStore(label, ttl, size)
        else:
            from codomyrmex.performance.cache_manager._redis import RedisStore

            self._store = RedisStore(remote, label, ttl, size)
        register(self, self._store)

    @property
    def name(self) -> str:
        return self._store.name

    @property
    def ttl_seconds(self) -> float | None:
        return self._store.ttl_seconds

    @property
    def max_size(self) -> int | None:
        return self._store.max_size

    @property
    def backend(self) -> RedisBackend | None:
        """The Redis backend, or None for a cache in process memory."""
        return self._store.backend

    def __repr__(self) -> str:
        where = "memory" if self.backend is None else repr(self.backend)
        return (
            f"CacheManager(name={self.name!r}, ttl_seconds={self.ttl_seconds}, "
            f"max_size={self.max_size}, backend={where})"
        )

    def get(self, key: Hashable, default: Any = None) -> Any:
        """The cached value, or ``default`` on a miss (counted as a hit or a miss)."""
        return self._store.get(key, default)

    def set(self, key: Hashable, value: Any, ttl_seconds: float | None = None) -> None:
        """Store ``value``; ``ttl_seconds`` overrides the cache's TTL for this entry."""
        store = self._store
        ttl = store.ttl_seconds if ttl_seconds is None else check_ttl(ttl_seconds, "ttl_seconds")
        store.put(key, value, ttl)

    def delete(self, key: Hashable) -> bool:
        """Remove an entry; True if it was there."""
        return self._store.delete(key)

    def clear(self) -> None:
        """Remove every entry (for Redis: every key of this cache's name)."""
        self._store.clear()

    def get_or_set(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The cached value, or ``factory()`` stored and returned (computed once per key).

        ``TypeError`` when ``factory`` is not callable, hit or miss.
        """
        if not callable(factory):
            raise TypeError(f"factory must be callable, not {type(factory).__name__}")
        return self._store.get_or_set(key, factory)

    def __contains__(self, key: object) -> bool:
        return self._store.contains(key)

    def __len__(self) -> int:
        return self._store.size()

    def stats(self) -> CacheStats:
        """Hits, misses, evictions, expirations, current size and hit rate."""
        from codomyrmex.performance.cache_manager._stats import CacheStats

        store = self._store
        size = store.size()
        hits, misses, errors = store.tally.totals()
        lookups = hits + misses
        return CacheStats(
            hits=hits,
            misses=misses,
            evictions=store.evictions,
            expirations=store.expirations,
            size=size,
            max_size=store.max_size,
            hit_rate=hits / lookups if lookups else 0.0,
            errors=errors,
        )


if TYPE_CHECKING:  # typing costs milliseconds to import: the overloads are for mypy

    @overload
    def cached_function(ttl_seconds: F, /) -> F: ...

    @overload
    def cached_function(
        ttl_seconds: float | None = 300,
        max_size: int | None = 128,
        *,
        ttl: float | None = None,
        key: Callable[..., Hashable] | None = None,
        typed: bool = False,
        cache_manager: CacheManager | None = None,
        name: str | None = None,
        backend: str | RedisBackend | Any | None = None,
    ) -> Callable[[F], F]: ...


def cached_function(
    ttl_seconds: Any = 300,
    max_size: int | None = 128,
    *,
    ttl: float | None = None,
    key: Callable[..., Hashable] | None = None,
    typed: bool = False,
    cache_manager: CacheManager | None = None,
    name: str | None = None,
    backend: str | RedisBackend | Any | None = None,
) -> Any:
    """Cache a function's results (sync or async), bare or with options.

    ``ttl`` is an alias of ``ttl_seconds``. ``key(*args, **kwargs)`` replaces the argument
    key; ``typed=True`` keeps ``1`` and ``1.0`` apart. ``cache_manager`` shares one cache
    between functions (its TTL, size and backend then apply: passing them here too is an
    error); ``name`` overrides the ``module.qualname`` label. The wrapper has
    ``cache_info()``, ``cache_clear()`` and ``cache``. Bad options raise at decoration.
    """
    if isinstance(ttl_seconds, (classmethod, staticmethod)) or (
        callable(ttl_seconds) and not isinstance(ttl_seconds, (int, float))
    ):
        decorate_bare: Callable[[Any], Any] = cached_function()
        return decorate_bare(ttl_seconds)
    ttl_value = resolve_ttl(ttl_seconds, ttl)
    if key is not None and not callable(key):
        raise TypeError(f"key must be a callable, not {type(key).__name__}")
    if not isinstance(typed, bool):
        raise TypeError("typed must be a bool")
    check_name(name)
    shared_backend: RedisBackend | None = None
    if cache_manager is not None:
        if not isinstance(cache_manager, CacheManager):
            raise TypeError(
                f"cache_manager must be a CacheManager, not {type(cache_manager).__name__}"
            )
        if backend is not None or max_size != 128 or ttl_value != 300:
            raise ValueError(
                "with cache_manager=, set ttl_seconds, max_size and backend on the CacheManager"
            )
    else:
        check_max_size(max_size)
        shared_backend = resolve_backend(backend)

    def decorate(func: Any) -> Any:
        rewrap: Callable[[Any], Any] | None = None
        if isinstance(func, (classmethod, staticmethod)):
            if issubclass(type(func), (classmethod, staticmethod)):
                rewrap, func = type(func), func.__func__
            else:  # a decorator's proxy of one (wrapt's): keep it in the call path
                rewrap, func = calling_through(func)
        if not callable(func):
            raise TypeError(f"cached_function needs a callable, not {type(func).__name__}")
        if code_flags(func) & (CO_GENERATOR | CO_ASYNC_GENERATOR):
            raise TypeError(
                f"cannot cache generator function {func.__qualname__}: its iterator would be "
                "shared; cache a function returning a list instead"
            )
        label = check_name(name or qualified_name(func))
        if cache_manager is None:
            cache = CacheManager(ttl_value, max_size, name=label, backend=shared_backend)
            space = None
        else:
            cache, space = cache_manager, label
        wrapper = build(func, cache._store, cache, label=space, key=key, typed=typed)
        return rewrap(wrapper) if rewrap is not None else wrapper

    return decorate
