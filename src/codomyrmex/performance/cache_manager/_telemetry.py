"""Telemetry of the caches: a registry of live caches read by observable instruments.

Caches count in plain integers; nothing here runs on a cache's call path. Three
observable instruments of the ``codomyrmex.performance`` scope, each with one callback,
walk the live caches when a metric reader collects (names and attributes are listed in
:mod:`codomyrmex.performance.cache_manager`). Caches sharing a name are summed into one
series. A cache that cannot be read, or a failing callback, is reported through the
package's never-raise policy and observed as nothing; it never breaks the collection of
other caches or other metrics.

The instruments are created with the first cache if OpenTelemetry's metrics API is
already imported; otherwise right after something imports it (a one-shot import hook),
so a cache costs no OpenTelemetry import and a meter provider set later still sees every
cache from its first lookup.
"""

from __future__ import annotations

import sys
import threading
import weakref

from codomyrmex.performance._safe import report_telemetry_error
from codomyrmex.performance.cache_manager._fork import reset_in_child
from codomyrmex.performance.semconv import (
    CACHE_ENTRIES,
    CACHE_EVICTIONS,
    CACHE_NAME,
    CACHE_REASON,
    CACHE_REASONS,
    CACHE_REQUESTS,
    CACHE_RESULT,
    CACHE_RESULTS,
    SCOPE_NAME,
)
from codomyrmex.performance.version import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Sequence
    from importlib.machinery import ModuleSpec
    from types import ModuleType
    from typing import Any, Protocol

    from opentelemetry.metrics import CallbackOptions, Observation

    from codomyrmex.performance.cache_manager._counts import Tally

    class Observed(Protocol):
        """What the instruments read of a cache's store."""

        name: str
        tally: Tally
        evictions: int
        expirations: int
        #: In-memory entries (``len`` is read), or None for a remote store.
        entries: Any


__all__ = ["live_caches", "register"]

#: Values of ``codomyrmex.cache.result`` and ``codomyrmex.cache.reason``.

_METRICS_API = "opentelemetry.metrics"


class _Registry:
    """The live caches, held weakly, each with the store the instruments read.

    When a cache is garbage-collected its final counts are kept under its name
    (``retired``), so that the monotonic counters of a name never go down when a cache
    goes away or a new cache takes the name.
    """

    def __init__(self) -> None:
        self._stores: weakref.WeakKeyDictionary[object, Observed] = weakref.WeakKeyDictionary()
        self.retired: dict[str, tuple[list[int], list[int]]] = {}
        self._lock = threading.Lock()
        self._first = True
        self._instruments_claimed = False
        reset_in_child(self)

    def after_fork(self) -> None:
        self._lock = threading.Lock()

    def add(self, cache: object, store: Observed) -> bool:
        """Track ``cache``; True for the first cache of the process."""
        with self._lock:
            self._stores[cache] = store
            first, self._first = self._first, False
        weakref.finalize(cache, self._retire, store)
        return first

    def _retire(self, store: Observed) -> None:
        """Keep the final counts of a collected cache's store under its name."""
        try:
            requests = list(store.tally.totals())
            evictions = [store.evictions, store.expirations]
            with self._lock:
                kept = self.retired.setdefault(store.name, ([0] * len(requests), [0, 0]))
                for totals, values in zip(kept, (requests, evictions), strict=True):
                    for index, value in enumerate(values):
                        totals[index] += value
        except Exception as exc:
            report_telemetry_error(exc, "keeping the counts of a collected cache")

    def retired_totals(self, which: int) -> dict[str, list[int]]:
        """Copies of the retired request (``which=0``) or eviction (``1``) totals by name."""
        with self._lock:
            return {name: list(kept[which]) for name, kept in self.retired.items()}

    def claim_instruments(self) -> bool:
        """True exactly once: for the caller that creates the instruments."""
        with self._lock:
            claimed, self._instruments_claimed = self._instruments_claimed, True
        return not claimed

    def caches(self) -> list[Any]:
        with self._lock:
            return list(self._stores)

    def stores(self) -> list[Observed]:
        with self._lock:
            return list(self._stores.values())


_registry = _Registry()


def register(cache: object, store: Observed) -> None:
    """Track a new cache (weakly) with its store, and make sure the instruments will exist."""
    if _registry.add(cache, store):
        _create_instruments_when_possible()


def live_caches() -> list[Any]:
    """The caches alive in this process (each has ``.name`` and ``.stats()``)."""
    return _registry.caches()


def _create_instruments_when_possible() -> None:
    if _METRICS_API in sys.modules:
        _create_instruments()
        return
    hook = _AfterImport(_METRICS_API, _create_instruments)
    sys.meta_path.insert(0, hook)
    if _METRICS_API in sys.modules:  # imported by another thread meanwhile
        hook.remove()
        _create_instruments()


