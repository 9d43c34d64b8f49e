"""What every monitoring wrapper shares: clocks, the lazy OpenTelemetry binding, call sites.

Nothing here imports OpenTelemetry at import time. ``TelemetryState`` loads the package's
``telemetry`` module (and with it ``opentelemetry``) on the first monitored call after
something else imported ``opentelemetry.trace`` or ``opentelemetry.metrics``: until then
no provider can have been set, so tracing and the duration histogram are off and a
monitored program that never uses OpenTelemetry never pays its ~60 ms import.
"""

from __future__ import annotations

import sys
import time

from codomyrmex.performance import semconv
from codomyrmex.performance._safe import opentelemetry_imported, report_telemetry_error
from codomyrmex.performance._shared.callables import qualified_name

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from typing import Any

    from opentelemetry.context import Context
    from opentelemetry.metrics import Histogram, MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider


__all__ = [
    "MAXRSS_TO_MB",
    "CallSite",
    "Record",
    "TelemetryState",
    "cpu_time",
    "peak_rss",
    "perf_counter",
    "shape_of",
    "span_ids",
]

CO_GENERATOR = 0x20
CO_COROUTINE = 0x80
CO_ASYNC_GENERATOR = 0x200

perf_counter = time.perf_counter


#: CPU time of the calling thread (``CLOCK_THREAD_CPUTIME_ID`` where available): exact to
#: the nanosecond, unlike ``getrusage``, whose user/system split is tick-sampled and can
#: put more CPU time than wall time on a short call.
cpu_time = time.thread_time

if sys.platform == "win32":  # pragma: no cover

    def peak_rss() -> int:
        """No peak RSS figure on Windows."""
        return 0

else:
    import resource

    _getrusage = resource.getrusage
    _RUSAGE_SELF = resource.RUSAGE_SELF

    def peak_rss() -> int:
        """The process's peak resident set size (``ru_maxrss``)."""
        return _getrusage(_RUSAGE_SELF).ru_maxrss


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


def _load_opentelemetry() -> None:
    global _attach, _detach, _set_span_in_context
    from opentelemetry.context import attach, detach
    from opentelemetry.trace import set_span_in_context

    _attach, _detach, _set_span_in_context = attach, detach, set_span_in_context


class _NoHistogram:
    """The duration histogram while OpenTelemetry is not imported: records nothing."""

    __slots__ = ()

    def record(
        self,
        amount: float,
        attributes: Mapping[str, Any] | None = None,
        context: Context | None = None,
    ) -> None:
        """Nothing can collect the point yet: no meter provider exists."""


_NO_HISTOGRAM = _NoHistogram()


class TelemetryState:
    """A monitor's tracer check and duration histogram, resolved on first use.

    ``tracer`` starts as a method that returns None (tracing off; ``histogram`` records
    nothing) while OpenTelemetry is not imported, checked per call with two dict lookups.
    Once it is (or at once, given explicit providers) it resolves the scope and replaces
    itself with the scope's own ``tracer`` method: from then on the hot path is a single
    bound-method call with no "is it loaded yet" test.
    """

    __slots__ = ("histogram", "meter_provider", "tracer", "tracer_provider")

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self.tracer_provider = tracer_provider
        self.meter_provider = meter_provider
        self.histogram: Histogram | _NoHistogram = _NO_HISTOGRAM
        self.tracer: Callable[[], Tracer | None] = self._tracer_until_resolved
        if tracer_provider is not None or meter_provider is not None:
            self.tracer = self._first_tracer

    def _tracer_until_resolved(self) -> Tracer | None:
        # A provider can only have been set by code that imported one of these modules.
        if not opentelemetry_imported():
            return None
        return self._first_tracer()

    def _first_tracer(self) -> Tracer | None:
        try:
            self._resolve()
        except Exception as failure:  # telemetry never raises into the monitored call
            report_telemetry_error(failure)
            self.histogram = _NO_HISTOGRAM
            self.tracer = _no_tracer
            return None
        return self.tracer()

    def _resolve(self) -> None:
        """Import the telemetry module and bind the scope's tracer and the histogram."""
        from codomyrmex.performance.telemetry import scope_telemetry

        _load_opentelemetry()
        scope = scope_telemetry(self.tracer_provider, self.meter_provider)
        self.histogram = scope.duration_histogram(
            semconv.FUNCTION_DURATION, semconv.FUNCTION_DURATION_DESCRIPTION
        )
        self.tracer = scope.tracer


def _no_tracer() -> None:
    """Tracing off for good: resolving this package's telemetry failed (logged once)."""
    return None


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
        span_attributes: dict[str, Any] = {semconv.CODE_FUNCTION_NAME: function_name}
        if file_path is not None:
            span_attributes[semconv.CODE_FILE_PATH] = file_path
        if line_number is not None:
            span_attributes[semconv.CODE_LINE_NUMBER] = line_number
        if attributes:
            span_attributes.update(attributes)
        self.span_attributes = span_attributes
        self.metric_attributes = {semconv.CODE_FUNCTION_NAME: function_name}
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
            found = {semconv.CODE_FUNCTION_NAME: self.function_name, semconv.ERROR_TYPE: error_type}
            self._error_attributes[error_type] = found
        return found


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
    return flags & (CO_COROUTINE | CO_GENERATOR | CO_ASYNC_GENERATOR)
