"""@monitor on a plain function: telemetry, metadata, errors."""

from __future__ import annotations

import contextlib
import inspect
import traceback

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.monitor import (
    assert_code_attributes,
    assert_duration_point,
    duration_points,
    only_span,
)

QUALIFIED = f"{__name__}.add"


class Boom(Exception):
    pass


def test_span_and_histogram_per_call(perf: PerformanceMonitor, spans, metric_probe) -> None:
    @perf.monitor
    def add(a: int, b: int = 1) -> int:
        return a + b

    assert add(2, b=3) == 5
    name = f"{__name__}.test_span_and_histogram_per_call.<locals>.add"
    span = only_span(spans, name)
    assert span.kind is SpanKind.INTERNAL
    assert span.status.status_code is StatusCode.UNSET
    assert span.instrumentation_scope.name == "codomyrmex.performance"
    assert_code_attributes(span, name, __file__)
    assert span.attributes["code.line.number"] == add.__wrapped__.__code__.co_firstlineno

    (metric,) = perf.get_metrics()
    assert metric.function_name == name
    assert metric.error is None
    assert metric.trace_id == format(span.context.trace_id, "032x")
    assert metric.span_id == format(span.context.span_id, "016x")

    (point,) = duration_points(metric_probe, name)
    assert_duration_point(point, count=1, total=metric.execution_time)
    assert set(point.attributes) == {"code.function.name"}
    (exemplar,) = point.point.exemplars  # the SDK's default trace-based exemplar filter
    assert exemplar.trace_id == span.context.trace_id
    assert exemplar.span_id == span.context.span_id


def test_called_form_with_name_and_attributes(perf, spans, metric_probe) -> None:
    @perf.monitor(name="orders.total", attributes={"shop.region": "eu", "shop.tier": 2})
    def total() -> int:
        return 7

    assert total() == 7
    span = only_span(spans, "orders.total")
    qualified = f"{__name__}.test_called_form_with_name_and_attributes.<locals>.total"
    assert_code_attributes(span, qualified, __file__, extra=("shop.region", "shop.tier"))
    assert span.attributes["shop.region"] == "eu"
    assert span.attributes["shop.tier"] == 2
    (metric,) = perf.get_metrics()
    assert metric.function_name == "orders.total"
    assert metric.metadata == {"shop.region": "eu", "shop.tier": 2}
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1)


def test_bare_and_empty_call_forms_are_the_same(perf) -> None:
    def f() -> int:
        return 1

    bare = perf.monitor(f)
    called = perf.monitor()(f)
    assert bare() == called() == 1
    assert [m.function_name for m in perf.get_metrics()] == [f"{__name__}.{f.__qualname__}"] * 2


def test_wrapper_keeps_metadata(perf) -> None:
    def documented(x: int, *, y: str = "a") -> str:
        """Docs."""
        return f"{x}{y}"

    wrapped = perf.monitor(documented)
    assert wrapped.__name__ == "documented"
    assert wrapped.__qualname__ == documented.__qualname__
    assert wrapped.__doc__ == "Docs."
    assert wrapped.__module__ == __name__
    assert wrapped.__wrapped__ is documented
    assert inspect.signature(wrapped) == inspect.signature(documented)
    assert not inspect.iscoroutinefunction(wrapped)
    assert not inspect.isgeneratorfunction(wrapped)


def test_exception_is_reraised_unchanged_and_recorded(perf, spans, metric_probe) -> None:
    error = Boom("no stock")

    @perf.monitor
    def fail() -> None:
        raise error

    with pytest.raises(Boom) as caught:
        fail()
    assert caught.value is error
    frames = [frame.name for frame in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "fail"

    qualified = f"{__name__}.test_exception_is_reraised_unchanged_and_recorded.<locals>.fail"
    span = only_span(spans, qualified)
    assert span.status.status_code is StatusCode.ERROR
    assert span.status.description == "Boom: no stock"
    assert span.attributes["error.type"] == f"{__name__}.Boom"
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.type"] in {"Boom", f"{__name__}.Boom"}
    assert event.attributes["exception.message"] == "no stock"

    (metric,) = perf.get_metrics()
    assert metric.error == f"{__name__}.Boom"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, error=f"{__name__}.Boom")


def test_builtin_exception_type_is_bare(perf, spans, metric_probe) -> None:
    @perf.monitor(name="div")
    def div(a: int, b: int) -> float:
        return a / b

    with pytest.raises(ZeroDivisionError):
        div(1, 0)
    assert only_span(spans, "div").attributes["error.type"] == "ZeroDivisionError"
    assert perf.get_metrics()[0].error == "ZeroDivisionError"
    points = metric_probe.points(
        "codomyrmex.function.duration", **{"error.type": "ZeroDivisionError"}
    )
    assert len(points) == 1


def test_ok_and_failed_calls_are_separate_series(perf, metric_probe) -> None:
    @perf.monitor
    def maybe(fail: bool) -> None:
        if fail:
            raise KeyError("k")

    for fail in (False, False, True):
        with contextlib.suppress(KeyError):
            maybe(fail)
    qualified = f"{__name__}.{maybe.__qualname__}"
    points = {p.attributes.get("error.type"): p for p in duration_points(metric_probe, qualified)}
    assert points[None].point.count == 2
    assert points["KeyError"].point.count == 1


def test_nested_monitored_calls_are_parent_and_child(perf, spans) -> None:
    @perf.monitor(name="inner")
    def inner() -> trace.Span:
        return trace.get_current_span()

    @perf.monitor(name="outer")
    def outer() -> trace.Span:
        return inner()

    current_in_inner = outer()
    inner_span, outer_span = only_span(spans, "inner"), only_span(spans, "outer")
    assert inner_span.parent is not None
    assert inner_span.parent.span_id == outer_span.context.span_id
    assert current_in_inner.get_span_context().span_id == inner_span.context.span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


def test_monitoring_a_bound_method_and_a_builtin(perf) -> None:
    items: list[int] = []
    append = perf.monitor(items.append)
    append(3)
    assert items == [3]
    monitored_len = perf.monitor(len)
    assert monitored_len("abc") == 3
    names = [m.function_name for m in perf.get_metrics()]
    assert names == ["builtins.list.append", "builtins.len"]
