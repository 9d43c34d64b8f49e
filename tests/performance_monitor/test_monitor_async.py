"""@monitor on coroutine functions."""

from __future__ import annotations

import asyncio
import inspect
import time

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from harness.monitor import assert_duration_point, duration_points, only_span


async def test_timed_over_the_await_not_the_creation(perf, spans, metric_probe) -> None:
    @perf.monitor(name="fetch")
    async def fetch(delay: float) -> str:
        await asyncio.sleep(delay)
        return "done"

    coroutine = fetch(0.05)
    await asyncio.sleep(0.05)
    assert perf.get_metrics() == []
    assert await coroutine == "done"
    (metric,) = perf.get_metrics()
    assert 0.05 <= metric.execution_time < 0.09
    span = only_span(spans, "fetch")
    assert (span.end_time - span.start_time) / 1e9 >= 0.05
    qualified = f"{__name__}.{fetch.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, total=metric.execution_time)


async def test_wrapper_stays_a_coroutine_function(perf) -> None:
    async def source(a: int, *, b: int = 2) -> int:
        """Async docs."""
        return a + b

    wrapped = perf.monitor(source)
    assert inspect.iscoroutinefunction(wrapped)
    assert wrapped.__doc__ == "Async docs."
    assert inspect.signature(wrapped) == inspect.signature(source)
    assert await wrapped(1) == 3


async def test_span_is_current_inside_and_parents_children(perf, spans) -> None:
    @perf.monitor(name="child")
    async def child() -> int:
        return trace.get_current_span().get_span_context().span_id

    @perf.monitor(name="parent")
    async def parent() -> tuple[int, int]:
        await asyncio.sleep(0)
        return trace.get_current_span().get_span_context().span_id, await child()

    parent_id, child_id = await parent()
    assert only_span(spans, "parent").context.span_id == parent_id
    child_span = only_span(spans, "child")
    assert child_span.context.span_id == child_id
    assert child_span.parent is not None and child_span.parent.span_id == parent_id
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_concurrent_tasks_keep_separate_spans(perf, spans) -> None:
    @perf.monitor(name="job")
    async def job(i: int) -> int:
        await asyncio.sleep(0.01 * (3 - i))
        return trace.get_current_span().get_span_context().span_id

    ids = await asyncio.gather(*(job(i) for i in range(3)))
    finished = [s for s in spans.get_finished_spans() if s.name == "job"]
    assert sorted(ids) == sorted(s.context.span_id for s in finished)
    assert all(s.parent is None for s in finished)


async def test_exception_unchanged_and_recorded(perf, spans, metric_probe) -> None:
    error = LookupError("missing")

    @perf.monitor(name="lookup")
    async def lookup() -> None:
        await asyncio.sleep(0)
        raise error

    with pytest.raises(LookupError) as caught:
        await lookup()
    assert caught.value is error
    span = only_span(spans, "lookup")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "LookupError"
    assert perf.get_metrics()[0].error == "LookupError"
    qualified = f"{__name__}.{lookup.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, error="LookupError")


async def test_cancellation_is_not_an_error(perf, spans, metric_probe) -> None:
    started = asyncio.Event()

    @perf.monitor(name="slow")
    async def slow() -> None:
        started.set()
        await asyncio.sleep(10)

    task = asyncio.create_task(slow())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    span = only_span(spans, "slow")
    assert span.status.status_code is StatusCode.UNSET
    assert "error.type" not in span.attributes
    (metric,) = perf.get_metrics()
    assert metric.error is None
    qualified = f"{__name__}.{slow.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1)


async def test_async_method(perf) -> None:
    class Client:
        @perf.monitor
        async def get(self, key: str) -> str:
            return key.upper()

    assert await Client().get("k") == "K"
    assert inspect.iscoroutinefunction(Client.get)
    assert perf.get_stats()["count"] == 1


def burn_cpu(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_cpu_time_counts_only_the_coroutines_own_steps(perf) -> None:
    @perf.monitor(name="worker")
    async def worker() -> None:
        burn_cpu(0.002)
        await asyncio.sleep(0.02)
        burn_cpu(0.002)

    await asyncio.gather(*(worker() for _ in range(20)))
    metrics = perf.get_metrics("worker")
    assert len(metrics) == 20
    for metric in metrics:
        # Its own 4 ms; the CPU clock read around the whole await also counted what
        # the 19 other tasks burnt while this one slept (tens of milliseconds).
        assert 0.0039 <= metric.cpu_time < 0.015, metric
        assert metric.execution_time >= 0.02


async def test_span_current_in_every_step_and_inherited_by_spawned_tasks(perf, spans) -> None:
    @perf.monitor(name="steps")
    async def steps() -> tuple[list[int], int]:
        seen = [trace.get_current_span().get_span_context().span_id]
        for _ in range(3):
            await asyncio.sleep(0)
            seen.append(trace.get_current_span().get_span_context().span_id)

        async def spawned() -> int:
            await asyncio.sleep(0)
            return trace.get_current_span().get_span_context().span_id

        return seen, await asyncio.create_task(spawned())

    seen, spawned_id = await steps()
    span_id = only_span(spans, "steps").context.span_id
    assert seen == [span_id] * 4
    assert spawned_id == span_id
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_closing_a_suspended_coroutine_runs_its_cleanup_and_records_once(perf, spans) -> None:
    cleaned: list[bool] = []
    gate = asyncio.get_running_loop().create_future()

    @perf.monitor(name="held")
    async def held() -> None:
        try:
            await gate
        finally:
            cleaned.append(trace.get_current_span().is_recording())

    coroutine = held()
    assert coroutine.send(None) is gate
    coroutine.close()
    gate.cancel()
    assert cleaned == [True]
    span = only_span(spans, "held")
    assert span.end_time is not None
    assert span.status.status_code is StatusCode.UNSET  # GeneratorExit is not an error
    assert "error.type" not in (span.attributes or {})
    (metrics,) = perf.get_metrics("held")
    assert metrics.error is None


async def test_error_after_a_thrown_exception_is_caught_inside(perf) -> None:
    @perf.monitor(name="retry")
    async def retry() -> str:
        try:
            await asyncio.sleep(10)
        except asyncio.CancelledError:
            return "recovered"
        return "slept"

    task = asyncio.create_task(retry())
    await asyncio.sleep(0)
    task.cancel()
    assert await task == "recovered"
    (metric,) = perf.get_metrics("retry")
    assert metric.error is None
