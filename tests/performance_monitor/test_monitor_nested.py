"""@monitor on nested functions and closures."""

from __future__ import annotations

from collections.abc import Callable

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.monitor import only_span


def make_counter(perf: PerformanceMonitor) -> Callable[[], int]:
    count = 0

    @perf.monitor
    def increment() -> int:
        nonlocal count
        count += 1
        return count

    return increment


def test_closure_state_and_qualified_name(perf, spans) -> None:
    increment = make_counter(perf)
    assert [increment(), increment()] == [1, 2]
    qualified = f"{__name__}.make_counter.<locals>.increment"
    assert [m.function_name for m in perf.get_metrics()] == [qualified, qualified]
    assert spans.get_finished_spans()[0].attributes["code.function.name"] == qualified


def test_each_closure_is_its_own_wrapper(perf) -> None:
    first, second = make_counter(perf), make_counter(perf)
    assert first() == 1
    assert second() == 1
    assert first() == 2
    assert first is not second


def test_recursive_monitored_function_nests_spans(perf, spans) -> None:
    @perf.monitor(name="fact")
    def fact(n: int) -> int:
        return 1 if n <= 1 else n * fact(n - 1)

    assert fact(4) == 24
    finished = spans.get_finished_spans()
    assert [s.name for s in finished] == ["fact"] * 4
    by_id = {s.context.span_id: s for s in finished}
    roots = [s for s in finished if s.parent is None]
    assert len(roots) == 1
    depth = 0
    for span in finished:
        node, level = span, 0
        while node.parent is not None:
            node, level = by_id[node.parent.span_id], level + 1
        depth = max(depth, level)
    assert depth == 3
    assert perf.get_stats("fact")["count"] == 4


def test_decorating_twice_nests(perf, spans) -> None:
    def base() -> str:
        return "x"

    twice = perf.monitor(name="outer")(perf.monitor(name="inner")(base))
    assert twice() == "x"
    inner = only_span(spans, "inner")
    outer = only_span(spans, "outer")
    assert inner.parent is not None and inner.parent.span_id == outer.context.span_id
    assert inner.attributes["code.line.number"] == base.__code__.co_firstlineno
