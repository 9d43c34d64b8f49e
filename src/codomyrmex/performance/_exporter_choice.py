"""How ``configure_telemetry`` checks its arguments and picks exporters, processors, readers.

Imported by ``configure_telemetry`` only, so that ``telemetry`` stays the small module
every instrumented call path loads. Exporters come from the arguments first, then the
``OTEL_*`` variables, then the embedded default (OTLP-JSON files in ``telemetry_dir()``).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Mapping, Sequence
    from urllib.parse import SplitResult

    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter

    from codomyrmex.performance._telemetry_handle import SpanCounter

__all__ = [
    "PROTOCOLS",
    "check_endpoint",
    "choose_exporters",
    "metric_readers",
    "resolve_protocol",
    "span_processors",
    "validate_positive",
]

PROTOCOLS = ("grpc", "http/protobuf")


def validate_positive(**values: float | None) -> None:
    """``TypeError``/``ValueError`` unless every value given (not None) is a positive number."""
    for name, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise TypeError(f"{name} must be a number, not {type(value).__name__}")
        if value <= 0:
            raise ValueError(f"{name} must be positive, got {value!r}")


def check_endpoint(endpoint: object, what: str = "endpoint") -> SplitResult:
    """The parts of an OTLP base URL; ``TypeError``/``ValueError`` unless it is http(s)://host."""
    from urllib.parse import urlsplit

    if not isinstance(endpoint, str):
        raise TypeError(f"{what} must be a URL string, not {type(endpoint).__name__}")
    try:
        parts = urlsplit(endpoint)
        parts.port  # noqa: B018 - parsing the port is what validates it
    except ValueError as exc:
        raise ValueError(f"{what} is not a valid URL: {endpoint!r} ({exc})") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{what} must be an http:// or https:// URL, got {endpoint!r}")
    return parts


def resolve_protocol(protocol: str | None) -> str:
    """The OTLP protocol: the argument, else ``OTEL_EXPORTER_OTLP_*PROTOCOL``, else http."""
    chosen = (
        protocol
        or os.environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or os.environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    if chosen not in PROTOCOLS:
        raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {chosen!r}")
    return chosen


def _env_exporters(variable: str) -> list[str] | None:
    raw = os.environ.get(variable)
    if raw is None or not raw.strip():
        return None
    return [part.strip().lower() for part in raw.split(",") if part.strip()]


def _endpoint_configured() -> bool:
    return any(
        os.environ.get(name)
        for name in (
            "OTEL_EXPORTER_OTLP_ENDPOINT",
            "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT",
            "OTEL_EXPORTER_OTLP_METRICS_ENDPOINT",
        )
    )


def choose_exporters(
    *,
    endpoint: str | None,
    protocol: str,
    console: bool,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    output_dir: str | os.PathLike[str] | None,
    defaults: bool,
) -> tuple[str, list[SpanExporter], list[MetricExporter]]:
    """Pick exporters from the arguments, then ``OTEL_*`` variables, then the file default.

    Returns a description of the destinations, the span exporters and the metric exporters.
    ``defaults=False`` (a host already exports) uses only what the arguments ask for.
    """
    span_exporters: list[SpanExporter] = []
    metric_exporters: list[MetricExporter] = []
    destinations: list[str] = []
    trace_kinds = _env_exporters("OTEL_TRACES_EXPORTER")
    metric_kinds = _env_exporters("OTEL_METRICS_EXPORTER")
    use_otlp = endpoint is not None or (defaults and _endpoint_configured())
    if defaults and not use_otlp and (trace_kinds or metric_kinds):
        use_otlp = "otlp" in (trace_kinds or []) + (metric_kinds or [])
    if use_otlp:
        span_exporter, metric_exporter, url = _otlp_exporters(endpoint, protocol, headers, timeout)
        if endpoint is not None or trace_kinds is None or "otlp" in trace_kinds:
            span_exporters.append(span_exporter)
        if endpoint is not None or metric_kinds is None or "otlp" in metric_kinds:
            metric_exporters.append(metric_exporter)
        destinations.append(f"{url} ({protocol})")
    env_console = defaults and "console" in (trace_kinds or []) + (metric_kinds or [])
    if console or env_console:
        from opentelemetry.sdk.metrics.export import ConsoleMetricExporter
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        if console or "console" in (trace_kinds or []):
            span_exporters.append(ConsoleSpanExporter())
        if console or "console" in (metric_kinds or []):
            metric_exporters.append(ConsoleMetricExporter())
        destinations.append("console")
    chosen_by_env = trace_kinds is not None or metric_kinds is not None
    if defaults and not use_otlp and not console and not chosen_by_env:
        from codomyrmex.performance._sdk_export import (
            OtlpJsonFileMetricExporter,
            OtlpJsonFileSpanExporter,
        )
        from codomyrmex.performance.telemetry import telemetry_dir

        directory = Path(output_dir) if output_dir is not None else telemetry_dir()
        directory.mkdir(parents=True, exist_ok=True)
        span_exporters.append(OtlpJsonFileSpanExporter(directory / "traces.jsonl"))
        metric_exporters.append(OtlpJsonFileMetricExporter(directory / "metrics.jsonl"))
        destinations.append(str(directory))
    return (", ".join(destinations) or "none"), span_exporters, metric_exporters


def _otlp_exporters(
    endpoint: str | None,
    protocol: str,
    headers: Mapping[str, str] | None,
    timeout: float | None,
) -> tuple[SpanExporter, MetricExporter, str]:
    base = (endpoint or os.environ.get("OTEL_EXPORTER_OTLP_ENDPOINT") or "").rstrip("/")
    if protocol == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
            OTLPMetricExporter as GrpcMetricExporter,
        )
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (
            OTLPSpanExporter as GrpcSpanExporter,
        )

        insecure = True if endpoint is not None and endpoint.startswith("http://") else None
        grpc_headers = dict(headers) if headers else None
        spans: SpanExporter = GrpcSpanExporter(
            endpoint=endpoint, insecure=insecure, headers=grpc_headers, timeout=timeout
        )
        metric: MetricExporter = GrpcMetricExporter(
            endpoint=endpoint, insecure=insecure, headers=grpc_headers, timeout=timeout
        )
        return spans, metric, base or "http://localhost:4317"
    from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
        OTLPMetricExporter as HttpMetricExporter,
    )
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
        OTLPSpanExporter as HttpSpanExporter,
    )

    http_headers = dict(headers) if headers else None
    spans = HttpSpanExporter(
        endpoint=f"{endpoint.rstrip('/')}/v1/traces" if endpoint else None,
        headers=http_headers,
        timeout=timeout,
    )
    metric = HttpMetricExporter(
        endpoint=f"{endpoint.rstrip('/')}/v1/metrics" if endpoint else None,
        headers=http_headers,
        timeout=timeout,
    )
    return spans, metric, base or "http://localhost:4318"


def span_processors(
    exporters: Sequence[SpanExporter],
    counter: SpanCounter,
    **batch_options: Any,
) -> list[SpanProcessor]:
    """Counting batch processors for ``exporters`` (none when there is no exporter)."""
    if not exporters:
        return []
    from codomyrmex.performance._sdk_export import counting_processors

    return counting_processors(exporters, counter, **batch_options)


def metric_readers(
    exporters: Sequence[MetricExporter], interval_millis: float | None
) -> list[MetricReader]:
    """One periodic reader per metric exporter (``OTEL_METRIC_EXPORT_INTERVAL`` if None)."""
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    return [
        PeriodicExportingMetricReader(exporter, export_interval_millis=interval_millis)
        for exporter in exporters
    ]
