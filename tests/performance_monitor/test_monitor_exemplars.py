"""Exemplars of ``codomyrmex.function.duration``: one per bucket that saw calls, every collection.

The calls run on a virtual clock (the monitor's ``perf_counter`` patched), so that their
durations land in chosen buckets, the overflow bucket past 60 s included, without sleeping.
"""

from __future__ import annotations

import json
import time
from bisect import bisect_left
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance.performance_monitor import PerformanceMonitor, _binding, _wrappers
from codomyrmex.performance.telemetry import DURATION_BUCKETS
from harness.subprocesses import run_python

#: One duration in every bucket, from under 5 us to the overflow bucket past 60 s.
EVERY_BUCKET = [bound * 0.9 if bound > 0.000005 else 0.000001 for bound in DURATION_BUCKETS] + [
    90.0
]


class VirtualClock:
    """``perf_counter`` that a call's body moves forward by the duration it is given."""

    def __init__(self) -> None:
        self.now = time.perf_counter()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


class Subject:
    """A monitored function on its own providers, the reader on delta temporality."""

    def __init__(self, clock: VirtualClock) -> None:
        self.spans = InMemorySpanExporter()
        tracer_provider = TracerProvider()
        tracer_provider.add_span_processor(SimpleSpanProcessor(self.spans))
        self.reader = InMemoryMetricReader(
            preferred_temporality={Histogram: AggregationTemporality.DELTA}
        )
        self.perf = PerformanceMonitor(
            tracer_provider=tracer_provider,
            meter_provider=MeterProvider(metric_readers=[self.reader]),
        )
        self.work: Callable[[float], None] = self.perf.monitor(name="work")(clock.advance)
        self.work(0.0)  # binds the monitor's telemetry: the collection probe is registered
        self.collect()
        clock.advance(1.0)  # past the grace after that collection
        self.perf.clear_metrics()

    def collect(self) -> None:
        self.reader.get_metrics_data()

    def calls(self) -> list[tuple[int, int]]:
        """(bucket, span id) of every call since the subject was made, in call order."""
        metrics = self.perf.get_metrics()
        return [
            (bisect_left(DURATION_BUCKETS, m.execution_time), int(m.span_id or "0", 16))
            for m in metrics
        ]

    def exemplars(self) -> dict[int, list[tuple[int, int, float]]]:
        """Per bucket that received calls in this collection: its exemplars' ids and values."""
        data = self.reader.get_metrics_data()
        assert data is not None
        (point,) = [
            point
            for resource_metrics in data.resource_metrics
            for scope_metrics in resource_metrics.scope_metrics
            for metric in scope_metrics.metrics
            if metric.name == "codomyrmex.function.duration"
            for point in metric.data.data_points
        ]
        found: dict[int, list[tuple[int, int, float]]] = {
            bucket: [] for bucket, count in enumerate(point.bucket_counts) if count
        }
        for exemplar in point.exemplars:
            bucket = bisect_left(DURATION_BUCKETS, exemplar.value)
            found.setdefault(bucket, []).append(
                (exemplar.trace_id, exemplar.span_id, exemplar.value)
            )
        return found


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Iterator[VirtualClock]:
    virtual = VirtualClock()
    monkeypatch.setattr(_wrappers, "perf_counter", virtual)
    monkeypatch.setattr(_binding, "perf_counter", virtual)
    yield virtual


def first_call_per_bucket(calls: list[tuple[int, int]]) -> dict[int, int]:
    first: dict[int, int] = {}
    for bucket, span_id in calls:
        first.setdefault(bucket, span_id)
    return first


def test_every_bucket_that_saw_calls_has_one_exemplar_of_its_first_call(
    clock: VirtualClock,
) -> None:
    subject = Subject(clock)
    for duration in EVERY_BUCKET + EVERY_BUCKET[::-1] + EVERY_BUCKET[::3]:
        subject.work(duration)
    calls = subject.calls()
    first = first_call_per_bucket(calls)
    assert sorted(first) == list(range(len(DURATION_BUCKETS) + 1))
    trace_ids = {
        span.context.span_id: span.context.trace_id for span in subject.spans.get_finished_spans()
    }
    exemplars = subject.exemplars()
    assert sorted(exemplars) == sorted(first)
    for bucket, found in exemplars.items():
        ((trace_id, span_id, value),) = found
        assert span_id == first[bucket], bucket
        assert trace_id == trace_ids[span_id]
        assert bisect_left(DURATION_BUCKETS, value) == bucket


