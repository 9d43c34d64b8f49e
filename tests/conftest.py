"""Shared test harness: one SDK tracer and meter provider for the whole session.

OpenTelemetry lets a process set its global providers once, so the session installs an
SDK ``TracerProvider`` writing to an ``InMemorySpanExporter`` and an SDK ``MeterProvider``
read by an ``InMemoryMetricReader`` with delta temporality for counters and histograms:
each test clears the spans and drains the metrics first, then sees only its own data.
Behaviour without an SDK, or with ``configure_telemetry``, is tested in subprocesses.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

pytest_plugins = ["otel_collector"]

_SPAN_EXPORTER = InMemorySpanExporter()
_METRIC_READER = InMemoryMetricReader(
    preferred_temporality={
        Counter: AggregationTemporality.DELTA,
        Histogram: AggregationTemporality.DELTA,
        ObservableCounter: AggregationTemporality.DELTA,
    }
)


@pytest.fixture(scope="session", autouse=True)
def _otel_providers() -> Iterator[None]:
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(_SPAN_EXPORTER))
    trace.set_tracer_provider(tracer_provider)
    metrics.set_meter_provider(MeterProvider(metric_readers=[_METRIC_READER]))
    yield


@dataclass(frozen=True)
class MetricPoint:
    """One data point with the metric it belongs to."""

    name: str
    unit: str
    scope: str
    scope_version: str | None
    attributes: dict[str, Any]
    point: Any


class MetricsProbe:
    """Reads what the session's ``InMemoryMetricReader`` collected since the last read."""

    def __init__(self, reader: InMemoryMetricReader) -> None:
        self.reader = reader

    def collect(self) -> list[MetricPoint]:
        data = self.reader.get_metrics_data()
        found: list[MetricPoint] = []
        if data is None:
            return found
        for resource_metrics in data.resource_metrics:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    for point in metric.data.data_points:
                        found.append(
                            MetricPoint(
                                name=metric.name,
                                unit=metric.unit,
                                scope=scope_metrics.scope.name,
                                scope_version=scope_metrics.scope.version,
                                attributes=dict(point.attributes or {}),
                                point=point,
                            )
                        )
        return found

    def points(self, name: str, **attributes: Any) -> list[MetricPoint]:
        """Points of one metric whose attributes include the given ones."""
        return [
            p
            for p in self.collect()
            if p.name == name
            and all(p.attributes.get(key) == value for key, value in attributes.items())
        ]


@pytest.fixture
def spans() -> InMemorySpanExporter:
    """The session's span exporter, emptied for this test."""
    _SPAN_EXPORTER.clear()
    return _SPAN_EXPORTER


@pytest.fixture
def metric_probe() -> MetricsProbe:
    """The session's metric reader, drained so that this test sees only its own points."""
    probe = MetricsProbe(_METRIC_READER)
    probe.collect()
    return probe


def run_python(
    code: str, *, env: Mapping[str, str] | None = None, timeout: float = 120, cwd: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run a snippet in a fresh interpreter (no providers set) and capture its output."""
    full_env = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        capture_output=True,
        text=True,
        env=full_env,
        timeout=timeout,
        cwd=cwd,
    )
