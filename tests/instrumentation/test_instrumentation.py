"""PerformanceInstrumentor in process: what gets wrapped, what @monitor parity means, undo."""

from __future__ import annotations

import logging
import sys
import textwrap
import uuid
from collections.abc import Iterator
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

import pytest
import tomllib
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.metrics import Histogram, MeterProvider
from opentelemetry.sdk.metrics.export import AggregationTemporality, InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import PerformanceInstrumentor, PerformanceMonitor, lazy_import
from codomyrmex.performance.package import _instruments
from codomyrmex.performance.performance_monitor import default_monitor

SHOP = """
from json import dumps  # imported, not defined here: '*' leaves it alone


def add(a, b):
    return a + b


def fail(message):
    raise ValueError(message)


async def fetch(value):
    return value


def _private():
    return "private"


class Cart:
    def __init__(self, items):
        self.items = list(items)

    def total(self):
        return sum(self.items)

    @classmethod
    def empty(cls):
        return cls([])

    @staticmethod
    def tax(amount):
        return amount / 5


class GiftCart(Cart):
    pass
"""


class Providers:
    """SDK providers of one test, to pass as ``tracer_provider=`` / ``meter_provider=``."""

    def __init__(self) -> None:
        self.exporter = InMemorySpanExporter()
        self.tracer_provider = TracerProvider()
        self.tracer_provider.add_span_processor(SimpleSpanProcessor(self.exporter))
        self.reader = InMemoryMetricReader(
            preferred_temporality={Histogram: AggregationTemporality.DELTA}
        )
        self.meter_provider = MeterProvider(metric_readers=[self.reader])

    def spans(self) -> list[ReadableSpan]:
        return list(self.exporter.get_finished_spans())

    def duration_points(self) -> list[dict[str, Any]]:
        data = self.reader.get_metrics_data()
        found: list[dict[str, Any]] = []
        for resource_metrics in data.resource_metrics if data else []:
            for scope_metrics in resource_metrics.scope_metrics:
                for metric in scope_metrics.metrics:
                    if metric.name == "codomyrmex.function.duration":
                        found.extend(
                            {"attributes": dict(p.attributes or {}), "count": p.count}
                            for p in metric.data.data_points
                        )
        return found


@pytest.fixture
def providers() -> Iterator[Providers]:
    made = Providers()
    yield made
    made.tracer_provider.shutdown()
    made.meter_provider.shutdown()


@pytest.fixture
def instrumentor() -> Iterator[PerformanceInstrumentor]:
    instance = PerformanceInstrumentor()
    yield instance
    if instance.is_instrumented_by_opentelemetry:
        instance.uninstrument()


