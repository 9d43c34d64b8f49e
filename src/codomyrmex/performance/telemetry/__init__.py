"""OpenTelemetry plumbing for ``codomyrmex.performance``.

Library code only touches the OpenTelemetry **API**: :func:`scope_telemetry` gives the
tracer and meter of the instrumentation scope ``codomyrmex.performance`` (versioned with
the package), resolved through the global providers so that a provider installed later
(by ``configure_telemetry``, ``opentelemetry-instrument`` or the host program) is followed.

:func:`configure_telemetry` is the one place that touches the SDK. It installs an SDK
``TracerProvider`` and ``MeterProvider`` exporting over OTLP (grpc or http/protobuf),
honouring the standard ``OTEL_*`` variables, and is idempotent. When an SDK provider is
already installed it adds its span processor to it instead of replacing it. With no
endpoint configured anywhere, telemetry goes to OTLP-JSON files (one export request per
line, the OpenTelemetry Collector ``file`` exporter format) in ``telemetry_dir()``::

    from codomyrmex.performance import configure_telemetry

    handle = configure_telemetry("checkout-service", endpoint="http://localhost:4318")
    ...
    handle.shutdown()          # bounded: returns within 10 s even if the collector is down
    print(handle.stats())      # spans ended, exported, failed, dropped
"""

from __future__ import annotations

import atexit
import logging
import os
import threading
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from opentelemetry import context as otel_context
from opentelemetry import metrics, trace

from codomyrmex.performance._safe import report_telemetry_error
from codomyrmex.performance.environment_variables import (
    CODOMYRMEX_PERF_TELEMETRY_DIR,
    XDG_STATE_HOME,
)
from codomyrmex.performance.semconv import SCOPE_NAME
from codomyrmex.performance.telemetry._handle import SpanCounter, TelemetryHandle, TelemetryStats
from codomyrmex.performance.version import __version__

if TYPE_CHECKING:
    from opentelemetry.metrics import Histogram, Meter, MeterProvider
    from opentelemetry.trace import Tracer, TracerProvider
    from opentelemetry.util.types import AttributeValue

__all__ = [
    "DURATION_BUCKETS",
    "SCOPE_NAME",
    "ScopeTelemetry",
    "TelemetryHandle",
    "TelemetryStats",
    "configure_telemetry",
    "package_version",
    "scope_telemetry",
    "telemetry_dir",
]

_logger = logging.getLogger(__name__)


#: Explicit bucket boundaries (seconds) for every duration histogram of this package:
#: from 5 µs (a cached call) to a minute (a benchmark round or a slow import).
DURATION_BUCKETS: tuple[float, ...] = (
    0.000005, 0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005,
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5,
    1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
)  # fmt: skip

_SUPPRESS_KEY = getattr(otel_context, "_SUPPRESS_INSTRUMENTATION_KEY", "suppress_instrumentation")


def package_version() -> str:
    """The version of ``codomyrmex-performance`` (the instrumentation scope's version)."""
    return __version__


def _global_tracer_provider() -> TracerProvider | None:
    """The provider set with ``trace.set_tracer_provider``, or None while none is set.

    ``trace.get_tracer_provider()`` reads ``os.environ`` on every call while no provider
    is set (about 1-2 µs here); the module global is what it returns once one is.
    """
    return getattr(trace, "_TRACER_PROVIDER", None)


