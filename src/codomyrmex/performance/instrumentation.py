"""Monitor functions of any program without touching its code, under ``opentelemetry-instrument``.

``PerformanceInstrumentor`` is an OpenTelemetry ``BaseInstrumentor`` registered under the
``opentelemetry_instrumentor`` entry point ``codomyrmex_performance``. Name the functions
to monitor in ``CODOMYRMEX_PERF_INSTRUMENT`` and run the program under the agent::

    pip install 'codomyrmex-performance[instrument]'
    CODOMYRMEX_PERF_INSTRUMENT="shop.cart:add_item,shop.cart:Cart.total,shop.report:*" \\
        opentelemetry-instrument --traces_exporter console python app.py

Each listed function then records exactly what ``@monitor`` records (the same span
``module.Qualname``, the same attributes, the same ``codomyrmex.function.duration``
histogram), as if it had been decorated. The ``instrument`` extra brings
``opentelemetry-distro``: without a distro, ``opentelemetry-instrument`` sets up no SDK at
all and nothing is exported. It also brings ``opentelemetry-instrumentation-system-metrics``,
whose own instrumentor reports the process metrics (``process.cpu.time``,
``process.memory.usage``, ...) under the agent.

``CODOMYRMEX_PERF_INSTRUMENT`` is a comma-separated list of entries:

* ``pkg.mod:func`` — a module-level function (any callable attribute of the module);
* ``pkg.mod:Class.method`` — a method, classmethod or staticmethod (nested classes work:
  ``pkg.mod:Outer.Inner.method``); an inherited method is wrapped on the named class;
* ``pkg.mod:*`` — every public function defined in that module (names without a leading
  underscore whose ``__module__`` is the module; not classes, not imported functions).

Modules imported already are patched at once with ``wrapt.wrap_function_wrapper``;
modules imported later are patched as soon as they are imported, by a ``wrapt``
post-import hook. A malformed entry, a module that cannot be found, or a missing or
unsuitable attribute is logged as one warning (logger
``codomyrmex.performance.instrumentation``) and skipped: the program runs on. Arguments
of the wrong type (``targets`` neither a string nor strings, a provider without
``get_tracer``/``get_meter``) raise ``TypeError`` from ``instrument()``.

Manual use, without the agent::

    from codomyrmex.performance import PerformanceInstrumentor

    PerformanceInstrumentor().instrument(
        targets="shop.cart:add_item",              # default: $CODOMYRMEX_PERF_INSTRUMENT
        tracer_provider=tracer_provider,           # default: the global providers
        meter_provider=meter_provider,
        source="--instrument",                     # what warnings call the targets
    )
    ...
    PerformanceInstrumentor().uninstrument()       # every original object is back

With no providers the calls go to the process-wide monitor behind ``monitor`` (the one
the reports read); with providers, to a ``PerformanceMonitor`` bound to them.
``CODOMYRMEX_PERF_PROFILE_SLOWER_THAN`` (seconds) gives the wrapped functions and coroutine
functions ``profile_slower_than``: a call running longer gets its sampled stacks on its
span; a value ``@monitor`` refuses is one warning and no profiling.
``uninstrument()`` puts back every original object (an inherited method wrapped on a
subclass is removed from it again) and turns pending post-import hooks into no-ops.
``OTEL_PYTHON_DISABLED_INSTRUMENTATIONS=codomyrmex_performance`` keeps the agent from
loading this instrumentor. ``instrumentation_dependencies()`` is empty, like the
package's ``instruments`` extra (both from ``package._instruments``): the instrumentor
instruments code named at run time, so no installed library version can block it.
"""

from __future__ import annotations

import importlib.util
import inspect
import logging
import os
import sys
import threading
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from typing import Any

import wrapt
from opentelemetry.instrumentation.instrumentor import (  # type: ignore[attr-defined]
    BaseInstrumentor,
)

from codomyrmex.performance.environment_variables import (
    CODOMYRMEX_PERF_INSTRUMENT,
    CODOMYRMEX_PERF_PROFILE_SLOWER_THAN,
)
from codomyrmex.performance.package import _instruments
from codomyrmex.performance.performance_monitor import PerformanceMonitor, default_monitor

__all__ = ["ENVIRONMENT_VARIABLE", "PerformanceInstrumentor"]

_logger = logging.getLogger(__name__)

#: The variable listing what to instrument.
ENVIRONMENT_VARIABLE = CODOMYRMEX_PERF_INSTRUMENT


@dataclass(frozen=True)
class _Target:
    """One parsed entry: a module and a dotted attribute path (or ``*``)."""

    entry: str
    module: str
    path: str


