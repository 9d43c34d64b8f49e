"""SDK-side pieces of ``configure_telemetry``: OTLP-JSON file exporters, span accounting,
and the guard that keeps text UTF-8 cannot encode from costing a whole export batch.

Imported only by ``configure_telemetry``; library code never imports the SDK.
The file exporters write one OTLP/JSON export request per line, the format of the
OpenTelemetry Collector ``file`` exporter, so ``otelcol --config`` with an ``otlpjsonfile``
receiver can replay them into any backend.

Every exporter ``configure_telemetry`` installs sits behind :class:`EncodableSpans` or
:class:`EncodableMetrics`: protobuf refuses a string with a lone surrogate (what
``os.fsdecode`` makes of an undecodable file name), and one such span or metric attribute
would fail its whole batch, or every metric export from then on. The guard hands the
exporter a copy of just the offending span or metric data with U+FFFD in place of each
such character (``_safe.encodable``), and says so once per process.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import json
import logging
import os
import threading
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from google.protobuf.json_format import MessageToDict
from opentelemetry.context import Context
from opentelemetry.exporter.otlp.proto.common.metrics_encoder import encode_metrics
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.metrics.export import (
    MetricExporter,
    MetricExportResult,
    MetricsData,
)
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import Link, Status

from codomyrmex.performance._safe import LOGGER_NAME, encodable, report_telemetry_error
from codomyrmex.performance.telemetry._handle import SpanCounter, at_fork_in_child

_logger = logging.getLogger(LOGGER_NAME)

_ID_FIELDS = frozenset({"traceId", "spanId", "parentSpanId"})


def _otlp_json(message: Any) -> dict[str, Any]:
    """A protobuf export request as OTLP/JSON: camelCase names, hex trace and span ids."""
    document: dict[str, Any] = MessageToDict(message)
    _hex_ids(document)
    return document


def _hex_ids(node: Any) -> None:
    if isinstance(node, dict):
        for key, value in node.items():
            if key in _ID_FIELDS and isinstance(value, str):
                node[key] = base64.b64decode(value).hex()
            else:
                _hex_ids(value)
    elif isinstance(node, list):
        for item in node:
            _hex_ids(item)


try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: one process per file, threads still safe
    fcntl = None  # type: ignore[assignment]

_OPEN_FLAGS = (
    os.O_WRONLY | os.O_APPEND | os.O_CREAT
    | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_NOFOLLOW", 0)
)  # fmt: skip


def _backup_path(path: Path, backup: int) -> Path:
    """The name of ``path``'s backup number ``backup`` (1 is the newest)."""
    return path.with_name(f"{path.name}.{backup}")


class _JsonLinesFile:
    """Appends whole JSON lines to a private file rotated by size.

    The file is created 0600 (and never followed through a symlink). Before a line would
    take it past ``max_bytes`` it is renamed ``<name>.1`` (``.1`` to ``.2``..., keeping
    ``max_backups``; with none it is dropped) and a new one started, so the files of one
    signal never pass ``(1 + max_backups) * max_bytes`` (plus one line). Threads take a
    lock; processes (forked children writing the same directory) a POSIX record lock on
    the file, which a child does not inherit mid-write, and a fork gets a fresh thread lock.
    """

    def __init__(self, path: Path, *, max_bytes: int, max_backups: int) -> None:
        self.path = path
        self._max_bytes = max_bytes
        self._max_backups = max_backups
        self._lock = threading.Lock()
        os.close(os.open(path, _OPEN_FLAGS, 0o600))  # an unusable file shows at once
        at_fork_in_child(self._after_fork)

    def _after_fork(self) -> None:
        self._lock = threading.Lock()

    def append(self, document: dict[str, Any]) -> None:
        data = (json.dumps(document, separators=(",", ":")) + "\n").encode("utf-8")
        with self._lock:
            descriptor = self._open_current()
            try:
                size = os.fstat(descriptor).st_size
                if size and size + len(data) > self._max_bytes:
                    self._rotate()
                    rotated, descriptor = descriptor, -1
                    os.close(rotated)
                    descriptor = self._open_current()
                while data:
                    data = data[os.write(descriptor, data) :]
            finally:
                if descriptor >= 0:
                    os.close(descriptor)

    def _open_current(self) -> int:
        """A descriptor of the file now at ``path``, locked (another process may rotate it)."""
        while True:
            descriptor = os.open(self.path, _OPEN_FLAGS, 0o600)
            if fcntl is None:
                return descriptor
            try:
                fcntl.lockf(descriptor, fcntl.LOCK_EX)
                held = os.fstat(descriptor)
                current = os.stat(self.path)
                if (held.st_dev, held.st_ino) == (current.st_dev, current.st_ino):
                    return descriptor
            except FileNotFoundError:
                pass
            except BaseException:
                os.close(descriptor)
                raise
            os.close(descriptor)

    def _rotate(self) -> None:
        if self._max_backups == 0:
            os.unlink(self.path)
            return
        for backup in range(self._max_backups - 1, 0, -1):
            with contextlib.suppress(FileNotFoundError):
                os.replace(_backup_path(self.path, backup), _backup_path(self.path, backup + 1))
        os.replace(self.path, _backup_path(self.path, 1))


