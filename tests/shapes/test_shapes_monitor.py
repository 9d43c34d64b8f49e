"""``PerformanceMonitor().monitor`` on every function shape: the exact telemetry of a call.

One span per call (``module.Qualname`` of the original, kind INTERNAL, a root here, scope
``codomyrmex.performance`` with the package version) with exactly ``code.function.name``,
``code.file.path`` and ``code.line.number`` of the original code; on error status ERROR,
``error.type`` and one exception event. Exactly one ``codomyrmex.function.duration`` point
per call, with ``error.type`` on error, and one history record matching the span. A
generator closed early is a finished call, not a failed one.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import PerformanceMonitor
from codomyrmex.performance.version import __version__
from harness.metrics import MetricsProbe
from harness.monitor import DURATION, assert_duration_point
from harness.shapes import (
    SHAPES,
    Shape,
    ShapeError,
    code_attributes,
    qualified_name,
    undecorated,
)

ERRORS = [
    pytest.param(lambda: ShapeError("boom"), "harness.shapes.ShapeError", id="own error"),
    pytest.param(lambda: ValueError("bad value"), "ValueError", id="builtin error"),
]
GENERATORS = [shape for shape in SHAPES if shape.is_generator]


def the_call_span(spans: Any) -> ReadableSpan:
    (span,) = spans.get_finished_spans()
    assert span.kind is SpanKind.INTERNAL
    assert span.parent is None
    assert span.instrumentation_scope is not None
    assert span.instrumentation_scope.name == "codomyrmex.performance"
    assert span.instrumentation_scope.version == __version__
    return span


def assert_one_call(
    perf: PerformanceMonitor, span: ReadableSpan, probe: MetricsProbe, error: str | None
) -> None:
    """One history record and one duration point, matching the span."""
    name = span.name
    (metric,) = perf.get_metrics()
    assert metric.function_name == name
    assert metric.error == error
    assert metric.trace_id == format(span.context.trace_id, "032x")
    assert metric.span_id == format(span.context.span_id, "016x")
    (point,) = probe.points(DURATION)
    assert_duration_point(point, count=1, total=metric.execution_time, error=error)
    expected = {"code.function.name": name}
    if error is not None:
        expected["error.type"] = error
    assert point.attributes == expected


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_call(shape: Shape, perf: PerformanceMonitor, spans: Any, metric_probe: Any) -> None:
    original = shape.build(undecorated)
    expected = shape.run(original.target, 3, scale=5)
    monitored = shape.build(perf.monitor)

    assert shape.run(monitored.target, 3, scale=5) == expected
    span = the_call_span(spans)
    assert span.name == qualified_name(original)
    assert dict(span.attributes or {}) == code_attributes(original)
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert_one_call(perf, span, metric_probe, error=None)


@pytest.mark.parametrize(("make_error", "error_type"), ERRORS)
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_a_failed_call(
    shape: Shape,
    make_error: Callable[[], BaseException],
    error_type: str,
    perf: PerformanceMonitor,
    spans: Any,
    metric_probe: Any,
) -> None:
    original = shape.build(undecorated)
    monitored = shape.build(perf.monitor)
    error = make_error()
    with pytest.raises(type(error)) as raised:
        shape.run(monitored.target, 3, fail=error)
    assert raised.value is error

    span = the_call_span(spans)
    assert span.name == qualified_name(original)
    assert dict(span.attributes or {}) == {**code_attributes(original), "error.type": error_type}
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == f"{type(error).__name__}: {error}"
    (event,) = span.events
    assert event.name == "exception"
    attributes = dict(event.attributes or {})
    assert set(attributes) == {
        "exception.type",
        "exception.message",
        "exception.stacktrace",
        "exception.escaped",
    }
    assert attributes["exception.type"] == error_type
    assert attributes["exception.message"] == str(error)
    assert "raise fail" in attributes["exception.stacktrace"]
    assert_one_call(perf, span, metric_probe, error=error_type)


@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_every_call_through_every_entry_point_is_recorded(
    shape: Shape, perf: PerformanceMonitor, spans: Any, metric_probe: Any
) -> None:
    original = shape.build(undecorated)
    monitored = shape.build(perf.monitor)
    for entry_point in monitored.entry_points:
        shape.run(entry_point, 1)
        shape.run(entry_point, 2)
    calls = 2 * len(monitored.entry_points)
    name = qualified_name(original)
    assert [span.name for span in spans.get_finished_spans()] == [name] * calls
    assert perf.get_stats(name)["count"] == calls
    (point,) = metric_probe.points(DURATION)
    assert_duration_point(point, count=calls)


@pytest.mark.parametrize("shape", GENERATORS, ids=str)
def test_a_generator_closed_early_is_a_finished_call(
    shape: Shape, perf: PerformanceMonitor, spans: Any, metric_probe: Any
) -> None:
    original = shape.build(undecorated)
    monitored = shape.build(perf.monitor)
    assert shape.close_early(monitored.target, 3) == 3
    span = the_call_span(spans)
    assert dict(span.attributes or {}) == code_attributes(original)
    assert span.status.status_code is StatusCode.UNSET
    assert span.events == ()
    assert_one_call(perf, span, metric_probe, error=None)
