"""The call paths behind ``PerformanceMonitor.monitor``: one plain closure per function shape.

The shape (sync, coroutine, generator, async generator) is decided once, when a function
is decorated; each call then runs a closure with no branch it does not need. Per call:
``telemetry.tracer()`` (None when tracing is off, and then no span or attribute work is
done at all), two ``perf_counter`` reads, two ``getrusage`` reads (thread CPU time and
the process's peak RSS in one system call), one histogram point and one plain tuple
appended to the monitor's bounded history (``PerformanceMetrics`` objects are built
later, when someone reads the history).

This module imports neither OpenTelemetry nor the SDK: the package's ``telemetry`` module
(which imports ``opentelemetry``) is loaded on the first monitored call.
"""

from __future__ import annotations

import sys
import time
from functools import update_wrapper

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from opentelemetry.context import Context
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from codomyrmex.performance.telemetry import ScopeTelemetry

__all__ = [
    "MAXRSS_TO_MB",
    "RUSAGE_WHO",
    "CallSite",
    "Record",
    "TelemetryState",
    "error_type_name",
    "perf_counter",
    "report_telemetry_error",
    "rusage",
    "shape_of",
    "wrap_callable",
]

DURATION_METRIC = "codomyrmex.function.duration"
DURATION_DESCRIPTION = "Duration of calls to functions monitored by codomyrmex.performance."

_CO_GENERATOR = 0x20
_CO_COROUTINE = 0x80
_CO_ASYNC_GENERATOR = 0x200

perf_counter = time.perf_counter


class _ThreadTimeUsage:  # pragma: no cover - Windows
    """What the monitor reads from ``getrusage``, where there is no ``getrusage``."""

    __slots__ = ("ru_maxrss", "ru_stime", "ru_utime")

    def __init__(self) -> None:
        self.ru_utime = time.thread_time()
        self.ru_stime = 0.0
        self.ru_maxrss = 0


def _thread_time_usage(_who: int) -> _ThreadTimeUsage:  # pragma: no cover - Windows
    return _ThreadTimeUsage()


#: ``rusage(RUSAGE_WHO)`` gives CPU time (``ru_utime + ru_stime``) and the peak RSS
#: (``ru_maxrss``) in one system call. Linux: the calling thread's CPU time; other POSIX
#: systems: the process's; Windows: the thread's CPU time and no memory figure.
if sys.platform == "win32":  # pragma: no cover
    rusage = _thread_time_usage
    RUSAGE_WHO = 0
else:
    import resource

    rusage = resource.getrusage
    RUSAGE_WHO: int = getattr(resource, "RUSAGE_THREAD", resource.RUSAGE_SELF)

#: ``ru_maxrss`` is in kilobytes on Linux and BSD, in bytes on macOS.
MAXRSS_TO_MB = 1.0 / (1024 * 1024) if sys.platform == "darwin" else 1.0 / 1024

#: One history entry: name, start (perf_counter), duration (s), CPU time (s), peak RSS
#: (ru_maxrss units), error type name, trace id, span id, metadata. A plain tuple so that
#: recording a call costs one allocation and one ``deque.append``.
Record = tuple[
    str,
    float,
    float,
    float,
    int,
    "str | None",
    "int | None",
    "int | None",
    "Mapping[str, Any] | None",
]

# Filled by ``TelemetryState`` when OpenTelemetry is first needed; the traced paths only
# run after that, so they use these names without checking.
_attach: Callable[[Context], object]
_detach: Callable[[Any], None]
_set_span_in_context: Callable[[Span], Context]
_error_status: Callable[[str], Any]


def _load_opentelemetry() -> None:
    global _attach, _detach, _set_span_in_context, _error_status
    from opentelemetry.context import attach, detach
    from opentelemetry.trace import set_span_in_context
    from opentelemetry.trace.status import Status, StatusCode

    _attach, _detach, _set_span_in_context = attach, detach, set_span_in_context

    def error_status(description: str) -> Status:
        return Status(StatusCode.ERROR, description)

    _error_status = error_status


_reported: set[str] = set()


def report_telemetry_error(exc: BaseException) -> None:
    """Log a failing telemetry call once per exception type; never raise."""
    try:
        key = type(exc).__qualname__
        if key in _reported:
            return
        _reported.add(key)
        import logging

        logging.getLogger("codomyrmex.performance").warning(
            "codomyrmex.performance: telemetry failed and was skipped: %r", exc
        )
    except Exception:  # pragma: no cover - logging itself broken
        pass


