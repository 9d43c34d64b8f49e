"""The call paths behind ``cached_function``, chosen once when a function is decorated.

A hit in memory is one key build, one ``dict.get``, one expiry comparison, an
``itertools.count`` step (atomic in CPython, so no count is lost between threads) and a
``move_to_end``: no lock, no OpenTelemetry call. Everything else (misses, expiry,
eviction, single-flight) lives on the slower paths in ``CacheManager``.
"""

from __future__ import annotations

import asyncio
import functools
import inspect
import itertools
import time
from collections.abc import Awaitable, Callable, Hashable
from typing import TYPE_CHECKING, Any, NamedTuple

from codomyrmex.performance.cache_manager._keys import (
    UNTYPED_FAST_TYPES,
    KeyMaker,
    freeze,
    key_maker,
)

if TYPE_CHECKING:
    from codomyrmex.performance.cache_manager import CacheManager

__all__ = ["CacheInfo", "build", "read_count", "single_flight"]


class CacheInfo(NamedTuple):
    """What ``cache_info()`` returns, shaped like ``functools``' own."""

    hits: int
    misses: int
    maxsize: int | None
    currsize: int


class _Namespace:
    """Prefix of one function's keys in a shared in-memory cache (compared by identity)."""

    __slots__ = ("label",)

    def __init__(self, label: str) -> None:
        self.label = label

    def __repr__(self) -> str:
        return f"<namespace {self.label}>"


def read_count(counter: itertools.count[int]) -> int:
    """The next value an ``itertools.count`` would give, without consuming it."""
    return int(repr(counter)[6:-1])


def build(
    func: Callable[..., Any],
    cache: CacheManager,
    *,
    namespace: str | None,
    key: Callable[..., Hashable] | None,
    typed: bool,
) -> Callable[..., Any]:
    """The caching wrapper of ``func`` with ``cache_info``, ``cache_clear`` and ``cache``."""
    is_async = inspect.iscoroutinefunction(func)
    memory_namespace = _Namespace(namespace) if namespace is not None else None
    if cache.backend is not None:
        from codomyrmex.performance.cache_manager._redis import remote_wrapper

        wrapper = remote_wrapper(func, cache, namespace=namespace, key=key, typed=typed)
    else:
        if key is not None:
            make_key = _custom_key_maker(key, memory_namespace)
        else:
            make_key = key_maker(typed=typed, namespace=memory_namespace)
        plain = key is None and memory_namespace is None and not typed
        builder = _memory_async if is_async else _memory_sync
        wrapper = builder(func, cache, make_key, plain)
    functools.update_wrapper(wrapper, func)
    _attach_cache_api(wrapper, cache, namespace, memory_namespace)
    return wrapper


def _attach_cache_api(
    wrapper: Callable[..., Any],
    cache: CacheManager,
    namespace: str | None,
    memory_namespace: _Namespace | None,
) -> None:
    baseline = [0, 0]

    def current_size() -> int:
        backend = cache.backend
        if backend is not None:
            return backend.count_matching(backend.pattern(cache.name, namespace), _ignore)
        if memory_namespace is not None:
            return cache._namespace_size(memory_namespace)
        return len(cache)

    def cache_info() -> CacheInfo:
        """Hits and misses since the last ``cache_clear()``, the bound and current size."""
        return CacheInfo(
            read_count(cache._hits) - baseline[0],
            read_count(cache._misses) - baseline[1],
            cache.max_size,
            current_size(),
        )

    def cache_clear() -> None:
        """Drop this function's entries and restart ``cache_info()`` counts."""
        backend = cache.backend
        if backend is not None:
            backend.delete_matching(backend.pattern(cache.name, namespace), cache._errors.__next__)
        elif memory_namespace is not None:
            cache._clear_namespace(memory_namespace)
        else:
            cache.clear()
        baseline[:] = [read_count(cache._hits), read_count(cache._misses)]

    target: Any = wrapper
    target.cache_info = cache_info
    target.cache_clear = cache_clear
    target.cache = cache


def _custom_key_maker(key: Callable[..., Hashable], namespace: _Namespace | None) -> KeyMaker:
    if namespace is None:
        return lambda args, kwargs: key(*args, **kwargs)
    return lambda args, kwargs: (namespace, key(*args, **kwargs))