class PerformanceInstrumentor(BaseInstrumentor):  # type: ignore[misc]
    """Wraps the functions named in ``CODOMYRMEX_PERF_INSTRUMENT`` with the monitor."""

    _session: _Session | None = None

    def instrumentation_dependencies(self) -> Collection[str]:
        return _instruments

    def _instrument(self, **kwargs: Any) -> None:
        targets = _checked_targets(kwargs.get("targets"))
        source = str(kwargs.get("source") or "targets")
        if targets is None:
            targets, source = os.environ.get(ENVIRONMENT_VARIABLE, ""), ENVIRONMENT_VARIABLE
        tracer_provider = _checked_provider(kwargs, "tracer_provider", "get_tracer")
        meter_provider = _checked_provider(kwargs, "meter_provider", "get_meter")
        if tracer_provider is None and meter_provider is None:
            monitor = default_monitor()
        else:
            monitor = PerformanceMonitor(
                tracer_provider=tracer_provider, meter_provider=meter_provider
            )
        session = _Session(monitor, source, _profile_slower_than(monitor))
        self._session = session
        for target in _parse(targets, source):
            session.add(target)

    def _uninstrument(self, **kwargs: Any) -> None:
        session, self._session = self._session, None
        if session is not None:
            session.close()


def _checked_targets(targets: object) -> str | list[str] | None:
    """``targets`` as given (a list when an iterable); ``TypeError`` unless None, a str or
    an iterable of str."""
    if targets is None or isinstance(targets, str):
        return targets
    if isinstance(targets, Iterable) and not isinstance(targets, (bytes, bytearray)):
        entries = list(targets)
        for entry in entries:
            if not isinstance(entry, str):
                raise TypeError(
                    f"targets must hold 'pkg.module:function' strings, got "
                    f"{type(entry).__name__} {entry!r}"
                )
        return entries
    raise TypeError(
        "targets must be a comma-separated string or an iterable of strings, "
        f"not {type(targets).__name__}"
    )


def _checked_provider(kwargs: dict[str, Any], name: str, method: str) -> Any:
    """``kwargs[name]``; ``TypeError`` unless None or an object with a ``method`` method."""
    provider = kwargs.get(name)
    if provider is not None and not callable(getattr(provider, method, None)):
        raise TypeError(
            f"{name} must be an OpenTelemetry provider with {method}(), "
            f"not {type(provider).__name__}"
        )
    return provider


def _parse(targets: str | Iterable[str], source: str) -> list[_Target]:
    """Well-formed entries, in order; a warning for each malformed one."""
    entries = targets.split(",") if isinstance(targets, str) else list(targets)
    parsed: list[_Target] = []
    for raw in entries:
        entry = raw.strip()
        if not entry:
            continue
        module, colon, path = entry.partition(":")
        valid_module = all(part.isidentifier() for part in module.split("."))
        valid_path = path == "*" or all(part.isidentifier() for part in path.split("."))
        if not colon or not valid_module or not valid_path:
            _warn(
                source,
                entry,
                "expected 'pkg.module:function', 'pkg.module:Class.method' or 'pkg.module:*'",
            )
            continue
        parsed.append(_Target(entry, module, path))
    return parsed


def _warn(source: str, entry: str, reason: str) -> None:
    _logger.warning("codomyrmex.performance: %s entry %r skipped: %s", source, entry, reason)


def _profile_slower_than(monitor: PerformanceMonitor) -> float | None:
    """``$CODOMYRMEX_PERF_PROFILE_SLOWER_THAN`` as ``@monitor`` takes it; None when unset or bad."""
    text = os.environ.get(CODOMYRMEX_PERF_PROFILE_SLOWER_THAN, "").strip()
    if not text:
        return None
    try:
        threshold = float(text)
        monitor.monitor(profile_slower_than=threshold)  # refuses what @monitor refuses
    except (TypeError, ValueError) as exc:
        _logger.warning(
            "codomyrmex.performance: %s=%r ignored: %s",
            CODOMYRMEX_PERF_PROFILE_SLOWER_THAN,
            text,
            exc,
        )
        return None
    return threshold


class _MonitorHook:
    """The wrapt wrapper: calls the monitored original, bound the way wrapt bound it."""

    __slots__ = ("bind", "monitored")

    def __init__(self, monitored: Any, bind: bool) -> None:
        self.monitored = monitored
        self.bind = bind

    def __call__(
        self, wrapped: Any, instance: Any, args: tuple[Any, ...], kwargs: dict[str, Any]
    ) -> Any:
        if self.bind and instance is not None:
            return self.monitored(instance, *args, **kwargs)
        return self.monitored(*args, **kwargs)


@dataclass
class _Patch:
    """One replaced attribute and how to put the original back."""

    owner: Any
    attribute: str
    original: Any
    owned: bool
    wrapper: Any


