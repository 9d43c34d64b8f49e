"""A monitor's OpenTelemetry binding: the API functions and the instrument a call uses.

Nothing is imported from OpenTelemetry until a monitored call runs after something else
imported ``opentelemetry.trace`` or ``opentelemetry.metrics``: before that no provider
can have been set, so a program that never uses OpenTelemetry never pays its import.
Then the binding resolves once: the scope's tracer, bound into a :class:`Tracing`
(``start_span``, ``set_span_in_context``, ``attach``, ``detach``), and the duration
histogram's ``record``. While a global provider is still unset it keeps watching for it
(two module-global reads per call: the public getters cost microseconds while no
provider is set); once both are set (they can be set only once) it stops looking.

Work skipped where nothing can see it:

* **No span under a parent that was not sampled**, when the tracer's sampler is the SDK's
  ``ParentBased`` with ``ALWAYS_OFF`` for unsampled parents (the default sampler, and
  ``parentbased_traceidratio``): the SDK would make a non-recording span that only
  carries the parent's trace id, flags and trace state with a new span id, which no
  processor sees. The call runs in the parent's context instead, so what propagates
  downstream (trace id, sampled flag, ``tracestate``) is the same. Root calls still ask
  the sampler, as does any other sampler.
* **One exemplar offer per histogram bucket and collection** (:class:`Exemplars`).
"""

from __future__ import annotations

import os
import sys
from _thread import allocate_lock
from bisect import bisect_left

from codomyrmex.performance import semconv
from codomyrmex.performance._safe import opentelemetry_imported, report_telemetry_error
from codomyrmex.performance.environment_variables import OTEL_METRICS_EXEMPLAR_FILTER
from codomyrmex.performance.performance_monitor._core import INFINITY, perf_counter

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable, Mapping
    from types import ModuleType
    from typing import Any

    from opentelemetry.context import Context
    from opentelemetry.metrics import CallbackOptions, Meter, MeterProvider, Observation
    from opentelemetry.trace import Span, Tracer, TracerProvider

    from codomyrmex.performance.performance_monitor._core import CallSite

    RecordDuration = Callable[[float, Mapping[str, Any], Context | None], None]

__all__ = ["COLLECTION_GRACE_SECONDS", "Exemplars", "TelemetryBinding", "Tracing"]

#: How long after a collection starts every call still offers its exemplar: the reader
#: collects the histogram only after the probe's callback (and the callbacks of other
#: observable instruments) ran, and an offer made in between lands in that collection.
COLLECTION_GRACE_SECONDS = 0.1


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


class Exemplars:
    """Which calls offer their span's context to the duration histogram's exemplars.

    The SDK keeps one exemplar per histogram bucket and collection (the last one offered
    to the bucket), and under the default ``trace_based`` filter offering one costs a
    few microseconds per call. So a call offers its context only when its bucket
    (``bisect_left`` over the buckets, as the SDK's reservoir does) has not offered one
    since the last collection; the other calls record with a context that holds no span,
    which the filter turns down at once. Every bucket that received calls in a collection
    interval, the slow tail included, still carries an exemplar of one of them.

    Collections are seen through :data:`~codomyrmex.performance.semconv.COLLECTION_PROBE`,
    an observable gauge that reports nothing, registered on every meter the monitors
    record with: its callback runs as any reader starts collecting, and within
    ``COLLECTION_GRACE_SECONDS`` of that every call offers. One clock for the process:
    a collection by one reader makes the calls of every monitor offer again, which only
    adds offers.

    Only under ``OTEL_METRICS_EXEMPLAR_FILTER=trace_based`` (the default): with
    ``always_on`` or ``always_off`` every call passes its context and the SDK decides, as
    without this rule. A filter given to the ``MeterProvider`` in code is invisible to
    the API: set the variable to the same value. A ``View`` that changes the buckets of
    ``codomyrmex.function.duration`` should come with ``always_on``.
    """

    __slots__ = ("_bounds", "_meters", "_no_exemplar", "fresh_after")

    def __init__(self) -> None:
        import weakref

        from opentelemetry.trace import INVALID_SPAN, set_span_in_context

        from codomyrmex.performance.telemetry import DURATION_BUCKETS

        self._bounds = DURATION_BUCKETS
        self._no_exemplar = set_span_in_context(INVALID_SPAN)
        self._meters: weakref.WeakSet[Meter] = weakref.WeakSet()
        #: A bucket whose last offer is no later than this offers again.
        self.fresh_after = -INFINITY

    def watch(self, meter: Meter) -> None:
        """Register the collection probe on ``meter`` (once per meter; under ``_lock``)."""
        if meter in self._meters:
            return
        meter.create_observable_gauge(
            semconv.COLLECTION_PROBE,
            callbacks=[self._collection_started],
            description=semconv.COLLECTION_PROBE_DESCRIPTION,
        )
        self._meters.add(meter)

    def _collection_started(self, options: CallbackOptions) -> Iterable[Observation]:
        self.fresh_after = perf_counter() + COLLECTION_GRACE_SECONDS
        return ()

    def context_for(self, site: CallSite, duration: float, now: float, context: Context) -> Context:
        """``context`` if this call offers its exemplar (then noted at ``now``), else none."""
        offers = site.exemplar_offers
        if offers is None:
            offers = site.exemplar_offers = [-INFINITY] * (len(self._bounds) + 1)
        bucket = bisect_left(self._bounds, duration)
        if offers[bucket] > self.fresh_after:
            return self._no_exemplar
        offers[bucket] = now
        return context