def test_each_collection_gets_fresh_exemplars_tail_included(clock: VirtualClock) -> None:
    subject = Subject(clock)
    for duration in EVERY_BUCKET:
        subject.work(duration)
    assert len(subject.exemplars()) == len(EVERY_BUCKET)
    clock.advance(1.0)
    before = len(subject.calls())
    tail = [0.9, 4.0, 45.0, 90.0, 90.0, 0.9]
    for duration in tail:
        subject.work(duration)
    calls = subject.calls()[before:]
    exemplars = subject.exemplars()
    first = first_call_per_bucket(calls)
    assert sorted(exemplars) == sorted(first) == [16, 18, 21, 22]
    assert {bucket: found[0][1] for bucket, found in exemplars.items()} == first


def test_within_the_grace_after_a_collection_every_call_offers(clock: VirtualClock) -> None:
    subject = Subject(clock)
    subject.work(0.00002)
    subject.collect()  # the next calls start inside the grace window
    subject.work(0.00002)
    subject.work(0.00002)
    (last_bucket, last_span_id) = subject.calls()[-1]
    exemplars = subject.exemplars()
    assert [(bucket, found[0][1]) for bucket, found in exemplars.items()] == [
        (last_bucket, last_span_id)
    ]


def test_failed_calls_always_offer(clock: VirtualClock) -> None:
    subject = Subject(clock)

    @subject.perf.monitor(name="fails")
    def fails(duration: float) -> None:
        clock.advance(duration)
        raise ValueError(duration)

    for _ in range(3):
        with pytest.raises(ValueError):
            fails(0.002)
    last_span_id = int(subject.perf.get_metrics()[-1].span_id or "0", 16)
    data = subject.reader.get_metrics_data()
    assert data is not None
    (point,) = [
        point
        for metric in data.resource_metrics[0].scope_metrics[0].metrics
        for point in metric.data.data_points
    ]
    assert point.attributes == {
        "code.function.name": f"{__name__}.test_failed_calls_always_offer.<locals>.fails",
        "error.type": "ValueError",
    }
    assert [exemplar.span_id for exemplar in point.exemplars] == [last_span_id]


FILTER_RUN = """
import json, time
from bisect import bisect_left
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from codomyrmex.performance.performance_monitor import PerformanceMonitor
from codomyrmex.performance.telemetry import DURATION_BUCKETS

reader = InMemoryMetricReader()
perf = PerformanceMonitor(
    tracer_provider=TracerProvider(), meter_provider=MeterProvider(metric_readers=[reader])
)
work = perf.monitor(name="work")(time.sleep)
reader.get_metrics_data()
time.sleep(0.2)
for seconds in (0, 0.003, 0, 0.03, 0.003, 0, 0.03):
    work(seconds)
last = {}
for m in perf.get_metrics():
    last[bisect_left(DURATION_BUCKETS, m.execution_time)] = int(m.span_id, 16)
exemplars = {}
for metric in reader.get_metrics_data().resource_metrics[0].scope_metrics[0].metrics:
    for point in metric.data.data_points:
        for exemplar in point.exemplars:
            bucket = bisect_left(DURATION_BUCKETS, exemplar.value)
            exemplars.setdefault(bucket, []).append(exemplar.span_id)
print(json.dumps({"last": last, "exemplars": exemplars}))
"""


def run_filter(value: str) -> dict[str, Any]:
    result = run_python(FILTER_RUN, env={"OTEL_METRICS_EXEMPLAR_FILTER": value}, timeout=60)
    assert result.returncode == 0, result.stderr
    found: dict[str, Any] = json.loads(result.stdout)
    return found


def test_always_off_gives_no_exemplar() -> None:
    assert run_filter("always_off")["exemplars"] == {}


def test_always_on_offers_every_call_as_the_sdk_does() -> None:
    found = run_filter("always_on")
    # The SDK keeps the last exemplar offered to each bucket: every call offered.
    assert found["exemplars"] == {bucket: [span_id] for bucket, span_id in found["last"].items()}
