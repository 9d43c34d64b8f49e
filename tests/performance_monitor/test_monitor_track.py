"""PerformanceMonitor.track: a block recorded as one call, with and async with."""

from __future__ import annotations

import asyncio
import time

import pytest
from opentelemetry import trace
from opentelemetry.trace import SpanKind, StatusCode

from harness.monitor import assert_duration_point, only_span


def test_with_block(perf, spans, metric_probe) -> None:
    with perf.track("rebuild-index", shards=4, mode="full") as block:
        line = block_line = __import__("inspect").currentframe().f_lineno  # noqa: F841
        assert trace.get_current_span().get_span_context().span_id == (
            block.span.get_span_context().span_id
        )
        time.sleep(0.01)
    span = only_span(spans, "rebuild-index")
    assert span.kind is SpanKind.INTERNAL
    attributes = dict(span.attributes)
    assert attributes["shards"] == 4 and attributes["mode"] == "full"
    assert attributes["code.function.name"] == "rebuild-index"
    assert attributes["code.file.path"] == __file__
    assert attributes["code.line.number"] == block_line - 1
    metrics = block.metrics
    assert metrics.function_name == "rebuild-index"
    assert metrics.execution_time >= 0.01
    assert metrics.metadata == {"shards": 4, "mode": "full"}
    assert metrics.span_id == format(span.context.span_id, "016x")
    assert perf.get_metrics() == [metrics]
    (point,) = metric_probe.points(
        "codomyrmex.function.duration", **{"code.function.name": "rebuild-index"}
    )
    assert_duration_point(point, count=1, total=metrics.execution_time)
    assert trace.get_current_span() is trace.INVALID_SPAN


async def test_async_with_block(perf, spans) -> None:
    async with perf.track("download") as block:
        await asyncio.sleep(0.01)
    assert only_span(spans, "download").context.span_id == int(block.metrics.span_id, 16)
    assert block.metrics.execution_time >= 0.01


def test_error_in_block_propagates_and_is_recorded(perf, spans) -> None:
    error = KeyError("k")
    with pytest.raises(KeyError) as caught, perf.track("lookup") as block:
        raise error
    assert caught.value is error
    span = only_span(spans, "lookup")
    assert span.status.status_code is StatusCode.ERROR
    assert span.attributes["error.type"] == "KeyError"
    assert block.metrics.error == "KeyError"


async def test_cancelled_block_is_not_an_error(perf, spans) -> None:
    async def work() -> None:
        async with perf.track("cancellable"):
            await asyncio.sleep(10)

    task = asyncio.create_task(work())
    await asyncio.sleep(0.01)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert only_span(spans, "cancellable").status.status_code is StatusCode.UNSET
    assert perf.get_metrics()[0].error is None


def test_metrics_before_end_and_reentry(perf) -> None:
    block = perf.track("once")
    with pytest.raises(RuntimeError):
        _ = block.metrics
    with block, pytest.raises(RuntimeError):
        block.__enter__()
    assert block.metrics.function_name == "once"
    with block:
        pass
    assert perf.get_stats("once")["count"] == 2


@pytest.mark.parametrize(
    ("name", "error"), [(None, TypeError), (3, TypeError), ("", ValueError), ("  ", ValueError)]
)
def test_bad_name(perf, name, error) -> None:
    with pytest.raises(error):
        perf.track(name)


def test_bad_attribute_value(perf) -> None:
    with pytest.raises(TypeError, match="payload"):
        perf.track("x", payload={"nested": 1})
    with pytest.raises(TypeError):
        perf.track("x", items=[1, object()])


def test_tracked_blocks_names_what_track_recorded(perf) -> None:
    @perf.monitor
    def step() -> None:
        pass

    assert perf.tracked_blocks() == frozenset()
    with perf.track("nightly"):
        step()
    with perf.track("nightly"), perf.track("rebuild"):
        pass
    assert perf.tracked_blocks() == {"nightly", "rebuild"}
    assert {m.function_name for m in perf.get_metrics()} >= {"nightly", "rebuild"}
    perf.clear_metrics()
    assert perf.tracked_blocks() == frozenset()