class ScopeTelemetry:
    """Tracer, meter and instruments of this package's scope, bound to given providers.

    With no providers it follows the global ones, including a provider set later.
    ``tracer()`` is the hot-path check: it returns None when tracing is off (no SDK
    installed, ``OTEL_SDK_DISABLED``, a no-op provider, or instrumentation suppressed in
    the current context) so that callers skip every span and attribute cost.
    """

    def __init__(
        self,
        tracer_provider: TracerProvider | None = None,
        meter_provider: MeterProvider | None = None,
    ) -> None:
        self._tracer_provider = tracer_provider
        self._meter_provider = meter_provider
        self._resolved_provider: object = _UNRESOLVED
        self._tracer: Tracer | None = None
        self._meter: Meter | None = None
        self._instruments: dict[str, Any] = {}
        self._lock = threading.Lock()

    def tracer(self) -> Tracer | None:
        """The scope's tracer when spans can be recorded, else None (cheap, per call)."""
        tracer = self.current_tracer()
        if tracer is not None and otel_context.get_value(_SUPPRESS_KEY):
            return None
        return tracer

    def current_tracer(self) -> Tracer | None:
        """The tracer of the current provider, None when it records nothing.

        Unlike ``tracer()`` it does not look at the context (suppression): for callers
        that resolve once and check the context themselves on every call.
        """
        provider = self._tracer_provider or _global_tracer_provider()
        if provider is not self._resolved_provider:
            self._resolve(provider)
        return self._tracer

    def _resolve(self, provider: TracerProvider | None) -> None:
        tracer: Tracer | None = None
        if provider is not None:
            try:
                candidate = provider.get_tracer(SCOPE_NAME, package_version())
            except Exception as failure:  # a broken provider turns tracing off, quietly
                report_telemetry_error(failure)
                candidate = trace.NoOpTracer()
            if not isinstance(candidate, trace.NoOpTracer):
                tracer = candidate
        self._tracer = tracer
        self._resolved_provider = provider

    @property
    def meter(self) -> Meter:
        """The scope's meter (an API proxy that follows a meter provider set later)."""
        if self._meter is None:
            provider = self._meter_provider or metrics.get_meter_provider()
            self._meter = provider.get_meter(SCOPE_NAME, package_version())
        return self._meter

    def instrument(self, name: str, factory: Callable[[Meter], Any]) -> Any:
        """Create an instrument once per scope and name, so repeated users share it.

        None when the meter provider fails to make it: reported once, never raised.
        """
        found = self._instruments.get(name)
        if found is None:
            with self._lock:
                found = self._instruments.get(name)
                if found is None:
                    try:
                        found = factory(self.meter)
                    except Exception as failure:
                        report_telemetry_error(failure)
                        return None
                    self._instruments[name] = found
        return found

    def duration_histogram(self, name: str, description: str) -> Histogram:
        """A seconds histogram with this package's explicit second-scale buckets.

        A no-op histogram when the meter provider cannot make one.
        """
        histogram: Histogram | None = self.instrument(
            name,
            lambda meter: meter.create_histogram(
                name,
                unit="s",
                description=description,
                explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS),
            ),
        )
        return metrics.NoOpHistogram(name) if histogram is None else histogram


_UNRESOLVED = object()
_default_scope = ScopeTelemetry()


def scope_telemetry(
    tracer_provider: TracerProvider | None = None,
    meter_provider: MeterProvider | None = None,
) -> ScopeTelemetry:
    """The shared global-following scope, or a new one bound to explicit providers."""
    if tracer_provider is None and meter_provider is None:
        return _default_scope
    return ScopeTelemetry(tracer_provider, meter_provider)


def telemetry_dir() -> Path:
    """Where the embedded default writes OTLP-JSON files.

    ``$CODOMYRMEX_PERF_TELEMETRY_DIR`` if set, else
    ``$XDG_STATE_HOME/codomyrmex-performance/telemetry`` (``~/.local/state/...``; a
    relative ``XDG_STATE_HOME`` is ignored, as the XDG specification says). ``RuntimeError``
    when a ``~`` in it or the home directory cannot be resolved.
    """
    explicit = os.environ.get(CODOMYRMEX_PERF_TELEMETRY_DIR)
    if explicit:
        return Path(explicit).expanduser()
    state = os.environ.get(XDG_STATE_HOME, "")
    if not os.path.isabs(state):
        state = str(Path.home() / ".local" / "state")
    return Path(state) / "codomyrmex-performance" / "telemetry"


