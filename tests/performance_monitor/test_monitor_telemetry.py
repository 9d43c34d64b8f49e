"""Telemetry plumbing: explicit providers, suppression, and telemetry that breaks."""

from __future__ import annotations

import pytest
from opentelemetry import context as otel_context
from opentelemetry import trace
from opentelemetry.metrics import NoOpHistogram, NoOpMeter, NoOpMeterProvider
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import SpanProcessor, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from codomyrmex.performance.performance_monitor import PerformanceMonitor


def test_explicit_providers_receive_the_telemetry(spans, metric_probe) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider()
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    reader = InMemoryMetricReader()
    perf = PerformanceMonitor(
        tracer_provider=tracer_provider, meter_provider=MeterProvider(metric_readers=[reader])
    )

    @perf.monitor(name="explicit")
    def explicit() -> int:
        return 1

    explicit()
    assert [s.name for s in exporter.get_finished_spans()] == ["explicit"]
    assert spans.get_finished_spans() == ()
    assert metric_probe.points("codomyrmex.function.duration") == []
    data = reader.get_metrics_data()
    (metric,) = data.resource_metrics[0].scope_metrics[0].metrics
    assert metric.name == "codomyrmex.function.duration"
    assert metric.data.data_points[0].count == 1


def test_suppressed_instrumentation_records_no_span(perf, spans, metric_probe) -> None:
    @perf.monitor(name="quiet")
    def quiet() -> int:
        return 1

    token = otel_context.attach(
        otel_context.set_value(otel_context._SUPPRESS_INSTRUMENTATION_KEY, True)
    )
    try:
        quiet()
    finally:
        otel_context.detach(token)
    assert spans.get_finished_spans() == ()
    (metric,) = perf.get_metrics()
    assert metric.trace_id is None and metric.span_id is None
    assert len(metric_probe.points("codomyrmex.function.duration")) == 1


def test_unsampled_span_gets_no_ids_but_children_stay_unsampled(metric_probe) -> None:
    exporter = InMemorySpanExporter()
    tracer_provider = TracerProvider(sampler=ALWAYS_OFF)
    tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
    perf = PerformanceMonitor(tracer_provider=tracer_provider)

    @perf.monitor(name="child")
    def child() -> None:
        pass

    @perf.monitor(name="parent")
    def parent() -> None:
        child()

    parent()
    assert exporter.get_finished_spans() == ()
    assert [(m.function_name, m.trace_id, m.span_id) for m in perf.get_metrics()] == [
        ("child", None, None),
        ("parent", None, None),
    ]
    assert len(metric_probe.points("codomyrmex.function.duration")) == 2


class _ExplodingProcessor(SpanProcessor):
    def on_start(self, span, parent_context=None) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("processor broke")


class _ExplodingExporter(SpanExporter):
    def export(self, spans) -> SpanExportResult:  # type: ignore[no-untyped-def]
        raise RuntimeError("exporter broke")


class _ExplodingHistogram(NoOpHistogram):
    def record(self, *args, **kwargs) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("histogram broke")


class _ExplodingMeter(NoOpMeter):
    def create_histogram(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        return _ExplodingHistogram(name)


class _ExplodingMeterProvider(NoOpMeterProvider):
    def get_meter(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        return _ExplodingMeter(name)


@pytest.mark.parametrize("broken", ["processor", "exporter", "histogram"])
def test_broken_telemetry_never_breaks_the_call(broken: str, caplog) -> None:
    tracer_provider = TracerProvider()
    meter_provider = MeterProvider()
    if broken == "processor":
        tracer_provider.add_span_processor(_ExplodingProcessor())
    elif broken == "exporter":
        tracer_provider.add_span_processor(SimpleSpanProcessor(_ExplodingExporter()))
    else:
        meter_provider = _ExplodingMeterProvider()  # type: ignore[assignment]
    perf = PerformanceMonitor(tracer_provider=tracer_provider, meter_provider=meter_provider)

    @perf.monitor(name="sturdy")
    def sturdy(x: int) -> int:
        return x * 2

    @perf.monitor(name="fragile")
    def fragile() -> None:
        raise ValueError("user error")

    assert [sturdy(i) for i in range(3)] == [0, 2, 4]
    with pytest.raises(ValueError, match="user error"):
        fragile()
    with perf.track("block"):
        pass
    assert perf.get_stats()["count"] == 5
    assert perf.get_stats()["errors"] == 1
    assert trace.get_current_span() is trace.INVALID_SPAN


class _RaisingTracerProvider(trace.NoOpTracerProvider):
    def get_tracer(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("get_tracer broke")


class _RaisingMeterProvider(NoOpMeterProvider):
    def get_meter(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("get_meter broke")


class _RaisingInstrumentMeter(NoOpMeter):
    def create_histogram(self, *args, **kwargs):  # type: ignore[no-untyped-def]
        raise RuntimeError("create_histogram broke")


class _RaisingInstrumentMeterProvider(NoOpMeterProvider):
    def get_meter(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        return _RaisingInstrumentMeter(name)


@pytest.mark.parametrize(
    "providers",
    [
        {"tracer_provider": _RaisingTracerProvider()},
        {"meter_provider": _RaisingMeterProvider()},
        {"meter_provider": _RaisingInstrumentMeterProvider()},
    ],
    ids=["get_tracer", "get_meter", "create_histogram"],
)
def test_providers_that_raise_never_break_the_call(providers: dict[str, object]) -> None:
    perf = PerformanceMonitor(**providers)  # type: ignore[arg-type]
    error = ValueError("user error")

    @perf.monitor
    def sturdy(x: int) -> int:
        return x + 1

    @perf.monitor
    def fragile() -> None:
        raise error

    assert sturdy(1) == 2
    with pytest.raises(ValueError) as caught:
        fragile()
    assert caught.value is error
    with perf.track("block"):
        pass
    assert perf.get_stats()["count"] == 3
    assert perf.get_stats()["errors"] == 1


def test_telemetry_that_cannot_be_set_up_never_breaks_the_call(
    monkeypatch: pytest.MonkeyPatch, spans
) -> None:
    from codomyrmex.performance import telemetry

    def broken_scope(*args: object) -> None:
        raise RuntimeError("scope unavailable")

    monkeypatch.setattr(telemetry, "scope_telemetry", broken_scope)
    perf = PerformanceMonitor(tracer_provider=trace.get_tracer_provider())

    @perf.monitor(name="survivor")
    def survivor(x: int) -> int:
        return x * 2

    assert survivor(3) == 6
    assert survivor(4) == 8
    assert spans.get_finished_spans() == ()
    assert perf.get_stats()["count"] == 2
