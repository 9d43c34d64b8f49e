"""PerformanceMonitor.track_execution: one recorded call, result and metrics."""

from __future__ import annotations

import pytest

from harness.monitor import only_span


def scale(values: list[int], *, factor: int) -> list[int]:
    return [v * factor for v in values]


def test_returns_result_and_metrics(perf, spans) -> None:
    result, metrics = perf.track_execution(scale, [1, 2], factor=3)
    assert result == [3, 6]
    qualified = f"{__name__}.scale"
    assert metrics.function_name == qualified
    assert metrics.execution_time > 0
    span = only_span(spans, qualified)
    assert span.attributes["code.function.name"] == qualified
    assert span.attributes["code.line.number"] == scale.__code__.co_firstlineno
    assert metrics.trace_id == format(span.context.trace_id, "032x")
    assert perf.get_metrics() == [metrics]


def test_exception_propagates_and_is_recorded(perf) -> None:
    with pytest.raises(ZeroDivisionError):
        perf.track_execution(divmod, 1, 0)
    (metrics,) = perf.get_metrics()
    assert metrics.error == "ZeroDivisionError"
    assert metrics.function_name == "builtins.divmod"


def test_rejects_non_callables_and_async(perf) -> None:
    async def coroutine() -> None:
        pass

    def generator():  # type: ignore[no-untyped-def]
        yield 1

    with pytest.raises(TypeError):
        perf.track_execution(42)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="synchronous"):
        perf.track_execution(coroutine)
    with pytest.raises(TypeError, match="synchronous"):
        perf.track_execution(generator)
    assert perf.get_metrics() == []