# -- in memory -----------------------------------------------------------------------------
def _memory_sync(
    func: Callable[..., Any],
    cache: CacheManager,
    make_key: KeyMaker,
    plain: bool,
) -> Callable[..., Any]:
    get = cache._data.get
    move_to_end = cache._data.move_to_end
    hit = cache._hits.__next__
    now = time.monotonic
    compute = cache._compute
    fast = UNTYPED_FAST_TYPES

    if plain:  # untyped argument keys built inline: no call at all for positional calls

        def wrapper(*args: Any, **kwargs: Any) -> Any:
            if kwargs:
                key: Any = make_key(args, kwargs)
            elif len(args) == 1 and type(args[0]) in fast:
                key = args[0]
            else:
                key = args
            try:
                entry = get(key)
            except TypeError:
                return _unhashable(cache, func, key, args, kwargs)
            if entry is not None and entry[1] > now():
                hit()
                try:  # noqa: SIM105 - contextlib.suppress costs ~0.2 µs per hit
                    move_to_end(key)
                except KeyError:
                    pass
                return entry[0]
            return compute(key, func, args, kwargs)

        return wrapper

    def general_wrapper(*args: Any, **kwargs: Any) -> Any:
        key = make_key(args, kwargs)
        try:
            entry = get(key)
        except TypeError:
            return _unhashable(cache, func, key, args, kwargs)
        if entry is not None and entry[1] > now():
            hit()
            try:  # noqa: SIM105 - contextlib.suppress costs ~0.2 µs per hit
                move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        return compute(key, func, args, kwargs)

    return general_wrapper


def _unhashable(
    cache: CacheManager,
    func: Callable[..., Any],
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    try:
        frozen = freeze(key)
    except TypeError:
        next(cache._errors)
        return func(*args, **kwargs)
    return cache._compute(frozen, func, args, kwargs)


def _memory_async(
    func: Callable[..., Any],
    cache: CacheManager,
    make_key: KeyMaker,
    plain: bool,
) -> Callable[..., Any]:
    get = cache._data.get
    move_to_end = cache._data.move_to_end
    hit = cache._hits.__next__
    now = time.monotonic
    fast = UNTYPED_FAST_TYPES

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        if not plain or kwargs:
            key: Any = make_key(args, kwargs)
        elif len(args) == 1 and type(args[0]) in fast:
            key = args[0]
        else:
            key = args
        try:
            entry = get(key)
        except TypeError:
            try:
                key = freeze(key)
            except TypeError:
                next(cache._errors)
                return await func(*args, **kwargs)
            entry = get(key)
        if entry is not None and entry[1] > now():
            hit()
            try:  # noqa: SIM105 - contextlib.suppress costs ~0.2 µs per hit
                move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        return await single_flight(cache, key, lambda: _memory_lead(cache, key, func, args, kwargs))

    return wrapper


async def _memory_lead(
    cache: CacheManager,
    key: Hashable,
    func: Callable[..., Any],
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> tuple[int, Any]:
    entry = cache._lookup(key)
    if entry is not None:
        next(cache._hits)
        return _HIT, entry[0]
    next(cache._misses)
    value = await func(*args, **kwargs)
    cache._store(key, value, cache.ttl_seconds)
    return _MISS, value


# -- async single-flight -------------------------------------------------------------------
#: Lookup outcomes, shared with :mod:`codomyrmex.performance.cache_manager._redis`.
_HIT, _MISS, _ERROR, _RETRY = 0, 1, 2, 3


async def single_flight(
    cache: CacheManager, key: Hashable, lead: Callable[[], Awaitable[tuple[int, Any]]]
) -> Any:
    """Run ``lead`` once for concurrent callers of ``key`` in this event loop.

    Waiters get the leader's value or exception and are counted with the leader's result;
    if the leader is cancelled they retry. A call for the key its own task is computing
    (recursion) runs on its own instead of waiting for itself.
    """
    flights = cache._async_flights
    loop = asyncio.get_running_loop()
    task = asyncio.current_task()
    while True:
        found = flights.get(key)
        if found is None or found[0].get_loop() is not loop:
            break
        if found[1] is task:
            return (await lead())[1]
        status, value = await asyncio.shield(found[0])
        if status == _RETRY:
            continue
        next((cache._hits, cache._misses, cache._errors)[status])
        return value
    future: asyncio.Future[tuple[int, Any]] = loop.create_future()
    flight = flights[key] = (future, task)
    try:
        status, value = await lead()
    except Exception as exc:
        future.set_exception(exc)
        future.exception()  # the waiters re-raise it; nothing is left unretrieved
        raise
    except BaseException:
        future.set_result((_RETRY, None))
        raise
    else:
        future.set_result((status, value))
        return value
    finally:
        if flights.get(key) is flight:
            del flights[key]


def _ignore() -> None:
    """Error callback for size probes: reading the size never counts as a failed lookup."""