class _Session:
    """What one ``instrument()`` call patched, so that ``uninstrument()`` can undo it."""

    def __init__(
        self, monitor: PerformanceMonitor, source: str, profile_slower_than: float | None
    ) -> None:
        self.monitor = monitor
        self.source = source
        self.profile_slower_than = profile_slower_than
        self.active = True
        self.patches: list[_Patch] = []
        self.lock = threading.RLock()

    def add(self, target: _Target) -> None:
        module = sys.modules.get(target.module)
        if module is not None:
            self.apply(target, module)
            return
        if not _findable(target.module):
            _warn(self.source, target.entry, f"module {target.module!r} not found")
            return
        wrapt.register_post_import_hook(
            lambda module: self.on_import(target, module), target.module
        )

    def on_import(self, target: _Target, module: Any) -> None:
        """Post-import hook: never raises into the import that triggered it."""
        try:
            if self.active:
                self.apply(target, module)
        except Exception as exc:
            _warn(self.source, target.entry, f"instrumenting failed: {exc!r}")

    def apply(self, target: _Target, module: Any) -> None:
        with self.lock:
            if not self.active:
                return
            if target.path == "*":
                names = [
                    name
                    for name, value in vars(module).items()
                    if not name.startswith("_")
                    and inspect.isfunction(value)
                    and getattr(value, "__module__", None) == module.__name__
                ]
                if not names:
                    _warn(
                        self.source,
                        target.entry,
                        f"module {target.module!r} defines no public function",
                    )
                for name in names:
                    self.wrap(target, module, name)
                return
            *parents, attribute = target.path.split(".")
            owner = module
            for part in parents:
                owner = getattr(owner, part, _MISSING)
                if owner is _MISSING:
                    _warn(
                        self.source,
                        target.entry,
                        f"{target.module!r} has no attribute {target.path!r}",
                    )
                    return
            self.wrap(target, owner, attribute)

    def wrap(self, target: _Target, owner: Any, attribute: str) -> None:
        raw, owned = _raw_attribute(owner, attribute)
        if raw is _MISSING:
            _warn(self.source, target.entry, f"{target.module!r} has no attribute {target.path!r}")
            return
        if isinstance(getattr(raw, "_self_wrapper", None), _MonitorHook):
            return  # listed twice (or by name and by '*'): one wrapper is enough
        if isinstance(owner, type):
            if isinstance(raw, (classmethod, staticmethod)):
                func, bind = raw.__func__, isinstance(raw, classmethod)
            elif inspect.isfunction(raw):
                func, bind = raw, True
            else:
                _warn(
                    self.source, target.entry, f"{type(raw).__name__} is not a function or method"
                )
                return
        else:
            func, bind = raw, False
        if isinstance(func, type) or not callable(func):
            _warn(self.source, target.entry, f"{type(func).__name__} object is not a function")
            return
        generator = inspect.isgeneratorfunction(func) or inspect.isasyncgenfunction(func)
        threshold = None if generator else self.profile_slower_than
        monitored = self.monitor.monitor(func, profile_slower_than=threshold)
        wrapt.wrap_function_wrapper(owner, attribute, _MonitorHook(monitored, bind))
        wrapper, _ = _raw_attribute(owner, attribute)
        self.patches.append(_Patch(owner, attribute, raw, owned, wrapper))

    def close(self) -> None:
        with self.lock:
            self.active = False
            patches, self.patches = self.patches, []
        for patch in reversed(patches):
            current, _ = _raw_attribute(patch.owner, patch.attribute)
            if current is not patch.wrapper:
                _logger.warning(
                    "codomyrmex.performance: %s.%s was replaced after instrumentation; left as is",
                    getattr(patch.owner, "__name__", patch.owner),
                    patch.attribute,
                )
                continue
            if patch.owned:
                setattr(patch.owner, patch.attribute, patch.original)
            else:
                delattr(patch.owner, patch.attribute)


_MISSING: Any = object()


def _raw_attribute(owner: Any, attribute: str) -> tuple[Any, bool]:
    """The attribute as stored (a classmethod object, not a bound method) and whether
    ``owner`` itself holds it (False when a class inherits it)."""
    if isinstance(owner, type):
        for klass in owner.__mro__:
            if attribute in vars(klass):
                return vars(klass)[attribute], klass is owner
        return _MISSING, False
    return getattr(owner, attribute, _MISSING), True


def _findable(name: str) -> bool:
    """Whether ``name`` could be imported, found without importing (or executing) anything."""
    parts = name.split(".")
    path: Any = None
    for index in range(len(parts)):
        fullname = ".".join(parts[: index + 1])
        module = sys.modules.get(fullname)
        if module is not None:
            path = getattr(module, "__path__", None)
            continue
        if index and path is None:
            return False  # the parent is a module, not a package
        spec = _find_spec(fullname, path)
        if spec is None:
            return False
        path = spec.submodule_search_locations
    return True


def _find_spec(fullname: str, path: Any) -> Any:
    if path is None:
        try:
            return importlib.util.find_spec(fullname)
        except (ImportError, ValueError):
            return None
    for finder in sys.meta_path:
        find_spec = getattr(finder, "find_spec", None)
        if find_spec is None:
            continue
        try:
            spec = find_spec(fullname, path)
        except Exception:
            continue
        if spec is not None:
            return spec
    return None
