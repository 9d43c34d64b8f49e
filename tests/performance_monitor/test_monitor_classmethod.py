"""@monitor with @classmethod, in both decorator orders."""

from __future__ import annotations

import inspect

from codomyrmex.performance.performance_monitor import PerformanceMonitor


def make_class(perf: PerformanceMonitor) -> type:
    class Factory:
        prefix = "f"

        @classmethod
        @perf.monitor
        def inner(cls, value: int) -> str:
            """Inner order."""
            return f"{cls.prefix}{value}"

        @perf.monitor
        @classmethod
        def outer(cls, value: int) -> str:
            """Outer order."""
            return f"{cls.prefix}{value}"

    return Factory


def test_monitor_inside_classmethod(perf, spans) -> None:
    factory = make_class(perf)
    assert factory.inner(1) == "f1"
    assert factory().inner(2) == "f2"
    qualified = f"{__name__}.make_class.<locals>.Factory.inner"
    assert perf.get_stats(qualified)["count"] == 2
    assert [s.name for s in spans.get_finished_spans()] == [qualified, qualified]


def test_monitor_outside_classmethod(perf, spans) -> None:
    factory = make_class(perf)
    assert isinstance(factory.__dict__["outer"], classmethod)
    assert factory.outer(3) == "f3"
    assert factory().outer(4) == "f4"
    qualified = f"{__name__}.make_class.<locals>.Factory.outer"
    assert perf.get_stats(qualified)["count"] == 2
    assert [s.name for s in spans.get_finished_spans()] == [qualified, qualified]


def test_subclass_binds_its_own_class(perf) -> None:
    factory = make_class(perf)

    class Special(factory):  # type: ignore[misc, valid-type]
        prefix = "s"

    assert Special.inner(1) == "s1"
    assert Special.outer(1) == "s1"


def test_metadata_in_both_orders(perf) -> None:
    factory = make_class(perf)
    assert factory.inner.__doc__ == "Inner order."
    assert factory.outer.__doc__ == "Outer order."
    assert list(inspect.signature(factory.inner).parameters) == ["value"]
    assert list(inspect.signature(factory.outer).parameters) == ["value"]
