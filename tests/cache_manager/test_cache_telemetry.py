"""Cache telemetry: exact observable counter values, names, units, and no cost on hits."""

from __future__ import annotations

import logging
import sys
import time
from typing import Any

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance import CacheManager, cached_function, monitor
from codomyrmex.performance.telemetry import SCOPE_NAME, package_version
from harness.metrics import MetricsProbe
from harness.subprocesses import run_python

REQUESTS = "codomyrmex.cache.requests"
EVICTIONS = "codomyrmex.cache.evictions"
ENTRIES = "codomyrmex.cache.entries"
NAME = "codomyrmex.cache.name"


def values(probe: MetricsProbe, cache_name: str) -> dict[tuple[str, str], Any]:
    """One collection: {(metric, result-or-reason-or-""): value} for one cache."""
    found: dict[tuple[str, str], Any] = {}
    for point in probe.collect():
        if point.attributes.get(NAME) != cache_name:
            continue
        label = point.attributes.get("codomyrmex.cache.result") or point.attributes.get(
            "codomyrmex.cache.reason", ""
        )
        found[(point.name, label)] = point.point.value
    return found


def test_exact_counts_after_a_known_sequence(metric_probe: MetricsProbe) -> None:
    @cached_function(max_size=2, name="test-telemetry-sequence")
    def ident(x: Any) -> Any:
        return x

    ident(1)  # miss
    ident(1)  # hit
    ident(2)  # miss
    ident(1)  # hit (2 is now least recent)
    ident(3)  # miss, evicts 2
    ident(2)  # miss, evicts 1
    assert values(metric_probe, "test-telemetry-sequence") == {
        (REQUESTS, "hit"): 2,
        (REQUESTS, "miss"): 4,
        (REQUESTS, "error"): 0,
        (EVICTIONS, "size"): 2,
        (EVICTIONS, "ttl"): 0,
        (ENTRIES, ""): 2,
    }


def test_names_units_scope_and_attribute_types(metric_probe: MetricsProbe) -> None:
    @cached_function(name="test-telemetry-shape")
    def ident(x: Any) -> Any:
        return x

    ident(1)
    ident(1)
    points = [p for p in metric_probe.collect() if p.attributes.get(NAME) == "test-telemetry-shape"]
    units = {p.name: p.unit for p in points}
    assert units == {REQUESTS: "{request}", EVICTIONS: "{entry}", ENTRIES: "{entry}"}
    assert {(p.scope, p.scope_version) for p in points} == {(SCOPE_NAME, package_version())}
    assert {frozenset(p.attributes) for p in points if p.name == REQUESTS} == {
        frozenset({NAME, "codomyrmex.cache.result"})
    }
    assert {p.attributes["codomyrmex.cache.result"] for p in points if p.name == REQUESTS} == {
        "hit",
        "miss",
        "error",
    }
    assert {frozenset(p.attributes) for p in points if p.name == EVICTIONS} == {
        frozenset({NAME, "codomyrmex.cache.reason"})
    }
    assert {frozenset(p.attributes) for p in points if p.name == ENTRIES} == {frozenset({NAME})}
    assert all(type(p.point.value) is int for p in points)


def test_deltas_stay_monotonic_across_cache_clear(metric_probe: MetricsProbe) -> None:
    @cached_function(name="test-telemetry-clear")
    def ident(x: Any) -> Any:
        return x

    ident(1)
    ident(1)
    first = values(metric_probe, "test-telemetry-clear")
    assert (first[(REQUESTS, "hit")], first[(REQUESTS, "miss")]) == (1, 1)
    ident.cache_clear()
    assert ident.cache_info().hits == 0
    ident(1)  # miss again after the clear
    second = values(metric_probe, "test-telemetry-clear")
    assert (second[(REQUESTS, "hit")], second[(REQUESTS, "miss")]) == (0, 1)
    assert second[(ENTRIES, "")] == 1
    idle = values(metric_probe, "test-telemetry-clear")
    assert idle.get((REQUESTS, "hit"), 0) == 0
    assert idle.get((REQUESTS, "miss"), 0) == 0


def test_ttl_evictions_and_errors(metric_probe: MetricsProbe) -> None:
    class Opaque:
        __hash__ = None  # type: ignore[assignment]

    @cached_function(ttl=0.05, name="test-telemetry-ttl")
    def ident(x: Any) -> Any:
        return x

    ident(1)
    time.sleep(0.08)
    ident(1)
    ident(Opaque())
    got = values(metric_probe, "test-telemetry-ttl")
    assert got[(EVICTIONS, "ttl")] == 1
    assert got[(EVICTIONS, "size")] == 0
    assert got[(REQUESTS, "miss")] == 2
    assert got[(REQUESTS, "error")] == 1


def test_caches_with_the_same_name_are_summed(metric_probe: MetricsProbe) -> None:
    first = CacheManager(name="test-telemetry-twins")
    second = CacheManager(name="test-telemetry-twins")
    first.set(1, 1)
    second.set(1, 1)
    second.set(2, 2)
    first.get(1)
    second.get(1)
    second.get(9)
    got = values(metric_probe, "test-telemetry-twins")
    assert (got[(REQUESTS, "hit")], got[(REQUESTS, "miss")], got[(ENTRIES, "")]) == (2, 1, 3)


