"""Monitor function calls: timing, CPU time and memory per call, as OpenTelemetry spans and metrics.

Decorate a function (bare or called) and every call is measured, kept in a bounded
in-process history and reported over OpenTelemetry::

    from codomyrmex.performance import monitor

    @monitor
    def load(path): ...

    @monitor(name="checkout.total", attributes={"shop.region": "eu"})
    async def total(cart): ...

    with default_monitor().track("rebuild-index", shards=4):
        ...

Works on sync functions, coroutines, generators and async generators (timed over the real
work, not their creation), methods, classmethods and staticmethods in either decorator
order, and nested functions; the wrapper keeps ``__name__``, ``__doc__``, ``__wrapped__``,
``inspect.signature`` and what ``inspect.iscoroutinefunction``/``isgeneratorfunction``/
``isasyncgenfunction`` say. The user's exception comes out unchanged (same object,
same traceback) and the failed call is still recorded. Telemetry never raises into the
program: a broken exporter or meter costs only the lost data.

Telemetry per call (scope ``codomyrmex.performance``):

* span ``module.Qualname`` (or ``name=``), kind INTERNAL, attributes ``code.function.name``
  (``module.Qualname``), ``code.file.path``, ``code.line.number`` and the decorator's
  ``attributes=``; on error status ERROR, ``error.type`` (the exception's qualified class
  name, builtins bare) and an exception event;
* one point of the histogram ``codomyrmex.function.duration`` (seconds, explicit
  second-scale buckets) with ``code.function.name`` (+ ``error.type`` on error), recorded
  in the span's context so that exemplars point at the trace: after each collection every
  bucket that received calls carries an exemplar of one of them, the slow tail included.
  Under the default ``OTEL_METRICS_EXEMPLAR_FILTER=trace_based`` a call offers its span
  only when its bucket has not had an offer since the last collection (the SDK keeps one
  per bucket anyway, and an offer costs microseconds); failed calls always offer;
* with ``profile_slower_than=``, on a call that ran longer: the span event
  ``codomyrmex.slow_call`` with the call's sampled stacks (see ``_slow_calls``).

When no span can be recorded (no SDK, ``OTEL_SDK_DISABLED``, instrumentation suppressed)
no span is started and no attribute is built. Under a parent that was not sampled, with
the SDK's ``ParentBased`` sampler (the default) that drops such children, no span is made
either: the call runs in the parent's context, so what propagates downstream (trace id,
sampled flag, ``tracestate``) is what the SDK's non-recording child would carry. A root
call still asks the sampler; an unsampled root span is started (so that children stay
unsampled) but gets no attributes. The histogram point and the history entry are recorded
in every case.

Per call the monitor reads ``perf_counter``, the calling thread's CPU clock
(``time.thread_time``: exact, where ``getrusage``'s tick-sampled split is not; read inside
the ``perf_counter`` reads, and ``cpu_time`` is clamped to ``execution_time`` when read
back) and, once, ``getrusage`` for the process's peak RSS (never psutil), and appends a plain
tuple to a ``deque(maxlen=max_metrics)``: bounded, oldest dropped, safe from any thread.
``PerformanceMetrics`` objects are built only when read (``get_metrics``, ``get_stats``,
``export_metrics``). ``get_stats`` percentiles interpolate linearly between closest
ranks (numpy's default, ``statistics.quantiles(method="inclusive")``).

``log_file=`` appends every recorded call to that file as one JSON line (the
``PerformanceMetrics`` fields), written in batches of 256 calls, on ``flush()``
and at interpreter exit. The file is opened for appending (created) by the constructor,
which raises ``OSError`` (``FileNotFoundError``, ``IsADirectoryError``, ...) naming the
path when it cannot be, and ``ValueError`` when it is not a regular file (a FIFO, socket
or device: refused at once, never waited on); a log that stops being writable later is
reported once and then dropped. ``max_metrics`` is an int from 1 to ``sys.maxsize``.

Importing this module loads neither OpenTelemetry nor psutil nor wrapt, and neither do
monitored calls while nothing else has imported ``opentelemetry.trace`` or
``opentelemetry.metrics`` (no provider can exist yet; tracing and the histogram are off).
The first call after something did imports the telemetry module and follows the global
providers from then on, including ones set later.
"""

