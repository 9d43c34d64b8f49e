"""SDK-side pieces of ``configure_telemetry``: OTLP-JSON file exporters and span accounting.

Imported only by ``configure_telemetry``; library code never imports the SDK.
The file exporters write one OTLP/JSON export request per line, the format of the
OpenTelemetry Collector ``file`` exporter, so ``otelcol --config`` with an ``otlpjsonfile``
receiver can replay them into any backend.
"""

from __future__ import annotations

import base64
import json
import threading
from collections.abc import Sequence
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
from opentelemetry.sdk.trace import ReadableSpan, Span, SpanProcessor
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from codomyrmex.performance.telemetry._handle import SpanCounter

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


class _JsonLinesFile:
    """Appends one JSON document per line, whole lines only, from any thread."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def append(self, document: dict[str, Any]) -> None:
        line = json.dumps(document, separators=(",", ":")) + "\n"
        with self._lock, self.path.open("a", encoding="utf-8") as handle:
            handle.write(line)


class OtlpJsonFileSpanExporter(SpanExporter):
    """Writes spans as OTLP/JSON ``ExportTraceServiceRequest`` lines to a file."""

    def __init__(self, path: Path) -> None:
        self._file = _JsonLinesFile(path)

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        try:
            self._file.append(_otlp_json(encode_spans(spans)))
        except OSError:
            return SpanExportResult.FAILURE
        return SpanExportResult.SUCCESS

    def shutdown(self) -> None:
        return None


class OtlpJsonFileMetricExporter(MetricExporter):
    """Writes metrics as OTLP/JSON ``ExportMetricsServiceRequest`` lines (cumulative)."""

    def __init__(self, path: Path) -> None:
        super().__init__(preferred_temporality={}, preferred_aggregation={})
        self._file = _JsonLinesFile(path)

    def export(
        self, metrics_data: MetricsData, timeout_millis: float = 10_000, **kwargs: Any
    ) -> MetricExportResult:
        try:
            self._file.append(_otlp_json(encode_metrics(metrics_data)))
        except OSError:
            return MetricExportResult.FAILURE
        return MetricExportResult.SUCCESS

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        return True

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        return None


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
    """An end counter, then one batch processor per exporter; the first one's exports count."""
    options = {key: value for key, value in batch_options.items() if value is not None}
    primary, *others = exporters
    processors: list[SpanProcessor] = [
        _EndCounter(counter),
        BatchSpanProcessor(_CountingExporter(primary, counter), **options),
    ]
    processors.extend(BatchSpanProcessor(exporter, **options) for exporter in others)
    return processors
