"""How ``configure_telemetry`` checks its arguments and picks exporters, processors, readers.

Imported by ``configure_telemetry`` only, so that ``telemetry`` stays the small module
every instrumented call path loads. Each signal (traces, metrics) gets its exporters from
the arguments first, then its own ``OTEL_*`` variables, then the embedded default
(OTLP-JSON files in ``telemetry_dir()``).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from collections.abc import Sequence
    from urllib.parse import SplitResult

    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter

    from codomyrmex.performance.telemetry._handle import SpanCounter

__all__ = [
    "ENV_EXPORTERS",
    "PROTOCOLS",
    "SIGNALS",
    "check_endpoint",
    "check_reachable",
    "check_types",
    "choose_exporters",
    "env_endpoint",
    "metric_readers",
    "resolve_protocol",
    "span_processors",
    "validate_positive",
]

_logger = logging.getLogger("codomyrmex.performance.telemetry")

PROTOCOLS = ("grpc", "http/protobuf")
SIGNALS = ("traces", "metrics")
#: The ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` names supported besides ``none``.
ENV_EXPORTERS = ("otlp", "console")


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


def check_reachable(endpoint: object, what: str = "endpoint", timeout: float = 3.0) -> None:
    """:func:`check_endpoint`, then a TCP connection to it; ``ValueError`` if none opens."""
    import socket

    parts = check_endpoint(endpoint, what)
    address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    try:
        with socket.create_connection(address, timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise ValueError(f"cannot reach the OTLP endpoint {endpoint} ({reason})") from exc


def check_types(service_name: object, headers: object, resource_attributes: object) -> None:
    """``TypeError`` naming the argument unless each is None or of the documented type."""
    if service_name is not None and not isinstance(service_name, str):
        raise TypeError(f"service_name must be a string, not {type(service_name).__name__}")
    if headers is not None:
        for key, value in _mapping_items("headers", headers):
            if not isinstance(value, str):
                raise TypeError(
                    f"headers values must be strings, got {type(value).__name__} for {key!r}"
                )
    if resource_attributes is not None:
        for key, value in _mapping_items("resource_attributes", resource_attributes):
            if not _is_attribute_value(value):
                raise TypeError(
                    "resource_attributes values must be str, bool, int, float or a sequence "
                    f"of them, got {type(value).__name__} for {key!r}"
                )


def _mapping_items(name: str, value: object) -> list[tuple[str, object]]:
    if not isinstance(value, Mapping):
        raise TypeError(f"{name} must be a mapping of strings, not {type(value).__name__}")
    for key in value:
        if not isinstance(key, str):
            raise TypeError(f"{name} keys must be strings, got {type(key).__name__} {key!r}")
    return list(value.items())


def _is_attribute_value(value: object) -> bool:
    scalars = (str, bool, int, float)
    if isinstance(value, scalars):
        return True
    return isinstance(value, (list, tuple)) and all(isinstance(item, scalars) for item in value)


def resolve_protocol(protocol: str | None, signal: str) -> str:
    """The OTLP protocol of ``signal`` (``traces`` or ``metrics``).

    The argument, else ``OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL``, else
    ``OTEL_EXPORTER_OTLP_PROTOCOL``, else ``http/protobuf``.
    """
    chosen = (
        protocol
        or os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL")
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


def env_endpoint(signal: str) -> str | None:
    """``OTEL_EXPORTER_OTLP_<SIGNAL>_ENDPOINT``, else ``OTEL_EXPORTER_OTLP_ENDPOINT``, else None."""
    return os.environ.get(f"OTEL_EXPORTER_OTLP_{signal.upper()}_ENDPOINT") or os.environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )


def _signal_kinds(signal: str, *, endpoint: str | None, console: bool, defaults: bool) -> list[str]:
    """The exporters of one signal: ``otlp``, ``console`` and ``file`` (the embedded default).

    The arguments first; then, unless a host already exports (``defaults=False``),
    ``OTEL_<SIGNAL>_EXPORTER``. Unset, it means OTLP when an endpoint is configured for
    the signal, else the file default (unless ``console`` already chose an exporter).
    """
    kinds = (["otlp"] if endpoint is not None else []) + (["console"] if console else [])
    if not defaults:
        return kinds
    variable = f"OTEL_{signal.upper()}_EXPORTER"
    named = _env_exporters(variable)
    if named is None:
        if env_endpoint(signal) and "otlp" not in kinds:
            kinds.append("otlp")
        elif not kinds:
            kinds.append("file")
        return kinds
    for kind in named:
        if kind in kinds or kind == "none":
            continue
        if kind in ENV_EXPORTERS:
            kinds.append(kind)
        else:
            _logger.warning(
                "%s=%s: unknown exporter %r ignored, no %s exported through it "
                "(supported: %s)",
                variable, os.environ[variable], kind, signal, ", ".join(ENV_EXPORTERS),
            )  # fmt: skip
    return kinds


def choose_exporters(
    *,
    endpoint: str | None,
    protocols: Mapping[str, str],
    console: bool,
    headers: Mapping[str, str] | None,
    timeout: float | None,
    output_dir: str | os.PathLike[str] | None,
    defaults: bool,
) -> tuple[str, list[SpanExporter], list[MetricExporter]]:
    """Pick each signal's exporters from the arguments, ``OTEL_*`` variables, file default.

    ``protocols`` maps ``traces`` and ``metrics`` to their OTLP protocol. Returns a
    description of the destinations (``traces: ...; metrics: ...`` when they differ), the
    span exporters and the metric exporters. ``defaults=False`` (a host already exports)
    uses only what the arguments ask for.
    """
    chosen: dict[str, tuple[list[Any], str]] = {}
    for signal in SIGNALS:
        exporters: list[Any] = []
        destinations: list[str] = []
        for kind in _signal_kinds(signal, endpoint=endpoint, console=console, defaults=defaults):
            if kind == "otlp":
                exporter, url = _otlp_exporter(
                    signal, endpoint, protocols[signal], headers, timeout
                )
                destinations.append(f"{url} ({protocols[signal]})")
            elif kind == "console":
                exporter = _console_exporter(signal)
                destinations.append("console")
            else:
                exporter, directory = _file_exporter(signal, output_dir)
                destinations.append(str(directory))
            exporters.append(exporter)
        chosen[signal] = exporters, ", ".join(destinations) or "none"
    (span_exporters, traces_to), (metric_exporters, metrics_to) = (
        chosen["traces"],
        chosen["metrics"],
    )
    destination = (
        traces_to if traces_to == metrics_to else f"traces: {traces_to}; metrics: {metrics_to}"
    )
    return destination, span_exporters, metric_exporters


def _console_exporter(signal: str) -> Any:
    if signal == "traces":
        from opentelemetry.sdk.trace.export import ConsoleSpanExporter

        return ConsoleSpanExporter()
    from opentelemetry.sdk.metrics.export import ConsoleMetricExporter

    return ConsoleMetricExporter()


def _file_exporter(signal: str, output_dir: str | os.PathLike[str] | None) -> tuple[Any, Path]:
    from codomyrmex.performance.telemetry import telemetry_dir
    from codomyrmex.performance.telemetry._sdk import (
        OtlpJsonFileMetricExporter,
        OtlpJsonFileSpanExporter,
    )

    directory = Path(output_dir) if output_dir is not None else telemetry_dir()
    directory.mkdir(parents=True, exist_ok=True)
    if signal == "traces":
        return OtlpJsonFileSpanExporter(directory / "traces.jsonl"), directory
    return OtlpJsonFileMetricExporter(directory / "metrics.jsonl"), directory


def _otlp_exporter(
    signal: str,
    endpoint: str | None,
    protocol: str,
    headers: Mapping[str, str] | None,
    timeout: float | None,
) -> tuple[Any, str]:
    """The OTLP exporter of ``signal`` and the URL it sends to (the SDK reads the env)."""
    given = endpoint.rstrip("/") if endpoint is not None else None
    options: dict[str, Any] = {"headers": dict(headers) if headers else None, "timeout": timeout}
    if protocol == "grpc":
        options["endpoint"] = given
        options["insecure"] = True if given is not None and given.startswith("http://") else None
        if signal == "traces":
            from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter

            exporter: Any = OTLPSpanExporter(**options)
        else:
            from opentelemetry.exporter.otlp.proto.grpc.metric_exporter import (
                OTLPMetricExporter,
            )

            exporter = OTLPMetricExporter(**options)
        return exporter, given or env_endpoint(signal) or "http://localhost:4317"
    options["endpoint"] = f"{given}/v1/{signal}" if given is not None else None
    if signal == "traces":
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (
            OTLPSpanExporter as HttpSpanExporter,
        )

        exporter = HttpSpanExporter(**options)
    else:
        from opentelemetry.exporter.otlp.proto.http.metric_exporter import (
            OTLPMetricExporter as HttpMetricExporter,
        )

        exporter = HttpMetricExporter(**options)
    return exporter, given or env_endpoint(signal) or "http://localhost:4318"


def span_processors(
    exporters: Sequence[SpanExporter],
    counter: SpanCounter,
    **batch_options: Any,
) -> list[SpanProcessor]:
    """Counting batch processors for ``exporters`` (none when there is no exporter)."""
    if not exporters:
        return []
    from codomyrmex.performance.telemetry._sdk import counting_processors

    return counting_processors(exporters, counter, **batch_options)


def metric_readers(
    exporters: Sequence[MetricExporter], interval_millis: float | None
) -> list[MetricReader]:
    """One periodic reader per metric exporter, behind ``EncodableMetrics``."""
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from codomyrmex.performance.telemetry._sdk import EncodableMetrics

    return [
        PeriodicExportingMetricReader(
            EncodableMetrics(exporter), export_interval_millis=interval_millis
        )
        for exporter in exporters
    ]