from __future__ import annotations

import os
import sys
import time
from collections import deque

from codomyrmex.performance._shared.callables import calling_through, code_flags
from codomyrmex.performance.performance_monitor._binding import TelemetryBinding
from codomyrmex.performance.performance_monitor._core import CallSite, perf_counter
from codomyrmex.performance.performance_monitor._wrappers import wrap_callable

#: ``typing`` costs ~10 ms to import; annotations are strings here, so it is not needed.
TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Iterator, Mapping
    from pathlib import Path
    from typing import Any, TypeVar, overload

    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import TracerProvider

    from codomyrmex.performance.performance_monitor._core import RawRecord
    from codomyrmex.performance.performance_monitor._history import PerformanceMetrics, Record
    from codomyrmex.performance.performance_monitor._log import CallLog
    from codomyrmex.performance.performance_monitor._track import TrackedBlock

__all__ = [
    "PerformanceMetrics",
    "PerformanceMonitor",
    "default_monitor",
    "monitor",
]

if TYPE_CHECKING:
    _F = TypeVar("_F")

_ATTRIBUTE_TYPES = (str, bool, int, float)


def _check_attributes(attributes: Mapping[str, Any] | None, what: str) -> dict[str, Any]:
    """Validate span attributes: str keys, OpenTelemetry primitive values or sequences."""
    from collections.abc import Mapping

    if attributes is None:
        return {}
    if not isinstance(attributes, Mapping):
        raise TypeError(f"{what} must be a mapping, not {type(attributes).__name__}")
    checked: dict[str, Any] = {}
    for key, value in attributes.items():
        if not isinstance(key, str) or not key:
            raise TypeError(f"{what} keys must be non-empty strings, got {key!r}")
        if isinstance(value, (list, tuple)):
            if not all(isinstance(item, _ATTRIBUTE_TYPES) for item in value):
                raise TypeError(f"{what}[{key!r}] must hold only str, bool, int or float")
            value = tuple(value)
        elif not isinstance(value, _ATTRIBUTE_TYPES):
            raise TypeError(
                f"{what}[{key!r}] must be str, bool, int, float or a sequence of them, "
                f"not {type(value).__name__}"
            )
        checked[key] = value
    return checked


def _check_name(name: object, what: str = "name") -> None:
    if not isinstance(name, str):
        raise TypeError(f"{what} must be a string, not {type(name).__name__}")
    if not name.strip():
        raise ValueError(f"{what} must not be empty")