class OtlpJsonFileSpanExporter(SpanExporter):
    """Writes spans as OTLP/JSON ``ExportTraceServiceRequest`` lines to a rotated file."""

    def __init__(self, path: Path, *, max_bytes: int, max_backups: int) -> None:
        self._file = _JsonLinesFile(path, max_bytes=max_bytes, max_backups=max_backups)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self._file.append(_otlp_json(encode_spans(spans)))
        except OSError as failure:
            report_telemetry_error(failure, f"writing spans to {self._file.path}")
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class OtlpJsonFileMetricExporter(MetricExporter):
    """Writes metrics as OTLP/JSON ``ExportMetricsServiceRequest`` lines (cumulative)."""

    def __init__(self, path: Path, *, max_bytes: int, max_backups: int) -> None:
        super().__init__(preferred_temporality={}, preferred_aggregation={})
        self._file = _JsonLinesFile(path, max_bytes=max_bytes, max_backups=max_backups)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            self._file.append(_otlp_json(encode_metrics(metrics_data)))
        except OSError as failure:
            report_telemetry_error(failure, f"writing metrics to {self._file.path}")
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


def _encodable_value(value: object) -> bool:
    """Whether every string in ``value`` (nested sequences, mappings, dataclasses) is UTF-8."""
    if isinstance(value, str):
        return value.isascii() or encodable(value) is value
    if isinstance(value, Mapping):
        return all(_encodable_value(key) and _encodable_value(item) for key, item in value.items())
    if isinstance(value, (list, tuple)):
        return all(_encodable_value(item) for item in value)
    if isinstance(value, Resource):
        return _encodable_value(value.attributes)
    if isinstance(value, InstrumentationScope):
        return _encodable_value((value.name, value.version, value.attributes))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return all(_encodable_value(getattr(value, f.name)) for f in dataclasses.fields(value))
    return True


def _encodable_copy(value: Any) -> Any:
    """``value`` rebuilt with :func:`encodable` applied to every string in it."""
    if isinstance(value, str):
        return encodable(value)
    if isinstance(value, Mapping):
        return {_encodable_copy(key): _encodable_copy(item) for key, item in value.items()}
    if isinstance(value, (list, tuple)):
        items = [_encodable_copy(item) for item in value]
        return items if isinstance(value, list) else tuple(items)
    if isinstance(value, Resource):
        return Resource(_encodable_copy(value.attributes), value.schema_url)
    if isinstance(value, InstrumentationScope):
        return InstrumentationScope(
            encodable(value.name),
            _encodable_copy(value.version),
            value.schema_url,
            _encodable_copy(value.attributes),
        )
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: _encodable_copy(getattr(value, f.name)) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)
    return value


def _encodable_attributes(attributes: Mapping[str, Any] | None) -> bool:
    """:func:`_encodable_value` for a span's attributes, with a fast path for plain ones."""
    if attributes:
        for key, value in attributes.items():
            if not key.isascii() and encodable(key) is not key:
                return False
            if isinstance(value, str):
                if not value.isascii() and encodable(value) is not value:
                    return False
            elif not isinstance(value, (int, float)) and not _encodable_value(value):
                return False
    return True


def _encodable_events(events: Sequence[Event]) -> bool:
    return all(
        _encodable_value(event.name) and _encodable_attributes(event.attributes) for event in events
    )


