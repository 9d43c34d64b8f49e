"""``ResourceTracker`` as a decorator on every function shape it takes.

Each call (each generator run, to its end or its close) is one window of its own: after
it, the tracker's ``usage`` is a new ``ResourceUsage`` of at least two samples (start and
stop), failed calls included. The tracker makes no span and no metric point: it adds the
usage to the span current when the window closes, as exactly its
``codomyrmex.resource.*`` attributes. Async generator functions are refused
(``test_shapes_common``).
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import trace

from codomyrmex.performance import ResourceTracker, ResourceUsage
from harness.metrics import MetricsProbe
from harness.shapes import SHAPES, Shape, ShapeError, undecorated

TRACKED = [shape for shape in SHAPES if shape.kind != "async generator"]
GENERATORS = [shape for shape in TRACKED if shape.is_generator]
#: Observed from the live caches of the process at every reading, whatever the test does.
CACHE_METRICS = {
    "codomyrmex.cache.requests",
    "codomyrmex.cache.evictions",
    "codomyrmex.cache.entries",
}

tracer = trace.get_tracer(__name__)


def a_new_window(tracker: ResourceTracker, before: ResourceUsage | None) -> ResourceUsage:
    usage = tracker.usage
    assert isinstance(usage, ResourceUsage)
    assert usage is not before
    assert usage.samples >= 2
    assert usage.duration > 0
    assert usage.cpu_time >= 0
    assert usage.peak_rss_mb > 0
    assert not tracker.running
    return usage


@pytest.mark.parametrize("shape", TRACKED, ids=str)
def test_each_call_is_a_window(shape: Shape, spans: Any, metric_probe: MetricsProbe) -> None:
    tracker = ResourceTracker(sample_interval=0.01)
    tracked = shape.build(tracker)
    assert tracker.usage is None
    usage = None
    for entry_point in tracked.entry_points:
        shape.run(entry_point, 3)
        usage = a_new_window(tracker, usage)
        shape.run(entry_point, 3)
        usage = a_new_window(tracker, usage)
    assert spans.get_finished_spans() == ()
    assert {point.name for point in metric_probe.collect()} <= CACHE_METRICS


@pytest.mark.parametrize("shape", TRACKED, ids=str)
def test_the_usage_goes_on_the_current_span(shape: Shape, spans: Any) -> None:
    tracker = ResourceTracker(sample_interval=0.01)
    tracked = shape.build(tracker)
    expected = shape.run(shape.build(undecorated).target, 3)
    with tracer.start_as_current_span("outer"):
        assert shape.run(tracked.target, 3) == expected
    usage = a_new_window(tracker, None)
    (span,) = spans.get_finished_spans()
    assert span.name == "outer"
    assert dict(span.attributes or {}) == usage.span_attributes()
    assert set(usage.span_attributes()) >= {
        "codomyrmex.resource.duration",
        "codomyrmex.resource.cpu_time",
        "codomyrmex.resource.cpu_percent",
        "codomyrmex.resource.peak_rss_mb",
        "codomyrmex.resource.rss_delta_mb",
        "codomyrmex.resource.samples",
        "codomyrmex.resource.peak_threads",
    }


@pytest.mark.parametrize("shape", TRACKED, ids=str)
def test_a_failed_call_is_a_window_too(shape: Shape, spans: Any) -> None:
    tracker = ResourceTracker(sample_interval=0.01)
    tracked = shape.build(tracker)
    error = ShapeError("boom")
    with tracer.start_as_current_span("outer"), pytest.raises(ShapeError) as raised:
        shape.run(tracked.target, 3, fail=error)
    assert raised.value is error
    usage = a_new_window(tracker, None)
    (span,) = spans.get_finished_spans()
    assert span.name == "outer"
    assert dict(span.attributes or {}) == usage.span_attributes()


@pytest.mark.parametrize("shape", GENERATORS, ids=str)
def test_a_generator_closed_early_ends_its_window(shape: Shape) -> None:
    tracker = ResourceTracker(sample_interval=0.01)
    tracked = shape.build(tracker)
    assert shape.close_early(tracked.target, 3) == 3
    a_new_window(tracker, None)