class PerformanceMonitor:
    """Records monitored calls in a bounded history and reports them over OpenTelemetry.

    ``tracer_provider``/``meter_provider`` bind the monitor to explicit providers instead
    of the global ones (for instrumentors, tests and benchmarks).
    """

    def __init__(
        self,
        *,
        max_metrics: int = 10_000,
        log_file: str | os.PathLike[str] | None = None,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        if isinstance(max_metrics, bool) or not isinstance(max_metrics, int):
            raise TypeError(f"max_metrics must be an int, not {type(max_metrics).__name__}")
        if not 0 < max_metrics <= sys.maxsize:
            raise ValueError(f"max_metrics must be between 1 and {sys.maxsize}, got {max_metrics}")
        if log_file is not None and not isinstance(log_file, (str, os.PathLike)):
            raise TypeError(f"log_file must be a path, not {type(log_file).__name__}")
        self._history: deque[RawRecord] = deque(maxlen=max_metrics)
        self._telemetry = TelemetryBinding(tracer_provider, meter_provider)
        self._epoch_offset = time.time() - perf_counter()
        self._block_names: set[str] = set()
        self._log: CallLog | None = None
        self._record: Callable[[RawRecord], None] = self._history.append
        if log_file is not None:
            from pathlib import Path

            from codomyrmex.performance.performance_monitor._log import CallLog

            self._log = CallLog(Path(log_file), self._epoch_offset)
            self._record = self._record_and_log

    @property
    def max_metrics(self) -> int:
        """How many calls the history keeps (the oldest are dropped first)."""
        return self._history.maxlen or 0

    @property
    def log_file(self) -> Path | None:
        """Where every recorded call is appended as a JSON line, if anywhere."""
        return None if self._log is None else self._log.path

    def __repr__(self) -> str:
        return f"<PerformanceMonitor calls={len(self._history)} max_metrics={self.max_metrics}>"

    def _record_and_log(self, record: RawRecord) -> None:
        self._history.append(record)
        assert self._log is not None
        self._log.append(record)

    # -- decorating -----------------------------------------------------------------

    if TYPE_CHECKING:

        @overload
        def monitor(
            self,
            func: _F,
            /,
            *,
            name: str | None = None,
            attributes: Mapping[str, Any] | None = None,
            profile_slower_than: float | None = None,
        ) -> _F: ...

        @overload
        def monitor(
            self,
            func: None = None,
            /,
            *,
            name: str | None = None,
            attributes: Mapping[str, Any] | None = None,
            profile_slower_than: float | None = None,
        ) -> Callable[[_F], _F]: ...

    def monitor(
        self,
        func: Any = None,
        /,
        *,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
        profile_slower_than: float | None = None,
    ) -> Any:
        """Decorator that records every call of ``func``; bare (``@monitor``) or called.

        ``profile_slower_than`` (seconds, 0.01 to 86400): a call of a function or
        coroutine function still running after that long has its stacks sampled, and the
        samples go on its span as the event ``codomyrmex.slow_call`` (see ``_slow_calls``);
        calls under it pay one comparison.
        """
        if name is not None:
            _check_name(name)
        checked = _check_attributes(attributes, "attributes")
        slow = None
        if profile_slower_than is not None:
            from codomyrmex.performance.performance_monitor._slow_calls import check_threshold

            slow = check_threshold(profile_slower_than)
        if func is None:
            return lambda target: self._decorate(target, name, checked, slow)
        return self._decorate(func, name, checked, slow)

    def _decorate(
        self, func: Any, name: str | None, attributes: dict[str, Any], slow: float | None
    ) -> Any:
        if isinstance(func, (classmethod, staticmethod)):
            if issubclass(type(func), (classmethod, staticmethod)):
                return type(func)(self._decorate(func.__func__, name, attributes, slow))
            kind, call = calling_through(func)  # a decorator's proxy of one
            site = CallSite.for_function(
                call, name=name, attributes=attributes, profile_slower_than=slow
            )
            return kind(wrap_callable(call, site, self._telemetry, self._record, code_flags(func)))
        if isinstance(func, type):
            raise TypeError(
                f"monitor() wraps functions, not classes: decorate {func.__qualname__}'s methods"
            )
        if not callable(func):
            raise TypeError(f"monitor() needs a callable, not {type(func).__name__}")
        site = CallSite.for_function(
            func, name=name, attributes=attributes, profile_slower_than=slow
        )
        return wrap_callable(func, site, self._telemetry, self._record)

    # -- blocks and one-off calls ---------------------------------------------------

    def track(self, name: str, **attributes: Any) -> TrackedBlock:
        """Context manager (``with`` or ``async with``) recording a block as one call.

        The span is named ``name``, carries ``attributes`` and the caller's file and line;
        the histogram point carries ``code.function.name=name``. After the block,
        ``.metrics`` holds its ``PerformanceMetrics``; inside it, ``.span`` is its span.
        In ``async with`` the block's ``cpu_time`` is the thread's CPU over the whole
        block, including other tasks that ran while it awaited (at most its wall time);
        decorate a coroutine function with ``monitor`` to count only its own steps.
        """
        _check_name(name)
        checked = _check_attributes(attributes, "attributes")
        file_path = line_number = None
        try:
            caller = sys._getframe(1)
            file_path, line_number = caller.f_code.co_filename, caller.f_lineno
        except (AttributeError, ValueError):  # pragma: no cover - not CPython
            pass
        site = CallSite(name, file_path=file_path, line_number=line_number, attributes=checked)
        self._block_names.add(name)
        return self._block(site)

    def tracked_blocks(self) -> frozenset[str]:
        """The names given to :meth:`track`: blocks, whose totals contain the calls inside."""
        return frozenset(self._block_names)

    def _block(self, site: CallSite) -> TrackedBlock:
        from codomyrmex.performance.performance_monitor._track import TrackedBlock

        return TrackedBlock(site, self._telemetry, self._record, self._epoch_offset)

    def track_execution(
        self, func: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> tuple[Any, PerformanceMetrics]:
        """Call ``func(*args, **kwargs)`` once, recorded; return its result and its metrics.

        For coroutines and generators use ``monitor`` or ``async with track(...)``.
        """
        if not callable(func):
            raise TypeError(f"track_execution() needs a callable, not {type(func).__name__}")
        if code_flags(func):
            raise TypeError(
                "track_execution() runs synchronous callables; decorate coroutine and "
                "generator functions with monitor() or use 'async with track(...)'"
            )
        block = self._block(CallSite.for_function(func))
        with block:
            result = func(*args, **kwargs)
        return result, block.metrics

    # -- reading ----------------------------------------------------------------------

    def _records(self, function_name: str | None) -> Iterable[RawRecord] | Iterator[Record]:
        """A snapshot of the history (all calls, or those of one function name)."""
        if function_name is None:
            return self._history.copy()
        if not isinstance(function_name, str):
            raise TypeError(f"function_name must be a string, not {type(function_name).__name__}")
        from codomyrmex.performance.performance_monitor._history import select

        return select(self._history.copy(), function_name)

    def get_metrics(self, function_name: str | None = None) -> list[PerformanceMetrics]:
        """Recorded calls, oldest first (all, or those of one function name)."""
        from codomyrmex.performance.performance_monitor._history import to_metrics

        offset = self._epoch_offset
        return [to_metrics(record, offset) for record in self._records(function_name)]

    def get_stats(self, function_name: str | None = None) -> dict[str, Any]:
        """count, errors, total, min, max, mean, p50, p95, p99 (s), cpu_time, memory_peak_mb.

        Over all recorded calls, or those of one function name.
        """
        from codomyrmex.performance.performance_monitor._history import compute_stats

        return compute_stats(self._records(function_name))

    def stats_by_function(self) -> dict[str, dict[str, Any]]:
        """``get_stats`` for every function name in the history."""
        from codomyrmex.performance.performance_monitor._history import by_function, compute_stats

        grouped = by_function(self._history.copy())
        return {name: compute_stats(records) for name, records in grouped.items()}

    def export_metrics(self, file_path: str | os.PathLike[str], format: str = "json") -> Path:
        """Write the history to ``file_path`` as ``json``, ``jsonl`` or ``csv``, atomically.

        Unknown format: ``ValueError`` and nothing written. Unwritable path: ``OSError``,
        no temporary file left behind. Returns the path written.
        """
        from codomyrmex.performance.performance_monitor._history import EXPORT_FORMATS, export

        if not isinstance(format, str):
            raise TypeError(f"format must be a string, not {type(format).__name__}")
        fmt = format.lower()
        if fmt not in EXPORT_FORMATS:
            raise ValueError(
                f"unknown export format {format!r}: use one of {', '.join(EXPORT_FORMATS)}"
            )
        if not isinstance(file_path, (str, os.PathLike)):
            raise TypeError(f"file_path must be a path, not {type(file_path).__name__}")
        from pathlib import Path

        path = Path(file_path)
        export(self.get_metrics(), path, fmt)
        return path

    def clear_metrics(self) -> None:
        """Forget the recorded calls (telemetry already sent is unaffected)."""
        self._history.clear()
        self._block_names.clear()

    def flush(self) -> None:
        """Write buffered ``log_file`` lines now."""
        if self._log is not None:
            self._log.flush()


_default_monitor = PerformanceMonitor()

#: ``@monitor`` bound to the process-wide default monitor (see ``default_monitor()``).
monitor = _default_monitor.monitor


def default_monitor() -> PerformanceMonitor:
    """The process-wide monitor behind ``monitor`` (read its history and stats)."""
    return _default_monitor


def __getattr__(name: str) -> Any:
    if name == "PerformanceMetrics":
        from codomyrmex.performance.performance_monitor._history import PerformanceMetrics

        globals()[name] = PerformanceMetrics
        return PerformanceMetrics
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
