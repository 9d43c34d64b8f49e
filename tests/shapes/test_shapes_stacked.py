"""The package's decorators stacked on one another, on every shape both take.

* ``@cached_function`` over ``@monitor``: a miss is one span and one duration point, a hit
  neither (the cache answers before the monitor is reached).
* ``@monitor`` over ``@cached_function``: every call is a span and a point, hits included.
* ``@monitor`` over ``@ResourceTracker()``: the window closes while the call's span is
  current, so that span carries the usage next to its code attributes.
* ``@ResourceTracker()`` over ``@monitor``: the call's span has ended when the window
  closes; the usage goes on the span around the call.
* ``@cached_function`` over ``@ResourceTracker()``: a hit opens no window.

Every stack keeps the original's name, signature and shape (``assert_same_metadata``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import PerformanceMonitor, ResourceTracker, cached_function
from harness.metrics import MetricPoint, select
from harness.monitor import DURATION, assert_duration_point
from harness.shapes import (
    SHAPES,
    Shape,
    assert_same_metadata,
    code_attributes,
    qualified_name,
    undecorated,
)

CACHED = [shape for shape in SHAPES if not shape.is_generator]
TRACKED = [shape for shape in SHAPES if shape.kind != "async generator"]

tracer = trace.get_tracer(__name__)


def stack(*decorators: Callable[[Any], Any]) -> Callable[[Any], Any]:
    """Decorators applied as written top to bottom: ``stack(a, b)(f) == a(b(f))``."""

    def decorate(func: Any) -> Any:
        for decorator in reversed(decorators):
            func = decorator(func)
        return func

    return decorate


def cache_requests(collected: list[MetricPoint], name: str) -> dict[str, int]:
    points = select(collected, "codomyrmex.cache.requests", **{"codomyrmex.cache.name": name})
    return {p.attributes["codomyrmex.cache.result"]: p.point.value for p in points}


@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_cached_over_monitor_a_hit_is_no_span(
    shape: Shape, perf: PerformanceMonitor, cache_name: str, spans: Any, metric_probe: Any
) -> None:
    original = shape.build(undecorated)
    stacked = shape.build(stack(cached_function(name=cache_name), perf.monitor))
    assert_same_metadata(original, stacked)
    first = shape.run(stacked.target, 3)
    assert shape.run(stacked.target, 3) is first
    (span,) = spans.get_finished_spans()
    assert span.name == qualified_name(original)
    assert dict(span.attributes or {}) == code_attributes(original)
    collected = metric_probe.collect()
    (point,) = select(collected, DURATION)
    assert_duration_point(point, count=1)
    assert cache_requests(collected, cache_name) == {"hit": 1, "miss": 1, "error": 0}
    assert perf.get_stats()["count"] == 1


@pytest.mark.parametrize("shape", CACHED, ids=str)
def test_monitor_over_cached_every_call_is_a_span(
    shape: Shape, perf: PerformanceMonitor, cache_name: str, spans: Any, metric_probe: Any
) -> None:
    original = shape.build(undecorated)
    stacked = shape.build(stack(perf.monitor, cached_function(name=cache_name)))
    assert_same_metadata(original, stacked)
    first = shape.run(stacked.target, 3)
    assert shape.run(stacked.target, 3) is first
    calls = spans.get_finished_spans()
    assert [span.name for span in calls] == [qualified_name(original)] * 2
    for span in calls:
        assert dict(span.attributes or {}) == code_attributes(original)
    collected = metric_probe.collect()
    (point,) = select(collected, DURATION)
    assert_duration_point(point, count=2)
    assert cache_requests(collected, cache_name) == {"hit": 1, "miss": 1, "error": 0}


@pytest.mark.parametrize("shape", TRACKED, ids=str)
def test_monitor_over_resource_tracker_the_call_span_has_the_usage(
    shape: Shape, perf: PerformanceMonitor, spans: Any, metric_probe: Any
) -> None:
    original = shape.build(undecorated)
    tracker = ResourceTracker(sample_interval=0.01)
    stacked = shape.build(stack(perf.monitor, tracker))
    assert_same_metadata(original, stacked)
    assert shape.run(stacked.target, 3) == shape.run(original.target, 3)
    assert tracker.usage is not None
    (span,) = spans.get_finished_spans()
    assert span.name == qualified_name(original)
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert dict(span.attributes or {}) == {
        **code_attributes(original),
        **tracker.usage.span_attributes(),
    }
    (point,) = metric_probe.points(DURATION)
    assert_duration_point(point, count=1)


@pytest.mark.parametrize("shape", TRACKED, ids=str)
def test_resource_tracker_over_monitor_the_outer_span_has_the_usage(
    shape: Shape, perf: PerformanceMonitor, spans: Any
) -> None:
    original = shape.build(undecorated)
    tracker = ResourceTracker(sample_interval=0.01)
    stacked = shape.build(stack(tracker, perf.monitor))
    assert_same_metadata(original, stacked)
    with tracer.start_as_current_span("outer"):
        shape.run(stacked.target, 3)
    assert tracker.usage is not None
    call, outer = spans.get_finished_spans()
    assert call.name == qualified_name(original)
    assert call.parent is not None and call.parent.span_id == outer.context.span_id
    assert dict(call.attributes or {}) == code_attributes(original)
    assert outer.name == "outer"
    assert dict(outer.attributes or {}) == tracker.usage.span_attributes()


@pytest.mark.parametrize("shape", [s for s in CACHED if s in TRACKED], ids=str)
def test_cached_over_resource_tracker_a_hit_opens_no_window(shape: Shape, cache_name: str) -> None:
    original = shape.build(undecorated)
    tracker = ResourceTracker(sample_interval=0.01)
    stacked = shape.build(stack(cached_function(name=cache_name), tracker))
    assert_same_metadata(original, stacked)
    first = shape.run(stacked.target, 3)
    usage = tracker.usage
    assert usage is not None
    assert shape.run(stacked.target, 3) is first
    assert tracker.usage is usage