@pytest.fixture
def shop(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A fresh, not yet imported module with functions and a class; yields its name."""
    name = f"instshop_{uuid.uuid4().hex[:10]}"
    (tmp_path / f"{name}.py").write_text(textwrap.dedent(SHOP))
    monkeypatch.syspath_prepend(str(tmp_path))
    yield name
    sys.modules.pop(name, None)


def import_module(name: str) -> Any:
    __import__(name)
    return sys.modules[name]


def test_registered_under_the_agents_entry_point() -> None:
    (entry_point,) = [
        ep
        for ep in entry_points(group="opentelemetry_instrumentor")
        if ep.name == "codomyrmex_performance"
    ]
    assert entry_point.load() is PerformanceInstrumentor
    assert list(PerformanceInstrumentor().instrumentation_dependencies()) == []


def test_dependencies_are_the_empty_instruments_extra_of_package_py() -> None:
    with (Path(__file__).parents[2] / "pyproject.toml").open("rb") as file:
        extras = tomllib.load(file)["project"]["optional-dependencies"]
    assert extras["instruments"] == []
    dependencies = PerformanceInstrumentor().instrumentation_dependencies()
    assert dependencies is _instruments
    assert list(dependencies) == extras["instruments"]


def test_functions_and_methods_are_wrapped_and_restored_by_identity(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    cart_dict = vars(module.Cart)
    originals = {
        "add": module.add,
        "total": cart_dict["total"],
        "empty": cart_dict["empty"],
        "tax": cart_dict["tax"],
    }
    instrumentor.instrument(
        targets=[f"{shop}:add", f"{shop}:Cart.total", f"{shop}:Cart.empty", f"{shop}:Cart.tax"],
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    assert module.add is not originals["add"]
    assert module.add(2, 3) == 5
    cart = module.Cart([1, 2])
    assert cart.total() == 3
    assert module.Cart.total(cart) == 3
    assert module.Cart.empty().items == []
    assert cart.empty().items == []
    assert module.Cart.tax(10) == 2
    assert cart.tax(5) == 1
    assert [s.name for s in providers.spans()] == [
        f"{shop}.add",
        f"{shop}.Cart.total",
        f"{shop}.Cart.total",
        f"{shop}.Cart.empty",
        f"{shop}.Cart.empty",
        f"{shop}.Cart.tax",
        f"{shop}.Cart.tax",
    ]
    instrumentor.uninstrument()
    assert module.add is originals["add"]
    assert vars(module.Cart)["total"] is originals["total"]
    assert vars(module.Cart)["empty"] is originals["empty"]
    assert vars(module.Cart)["tax"] is originals["tax"]
    module.add(1, 1)
    assert len(providers.spans()) == 7


def test_spans_and_metrics_are_exactly_those_of_monitor(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    original = module.add
    instrumentor.instrument(
        targets=f"{shop}:add",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    module.add(1, 2)
    (instrumented_points,) = providers.duration_points()
    instrumentor.uninstrument()
    decorated = PerformanceMonitor(
        tracer_provider=providers.tracer_provider, meter_provider=providers.meter_provider
    ).monitor(original)
    decorated(1, 2)
    (decorated_points,) = providers.duration_points()
    by_wrapper, by_decorator = providers.spans()
    assert by_wrapper.name == by_decorator.name == f"{shop}.add"
    assert by_wrapper.kind is by_decorator.kind is SpanKind.INTERNAL
    assert dict(by_wrapper.attributes or {}) == dict(by_decorator.attributes or {})
    assert dict(by_wrapper.attributes or {}) == {
        "code.function.name": f"{shop}.add",
        "code.file.path": original.__code__.co_filename,
        "code.line.number": original.__code__.co_firstlineno,
    }
    assert by_wrapper.instrumentation_scope == by_decorator.instrumentation_scope
    assert instrumented_points == decorated_points
    assert instrumented_points == {
        "attributes": {"code.function.name": f"{shop}.add"},
        "count": 1,
    }


def test_exception_comes_out_unchanged_and_marks_the_span(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    instrumentor.instrument(
        targets=f"{shop}:fail",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    with pytest.raises(ValueError, match="out of stock") as raised:
        module.fail("out of stock")
    assert type(raised.value) is ValueError
    (span,) = providers.spans()
    assert span.status.status_code is StatusCode.ERROR
    assert (span.attributes or {})["error.type"] == "ValueError"
    (point,) = providers.duration_points()
    assert point["attributes"] == {"code.function.name": f"{shop}.fail", "error.type": "ValueError"}


async def test_coroutine_function_is_timed_over_its_await(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    instrumentor.instrument(
        targets=f"{shop}:fetch",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    assert await module.fetch(7) == 7
    assert [s.name for s in providers.spans()] == [f"{shop}.fetch"]


def test_module_imported_later_is_wrapped_when_imported(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    instrumentor.instrument(
        targets=f"{shop}:add",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    assert shop not in sys.modules
    module = import_module(shop)
    assert module.add(1, 1) == 2
    assert [s.name for s in providers.spans()] == [f"{shop}.add"]


def test_module_loaded_through_lazy_import_is_wrapped_too(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    instrumentor.instrument(
        targets=f"{shop}:add",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    handle = lazy_import(shop)
    assert handle.add(2, 2) == 4
    assert sys.modules[shop] is handle
    assert [s.name for s in providers.spans()] == [f"{shop}.add"]


def test_uninstrument_before_the_import_cancels_the_pending_hook(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    instrumentor.instrument(
        targets=f"{shop}:add",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    instrumentor.uninstrument()
    module = import_module(shop)
    assert not hasattr(module.add, "__wrapped__")
    module.add(1, 1)
    assert providers.spans() == []


def test_star_wraps_public_functions_defined_in_the_module(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    untouched = {"_private": module._private, "dumps": module.dumps, "Cart": module.Cart}
    instrumentor.instrument(
        targets=f"{shop}:*",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    for name in ("add", "fail", "fetch"):
        assert hasattr(getattr(module, name), "__wrapped__"), name
    for name, value in untouched.items():
        assert getattr(module, name) is value, name


def test_inherited_method_is_wrapped_on_the_subclass_and_removed_again(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    instrumentor.instrument(
        targets=f"{shop}:GiftCart.total",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    assert module.GiftCart([1]).total() == 1
    assert module.Cart([1]).total() == 1  # the base class is not touched
    assert [s.name for s in providers.spans()] == [f"{shop}.Cart.total"]
    instrumentor.uninstrument()
    assert "total" not in vars(module.GiftCart)


def test_listing_a_function_twice_wraps_it_once(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    instrumentor.instrument(
        targets=f"{shop}:add,{shop}:*,{shop}:add",
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    module.add(1, 2)
    assert len(providers.spans()) == 1


def test_bad_entries_warn_once_each_and_good_ones_still_apply(
    instrumentor: PerformanceInstrumentor,
    providers: Providers,
    shop: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    module = import_module(shop)
    bad = [
        "no_colon",
        f"{shop}:",
        ":add",
        "1bad.module:add",
        f"{shop}:Cart.",
        f"{shop}:nope",
        f"{shop}:Nope.method",
        f"{shop}:Cart.nope",
        "instshop_absent_module:add",
        f"{shop}.absent_sub:add",
        f"{shop}:Cart",
        f"{shop}:dumps.__name__",
    ]
    with caplog.at_level(logging.WARNING, logger="codomyrmex.performance.instrumentation"):
        instrumentor.instrument(
            targets=[*bad, f"{shop}:add"],
            tracer_provider=providers.tracer_provider,
            meter_provider=providers.meter_provider,
        )
    messages = [r.getMessage() for r in caplog.records]
    assert len(messages) == len(bad), messages
    for entry, message in zip(bad, messages, strict=True):
        assert f"entry {entry!r} skipped" in message
    assert module.add(1, 2) == 3
    assert [s.name for s in providers.spans()] == [f"{shop}.add"]


def test_no_arguments_read_the_environment_and_follow_the_global_providers(
    instrumentor: PerformanceInstrumentor,
    shop: str,
    spans: InMemorySpanExporter,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("CODOMYRMEX_PERF_INSTRUMENT", f" {shop}:add , {shop}:Cart.total ")
    instrumentor.instrument()
    module = import_module(shop)
    module.add(1, 2)
    module.Cart([4]).total()
    names = [s.name for s in spans.get_finished_spans()]
    assert names == [f"{shop}.add", f"{shop}.Cart.total"]
    history = default_monitor().get_metrics(f"{shop}.add")
    assert history and history[-1].function_name == f"{shop}.add"


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"targets": 5},
            "targets must be a comma-separated string or an iterable of strings, not int",
        ),
        (
            {"targets": b"m:f"},
            "targets must be a comma-separated string or an iterable of strings, not bytes",
        ),
        ({"targets": ["m:f", 3]}, "targets must hold 'pkg.module:function' strings, got int 3"),
        (
            {"tracer_provider": object()},
            "tracer_provider must be an OpenTelemetry provider with get_tracer(), not object",
        ),
        (
            {"meter_provider": "provider"},
            "meter_provider must be an OpenTelemetry provider with get_meter(), not str",
        ),
        (
            {"tracer_provider": NoOpMeterProvider()},
            "tracer_provider must be an OpenTelemetry "
            "provider with get_tracer(), not NoOpMeterProvider",
        ),
    ],
)
def test_wrong_argument_types_raise_type_error_at_instrument_time(
    instrumentor: PerformanceInstrumentor, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(TypeError) as raised:
        instrumentor.instrument(**kwargs)
    assert str(raised.value) == message
    assert not instrumentor.is_instrumented_by_opentelemetry


def test_targets_may_be_any_iterable_of_strings(
    instrumentor: PerformanceInstrumentor, providers: Providers, shop: str
) -> None:
    module = import_module(shop)
    instrumentor.instrument(
        targets=(entry for entry in [f"{shop}:add", f"{shop}:Cart.total"]),
        tracer_provider=providers.tracer_provider,
        meter_provider=providers.meter_provider,
    )
    module.add(1, 2)
    module.Cart([1]).total()
    assert [s.name for s in providers.spans()] == [f"{shop}.add", f"{shop}.Cart.total"]