class TelemetryState:
    """A monitor's tracer check and duration histogram, resolved on first use.

    ``tracer`` starts as a method that imports OpenTelemetry, resolves the scope and then
    replaces itself with the scope's own ``tracer`` method: after the first call the hot
    path is a single bound-method call with no "is it loaded yet" test.
    """

    __slots__ = ("histogram", "meter_provider", "scope", "tracer", "tracer_provider")

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.tracer: Callable[[], Tracer | None] = self._first_tracer

    def _first_tracer(self) -> Tracer | None:
        self.resolve()
        return self.tracer()

    def resolve(self) -> ScopeTelemetry:
        """Import the telemetry module and bind the scope and the histogram (idempotent)."""
        from codomyrmex.performance.telemetry import scope_telemetry

        _load_opentelemetry()
        scope = scope_telemetry(self.tracer_provider, self.meter_provider)
        self.histogram: Histogram = scope.duration_histogram(DURATION_METRIC, DURATION_DESCRIPTION)
        self.scope = scope
        self.tracer = scope.tracer
        return scope


def error_type_name(exc: BaseException) -> str:
    """The semantic-conventions ``error.type``: the qualified class name, builtins bare."""
    cls = type(exc)
    module = cls.__module__
    if module == "builtins":
        return cls.__qualname__
    return f"{module}.{cls.__qualname__}"


def _code_location(func: Callable[..., Any]) -> tuple[str | None, int | None]:
    """File and first line of the innermost ``__wrapped__`` function, if it has code."""
    seen = 0
    while hasattr(func, "__wrapped__") and seen < 100:
        func = func.__wrapped__
        seen += 1
    code = getattr(func, "__code__", None)
    if code is None:
        code = getattr(getattr(func, "__func__", None), "__code__", None)
    if code is None:
        return None, None
    return code.co_filename, code.co_firstlineno


def qualified_name(func: Callable[..., Any]) -> str:
    """``module.Qualname`` of a function (the span name and ``code.function.name``)."""
    qualname = getattr(func, "__qualname__", None) or getattr(func, "__name__", None)
    if not isinstance(qualname, str):
        qualname = type(func).__qualname__
    module = getattr(func, "__module__", None)
    if module is None and hasattr(func, "__self__"):  # methods of builtin types
        module = type(func.__self__).__module__
    return f"{module}.{qualname}" if isinstance(module, str) and module else qualname


