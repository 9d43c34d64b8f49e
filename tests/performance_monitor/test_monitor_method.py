"""@monitor on instance methods."""

from __future__ import annotations

import inspect

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.monitor import only_span


def make_class(perf: PerformanceMonitor) -> type:
    class Cart:
        def __init__(self) -> None:
            self.items: list[str] = []

        @perf.monitor
        def add(self, item: str, count: int = 1) -> int:
            """Add an item."""
            self.items.extend([item] * count)
            return len(self.items)

    return Cart


def test_method_binds_self_and_is_recorded(perf, spans) -> None:
    cart_class = make_class(perf)
    cart = cart_class()
    assert cart.add("apple", count=2) == 2
    assert cart.items == ["apple", "apple"]
    qualified = f"{__name__}.make_class.<locals>.Cart.add"
    span = only_span(spans, qualified)
    assert span.attributes["code.function.name"] == qualified
    assert [m.function_name for m in perf.get_metrics()] == [qualified]


def test_method_metadata_and_signature(perf) -> None:
    cart_class = make_class(perf)
    assert cart_class.add.__name__ == "add"
    assert cart_class.add.__doc__ == "Add an item."
    assert list(inspect.signature(cart_class.add).parameters) == ["self", "item", "count"]
    assert list(inspect.signature(cart_class().add).parameters) == ["item", "count"]


def test_method_called_through_the_class(perf) -> None:
    cart_class = make_class(perf)
    cart = cart_class()
    assert cart_class.add(cart, "pear") == 1
    assert perf.get_stats()["count"] == 1


def test_each_instance_call_is_one_record(perf) -> None:
    cart_class = make_class(perf)
    first, second = cart_class(), cart_class()
    first.add("a")
    second.add("b")
    second.add("c")
    assert perf.get_stats()["count"] == 3