def test_hits_make_no_span_and_no_opentelemetry_call(spans: InMemorySpanExporter) -> None:
    @cached_function(name="test-telemetry-silent")
    def ident(x: Any, y: Any = None) -> Any:
        return x

    ident(1)
    ident("a", y=[1])
    called: set[str] = set()

    def profiler(frame: Any, event: str, arg: Any) -> None:
        if event == "call":
            called.add(frame.f_code.co_filename)
        elif event == "c_call":
            called.add(getattr(arg, "__module__", None) or "")

    sys.setprofile(profiler)
    try:
        for _ in range(100):
            ident(1)
            ident("a", y=[1])
    finally:
        sys.setprofile(None)
    assert not [name for name in called if "opentelemetry" in name]
    assert ident.cache_info().hits == 200
    assert spans.get_finished_spans() == ()


def test_miss_is_a_child_span_only_when_monitored(spans: InMemorySpanExporter) -> None:
    @cached_function(name="test-telemetry-monitored")
    @monitor
    def load(x: int) -> int:
        return x

    tracer = trace.get_tracer("test")
    with tracer.start_as_current_span("request") as parent:
        load(1)
        load(1)
        load(1)
    finished = spans.get_finished_spans()
    children = [s for s in finished if s.name != "request"]
    assert len(children) == 1  # the miss; the two hits made no span
    assert children[0].name.endswith("load")
    assert children[0].parent is not None
    assert children[0].parent.span_id == parent.get_span_context().span_id


def test_without_an_sdk_nothing_heavy_is_imported() -> None:
    result = run_python(
        """
        import sys
        import codomyrmex.performance.cache_manager as cm
        assert not any(m.startswith("opentelemetry") for m in sys.modules), "import"
        @cm.cached_function
        def f(x):
            return x
        assert f(1) == f(1) == 1
        assert f.cache_info().hits == 1
        assert not any(m.startswith("opentelemetry.sdk") for m in sys.modules)
        assert "redis" not in sys.modules
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"


def test_instruments_follow_a_provider_set_later() -> None:
    result = run_python(
        """
        from codomyrmex.performance import cached_function
        @cached_function(name="late")
        def f(x):
            return x
        f(1); f(1)
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        data = reader.get_metrics_data()
        got = {
            (m.name, p.attributes.get("codomyrmex.cache.result")): p.value
            for rm in data.resource_metrics for sm in rm.scope_metrics
            for m in sm.metrics for p in m.data.data_points
        }
        print(got[("codomyrmex.cache.requests", "hit")], got[("codomyrmex.cache.requests", "miss")])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]


class UnreadableCounts(Exception):
    """Raised by a cache whose counts cannot be read (fault injection)."""


class Unreadable:
    def totals(self) -> tuple[int, int, int]:
        raise UnreadableCounts("counts unreadable")


def test_an_unreadable_cache_is_reported_once_and_the_others_still_collect(
    metric_probe: MetricsProbe, caplog: pytest.LogCaptureFixture
) -> None:
    broken = CacheManager(name="test-telemetry-unreadable")
    broken._store.tally = Unreadable()  # type: ignore[assignment]
    healthy = CacheManager(name="test-telemetry-readable")
    healthy.set(1, 1)
    healthy.get(1)
    with caplog.at_level(logging.WARNING, logger="codomyrmex.performance"):
        first = values(metric_probe, "test-telemetry-readable")
        unreadable = values(metric_probe, "test-telemetry-unreadable")
    assert (first[(REQUESTS, "hit")], first[(ENTRIES, "")]) == (1, 1)
    assert (REQUESTS, "hit") not in unreadable
    assert unreadable[(ENTRIES, "")] == 0
    reports = [r for r in caplog.records if "UnreadableCounts" in r.getMessage()]
    assert len(reports) == 1
    assert "test-telemetry-unreadable" in reports[0].getMessage()


def test_instruments_appear_when_the_package_telemetry_imports_opentelemetry() -> None:
    result = run_python(
        """
        import sys
        from codomyrmex.performance import CacheManager, cached_function
        caches = [CacheManager(name=f"early-{i}") for i in range(50)]
        hooks = [f for f in sys.meta_path if type(f).__name__ == "_AfterImport"]
        assert len(hooks) == 1, hooks  # one import hook, however many caches

        @cached_function(name="early")
        def f(x):
            return x

        f(1); f(1)
        import codomyrmex.performance.telemetry  # imports opentelemetry.metrics itself
        assert not [f for f in sys.meta_path if type(f).__name__ == "_AfterImport"]
        from opentelemetry import metrics
        from opentelemetry.sdk.metrics import MeterProvider
        from opentelemetry.sdk.metrics.export import InMemoryMetricReader
        reader = InMemoryMetricReader()
        metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
        data = reader.get_metrics_data()
        got = {
            (m.name, p.attributes.get("codomyrmex.cache.result")): p.value
            for rm in data.resource_metrics for sm in rm.scope_metrics
            for m in sm.metrics for p in m.data.data_points
            if p.attributes.get("codomyrmex.cache.name") == "early"
        }
        print(got[("codomyrmex.cache.requests", "hit")], got[("codomyrmex.cache.requests", "miss")])
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["1", "1"]
    assert result.stderr == ""