_handle: TelemetryHandle | None = None
_configure_lock = threading.Lock()


def _after_fork() -> None:
    global _configure_lock
    _configure_lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


def configure_telemetry(
    service_name: str | None = None,
    *,
    endpoint: str | None = None,
    protocol: str | None = None,
    console: bool = False,
    headers: Mapping[str, str] | None = None,
    timeout: float | None = None,
    max_queue_size: int | None = None,
    max_export_batch_size: int | None = None,
    schedule_delay_millis: float | None = None,
    metric_export_interval_millis: float | None = None,
    output_dir: str | os.PathLike[str] | None = None,
    output_max_megabytes: float | None = None,
    output_max_backups: int | None = None,
    resource_attributes: Mapping[str, AttributeValue] | None = None,
) -> TelemetryHandle:
    """Install the OpenTelemetry SDK with OTLP exporters and return a handle to it.

    ``endpoint`` is a base URL like ``OTEL_EXPORTER_OTLP_ENDPOINT`` (http/protobuf appends
    ``/v1/traces`` and ``/v1/metrics``); ``protocol`` is ``grpc`` or ``http/protobuf``
    for both signals (default, per signal: ``OTEL_EXPORTER_OTLP_TRACES_PROTOCOL`` or
    ``OTEL_EXPORTER_OTLP_METRICS_PROTOCOL``, else ``OTEL_EXPORTER_OTLP_PROTOCOL``, else
    ``http/protobuf``). ``console=True`` also prints spans and metrics.

    Without arguments each signal follows its own variables, as the OpenTelemetry spec
    says: ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` (``otlp``, ``console``,
    ``none``; an unknown name is logged as a warning and exports nothing) and, unset,
    OTLP to the signal's endpoint (``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT`` or
    ``OTEL_EXPORTER_OTLP_ENDPOINT``) or, with no endpoint, the embedded default:
    OTLP-JSON files in ``output_dir`` (default :func:`telemetry_dir`), created 0700 with
    files 0600, each rotated before it passes ``output_max_megabytes`` (default 8 MiB,
    ``$CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES``) keeping ``output_max_backups`` rotated
    files (default 3, ``$CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS``): ``traces.jsonl.1`` is
    the newest backup. A default directory that cannot be used is one warning and
    no file export, never an exception. Every other ``OTEL_*`` variable (service name,
    resource, sampler, batch processor, exporter headers, timeouts, limits, temporality,
    ``OTEL_SDK_DISABLED``) is honoured by the SDK or here; a numeric one that cannot work
    is one warning and its default.

    Idempotent: later calls return the first handle. Forked children (``os.fork``,
    ``multiprocessing``) export their own spans (see the README section "Processes").
    Raises ``TypeError`` for an argument of the wrong type, ``ValueError`` naming an
    argument that cannot work (an unknown protocol; a size, duration or rotation limit
    that is not finite, integral where it must be, or in its range; a header that
    RFC 9110 or gRPC forbids; an ``output_dir`` that cannot be created or written),
    ``ImportError`` when the SDK extra is not installed.
    """
    global _handle
    from codomyrmex.performance.telemetry import _exporters as choice
    from codomyrmex.performance.telemetry import _settings

    _settings.check_types(service_name, headers, resource_attributes)
    _settings.check_arguments(
        timeout=timeout,
        max_queue_size=max_queue_size,
        max_export_batch_size=max_export_batch_size,
        schedule_delay_millis=schedule_delay_millis,
        metric_export_interval_millis=metric_export_interval_millis,
        output_max_megabytes=output_max_megabytes,
        output_max_backups=output_max_backups,
    )
    if endpoint is not None:
        choice.check_endpoint(endpoint)
    protocols = {signal: choice.resolve_protocol(protocol, signal) for signal in choice.SIGNALS}
    checked_headers = _settings.check_headers(headers, protocols.values())
    with _configure_lock:
        if _handle is not None:
            return _handle
        try:
            from opentelemetry.sdk.metrics import MeterProvider as SdkMeterProvider
            from opentelemetry.sdk.resources import Resource
            from opentelemetry.sdk.trace import TracerProvider as SdkTracerProvider
        except ImportError as exc:  # pragma: no cover - exercised without the extra
            raise ImportError(
                "configure_telemetry needs the OpenTelemetry SDK: "
                "pip install 'codomyrmex-performance[sdk]'"
            ) from exc
        except ValueError as exc:  # a variable it reads at import (OTEL_SPAN_*_LIMIT)
            _logger.warning(
                "codomyrmex.performance: the OpenTelemetry SDK cannot start (%s): telemetry off",
                exc,
            )
            _handle = TelemetryHandle(
                None, None, destination="disabled (the OpenTelemetry SDK cannot start)",
                owns_tracer_provider=False, owns_meter_provider=False,
            )  # fmt: skip
            return _handle

        if os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
            _handle = TelemetryHandle(
                None, None, destination="disabled (OTEL_SDK_DISABLED)",
                owns_tracer_provider=False, owns_meter_provider=False,
            )  # fmt: skip
            return _handle

        attributes: dict[str, AttributeValue] = dict(resource_attributes or {})
        if service_name is not None:
            attributes["service.name"] = service_name
        resource = Resource.create(attributes)

        explicit = endpoint is not None or console
        existing_tp = trace.get_tracer_provider()
        existing_mp = metrics.get_meter_provider()
        reuse_tp = isinstance(existing_tp, SdkTracerProvider)
        reuse_mp = isinstance(existing_mp, SdkMeterProvider)

        settings = _settings.resolve(
            timeout=timeout,
            max_queue_size=max_queue_size,
            max_export_batch_size=max_export_batch_size,
            schedule_delay_millis=schedule_delay_millis,
            metric_export_interval_millis=metric_export_interval_millis,
            output_max_megabytes=output_max_megabytes,
            output_max_backups=output_max_backups,
        )
        destination, span_exporters, metric_exporters = choice.choose_exporters(
            endpoint=endpoint,
            protocols=protocols,
            console=console,
            headers=checked_headers,
            settings=settings,
            output_dir=output_dir,
            default_dir=telemetry_dir,
            # Under a host that already configured the SDK (``opentelemetry-instrument``),
            # its exporters already run: add ours only when asked to explicitly.
            defaults=not ((reuse_tp or reuse_mp) and not explicit),
        )

        counter = SpanCounter()
        processors = choice.span_processors(span_exporters, counter, settings)
        if reuse_tp:
            tracer_provider: Any = existing_tp
        else:
            from opentelemetry.sdk.trace import SpanLimits

            tracer_provider = SdkTracerProvider(
                resource=resource,
                shutdown_on_exit=False,
                span_limits=SpanLimits(**settings.span_limits),
            )
        for processor in processors:
            tracer_provider.add_span_processor(processor)
        if not reuse_tp:
            trace.set_tracer_provider(tracer_provider)

        if reuse_mp:
            meter_provider: Any = existing_mp
            if metric_exporters:
                _logger.info(
                    "codomyrmex.performance: a MeterProvider is already installed; its own "
                    "readers export metrics (an SDK MeterProvider cannot take new readers)"
                )
        else:
            readers = choice.metric_readers(metric_exporters, settings)
            meter_provider = SdkMeterProvider(
                metric_readers=readers, resource=resource, shutdown_on_exit=False
            )
            metrics.set_meter_provider(meter_provider)

        _handle = TelemetryHandle(
            tracer_provider,
            meter_provider,
            destination=destination,
            owns_tracer_provider=not reuse_tp,
            owns_meter_provider=not reuse_mp,
            processors=processors,
            counter=counter,
        )
        atexit.register(_handle.shutdown)
        _handle._follow_processes()
        return _handle
