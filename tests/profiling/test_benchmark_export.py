"""Benchmark runs as OpenTelemetry spans and ``codomyrmex.benchmark.duration`` points."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import BenchmarkSuite, run_benchmark
from harness.otel_collector import OtelCollector
from harness.subprocesses import run_python

QUICK: dict[str, Any] = {"rounds": 6, "loops": 1, "warmup": 0}


def _suite(name: str, delay: float) -> BenchmarkSuite:
    suite = BenchmarkSuite(name)
    suite.add(lambda: time.sleep(delay), name="sleep")
    return suite


def test_suite_span_with_one_child_per_benchmark(spans: InMemorySpanExporter) -> None:
    suite = _suite("exported", 0.0005)

    @suite.add
    def broken() -> None:
        raise ZeroDivisionError("nope")

    run = run_benchmark(suite, baseline=_suite("old", 0.0005), **QUICK)
    finished = {s.name: s for s in spans.get_finished_spans()}
    assert set(finished) == {"benchmark exported", "benchmark exported.sleep",
                             "benchmark exported.broken"}  # fmt: skip
    root, child = finished["benchmark exported"], finished["benchmark exported.sleep"]
    assert root.kind == SpanKind.INTERNAL and root.parent is None
    assert child.parent is not None and child.parent.span_id == root.context.span_id
    assert root.instrumentation_scope.name == "codomyrmex.performance"
    assert root.attributes["codomyrmex.benchmark.suite"] == "exported"
    assert root.attributes["codomyrmex.benchmark.run_id"] == run.run_id
    assert root.attributes["codomyrmex.benchmark.failures"] == 1
    assert root.status.status_code == StatusCode.ERROR
    a = child.attributes
    assert a["codomyrmex.benchmark.name"] == "sleep"
    assert a["codomyrmex.benchmark.run_id"] == run.run_id
    assert a["codomyrmex.benchmark.rounds"] == 6 and a["codomyrmex.benchmark.iterations"] == 1
    result = run["sleep"]
    for key in ("min", "max", "mean", "median", "stdev", "iqr", "mad", "p95", "p99"):
        assert a[f"codomyrmex.benchmark.{key}"] == getattr(result, key)
    assert isinstance(a["codomyrmex.benchmark.ops_per_sec"], float)
    assert isinstance(a["codomyrmex.benchmark.outliers.high"], int)
    assert a["codomyrmex.benchmark.verdict"] == result.verdict
    assert a["codomyrmex.benchmark.ratio"] == result.comparison.ratio
    assert a["codomyrmex.benchmark.ci_low"] <= a["codomyrmex.benchmark.ci_high"]
    assert a["codomyrmex.benchmark.comparison.mode"] == "interleaved"
    assert isinstance(a["codomyrmex.benchmark.p_value"], float)
    if run.commit:
        assert a["codomyrmex.benchmark.commit"] == run.commit
    assert child.start_time >= root.start_time and child.end_time <= root.end_time
    assert child.end_time - child.start_time >= 6 * 2 * 0.0005 * 1e9  # covers the rounds
    broken_span = finished["benchmark exported.broken"]
    assert broken_span.status.status_code == StatusCode.ERROR
    assert broken_span.attributes["error.type"] == "ZeroDivisionError"
    assert "codomyrmex.benchmark.median" not in broken_span.attributes


def test_commit_comes_from_the_environment(spans: InMemorySpanExporter, monkeypatch: Any) -> None:
    monkeypatch.setenv("CODOMYRMEX_BENCH_COMMIT", "abc123")
    run_benchmark(_suite("commit", 0), **QUICK)
    for span in spans.get_finished_spans():
        assert span.attributes["codomyrmex.benchmark.commit"] == "abc123"


EXPORT_TO_FILES = """
import json, pathlib, time
from codomyrmex.performance import BenchmarkSuite, configure_telemetry, run_benchmark
out = pathlib.Path({out!r})
handle = configure_telemetry("bench-files", output_dir=out, metric_export_interval_millis=600000)
suite = BenchmarkSuite("files")
suite.add(lambda: time.sleep(0.0005), name="nap")
run_benchmark(suite, rounds=5, loops=1, warmup=0)
# Flushed before run_benchmark returned: read the files before shutdown.
print(json.dumps([(out / "traces.jsonl").read_text(), (out / "metrics.jsonl").read_text()]))
handle.shutdown()
"""


def _histogram_points(metrics_text: str, name: str) -> list[dict[str, Any]]:
    points = []
    for line in metrics_text.splitlines():
        for rm in json.loads(line).get("resourceMetrics", []):
            for sm in rm.get("scopeMetrics", []):
                for metric in sm.get("metrics", []):
                    if metric["name"] == name:
                        assert metric["unit"] == "s"
                        points.extend(metric["histogram"]["dataPoints"])
    return points


def test_histogram_points_and_spans_are_flushed_before_returning(tmp_path: Path) -> None:
    completed = run_python(EXPORT_TO_FILES.format(out=str(tmp_path)))
    assert completed.returncode == 0, completed.stderr
    traces, metrics_text = json.loads(completed.stdout.strip().splitlines()[-1])
    assert "benchmark files.nap" in traces and "benchmark files" in traces
    (point,) = _histogram_points(metrics_text, "codomyrmex.benchmark.duration")
    attributes = {a["key"]: a["value"]["stringValue"] for a in point["attributes"]}
    assert attributes == {"codomyrmex.benchmark.name": "nap", "codomyrmex.benchmark.suite": "files"}
    assert int(point["count"]) == 5


EXPORT_TO_COLLECTOR = """
import time
from codomyrmex.performance import BenchmarkSuite, configure_telemetry, run_benchmark
handle = configure_telemetry("bench-collector", endpoint={endpoint!r}, protocol="grpc")
suite = BenchmarkSuite("collected")
suite.add(lambda: time.sleep(0.0005), name="nap")
run_benchmark(suite, rounds=5, loops=1, warmup=0)
handle.shutdown()
"""


def test_export_reaches_the_collector(otel_collector: OtelCollector) -> None:
    completed = run_python(EXPORT_TO_COLLECTOR.format(endpoint=otel_collector.grpc_endpoint))
    assert completed.returncode == 0, completed.stderr
    got = otel_collector.wait_for(
        lambda t: (
            t
            if t.spans_named("benchmark collected.nap")
            and t.points_named("codomyrmex.benchmark.duration")
            else None
        ),
        service_name="bench-collector",
    )
    (child,) = got.spans_named("benchmark collected.nap")
    (root,) = got.spans_named("benchmark collected")
    assert child.parent_span_id == root.span_id
    assert child.attributes["codomyrmex.benchmark.rounds"] == 5
    assert isinstance(child.attributes["codomyrmex.benchmark.median"], float)
    points = got.points_named("codomyrmex.benchmark.duration", codomyrmex__benchmark__name="nap")
    assert points and points[0].attributes == {
        "codomyrmex.benchmark.name": "nap",
        "codomyrmex.benchmark.suite": "collected",
    }