class CallSite:
    """Everything about a monitored callable that is computed once, at decoration."""

    __slots__ = (
        "_error_attributes",
        "function_name",
        "metadata",
        "metric_attributes",
        "name",
        "span_attributes",
    )

    def __init__(
        self,
        function_name: str,
        *,
        name: str | None = None,
        file_path: str | None = None,
        line_number: int | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> None:
        self.function_name = function_name
        self.name = name or function_name
        span_attributes: dict[str, Any] = {"code.function.name": function_name}
        if file_path is not None:
            span_attributes["code.file.path"] = file_path
        if line_number is not None:
            span_attributes["code.line.number"] = line_number
        if attributes:
            span_attributes.update(attributes)
        self.span_attributes = span_attributes
        self.metric_attributes = {"code.function.name": function_name}
        self.metadata: Mapping[str, Any] | None = dict(attributes) if attributes else None
        self._error_attributes: dict[str, dict[str, str]] = {}

    @classmethod
    def for_function(
        cls,
        func: Callable[..., Any],
        *,
        name: str | None = None,
        attributes: Mapping[str, Any] | None = None,
    ) -> CallSite:
        file_path, line_number = _code_location(func)
        return cls(
            qualified_name(func),
            name=name,
            file_path=file_path,
            line_number=line_number,
            attributes=attributes,
        )

    def error_attributes(self, error_type: str) -> dict[str, str]:
        """Histogram attributes of a failed call (one cached dict per error type)."""
        found = self._error_attributes.get(error_type)
        if found is None:
            found = {"code.function.name": self.function_name, "error.type": error_type}
            self._error_attributes[error_type] = found
        return found


def fail_span(span: Span, exc: BaseException, error_type: str) -> None:
    """Mark a span failed the way OpenTelemetry instrumentations do."""
    if span.is_recording():
        span.set_attribute("error.type", error_type)
        span.record_exception(exc)
        span.set_status(_error_status(f"{type(exc).__name__}: {exc}"))


def span_ids(span: Span) -> tuple[int | None, int | None]:
    """Trace and span id of a recording span, else (None, None)."""
    if span.is_recording():
        context = span.get_span_context()
        return context.trace_id, context.span_id
    return None, None


def shape_of(func: Callable[..., Any]) -> int:
    """The code flags that decide the wrapper shape (0 for plain callables)."""
    target: Any = func
    while True:
        inner = getattr(target, "func", None)  # functools.partial
        if inner is not None and type(target).__name__ == "partial":
            target = inner
            continue
        inner = getattr(target, "__func__", None)  # bound methods
        if inner is not None:
            target = inner
            continue
        break
    code = getattr(target, "__code__", None)
    flags = getattr(code, "co_flags", 0)
    if not isinstance(flags, int):
        return 0
    return flags & (_CO_COROUTINE | _CO_GENERATOR | _CO_ASYNC_GENERATOR)


def wrap_callable(
    func: Callable[..., Any],
    site: CallSite,
    telemetry: TelemetryState,
    record: Callable[[Record], None],
) -> Callable[..., Any]:
    """The monitoring wrapper for ``func``: shape chosen now, metadata copied from ``func``."""
    flags = shape_of(func)
    factory: Callable[..., Callable[..., Any]] = sync_wrapper
    if flags:
        from codomyrmex.performance import _monitor_shapes as shapes

        if flags & _CO_ASYNC_GENERATOR:
            factory = shapes.async_generator_wrapper
        elif flags & _CO_COROUTINE:
            factory = shapes.coroutine_wrapper
        else:
            factory = shapes.generator_wrapper
    wrapper = factory(func, site, telemetry, record)
    update_wrapper(wrapper, func)
    return wrapper


def sync_wrapper(
    func: Callable[..., Any],
    site: CallSite,
    telemetry: TelemetryState,
    record: Callable[[Record], None],
) -> Callable[..., Any]:
    """Wrapper for a plain function: the hot path of the package."""
    name = site.name
    span_name = site.name
    span_attributes = site.span_attributes
    metric_attributes = site.metric_attributes
    metadata = site.metadata
    error_attributes = site.error_attributes

    def call_untraced(args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        r0 = rusage(RUSAGE_WHO)
        t0 = perf_counter()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            t1 = perf_counter()
            r1 = rusage(RUSAGE_WHO)
            error_type = error_type_name(exc)
            try:
                telemetry.histogram.record(t1 - t0, error_attributes(error_type))
            except Exception as failure:
                report_telemetry_error(failure)
            record(
                (name, t0, t1 - t0, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
                 r1.ru_maxrss, error_type, None, None, metadata)
            )  # fmt: skip
            raise
        t1 = perf_counter()
        r1 = rusage(RUSAGE_WHO)
        try:
            telemetry.histogram.record(t1 - t0, metric_attributes)
        except Exception as failure:
            report_telemetry_error(failure)
        record(
            (name, t0, t1 - t0, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
             r1.ru_maxrss, None, None, None, metadata)
        )  # fmt: skip
        return result

    def call_traced(tracer: Tracer, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        try:
            span = tracer.start_span(span_name, attributes=span_attributes)
            token = _attach(_set_span_in_context(span))
        except Exception as failure:
            report_telemetry_error(failure)
            return call_untraced(args, kwargs)
        r0 = rusage(RUSAGE_WHO)
        t0 = perf_counter()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            t1 = perf_counter()
            r1 = rusage(RUSAGE_WHO)
            error_type = error_type_name(exc)
            trace_id = span_id = None
            try:
                telemetry.histogram.record(t1 - t0, error_attributes(error_type))
            except Exception as failure:
                report_telemetry_error(failure)
            try:
                _detach(token)
                fail_span(span, exc, error_type)
                trace_id, span_id = span_ids(span)
                span.end()
            except Exception as failure:
                report_telemetry_error(failure)
            record(
                (name, t0, t1 - t0, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
                 r1.ru_maxrss, error_type, trace_id, span_id, metadata)
            )  # fmt: skip
            raise
        t1 = perf_counter()
        r1 = rusage(RUSAGE_WHO)
        trace_id = span_id = None
        try:
            telemetry.histogram.record(t1 - t0, metric_attributes)
        except Exception as failure:
            report_telemetry_error(failure)
        try:
            _detach(token)
            trace_id, span_id = span_ids(span)
            span.end()
        except Exception as failure:
            report_telemetry_error(failure)
        record(
            (name, t0, t1 - t0, r1.ru_utime + r1.ru_stime - r0.ru_utime - r0.ru_stime,
             r1.ru_maxrss, None, trace_id, span_id, metadata)
        )  # fmt: skip
        return result

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracer = telemetry.tracer()
        if tracer is None:
            return call_untraced(args, kwargs)
        return call_traced(tracer, args, kwargs)

    return wrapper
