"""The telemetry names table of the product contract, signal by signal, in one fresh process.

Every feature runs once under an SDK tracer provider (in-memory exporter) and meter
provider (in-memory reader); each span and metric is compared with the table: name, kind,
unit, buckets, attribute keys, instrumentation scope and its version. The names are
written out here, not read from ``semconv``: this is the check that ``semconv`` says them.
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from codomyrmex.performance.telemetry import DURATION_BUCKETS
from codomyrmex.performance.version import __version__
from harness.subprocesses import run_python

WORKLOAD = """
import json, time
from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
tracer_provider = TracerProvider()
tracer_provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(tracer_provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))

from codomyrmex.performance import (
    BenchmarkSuite, CacheManager, lazy_import, monitor, run_benchmark,
)

@monitor
def work():
    return 1

@monitor(name="checkout.failing")
def failing():
    raise KeyError("missing")

work()
try:
    failing()
except KeyError:
    pass

cache = CacheManager(ttl_seconds=0.05, max_size=1, name="names")
cache.get("a")
cache.set("a", 1)
cache.get("a")
cache.set("b", 2)          # evicts "a" by size
time.sleep(0.1)
cache.get("b")             # expired: a ttl eviction and a miss

lazy_import("colorsys").hsv_to_rgb
try:
    lazy_import("codomyrmex_no_such_module").anything
except ImportError:
    pass

suite = BenchmarkSuite("names")

@suite.add
def noop():
    pass

baseline = BenchmarkSuite("names")
baseline.add(lambda: None, name="noop")
run_benchmark(suite, baseline=baseline, rounds=5, min_time=0.0005)

spans = [
    {
        "name": span.name,
        "kind": span.kind.name,
        "status": span.status.status_code.name,
        "scope": [span.instrumentation_scope.name, span.instrumentation_scope.version],
        "parent": span.parent.span_id if span.parent else None,
        "id": span.context.span_id,
        "attributes": dict(span.attributes),
    }
    for span in exporter.get_finished_spans()
]
points = []
for resource_metrics in reader.get_metrics_data().resource_metrics:
    for scope_metrics in resource_metrics.scope_metrics:
        for metric in scope_metrics.metrics:
            for point in metric.data.data_points:
                points.append({
                    "name": metric.name,
                    "type": type(metric.data).__name__,
                    "monotonic": getattr(metric.data, "is_monotonic", None),
                    "unit": metric.unit,
                    "scope": [scope_metrics.scope.name, scope_metrics.scope.version],
                    "bounds": list(getattr(point, "explicit_bounds", None) or []),
                    "count": getattr(point, "count", None),
                    "attributes": dict(point.attributes),
                })
