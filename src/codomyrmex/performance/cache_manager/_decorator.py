"""The call paths behind ``cached_function``, chosen once when a function is decorated.

The decorator reaches its cache only through the contract below (:class:`Store` and the
per-function :class:`Space` it hands out), which the memory and Redis stores implement:

* ``store.entries`` - the in-memory ``key -> (value, expiry)`` mapping that the hit path
  reads without a lock (``get`` and ``move_to_end`` only), or None for a remote store;
* ``store.max_size`` - the bound ``cache_info()`` reports;
* ``store.bind(label, key=, typed=)`` - the function's :class:`Space`: its key builder,
  its counts, and its size and clear (``label`` None: the function owns the cache);
* ``store.fetch(key, compute, counts)`` / ``fetch_async`` - the miss path: single-flight,
  look again, compute, store (:mod:`._single_flight`).

A hit in memory is one key build, one ``dict.get``, one expiry comparison, an
``itertools.count`` step and a ``move_to_end``: no lock, no OpenTelemetry call. Arguments
that cannot form a key (an unhashable object that cannot be frozen, a list containing
itself; for Redis anything without a stable cross-process form) run the function uncached
and count ``result=error``.

Duplication policy: the wrappers (positional fast keys or general keys, sync or async)
repeat the same few lines of the hit path on purpose, one closure per case chosen at
decoration, because a shared helper would add a call to every hit. The miss path is
shared (``store.fetch``).
"""

from __future__ import annotations

import functools
import time

from codomyrmex.performance._shared.callables import CO_COROUTINE, code_flags
from codomyrmex.performance.cache_manager._keys import UNTYPED_FAST_TYPES, freeze

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable, Hashable
    from typing import Any, Protocol

    from codomyrmex.performance.cache_manager._counts import Counts
    from codomyrmex.performance.cache_manager._keys import KeyMaker
    from codomyrmex.performance.cache_manager._stats import CacheInfo

    class Space(Protocol):
        """One function's part of a cache."""

        #: Builds the key of a call from ``(args, kwargs)``; ``TypeError`` if there is none.
        make_key: Callable[[tuple[Any, ...], dict[str, Any]], Any]
        #: The function's hits, misses and errors (``cache_info()``).
        counts: Counts

        def size(self) -> int:
            """Entries of this function (``cache_info().currsize``)."""

        def clear(self) -> None:
            """Drop this function's entries (``cache_clear()``)."""

    class Store(Protocol):
        """The decorator's contract with a cache's store."""

        entries: Any
        max_size: int | None

        def bind(
            self, label: str | None, *, key: Callable[..., Hashable] | None, typed: bool
        ) -> Space: ...

        def fetch(self, key: Any, compute: Callable[[], Any], counts: Counts) -> Any: ...

        async def fetch_async(
            self, key: Any, compute: Callable[[], Awaitable[Any]], counts: Counts
        ) -> Any: ...


__all__ = ["build"]


def build(
    func: Callable[..., Any],
    store: Store,
    cache: object,
    *,
    label: str | None,
    key: Callable[..., Hashable] | None,
    typed: bool,
) -> Callable[..., Any]:
    """The caching wrapper of ``func`` with ``cache_info``, ``cache_clear`` and ``cache``."""
    is_async = bool(code_flags(func) & CO_COROUTINE)
    space = store.bind(label, key=key, typed=typed)
    if store.entries is None:
        wrapper = (_remote_async if is_async else _remote_sync)(func, store, space)
    else:
        plain = key is None and label is None and not typed  # keys built inline
        wrapper = (_memory_async if is_async else _memory_sync)(func, store, space, plain)
    functools.update_wrapper(wrapper, func)
    _attach_cache_api(wrapper, store, space, cache)
    return wrapper


