"""@monitor on async generator functions."""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import AsyncGenerator

import pytest
from opentelemetry import trace
from opentelemetry.trace import StatusCode

from harness.monitor import assert_duration_point, duration_points, only_span


async def test_timed_over_steps_and_span_not_current_outside(perf, spans, metric_probe) -> None:
    seen: list[int] = []

    @perf.monitor(name="ticks")
    async def ticks(n: int) -> AsyncGenerator[int, None]:
        for i in range(n):
            await asyncio.sleep(0.01)
            seen.append(trace.get_current_span().get_span_context().span_id)
            yield i

    assert inspect.isasyncgenfunction(ticks)
    agen = ticks(3)
    assert perf.get_metrics() == []
    received = []
    async for value in agen:
        assert trace.get_current_span() is trace.INVALID_SPAN
        await asyncio.sleep(0.02)
        received.append(value)
    assert received == [0, 1, 2]
    span = only_span(spans, "ticks")
    assert seen == [span.context.span_id] * 3
    (metric,) = perf.get_metrics()
    assert 0.03 <= metric.execution_time < 0.06
    assert (span.end_time - span.start_time) / 1e9 >= 0.08
    qualified = f"{__name__}.{ticks.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, total=metric.execution_time)


async def test_asend_athrow_pass_through(perf, spans) -> None:
    @perf.monitor(name="echo")
    async def echo() -> AsyncGenerator[str, str]:
        reply = "ready"
        while True:
            try:
                received = yield reply
            except ValueError as exc:
                reply = f"caught {exc}"
                continue
            reply = f"got {received}"

    agen = echo()
    assert await agen.asend(None) == "ready"
    assert await agen.asend("a") == "got a"
    assert await agen.athrow(ValueError("v")) == "caught v"
    await agen.aclose()
    span = only_span(spans, "echo")
    assert span.status.status_code is StatusCode.UNSET
    assert perf.get_metrics()[0].error is None


async def test_aclose_runs_cleanup_and_is_not_an_error(perf, spans) -> None:
    cleaned: list[bool] = []

    @perf.monitor(name="feed")
    async def feed() -> AsyncGenerator[int, None]:
        try:
            for i in range(100):
                yield i
        finally:
            await asyncio.sleep(0)
            cleaned.append(True)

    agen = feed()
    assert await agen.__anext__() == 0
    await agen.aclose()
    assert cleaned == [True]
    assert only_span(spans, "feed").status.status_code is StatusCode.UNSET
    assert perf.get_metrics()[0].error is None


async def test_error_inside_async_generator(perf, spans, metric_probe) -> None:
    error = OSError("disk")

    @perf.monitor(name="read")
    async def read() -> AsyncGenerator[int, None]:
        yield 1
        raise error

    agen = read()
    assert await agen.__anext__() == 1
    with pytest.raises(OSError) as caught:
        await agen.__anext__()
    assert caught.value is error
    span = only_span(spans, "read")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "OSError"
    qualified = f"{__name__}.{read.__qualname__}"
    (point,) = duration_points(metric_probe, qualified)
    assert_duration_point(point, count=1, error="OSError")


async def test_cancelled_consumer_is_not_an_error(perf, spans) -> None:
    started = asyncio.Event()

    @perf.monitor(name="waits")
    async def waits() -> AsyncGenerator[int, None]:
        started.set()
        await asyncio.sleep(10)
        yield 1

    async def consume() -> None:
        async for _ in waits():
            pass

    task = asyncio.create_task(consume())
    await started.wait()
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert only_span(spans, "waits").status.status_code is StatusCode.UNSET
    assert perf.get_metrics()[0].error is None


def burn_cpu(seconds: float) -> None:
    end = time.thread_time() + seconds
    while time.thread_time() < end:
        pass


async def test_cpu_time_counts_only_the_generators_own_steps(perf) -> None:
    @perf.monitor(name="producer")
    async def producer() -> AsyncGenerator[int, None]:
        burn_cpu(0.002)
        await asyncio.sleep(0.02)
        burn_cpu(0.002)
        yield 1

    async def consume() -> list[int]:
        return [item async for item in producer()]

    assert await asyncio.gather(*(consume() for _ in range(20))) == [[1]] * 20
    metrics = perf.get_metrics("producer")
    assert len(metrics) == 20
    for metric in metrics:
        # Its own 4 ms; reading the CPU clock around each whole ``asend`` also counted
        # what the other 19 consumers' generators burnt meanwhile.
        assert 0.0039 <= metric.cpu_time < 0.015, metric
        assert metric.execution_time >= 0.02