def _encodable_span(span: ReadableSpan, checked: dict[tuple[int, int], bool]) -> ReadableSpan:
    """``span`` itself, or a copy with U+FFFD for the characters UTF-8 cannot encode.

    ``checked`` remembers the verdict on each (resource, scope) pair the batch's spans share.
    """
    resource, scope = span.resource, span.instrumentation_scope
    key = (id(resource), id(scope))
    shared = checked.get(key)
    if shared is None:
        shared = checked[key] = _encodable_value((resource, scope))
    name, description = span.name, span.status.description
    if (
        shared
        and (name.isascii() or encodable(name) is name)
        and (description is None or _encodable_value(description))
        and _encodable_attributes(span.attributes)
        and (not span.events or _encodable_events(span.events))
        and (not span.links or all(_encodable_attributes(link.attributes) for link in span.links))
    ):
        return span
    return ReadableSpan(
        name=encodable(span.name),
        context=span.context,
        parent=span.parent,
        resource=_encodable_copy(resource),
        attributes=_encodable_copy(span.attributes),
        events=[
            Event(encodable(event.name), _encodable_copy(event.attributes), event.timestamp)
            for event in span.events
        ],
        links=[Link(link.context, _encodable_copy(link.attributes)) for link in span.links],
        kind=span.kind,
        status=Status(span.status.status_code, _encodable_copy(span.status.description)),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=_encodable_copy(scope),
    )


_warned_unencodable = False


def _report_unencodable(what: str, example: str) -> None:
    global _warned_unencodable
    if not _warned_unencodable:
        _warned_unencodable = True
        _logger.warning(
            "codomyrmex.performance: %s carried text UTF-8 cannot encode (a lone surrogate, as "
            "os.fsdecode makes of an undecodable file name; first: %r), exported with U+FFFD "
            "in its place",
            what,
            example,
        )


class EncodableSpans(SpanExporter):
    """Exports each batch whole: a span with unencodable text goes out as a cleaned copy."""

    def __init__(self, exporter: SpanExporter) -> None:
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        checked: dict[tuple[int, int], bool] = {}
        cleaned = [_encodable_span(span, checked) for span in spans]
        changed = [new for new, old in zip(cleaned, spans, strict=True) if new is not old]
        if changed:
            _report_unencodable(f"{len(changed)} span(s)", changed[0].name)
        return self._exporter.export(cleaned)

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class EncodableMetrics(MetricExporter):
    """Exports metric data with unencodable text (an attribute value) as a cleaned copy."""

    def __init__(self, exporter: MetricExporter) -> None:
        super().__init__(
            preferred_temporality=exporter._preferred_temporality,
            preferred_aggregation=exporter._preferred_aggregation,
        )
        self._exporter = exporter

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        if not _encodable_value(metrics_data):
            metrics_data = _encodable_copy(metrics_data)
            _report_unencodable("metric data", _first_metric_name(metrics_data))
        return self._exporter.export(metrics_data, timeout_millis=timeout_millis, **kwargs)

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return self._exporter.force_flush(timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        self._exporter.shutdown(timeout_millis=timeout_millis, **kwargs)


def _first_metric_name(metrics_data: MetricsData) -> str:
    for resource_metrics in metrics_data.resource_metrics:
        for scope_metrics in resource_metrics.scope_metrics:
            for metric in scope_metrics.metrics:
                return metric.name
    return ""


class _CountingExporter(SpanExporter):
    """Counts what reaches the real exporter and whether it took it."""

    def __init__(self, exporter: SpanExporter, counter: SpanCounter) -> None:
        self._exporter = exporter
        self._counter = counter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            result = self._exporter.export(spans)
        except Exception:
            result = SpanExportResult.FAILURE
        with self._counter._lock:
            if result is SpanExportResult.SUCCESS:
                self._counter.exported += len(spans)
            else:
                self._counter.failed += len(spans)
        return result

    def shutdown(self) -> None:
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30_000) -> bool:
        return self._exporter.force_flush(timeout_millis)


class _EndCounter(SpanProcessor):
    """Counts sampled spans as they end, before the batch queue can drop them."""

    def __init__(self, counter: SpanCounter) -> None:
        self._counter = counter

    def on_start(self, span: Span, parent_context: Context | None = None) -> None:
        return None

    def on_end(self, span: ReadableSpan) -> None:
        if span.context is not None and span.context.trace_flags.sampled:
            with self._counter._lock:
                self._counter.ended += 1


def counting_processors(
    exporters: Sequence[SpanExporter], counter: SpanCounter, **batch_options: Any
) -> list[SpanProcessor]:
    """An end counter, then one batch processor per exporter; the first one's exports count.

    Each exporter is behind :class:`EncodableSpans`.
    """
    options = {key: value for key, value in batch_options.items() if value is not None}
    primary, *others = (EncodableSpans(exporter) for exporter in exporters)
    processors: list[SpanProcessor] = [
        _EndCounter(counter),
        BatchSpanProcessor(_CountingExporter(primary, counter), **options),
    ]
    processors.extend(BatchSpanProcessor(exporter, **options) for exporter in others)
    return processors
