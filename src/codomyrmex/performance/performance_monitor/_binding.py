"""A monitor's OpenTelemetry binding: the API functions and the instrument a call uses.

Nothing is imported from OpenTelemetry until a monitored call runs after something else
imported ``opentelemetry.trace`` or ``opentelemetry.metrics``: before that no provider
can have been set, so a program that never uses OpenTelemetry never pays its import.
Then the binding resolves once: the scope's tracer, bound into a :class:`Tracing`
(``start_span``, ``set_span_in_context``, ``attach``, ``detach``), and the duration
histogram's ``record``. While a global provider is still unset it keeps watching for it
(two module-global reads per call: the public getters cost microseconds while no
provider is set); once both are set (they can be set only once) it stops looking.
"""

from __future__ import annotations

from codomyrmex.performance import semconv
from codomyrmex.performance._safe import opentelemetry_imported, report_telemetry_error

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from types import ModuleType
    from typing import Any

    from opentelemetry.context import Context
    from opentelemetry.metrics import MeterProvider
    from opentelemetry.trace import Span, Tracer, TracerProvider

    RecordDuration = Callable[[float, Mapping[str, Any], Context | None], None]

__all__ = ["TelemetryBinding", "Tracing"]


class Tracing:
    """The OpenTelemetry calls of a traced call, bound once to one tracer."""

    __slots__ = ("attach", "detach", "set_span_in_context", "start_span")

    def __init__(self, tracer: Tracer) -> None:
        from opentelemetry.context import attach, detach
        from opentelemetry.trace import set_span_in_context

        self.start_span: Callable[..., Span] = tracer.start_span
        self.set_span_in_context: Callable[[Span], Context] = set_span_in_context
        self.attach: Callable[[Context], object] = attach
        self.detach: Callable[[Any], None] = detach


class TelemetryBinding:
    """A monitor's tracing and duration histogram, resolved on first use.

    ``tracing()`` runs on every call: the :class:`Tracing` to start this call's span
    with, or None when the call gets no span (no SDK, ``OTEL_SDK_DISABLED``, a no-op
    provider, instrumentation suppressed). It is a bound method swapped as the binding
    resolves, so each state costs only its own check. ``record`` is the duration
    histogram's ``record``, or None when no meter provider can collect a point.
    """

    __slots__ = (
        "_get_value",
        "_meter_provider",
        "_metrics_api",
        "_seen",
        "_suppress_key",
        "_trace_api",
        "_tracer_provider",
        "_tracing",
        "record",
        "tracing",
    )

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._tracing: Tracing | None = None
        self._seen: tuple[object, object] = (None, None)
        self.record: RecordDuration | None = None
        self.tracing: Callable[[], Tracing | None] = self._until_opentelemetry
        if tracer_provider is not None or meter_provider is not None:
            self.tracing = self._first_call

    def _until_opentelemetry(self) -> Tracing | None:
        # A provider can only have been set by code that imported one of these modules.
        if not opentelemetry_imported():
            return None
        return self._first_call()

    def _first_call(self) -> Tracing | None:
        from opentelemetry import context, trace
        from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
        from opentelemetry.metrics import _internal as metrics_api

        self._trace_api: ModuleType = trace
        self._metrics_api: ModuleType = metrics_api
        self._get_value: Callable[[str], object] = context.get_value
        self._suppress_key = _SUPPRESS_INSTRUMENTATION_KEY
        self._refresh()
        return self.tracing()

    def _refresh(self) -> None:
        """Bind to the providers as they are now; watch the global ones until both are set."""
        try:
            self._bind()
        except Exception as failure:  # telemetry never raises into the monitored call
            report_telemetry_error(failure)
            self.record = self._tracing = None
            self.tracing = _no_tracing
            return
        if (self._tracer_provider is None and self._seen[0] is None) or (
            self._meter_provider is None and self._seen[1] is None
        ):
            self.tracing = self._watching
        elif self._tracing is None:
            self.tracing = _no_tracing
        else:
            self.tracing = self._traced

    def _bind(self) -> None:
        from opentelemetry.metrics import NoOpHistogram

        from codomyrmex.performance.telemetry import scope_telemetry

        self._seen = self._global_providers()
        scope = scope_telemetry(self._tracer_provider, self._meter_provider)
        tracer = scope.current_tracer()
        self._tracing = None if tracer is None else Tracing(tracer)
        self.record = None
        if self._meter_provider is not None or self._seen[1] is not None:
            histogram = scope.duration_histogram(
                semconv.FUNCTION_DURATION, semconv.FUNCTION_DURATION_DESCRIPTION
            )
            # Exactly the no-op class: a subclass may record on purpose.
            if type(histogram) is not NoOpHistogram:
                self.record = histogram.record

    def _global_providers(self) -> tuple[object, object]:
        return self._trace_api._TRACER_PROVIDER, self._metrics_api._METER_PROVIDER

    def _watching(self) -> Tracing | None:
        """``tracing()`` while a global provider is unset: follow it once it is set."""
        if (
            self._trace_api._TRACER_PROVIDER is not self._seen[0]
            or self._metrics_api._METER_PROVIDER is not self._seen[1]
        ):
            self._refresh()
        if self._tracing is None:
            return None
        return self._traced()

    def _traced(self) -> Tracing | None:
        if self._get_value(self._suppress_key):
            return None
        return self._tracing


def _no_tracing() -> None:
    """``tracing()`` when no span can ever be recorded (no-op provider, failed setup)."""
    return None
