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
alike; lists, dicts and sets work through a frozen copy. ``None`` is a cached value like
any other. Each entry expires ``ttl_seconds`` after it was stored (``None``: never; ``0``:
nothing is kept) and the least recently used entry is evicted beyond ``max_size``
(``None``: unbounded). Expired entries are dropped when looked up, when they reach the
LRU end, and when ``len()`` or ``stats()`` is read. Concurrent misses for one key run the
function once, for threads and for coroutines alike; the others wait and get the same
result, or the same exception, which is never cached. A recursive call for the key being
computed just computes again. Each decorated function gets its own cache named
``module.qualname``; with a shared ``cache_manager=`` every function keeps its own key
namespace, so ``cache_clear()`` still clears only that function.

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
Redis: see :mod:`codomyrmex.performance.cache_manager._redis`.
"""

from __future__ import annotations

import inspect
import itertools
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, overload

from codomyrmex.performance._shared.callables import qualified_name
from codomyrmex.performance.cache_manager import _decorator as cache_wrappers
from codomyrmex.performance.cache_manager._decorator import read_count
from codomyrmex.performance.cache_manager._keys import freeze, stable_digest
from codomyrmex.performance.cache_manager._options import (
    check_max_size,
    check_name,
    check_ttl,
    creation_site,
    resolve_backend,
    resolve_ttl,
)
from codomyrmex.performance.cache_manager._telemetry import live_caches, register

if TYPE_CHECKING:
    from codomyrmex.performance.cache_manager._redis import RedisBackend

__all__ = ["CacheInfo", "CacheManager", "CacheStats", "cached_function", "live_caches"]

F = TypeVar("F", bound=Callable[..., Any])
CacheInfo = cache_wrappers.CacheInfo

_NEVER = math.inf


@dataclass(frozen=True)
class CacheStats:
    """Counts since the cache was created (``clear()`` empties it but keeps the counts).

    ``evictions`` are LRU evictions for size; ``expirations`` are entries dropped because
    their TTL passed; ``errors`` are lookups that failed (backend down, unusable key).
    """

    hits: int
    misses: int
    evictions: int
    expirations: int
    size: int
    max_size: int | None
    hit_rate: float
    errors: int = 0


class _Flight:
    """One computation in progress that concurrent callers of the same key wait for."""

    __slots__ = ("done", "error", "owner", "retry", "value")

    def __init__(self) -> None:
        self.owner = threading.get_ident()
        self.done = threading.Event()
        self.value: Any = None
        self.error: BaseException | None = None
        self.retry = False


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
        self.ttl_seconds: float | None = check_ttl(ttl_seconds, "ttl_seconds")
        self.max_size: int | None = check_max_size(max_size)
        self.name: str = check_name(name) or creation_site()
        self.backend: RedisBackend | None = resolve_backend(backend)
        self._data: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self._lock = threading.Lock()
        self._hits = itertools.count()
        self._misses = itertools.count()
        self._errors = itertools.count()
        self._evictions = 0
        self._expirations = 0
        self._flights: dict[Hashable, _Flight] = {}
        self._async_flights: dict[Hashable, Any] = {}
        register(self)

    def __repr__(self) -> str:
        where = repr(self.backend) if self.backend is not None else "memory"
        return (
            f"CacheManager(name={self.name!r}, ttl_seconds={self.ttl_seconds}, "
            f"max_size={self.max_size}, backend={where})"
        )

    # -- mapping API ---------------------------------------------------------------
    def get(self, key: Hashable, default: Any = None) -> Any:
        """The cached value, or ``default`` on a miss (counted as a hit or a miss)."""
        if self.backend is not None:
            status, value = self.backend.load(self._redis_key(key), self._errors.__next__)
            return self._count_remote(status, value, default)
        entry = self._lookup(self._memory_key(key))
        if entry is None:
            next(self._misses)
            return default
        next(self._hits)
        return entry[0]

    def set(self, key: Hashable, value: Any, ttl_seconds: float | None = None) -> None:
        """Store ``value``; ``ttl_seconds`` overrides the cache's TTL for this entry."""
        ttl = self.ttl_seconds if ttl_seconds is None else check_ttl(ttl_seconds, "ttl_seconds")
        if self.backend is not None:
            self.backend.store(self._redis_key(key), value, ttl, self._errors.__next__)
        else:
            self._store(self._memory_key(key), value, ttl)

    def delete(self, key: Hashable) -> bool:
        """Remove an entry; True if it was there."""
        if self.backend is not None:
            return self.backend.delete(self._redis_key(key), self._errors.__next__)
        with self._lock:
            return self._data.pop(self._memory_key(key), None) is not None

    def clear(self) -> None:
        """Remove every entry (for Redis: every key of this cache's name)."""
        if self.backend is not None:
            self.backend.delete_matching(self.backend.pattern(self.name), self._errors.__next__)
            return
        with self._lock:
            self._data.clear()

    def get_or_set(self, key: Hashable, factory: Callable[[], Any]) -> Any:
        """The cached value, or ``factory()`` stored and returned (computed once per key).

        ``TypeError`` when ``factory`` is not callable, hit or miss.
        """
        if not callable(factory):
            raise TypeError(f"factory must be callable, not {type(factory).__name__}")
        if self.backend is not None:
            from codomyrmex.performance.cache_manager._redis import remote_call

            return remote_call(self, self._redis_key(key), factory, (), {})
        return self._compute(self._memory_key(key), factory, (), {})

    def __contains__(self, key: object) -> bool:
        if self.backend is not None:
            return self.backend.exists(self._redis_key(key), self._errors.__next__)
        entry = self._data.get(self._memory_key(key))
        return entry is not None and entry[1] > time.monotonic()

    def __len__(self) -> int:
        if self.backend is not None:
            return self.backend.count_matching(self.backend.pattern(self.name), _ignore)
        self._drop_expired()
        return len(self._data)

    def stats(self) -> CacheStats:
        """Hits, misses, evictions, expirations, current size and hit rate."""
        size = len(self)
        hits, misses = read_count(self._hits), read_count(self._misses)
        lookups = hits + misses
        return CacheStats(
            hits=hits,
            misses=misses,
            evictions=self._evictions,
            expirations=self._expirations,
            size=size,
            max_size=self.max_size,
            hit_rate=hits / lookups if lookups else 0.0,
            errors=read_count(self._errors),
        )

    # -- internals shared with cache_wrappers ------------------------------------------
    def _memory_key(self, key: Any) -> Hashable:
        try:
            hash(key)
        except TypeError:
            return freeze(key)
        hashable: Hashable = key
        return hashable

    def _redis_key(self, key: object, namespace: str | None = None) -> bytes:
        assert self.backend is not None
        digest = stable_digest((key,), {}, typed=False, custom=True)
        return self.backend.key(self.name, digest, namespace)

    def _count_remote(self, status: int, value: Any, default: Any) -> Any:
        from codomyrmex.performance.cache_manager._redis import HIT, MISS

        if status == HIT:
            next(self._hits)
            return value
        if status == MISS:
            next(self._misses)
        return default

    def _lookup(self, key: Hashable) -> tuple[Any, float] | None:
        """The live entry for ``key`` (refreshing its LRU position), dropping it if expired."""
        entry = self._data.get(key)
        if entry is None:
            return None
        if entry[1] > time.monotonic():
            try:  # noqa: SIM105 - contextlib.suppress costs ~0.2 µs per hit
                self._data.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile: still a valid read
                pass
            return entry
        with self._lock:
            if self._data.get(key) is entry:
                del self._data[key]
                self._expirations += 1
        return None

    def _store(self, key: Hashable, value: Any, ttl: float | None) -> None:
        if self.max_size == 0 or ttl == 0:
            return
        expires = _NEVER if ttl is None else time.monotonic() + ttl
        data = self._data
        with self._lock:
            data[key] = (value, expires)
            data.move_to_end(key)
            if self.max_size is not None and len(data) > self.max_size:
                now = time.monotonic()
                while len(data) > self.max_size:
                    _, (_, old_expiry) = data.popitem(last=False)
                    if old_expiry <= now:
                        self._expirations += 1
                    else:
                        self._evictions += 1

    def _drop_expired(self) -> None:
        now = time.monotonic()
        with self._lock:
            stale = [key for key, (_, expires) in self._data.items() if expires <= now]
            for key in stale:
                del self._data[key]
            self._expirations += len(stale)

    def _compute(
        self,
        key: Hashable,
        func: Callable[..., Any],
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
    ) -> Any:
        """The miss path: look again under the lock, else compute once per key and store."""
        while True:
            with self._lock:
                entry = self._data.get(key)
                if entry is not None and entry[1] > time.monotonic():
                    self._data.move_to_end(key)
                    next(self._hits)
                    return entry[0]
                if entry is not None:
                    del self._data[key]
                    self._expirations += 1
                flight = self._flights.get(key)
                leader = flight is None
                if flight is None:
                    flight = self._flights[key] = _Flight()
            next(self._misses)
            if leader:
                break
            if flight.owner == threading.get_ident():  # recursion on the same key
                return func(*args, **kwargs)
            flight.done.wait()
            if flight.retry:
                continue
            if flight.error is not None:
                raise flight.error
            return flight.value
        try:
            value = func(*args, **kwargs)
        except Exception as exc:
            flight.error = exc
            raise
        except BaseException:
            flight.retry = True
            raise
        else:
            flight.value = value
            self._store(key, value, self.ttl_seconds)
            return value
        finally:
            with self._lock:
                if self._flights.get(key) is flight:
                    del self._flights[key]
            flight.done.set()

    def _clear_namespace(self, namespace: Hashable) -> None:
        with self._lock:
            for key in [k for k in self._data if type(k) is tuple and k[0] is namespace]:
                del self._data[key]

    def _namespace_size(self, namespace: Hashable) -> int:
        return sum(1 for k in list(self._data) if type(k) is tuple and k[0] is namespace)


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
            rewrap, func = type(func), func.__func__
        if not callable(func):
            raise TypeError(f"cached_function needs a callable, not {type(func).__name__}")
        if inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func):
            raise TypeError(
                f"cannot cache generator function {func.__qualname__}: its iterator would be "
                "shared; cache a function returning a list instead"
            )
        label = name or qualified_name(func)
        if cache_manager is None:
            cache = CacheManager(ttl_value, max_size, name=label, backend=shared_backend)
            namespace = None
        else:
            cache, namespace = cache_manager, label
        wrapper = cache_wrappers.build(func, cache, namespace=namespace, key=key, typed=typed)
        return rewrap(wrapper) if rewrap is not None else wrapper

    return decorate


def _ignore() -> None:
    """Error callback for size probes: reading stats never counts as a failed lookup."""
