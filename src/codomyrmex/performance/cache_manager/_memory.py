"""The in-process store: entries with a TTL in an LRU-ordered dict, misses in single flight.

Entries are ``key -> (value, expiry)`` with the expiry on ``time.monotonic()`` (``inf``:
never). Reads take no lock: ``dict.get`` and ``OrderedDict.move_to_end`` are atomic in
CPython, and an entry evicted by another thread meanwhile is still a valid read. Writes,
evictions and expiry drops take the store's lock. Expired entries are dropped when looked
up, when they reach the LRU end, and when the size is read.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict

from codomyrmex.performance.cache_manager._counts import HIT, MISS, Tally
from codomyrmex.performance.cache_manager._fork import reset_in_child
from codomyrmex.performance.cache_manager._keys import freeze, key_maker
from codomyrmex.performance.cache_manager._single_flight import SingleFlight

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Hashable
    from typing import Any

    from codomyrmex.performance.cache_manager._counts import Counts
    from codomyrmex.performance.cache_manager._keys import KeyMaker

__all__ = ["MemoryStore"]

_NEVER = math.inf


class _Namespace:
    """Prefix of one function's keys in a shared cache (compared by identity)."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"<namespace {self.label}>"


class MemorySpace:
    """The keys and counts of one function in a :class:`MemoryStore`."""

    __slots__ = ("_namespace", "_store", "counts", "make_key")

    def __init__(
        self, store: MemoryStore, namespace: _Namespace | None, make_key: KeyMaker, counts: Counts
    ) -> None:
        self._store = store
        self._namespace = namespace
        self.make_key = make_key
        self.counts = counts

    def size(self) -> int:
        return self._store.size(self._namespace)

    def clear(self) -> None:
        self._store.clear(self._namespace)


class MemoryStore:
    """The entries of one in-memory cache (see the module docstring)."""

    #: Loads and stores are memory operations: coroutines run them inline.
    offload = False
    #: No remote backend.
    backend = None

    def __init__(self, name: str, ttl_seconds: float | None, max_size: int | None) -> None:
        self.name = name
        self.ttl_seconds = ttl_seconds
        self.max_size = max_size
        self.entries: OrderedDict[Hashable, tuple[Any, float]] = OrderedDict()
        self.lock = threading.Lock()
        self.evictions = 0
        self.expirations = 0
        self.tally = Tally()
        self._flights = SingleFlight()
        reset_in_child(self)

    def after_fork(self) -> None:
        self.lock = threading.Lock()

    # -- the decorator's contract (_decorator.Store) ---------------------------------
    def bind(
        self, label: str | None, *, key: Callable[..., Hashable] | None, typed: bool
    ) -> MemorySpace:
        """The space of one function: its own counts and key prefix when ``label`` is set."""
        if label is None:
            namespace = None
            counts = self.tally.own
        else:
            namespace = _Namespace(label)
            counts = self.tally.new_function()
        if key is None:
            return MemorySpace(self, namespace, key_maker(typed=typed, namespace=namespace), counts)
        custom = key

        def make_key(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Hashable:
            found = custom(*args, **kwargs)
            return found if namespace is None else (namespace, found)

        return MemorySpace(self, namespace, make_key, counts)

    def fetch(self, key: Hashable, compute: Callable[[], Any], counts: Counts) -> Any:
        return self._flights.run(key, self, compute, counts)

    async def fetch_async(
        self, key: Hashable, compute: Callable[[], Awaitable[Any]], counts: Counts
    ) -> Any:
        return await self._flights.run_async(key, self, compute, counts)

    # -- the single-flight source (_single_flight.Source) ----------------------------
    def load(self, key: Hashable, counts: Counts) -> tuple[int, Any]:
        """The live entry for ``key`` (refreshing its LRU position), dropping it if expired."""
        entries = self.entries
        entry = entries.get(key)
        if entry is None:
            return MISS, None
        if entry[1] > time.monotonic():
            try:  # noqa: SIM105 - contextlib.suppress is slower and this is a hit path
                entries.move_to_end(key)
            except KeyError:  # evicted by another thread meanwhile: still a valid read
                pass
            return HIT, entry[0]
        with self.lock:
            if entries.get(key) is entry:
                del entries[key]
                self.expirations += 1
        return MISS, None

    def store(self, key: Hashable, value: Any, counts: Counts) -> None:
        self._put(key, value, self.ttl_seconds)

    def abandon(self, key: Hashable) -> None:
        """Nothing to release: a computation holds no lock of this store."""

    # -- the mapping API of CacheManager (keys as the user gives them) -----------------
    def get(self, key: object, default: Any) -> Any:
        outcome, value = self.load(_entry_key(key), self.tally.own)
        self.tally.own.by_outcome[outcome]()
        return value if outcome == HIT else default

    def put(self, key: object, value: Any, ttl: float | None) -> None:
        self._put(_entry_key(key), value, ttl)

    def get_or_set(self, key: object, factory: Callable[[], Any]) -> Any:
        return self.fetch(_entry_key(key), factory, self.tally.own)

    def delete(self, key: object) -> bool:
        with self.lock:
            return self.entries.pop(_entry_key(key), None) is not None

    def contains(self, key: object) -> bool:
        entry = self.entries.get(_entry_key(key))
        return entry is not None and entry[1] > time.monotonic()

    def size(self, namespace: _Namespace | None = None) -> int:
        """Live entries, of the whole cache or of one function's namespace."""
        self._drop_expired()
        if namespace is None:
            return len(self.entries)
        return sum(1 for key in list(self.entries) if _in(namespace, key))

    def clear(self, namespace: _Namespace | None = None) -> None:
        with self.lock:
            if namespace is None:
                self.entries.clear()
                return
            for key in [key for key in self.entries if _in(namespace, key)]:
                del self.entries[key]

    def _put(self, key: Hashable, value: Any, ttl: float | None) -> None:
        if self.max_size == 0 or ttl == 0:
            return
        expires = _NEVER if ttl is None else time.monotonic() + ttl
        entries = self.entries
        with self.lock:
            entries[key] = (value, expires)
            entries.move_to_end(key)
            if self.max_size is not None and len(entries) > self.max_size:
                now = time.monotonic()
                while len(entries) > self.max_size:
                    _, (_, old_expiry) = entries.popitem(last=False)
                    if old_expiry <= now:
                        self.expirations += 1
                    else:
                        self.evictions += 1

    def _drop_expired(self) -> None:
        now = time.monotonic()
        with self.lock:
            stale = [key for key, (_, expires) in self.entries.items() if expires <= now]
            for key in stale:
                del self.entries[key]
            self.expirations += len(stale)


def _entry_key(key: Any) -> Hashable:
    """The entry key of a mapping-API key: itself, or frozen when unhashable (``TypeError``)."""
    try:
        hash(key)
    except TypeError:
        return freeze(key)
    hashable: Hashable = key
    return hashable


def _in(namespace: _Namespace, key: Hashable) -> bool:
    return type(key) is tuple and key[0] is namespace
