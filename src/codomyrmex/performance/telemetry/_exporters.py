"""How ``configure_telemetry`` picks exporters, processors and readers.

Imported by ``configure_telemetry`` only, so that ``telemetry`` stays the small module
every instrumented call path loads. Each signal (traces, metrics) gets its exporters from
the arguments first, then its own ``OTEL_*`` variables, then the embedded default
(OTLP-JSON files in ``telemetry_dir()``).

The embedded default never raises into the host: a directory that cannot be created or
written (no home directory, a read-only filesystem, a variable naming a file) is one
warning naming it and ``CODOMYRMEX_PERF_TELEMETRY_DIR``, and no file export. Only an
``output_dir`` given in code is a ``ValueError``.
"""

from __future__ import annotations

import errno
import logging
import os
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from codomyrmex.performance.environment_variables import CODOMYRMEX_PERF_TELEMETRY_DIR
from codomyrmex.performance.telemetry._settings import SIGNALS

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence
    from urllib.parse import SplitResult

    from opentelemetry.sdk.metrics.export import MetricExporter, MetricReader
    from opentelemetry.sdk.trace import SpanProcessor
    from opentelemetry.sdk.trace.export import SpanExporter

    from codomyrmex.performance.telemetry._handle import SpanCounter
    from codomyrmex.performance.telemetry._settings import Settings

__all__ = [
    "ENV_EXPORTERS",
    "PROTOCOLS",
    "SIGNALS",
    "check_endpoint",
    "check_reachable",
    "choose_exporters",
    "env_endpoint",
    "metric_readers",
    "resolve_protocol",
    "span_processors",
]

_logger = logging.getLogger("codomyrmex.performance.telemetry")

PROTOCOLS = ("grpc", "http/protobuf")
#: ``handle.destination`` of a signal whose embedded default directory is unusable.
UNUSABLE_DIRECTORY = "none (telemetry directory unusable)"
_HOME_DEFAULT = "~/.local/state/codomyrmex-performance/telemetry"
#: The ``OTEL_TRACES_EXPORTER`` / ``OTEL_METRICS_EXPORTER`` names supported besides ``none``.
ENV_EXPORTERS = ("otlp", "console")


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


def resolve_protocol(protocol: str | None, signal: str) -> str:
    """The OTLP protocol of ``signal`` (``traces`` or ``metrics``).

    The argument (``ValueError`` unless one of :data:`PROTOCOLS`), else
    ``OTEL_EXPORTER_OTLP_<SIGNAL>_PROTOCOL``, else ``OTEL_EXPORTER_OTLP_PROTOCOL`` (an unknown
    value is one warning and ignored), else ``http/protobuf``.
    """
    if protocol is not None:
        if protocol not in PROTOCOLS:
            raise ValueError(f"protocol must be one of {', '.join(PROTOCOLS)}, got {protocol!r}")
        return protocol
    for variable in (
        f"OTEL_EXPORTER_OTLP_{signal.upper()}_PROTOCOL",
        "OTEL_EXPORTER_OTLP_PROTOCOL",
    ):
        chosen = os.environ.get(variable, "").strip()
        if chosen in PROTOCOLS:
            return chosen
        if chosen and (variable, chosen) not in _warned_protocols:
            _warned_protocols.add((variable, chosen))
            _logger.warning(
                "codomyrmex.performance: %s=%r is not one of %s: ignored",
                variable,
                chosen,
                ", ".join(PROTOCOLS),
            )
    return "http/protobuf"


_warned_protocols: set[tuple[str, str]] = set()


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
    headers: Mapping[str, str],
    settings: Settings,
    output_dir: str | os.PathLike[str] | None,
    default_dir: Callable[[], Path],
    defaults: bool,
) -> tuple[str, list[SpanExporter], list[MetricExporter]]:
    """Pick each signal's exporters from the arguments, ``OTEL_*`` variables, file default.

    ``protocols`` maps ``traces`` and ``metrics`` to their OTLP protocol; ``headers`` are
    checked (``_settings.check_headers``). Returns a description of the destinations
    (``traces: ...; metrics: ...`` when they differ), the span exporters and the metric
    exporters. ``defaults=False`` (a host already exports) uses only what the arguments
    ask for. Files go to ``output_dir``, else ``default_dir()``; ``ValueError`` when
    ``output_dir`` cannot be used.
    """
    kinds = {
        signal: _signal_kinds(signal, endpoint=endpoint, console=console, defaults=defaults)
        for signal in SIGNALS
    }
    file_signals = [signal for signal in SIGNALS if "file" in kinds[signal]]
    files = _file_exporters(file_signals, output_dir, default_dir, settings)
    warned: set[str] = set()
    chosen: dict[str, tuple[list[Any], str]] = {}
    for signal in SIGNALS:
        exporters: list[Any] = []
        destinations: list[str] = []
        for kind in kinds[signal]:
            if kind == "otlp":
                _warn_env_headers(signal, protocols[signal], warned)
                exporter, url = _otlp_exporter(
                    signal, endpoint, protocols[signal], headers, settings.timeouts[signal]
                )
                destinations.append(f"{url} ({protocols[signal]})")
            elif kind == "console":
                exporter = _console_exporter(signal)
                destinations.append("console")
            elif signal in files:
                exporter, directory = files[signal]
                destinations.append(str(directory))
            else:
                destinations.append(UNUSABLE_DIRECTORY)
                continue
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