def _attach_cache_api(
    wrapper: Callable[..., Any], store: Store, space: Space, cache: object
) -> None:
    baseline = [0, 0]

    def cache_info() -> CacheInfo:
        """Hits and misses of this function since its last ``cache_clear()``, bound, size."""
        from codomyrmex.performance.cache_manager._stats import CacheInfo

        hits, misses, _ = space.counts.read()
        return CacheInfo(hits - baseline[0], misses - baseline[1], store.max_size, space.size())

    def cache_clear() -> None:
        """Drop this function's entries and restart ``cache_info()`` counts."""
        space.clear()
        baseline[:] = space.counts.read()[:2]

    target: Any = wrapper
    target.cache_info = cache_info
    target.cache_clear = cache_clear
    target.cache = cache


# -- in memory -----------------------------------------------------------------------------
def _memory_sync(
    func: Callable[..., Any], store: Store, space: Space, plain: bool
) -> Callable[..., Any]:
    get = store.entries.get
    move_to_end = store.entries.move_to_end
    counts = space.counts
    hit = counts.hits.__next__
    now = time.monotonic
    fetch = store.fetch
    make_key: KeyMaker = space.make_key
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
                return _unhashable(store, counts, func, key, args, kwargs)
            if entry is not None and entry[1] > now():
                hit()
                try:  # noqa: SIM105 - contextlib.suppress is slower and this is the hit path
                    move_to_end(key)
                except KeyError:
                    pass
                return entry[0]
            return fetch(key, functools.partial(func, *args, **kwargs), counts)

        return wrapper

    def general_wrapper(*args: Any, **kwargs: Any) -> Any:
        key = make_key(args, kwargs)
        try:
            entry = get(key)
        except TypeError:
            return _unhashable(store, counts, func, key, args, kwargs)
        if entry is not None and entry[1] > now():
            hit()
            try:  # noqa: SIM105 - contextlib.suppress is slower and this is the hit path
                move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        return fetch(key, functools.partial(func, *args, **kwargs), counts)

    return general_wrapper


def _unhashable(
    store: Store,
    counts: Counts,
    func: Callable[..., Any],
    key: Any,
    args: tuple[Any, ...],
    kwargs: dict[str, Any],
) -> Any:
    try:
        frozen = freeze(key)
    except TypeError:
        counts.errors.__next__()
        return func(*args, **kwargs)
    return store.fetch(frozen, functools.partial(func, *args, **kwargs), counts)


def _memory_async(
    func: Callable[..., Any], store: Store, space: Space, plain: bool
) -> Callable[..., Any]:
    get = store.entries.get
    move_to_end = store.entries.move_to_end
    counts = space.counts
    hit = counts.hits.__next__
    now = time.monotonic
    fetch = store.fetch_async
    make_key: KeyMaker = space.make_key
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
                counts.errors.__next__()
                return await func(*args, **kwargs)
            entry = get(key)
        if entry is not None and entry[1] > now():
            hit()
            try:  # noqa: SIM105 - contextlib.suppress is slower and this is the hit path
                move_to_end(key)
            except KeyError:
                pass
            return entry[0]
        return await fetch(key, functools.partial(func, *args, **kwargs), counts)

    return wrapper


# -- remote (Redis) ------------------------------------------------------------------------
def _remote_sync(func: Callable[..., Any], store: Store, space: Space) -> Callable[..., Any]:
    make_key = space.make_key
    counts = space.counts
    fetch = store.fetch

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = make_key(args, kwargs)
        except TypeError:
            counts.errors.__next__()
            return func(*args, **kwargs)
        return fetch(key, functools.partial(func, *args, **kwargs), counts)

    return wrapper


def _remote_async(func: Callable[..., Any], store: Store, space: Space) -> Callable[..., Any]:
    make_key = space.make_key
    counts = space.counts
    fetch = store.fetch_async

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            key = make_key(args, kwargs)
        except TypeError:
            counts.errors.__next__()
            return await func(*args, **kwargs)
        return await fetch(key, functools.partial(func, *args, **kwargs), counts)

    return wrapper
