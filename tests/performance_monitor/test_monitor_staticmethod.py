"""@monitor with @staticmethod, in both decorator orders."""

from __future__ import annotations

import inspect

from codomyrmex.performance.performance_monitor import PerformanceMonitor


def make_class(perf: PerformanceMonitor) -> type:
    class Maths:
        @staticmethod
        @perf.monitor
        def inner(a: int, b: int) -> int:
            """Inner order."""
            return a * b

        @perf.monitor
        @staticmethod
        def outer(a: int, b: int) -> int:
            """Outer order."""
            return a - b

    return Maths


def test_monitor_inside_staticmethod(perf, spans) -> None:
    maths = make_class(perf)
    assert maths.inner(2, 3) == 6
    assert maths().inner(2, 4) == 8
    qualified = f"{__name__}.make_class.<locals>.Maths.inner"
    assert perf.get_stats(qualified)["count"] == 2
    assert [s.name for s in spans.get_finished_spans()] == [qualified, qualified]


def test_monitor_outside_staticmethod(perf, spans) -> None:
    maths = make_class(perf)
    assert isinstance(maths.__dict__["outer"], staticmethod)
    assert maths.outer(5, 3) == 2
    assert maths().outer(5, 4) == 1
    qualified = f"{__name__}.make_class.<locals>.Maths.outer"
    assert perf.get_stats(qualified)["count"] == 2
    assert [s.name for s in spans.get_finished_spans()] == [qualified, qualified]


def test_no_self_is_passed(perf) -> None:
    maths = make_class(perf)
    instance = maths()
    assert instance.inner(1, 1) == 1
    assert instance.outer(1, 1) == 0


def test_metadata_in_both_orders(perf) -> None:
    maths = make_class(perf)
    assert maths.inner.__doc__ == "Inner order."
    assert maths.outer.__doc__ == "Outer order."
    assert list(inspect.signature(maths.inner).parameters) == ["a", "b"]
    assert list(inspect.signature(maths.outer).parameters) == ["a", "b"]