def _create_instruments() -> None:
    """Create the three observable instruments once, on the package scope's meter.

    The meter comes straight from the OpenTelemetry API (a proxy that follows a provider
    set later, as ``telemetry.ScopeTelemetry.meter``): this may run inside the import of
    ``opentelemetry.metrics`` made by any module, ``codomyrmex.performance.telemetry``
    included, which may not be importable yet.
    """
    if not _registry.claim_instruments():
        return
    try:
        from opentelemetry import metrics

        meter = metrics.get_meter(SCOPE_NAME, __version__)
        meter.create_observable_counter(
            CACHE_REQUESTS,
            callbacks=[_callback(_request_counts)],
            unit="{request}",
            description="Cache lookups by result (hit, miss, error).",
        )
        meter.create_observable_counter(
            CACHE_EVICTIONS,
            callbacks=[_callback(_eviction_counts)],
            unit="{entry}",
            description="Cache entries removed for size (LRU) or because their TTL passed.",
        )
        meter.create_observable_up_down_counter(
            CACHE_ENTRIES,
            callbacks=[_callback(_entry_counts)],
            unit="{entry}",
            description="Entries held by in-memory caches.",
        )
    except Exception as exc:
        report_telemetry_error(exc, "creating the cache instruments")


def _callback(
    read: Callable[[], Iterable[tuple[int, dict[str, str]]]],
) -> Callable[[CallbackOptions], Iterable[Observation]]:
    from opentelemetry.metrics import Observation

    def callback(options: CallbackOptions) -> Iterable[Observation]:
        try:
            return [Observation(value, attributes) for value, attributes in read()]
        except Exception as exc:
            report_telemetry_error(exc, "cache metrics collection")
            return []

    return callback


def _by_name(read: Callable[[Observed], Sequence[int]], retired: int) -> dict[str, list[int]]:
    """Per cache name, the element-wise sum of ``read(store)`` (names may repeat), plus
    what collected caches of that name counted (``retired``: which of their totals).

    A cache that cannot be read is reported and left out; the others are still observed.
    """
    totals = _registry.retired_totals(retired)
    for store in _registry.stores():
        try:
            values = read(store)
        except Exception as exc:
            report_telemetry_error(exc, f"reading cache {store.name!r} for metrics")
            continue
        found = totals.setdefault(store.name, [0] * len(values))
        for index, value in enumerate(values):
            found[index] += value
    return totals


def _request_counts() -> list[tuple[int, dict[str, str]]]:
    totals = _by_name(lambda store: store.tally.totals(), retired=0)
    return [
        (count, {CACHE_NAME: name, CACHE_RESULT: result})
        for name, counts in totals.items()
        for result, count in zip(CACHE_RESULTS, counts, strict=True)
    ]


def _eviction_counts() -> list[tuple[int, dict[str, str]]]:
    totals = _by_name(lambda store: (store.evictions, store.expirations), retired=1)
    return [
        (count, {CACHE_NAME: name, CACHE_REASON: reason})
        for name, counts in totals.items()
        for reason, count in zip(CACHE_REASONS, counts, strict=True)
    ]


def _entry_counts() -> list[tuple[int, dict[str, str]]]:
    totals: dict[str, int] = {}
    for store in _registry.stores():
        if store.entries is not None:
            totals[store.name] = totals.get(store.name, 0) + len(store.entries)
    return [(count, {CACHE_NAME: name}) for name, count in totals.items()]


class _AfterImport:
    """A one-shot ``sys.meta_path`` finder: runs ``callback`` once ``name`` is imported.

    It finds the module with the finders after it and wraps the loader for that one
    import only; the module gets its real loader back before its code runs.
    """

    def __init__(self, name: str, callback: Callable[[], None]) -> None:
        self._name = name
        self._callback = callback

    def remove(self) -> None:
        if self in sys.meta_path:  # not yet removed by the import it was waiting for
            sys.meta_path.remove(self)

    def find_spec(
        self, fullname: str, path: Sequence[str] | None = None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if fullname != self._name:
            return None
        self.remove()
        for finder in sys.meta_path:
            find_spec = getattr(finder, "find_spec", None)
            spec: ModuleSpec | None = find_spec(fullname, path, target) if find_spec else None
            if spec is not None:
                break
        else:
            return None
        if spec.loader is not None and hasattr(spec.loader, "exec_module"):
            spec.loader = _CallbackLoader(spec.loader, self._callback)  # type: ignore[assignment]
        return spec


class _CallbackLoader:
    """Delegates to the real loader, then runs the callback after the module executed."""

    def __init__(self, loader: Any, callback: Callable[[], None]) -> None:
        self._loader = loader
        self._callback = callback

    def create_module(self, spec: ModuleSpec) -> ModuleType | None:
        created: ModuleType | None = self._loader.create_module(spec)
        return created

    def exec_module(self, module: ModuleType) -> None:
        module.__loader__ = self._loader
        if module.__spec__ is not None:
            module.__spec__.loader = self._loader
        self._loader.exec_module(module)
        self._callback()