_exemplars: Exemplars | None = None
_lock = allocate_lock()


def _exemplars_for(meter: Meter) -> Exemplars | None:
    """The process's :class:`Exemplars` watching ``meter``; None when every call offers."""
    global _exemplars
    if os.environ.get(OTEL_METRICS_EXEMPLAR_FILTER, "trace_based") != "trace_based":
        return None
    try:
        with _lock:
            if _exemplars is None:
                _exemplars = Exemplars()
            _exemplars.watch(meter)
    except Exception as failure:  # no probe: offer on every call, as the SDK does
        report_telemetry_error(failure)
        return None
    return _exemplars


def _drops_unsampled_children(tracer: Tracer) -> bool:
    """Whether ``tracer`` never records a child of a parent that was not sampled.

    True for the SDK's ``ParentBased`` samplers (exactly those classes, not subclasses
    that may decide otherwise) whose delegates for unsampled local and remote parents are
    ``ALWAYS_OFF`` (read from its private delegate attributes: should they be renamed,
    the answer is False and spans are made as the SDK would). The SDK is not imported
    for this: a tracer that has such a sampler has loaded it.
    """
    sampling = sys.modules.get("opentelemetry.sdk.trace.sampling")
    sampler = getattr(tracer, "sampler", None)
    if sampling is None or type(sampler) not in (
        sampling.ParentBased,
        sampling.ParentBasedTraceIdRatio,
    ):
        return False
    delegates = (
        getattr(sampler, "_remote_parent_not_sampled", None),
        getattr(sampler, "_local_parent_not_sampled", None),
    )
    return all(delegate is sampling.ALWAYS_OFF for delegate in delegates)