print(json.dumps({"spans": spans, "points": points}))
"""

SCOPE = ["codomyrmex.performance", __version__]
CALL_ATTRIBUTES = {"code.function.name", "code.file.path", "code.line.number"}
BENCHMARK_ATTRIBUTES = {"codomyrmex.benchmark.name", "codomyrmex.benchmark.suite"}
#: Per-run values: on benchmark spans, never on metric points.
RUN_IDS = {
    "codomyrmex.benchmark.commit",
    "codomyrmex.benchmark.verdict",
    "codomyrmex.benchmark.ratio",
    "codomyrmex.benchmark.ci_low",
    "codomyrmex.benchmark.ci_high",
}


@pytest.fixture(scope="module")
def telemetry() -> dict[str, list[dict[str, Any]]]:
    finished = run_python(WORKLOAD, env={"OTEL_METRICS_EXEMPLAR_FILTER": "always_off"})
    assert finished.returncode == 0, finished.stderr
    recorded: dict[str, list[dict[str, Any]]] = json.loads(finished.stdout)
    return recorded


def spans_named(telemetry: dict[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    found = [span for span in telemetry["spans"] if span["name"] == name]
    assert found, (name, [span["name"] for span in telemetry["spans"]])
    return found


def points_named(telemetry: dict[str, list[dict[str, Any]]], name: str) -> list[dict[str, Any]]:
    found = [point for point in telemetry["points"] if point["name"] == name]
    assert found, (name, sorted({point["name"] for point in telemetry["points"]}))
    return found


def test_every_span_and_point_is_in_the_package_scope(
    telemetry: dict[str, list[dict[str, Any]]],
) -> None:
    assert {tuple(span["scope"]) for span in telemetry["spans"]} == {tuple(SCOPE)}
    assert {tuple(point["scope"]) for point in telemetry["points"]} == {tuple(SCOPE)}
    assert {span["kind"] for span in telemetry["spans"]} == {"INTERNAL"}


def test_call_spans_and_duration(telemetry: dict[str, list[dict[str, Any]]]) -> None:
    (ok,) = spans_named(telemetry, "__main__.work")
    (failed,) = spans_named(telemetry, "checkout.failing")
    assert (ok["status"], set(ok["attributes"])) == ("UNSET", CALL_ATTRIBUTES)
    assert ok["attributes"]["code.function.name"] == "__main__.work"
    assert (failed["status"], set(failed["attributes"])) == (
        "ERROR",
        CALL_ATTRIBUTES | {"error.type"},
    )
    assert failed["attributes"]["error.type"] == "KeyError"
    assert failed["attributes"]["code.function.name"] == "__main__.failing"  # name= is the span's
    points = points_named(telemetry, "codomyrmex.function.duration")
    assert sorted((p["type"], p["unit"], p["count"]) for p in points) == [("Histogram", "s", 1)] * 2
    assert all(p["bounds"] == list(DURATION_BUCKETS) for p in points)
    assert DURATION_BUCKETS[0] < 0.001 < 1.0 < DURATION_BUCKETS[-1]  # second-scale buckets
    assert sorted(json.dumps(p["attributes"], sort_keys=True) for p in points) == sorted(
        json.dumps(attributes, sort_keys=True)
        for attributes in (
            {"code.function.name": "__main__.work"},
            {"code.function.name": "__main__.failing", "error.type": "KeyError"},
        )
    )


def test_cache_counters(telemetry: dict[str, list[dict[str, Any]]]) -> None:
    requests = points_named(telemetry, "codomyrmex.cache.requests")
    evictions = points_named(telemetry, "codomyrmex.cache.evictions")
    (entries,) = points_named(telemetry, "codomyrmex.cache.entries")
    assert {(p["type"], p["monotonic"], p["unit"]) for p in requests} == {
        ("Sum", True, "{request}")
    }
    assert {(p["type"], p["monotonic"], p["unit"]) for p in evictions} == {("Sum", True, "{entry}")}
    assert (entries["type"], entries["monotonic"], entries["unit"]) == ("Sum", False, "{entry}")
    assert entries["attributes"] == {"codomyrmex.cache.name": "names"}
    counted = {p["attributes"]["codomyrmex.cache.result"]: p for p in requests if p["attributes"]}
    assert {
        result: set(p["attributes"]) for result, p in counted.items() if result in ("hit", "miss")
    } == {
        "hit": {"codomyrmex.cache.name", "codomyrmex.cache.result"},
        "miss": {"codomyrmex.cache.name", "codomyrmex.cache.result"},
    }
    reasons = {p["attributes"]["codomyrmex.cache.reason"] for p in evictions}
    assert reasons == {"size", "ttl"}
    assert all(
        set(p["attributes"]) == {"codomyrmex.cache.name", "codomyrmex.cache.reason"}
        for p in evictions
    )


def test_lazy_import_span_and_duration(telemetry: dict[str, list[dict[str, Any]]]) -> None:
    (ok,) = spans_named(telemetry, "import colorsys")
    (failed,) = spans_named(telemetry, "import codomyrmex_no_such_module")
    assert (ok["status"], ok["attributes"]) == ("UNSET", {"codomyrmex.module.name": "colorsys"})
    assert (failed["status"], failed["attributes"]) == (
        "ERROR",
        {
            "codomyrmex.module.name": "codomyrmex_no_such_module",
            "error.type": "ModuleNotFoundError",
        },
    )
    points = points_named(telemetry, "codomyrmex.import.duration")
    assert {(p["type"], p["unit"], p["count"]) for p in points} == {("Histogram", "s", 1)}
    assert sorted(json.dumps(p["attributes"], sort_keys=True) for p in points) == sorted(
        json.dumps(attributes, sort_keys=True)
        for attributes in (
            {"codomyrmex.module.name": "colorsys"},
            {
                "codomyrmex.module.name": "codomyrmex_no_such_module",
                "error.type": "ModuleNotFoundError",
            },
        )
    )


def test_benchmark_spans_carry_the_run_and_the_histogram_only_names(
    telemetry: dict[str, list[dict[str, Any]]],
) -> None:
    (run,) = spans_named(telemetry, "benchmark names")
    (child,) = [span for span in telemetry["spans"] if span["parent"] == run["id"]]
    assert child["name"] == "benchmark names.noop"
    assert child["attributes"]["codomyrmex.benchmark.suite"] == "names"
    assert child["attributes"]["codomyrmex.benchmark.name"] == "noop"
    assert set(child["attributes"]) >= RUN_IDS, sorted(child["attributes"])
    (point,) = points_named(telemetry, "codomyrmex.benchmark.duration")
    assert (point["type"], point["unit"], point["count"]) == ("Histogram", "s", 5)
    assert point["bounds"] == list(DURATION_BUCKETS)
    assert point["attributes"] == {
        "codomyrmex.benchmark.name": "noop",
        "codomyrmex.benchmark.suite": "names",
    }
    assert set(point["attributes"]) == BENCHMARK_ATTRIBUTES


def test_no_metric_point_carries_a_per_run_value(
    telemetry: dict[str, list[dict[str, Any]]],
) -> None:
    keys = {key for point in telemetry["points"] for key in point["attributes"]}
    assert not keys & (RUN_IDS | {"codomyrmex.benchmark.run_id"}), sorted(keys)
    assert not any(key.startswith(("trace", "span")) for key in keys), sorted(keys)
