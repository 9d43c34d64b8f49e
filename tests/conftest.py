"""Shared test harness: one SDK tracer and meter provider for the whole session.

OpenTelemetry lets a process set its global providers once, so the session installs an
SDK ``TracerProvider`` writing to an ``InMemorySpanExporter`` and an SDK ``MeterProvider``
read by an ``InMemoryMetricReader`` with delta temporality for counters and histograms:
each test clears the spans and drains the metrics first, then sees only its own data.
Behaviour without an SDK, or with ``configure_telemetry``, is tested in subprocesses.

Fixtures for every folder: ``spans`` (the exporter, cleared), ``metric_probe`` (the reader,
drained), ``perf`` (a fresh ``PerformanceMonitor``) and, through the harness plugins,
``otel_collector``, ``private_otel_collector`` and ``redis_server``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import Counter, Histogram, MeterProvider, ObservableCounter
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.metrics import MetricsProbe

# pytester: the pytest plugin's tests (tests/pytest_plugin) run pytest sessions of their own.
pytest_plugins = ["harness.otel_collector", "harness.redis_server", "pytester"]

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


@pytest.fixture
def perf() -> PerformanceMonitor:
    """A fresh monitor on the session's global SDK providers."""
    return PerformanceMonitor()


@pytest.fixture
def immutable(tmp_path: Path) -> Iterator[Path]:
    """A directory nobody can write to, root included (chattr +i; chmod for other users)."""
    directory = tmp_path / "locked"
    directory.mkdir()
    if os.geteuid() == 0:
        subprocess.run(["chattr", "+i", str(directory)], check=True)
    else:
        directory.chmod(0o500)
    try:
        yield directory
    finally:
        if os.geteuid() == 0:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        directory.chmod(0o700)
