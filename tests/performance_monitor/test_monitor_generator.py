"""@monitor on generator functions: timed over the steps, span not current across yields."""

from __future__ import annotations

import inspect
import time
from collections.abc import Generator

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.monitor import assert_duration_point, duration_points, only_span


def test_nothing_runs_or_is_recorded_before_first_next(perf, spans) -> None:
    ran = []

    @perf.monitor
    def numbers() -> Generator[int, None, None]:
        ran.append(True)
        yield 1

    gen = numbers()
    assert ran == [] and perf.get_metrics() == [] and spans.get_finished_spans() == ()
    assert list(gen) == [1]
    assert ran == [True]
    assert perf.get_stats()["count"] == 1


def test_timed_over_steps_not_the_consumer(perf, spans, metric_probe) -> None:
    @perf.monitor(name="produce")
    def produce() -> Generator[int, None, None]:
        for i in range(3):
            time.sleep(0.01)
            yield i

    for _ in produce():
        time.sleep(0.03)
    (metric,) = perf.get_metrics()
    assert 0.03 <= metric.execution_time < 0.06
    span = only_span(spans, "produce")
    assert (span.end_time - span.start_time) / 1e9 >= 0.09
    qualified = f"{__name__}.{produce.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, total=metric.execution_time)


def test_span_current_only_while_generator_runs(perf, spans) -> None:
    seen: list[int] = []

    @perf.monitor(name="gen")
    def gen() -> Generator[int, None, None]:
        for _ in range(2):
            seen.append(trace.get_current_span().get_span_context().span_id)
            yield 0

    for _ in gen():
        assert trace.get_current_span() is trace.INVALID_SPAN
    span = only_span(spans, "gen")
    assert seen == [span.context.span_id] * 2


def test_consumer_spans_are_not_children(perf, spans) -> None:
    inner = PerformanceMonitor()

    @inner.monitor(name="consumer.step")
    def step() -> None:
        pass

    @perf.monitor(name="gen")
    def gen() -> Generator[int, None, None]:
        yield 1
        yield 2

    for _ in gen():
        step()
    steps = [s for s in spans.get_finished_spans() if s.name == "consumer.step"]
    assert len(steps) == 2 and all(s.parent is None for s in steps)


def test_send_throw_and_return_value_pass_through(perf, spans) -> None:
    @perf.monitor(name="acc")
    def accumulate() -> Generator[int, int, str]:
        total = 0
        while True:
            try:
                value = yield total
            except ValueError:
                total = -1
                continue
            if value is None:
                return f"total={total}"
            total += value

    gen = accumulate()
    assert inspect.isgeneratorfunction(accumulate)
    assert next(gen) == 0
    assert gen.send(5) == 5
    assert gen.send(2) == 7
    assert gen.throw(ValueError("reset")) == -1
    with pytest.raises(StopIteration) as stop:
        gen.send(None)
    assert stop.value.value == "total=-1"
    span = only_span(spans, "acc")
    assert span.status.status_code is StatusCode.UNSET
    assert perf.get_metrics()[0].error is None


def test_close_is_not_an_error_and_runs_finally(perf, spans, metric_probe) -> None:
    cleaned: list[bool] = []

    @perf.monitor(name="stream")
    def stream() -> Generator[int, None, None]:
        try:
            yield from range(100)
        finally:
            cleaned.append(True)

    gen = stream()
    assert next(gen) == 0
    gen.close()
    assert cleaned == [True]
    span = only_span(spans, "stream")
    assert span.status.status_code is StatusCode.UNSET
    (metric,) = perf.get_metrics()
    assert metric.error is None
    qualified = f"{__name__}.{stream.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1)


def test_error_inside_generator(perf, spans) -> None:
    error = RuntimeError("bad row")

    @perf.monitor(name="rows")
    def rows() -> Generator[int, None, None]:
        yield 1
        raise error

    gen = rows()
    assert next(gen) == 1
    with pytest.raises(RuntimeError) as caught:
        next(gen)
    assert caught.value is error
    span = only_span(spans, "rows")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "RuntimeError"
    assert perf.get_metrics()[0].error == "RuntimeError"


def test_unhandled_thrown_exception_is_an_error(perf, spans) -> None:
    @perf.monitor(name="g")
    def g() -> Generator[int, None, None]:
        yield 1

    gen = g()
    next(gen)
    with pytest.raises(KeyError):
        gen.throw(KeyError("k"))
    assert only_span(spans, "g").attributes["error.type"] == "KeyError"


def test_abandoned_generator_is_recorded_when_collected(perf, spans) -> None:
    @perf.monitor(name="abandoned")
    def abandoned() -> Generator[int, None, None]:
        yield 1
        yield 2

    gen = abandoned()
    next(gen)
    del gen
    assert only_span(spans, "abandoned").status.status_code is StatusCode.UNSET
    assert perf.get_stats()["count"] == 1