def _file_exporters(
    signals: Sequence[str],
    output_dir: str | os.PathLike[str] | None,
    default_dir: Callable[[], Path],
    settings: Settings,
) -> dict[str, tuple[Any, Path]]:
    """The file exporter of each signal, all in one private directory; none if unusable."""
    if not signals:
        return {}
    from codomyrmex.performance.telemetry._sdk import (
        OtlpJsonFileMetricExporter,
        OtlpJsonFileSpanExporter,
    )

    classes = {"traces": OtlpJsonFileSpanExporter, "metrics": OtlpJsonFileMetricExporter}
    rotation = {"max_bytes": settings.max_bytes, "max_backups": settings.max_backups}
    directory: Path | None = None
    try:
        directory = Path(output_dir) if output_dir is not None else default_dir()
        _make_private_directory(directory)
        return {
            signal: (classes[signal](directory / f"{signal}.jsonl", **rotation), directory)
            for signal in signals
        }
    except (OSError, RuntimeError) as exc:  # RuntimeError: no home directory to expand
        reason = f"{type(exc).__name__}: {exc.strerror if isinstance(exc, OSError) else exc}"
        if isinstance(exc, OSError) and exc.filename not in (None, str(directory)):
            reason += f": {exc.filename}"
        if output_dir is not None:
            shown = os.fspath(output_dir)
            raise ValueError(f"output_dir {shown!r} cannot be used ({reason})") from exc
        given = os.environ.get(CODOMYRMEX_PERF_TELEMETRY_DIR)
        shown = str(directory) if directory is not None else given or _HOME_DEFAULT
        _logger.warning(
            "codomyrmex.performance: the telemetry directory %s cannot be used (%s): "
            "telemetry is not recorded; set %s to a writable directory, or an OTLP endpoint",
            shown,
            reason,
            CODOMYRMEX_PERF_TELEMETRY_DIR,
        )
        return {}


def _make_private_directory(directory: Path) -> None:
    """Create ``directory`` and its missing parents, each 0700 (an existing one is kept)."""
    missing: list[Path] = []
    current = directory
    while not current.is_dir() and current != current.parent:
        missing.append(current)
        current = current.parent
    for path in reversed(missing):
        try:
            path.mkdir(mode=0o700)
        except FileExistsError:
            if not path.is_dir():
                raise NotADirectoryError(errno.ENOTDIR, "not a directory", str(path)) from None


def _warn_env_headers(signal: str, protocol: str, warned: set[str]) -> None:
    """One warning per ``OTEL_EXPORTER_OTLP_*HEADERS`` variable with headers it cannot send.

    The SDK reads these variables itself; a bad header there fails each export it is on.
    """
    from opentelemetry.util.re import parse_env_headers

    from codomyrmex.performance.telemetry._settings import header_problem

    for variable in (f"OTEL_EXPORTER_OTLP_{signal.upper()}_HEADERS", "OTEL_EXPORTER_OTLP_HEADERS"):
        raw = os.environ.get(variable)
        if not raw or variable in warned:
            continue
        problems = [
            f"{name!r}: {problem}"
            for name, value in parse_env_headers(raw, liberal=True).items()
            if (problem := header_problem(name, value, grpc=protocol == "grpc")) is not None
        ]
        if problems:
            warned.add(variable)
            _logger.warning(
                "codomyrmex.performance: %s has headers that cannot be sent (%s); "
                "exports carrying them fail: fix the variable",
                variable,
                "; ".join(problems),
            )


def _otlp_exporter(
    signal: str,
    endpoint: str | None,
    protocol: str,
    headers: Mapping[str, str],
    timeout: float,
) -> tuple[Any, str]:
    """The OTLP exporter of ``signal`` and the URL it sends to (the SDK reads the env)."""
    given = endpoint.rstrip("/") if endpoint is not None else None
    options: dict[str, Any] = {"headers": dict(headers) or None, "timeout": timeout}
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
    exporters: Sequence[SpanExporter], counter: SpanCounter, settings: Settings
) -> list[SpanProcessor]:
    """Counting batch processors for ``exporters`` (none when there is no exporter)."""
    if not exporters:
        return []
    from codomyrmex.performance.telemetry._sdk import counting_processors

    return counting_processors(exporters, counter, **settings.batch)


def metric_readers(exporters: Sequence[MetricExporter], settings: Settings) -> list[MetricReader]:
    """One periodic reader per metric exporter, behind ``EncodableMetrics``."""
    from opentelemetry.sdk.metrics.export import PeriodicExportingMetricReader

    from codomyrmex.performance.telemetry._sdk import EncodableMetrics

    return [
        PeriodicExportingMetricReader(
            EncodableMetrics(exporter),
            export_interval_millis=settings.metric_interval_millis,
            export_timeout_millis=settings.metric_timeout_millis,
        )
        for exporter in exporters
    ]