class TelemetryBinding:
    """A monitor's tracing and duration histogram, resolved on first use.

    ``tracing()`` runs on every call: the :class:`Tracing` to start this call's span
    with, or None when the call gets no span (no SDK, ``OTEL_SDK_DISABLED``, a no-op
    provider, instrumentation suppressed, an unsampled parent under a parent-based
    sampler). It is a callable swapped as the binding resolves, so each state costs only
    its own check. ``record`` is the duration histogram's ``record``, or None when
    no meter provider can collect a point; ``exemplars`` is the exemplar rule, or None
    when every call passes its context.
    """

    __slots__ = (
        "_decided",
        "_get_current",
        "_get_current_span",
        "_meter_provider",
        "_metrics_api",
        "_seen",
        "_skips_unsampled_children",
        "_suppress_key",
        "_trace_api",
        "_tracer_provider",
        "_tracing",
        "exemplars",
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
        self._skips_unsampled_children = False
        self._decided: tuple[object, Tracing | None] = (None, None)
        self._seen: tuple[object, object] = (None, None)
        self.record: RecordDuration | None = None
        self.exemplars: Exemplars | None = None
        self.tracing: Callable[[], Tracing | None] = self._until_opentelemetry
        if tracer_provider is not None or meter_provider is not None:
            self.tracing = self._first_call

    def _until_opentelemetry(self) -> Tracing | None:
        # A provider can only have been set by code that imported one of these modules.
        if not opentelemetry_imported():
            return None
        return self._first_call()

    def _first_call(self) -> Tracing | None:
        try:
            from opentelemetry import context, trace
            from opentelemetry.context import _SUPPRESS_INSTRUMENTATION_KEY
            from opentelemetry.metrics import _internal as metrics_api
        except Exception as failure:  # an OpenTelemetry API this package cannot use
            report_telemetry_error(failure)
            self.tracing = _no_tracing
            return None
        self._trace_api: ModuleType = trace
        self._metrics_api: ModuleType = metrics_api
        self._get_current: Callable[[], Context] = context.get_current
        self._get_current_span: Callable[[Context], Span] = trace.get_current_span
        self._suppress_key = _SUPPRESS_INSTRUMENTATION_KEY
        self._refresh()
        return self.tracing()

    def _refresh(self) -> None:
        """Bind to the providers as they are now; watch the global ones until both are set."""
        try:
            self._bind()
        except Exception as failure:  # telemetry never raises into the monitored call
            report_telemetry_error(failure)
            self.record = self._tracing = self.exemplars = None
            self.tracing = _no_tracing
            return
        if (self._tracer_provider is None and self._seen[0] is None) or (
            self._meter_provider is None and self._seen[1] is None
        ):
            self.tracing = self._watcher()
        elif self._tracing is None:
            self.tracing = _no_tracing
        else:
            self.tracing = self._traced

    def _bind(self) -> None:
        from opentelemetry.metrics import NoOpHistogram

        from codomyrmex.performance.telemetry import scope_telemetry

        self._seen = (self._trace_api._TRACER_PROVIDER, self._metrics_api._METER_PROVIDER)
        scope = scope_telemetry(self._tracer_provider, self._meter_provider)
        tracer = scope.current_tracer()
        self._tracing = None if tracer is None else Tracing(tracer)
        self._skips_unsampled_children = tracer is not None and _drops_unsampled_children(tracer)
        self._decided = (None, None)
        self.record = self.exemplars = None
        if self._meter_provider is not None or self._seen[1] is not None:
            histogram = scope.duration_histogram(
                semconv.FUNCTION_DURATION, semconv.FUNCTION_DURATION_DESCRIPTION
            )
            # Exactly the no-op class: a subclass may record on purpose.
            if type(histogram) is not NoOpHistogram:
                self.record = histogram.record
                self.exemplars = _exemplars_for(scope.meter)

    def _watcher(self) -> Callable[[], Tracing | None]:
        """``tracing()`` while a global provider is unset: follow it once it is set.

        A closure over the two module-global reads (cheaper than attributes of ``self``):
        with no provider at all this is the whole per-call cost of telemetry.
        """
        trace_api, metrics_api = self._trace_api, self._metrics_api
        seen_tracer_provider, seen_meter_provider = self._seen
        refresh, traced = self._refresh, self._traced
        tracing = self._tracing

        def watching() -> Tracing | None:
            if (
                trace_api._TRACER_PROVIDER is not seen_tracer_provider
                or metrics_api._METER_PROVIDER is not seen_meter_provider
            ):
                refresh()
                return self.tracing()
            if tracing is None:
                return None
            return traced()

        return watching

    def _traced(self) -> Tracing | None:
        # Contexts are immutable: the decision made for the last one seen holds while it
        # is current (sibling calls under one parent see the same context object).
        context = self._get_current()
        decided = self._decided
        if decided[0] is context:
            return decided[1]
        tracing = self._tracing
        if context.get(self._suppress_key):
            tracing = None
        elif self._skips_unsampled_children:
            parent = self._get_current_span(context).get_span_context()
            if not parent.trace_flags.sampled and parent.is_valid:
                tracing = None
        self._decided = (context, tracing)
        return tracing


def _no_tracing() -> None:
    """``tracing()`` when no span can ever be recorded (no-op provider, failed setup)."""
    return None
