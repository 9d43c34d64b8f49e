"""The Grafana dashboard queries metrics the package really sends (checked over real OTLP)."""

from __future__ import annotations

import json
import re
from pathlib import Path

from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry, prometheus_series_names

DASHBOARD = (
    Path(__file__).resolve().parents[2]
    / "collector-config"
    / "grafana"
    / "dashboards"
    / "codomyrmex-performance.json"
)

PROGRAM = """
from codomyrmex.performance import (
    BenchmarkSuite, CacheManager, cached_function, lazy_import, monitor, run_benchmark,
)

@monitor
def work():
    return 1

@cached_function(max_size=1, name="dash")
def double(x):
    return 2 * x

work()
double(1), double(1), double(2)
lazy_import("colorsys").hls_to_rgb(0.5, 0.5, 0.5)
suite = BenchmarkSuite("dash")
suite.add(work)
run_benchmark(suite, rounds=2, warmup=0, min_time=0.001)
"""


def test_every_metric_the_dashboard_queries_arrives(
    otel_collector: OtelCollector, tmp_path: Path
) -> None:
    service = "e2e-dashboard"
    result = otel_collector.run_program(tmp_path, PROGRAM, service=service)
    assert result.returncode == 0, result.stderr
    wanted = {
        "codomyrmex.function.duration",
        "codomyrmex.cache.requests",
        "codomyrmex.cache.evictions",
        "codomyrmex.cache.entries",
        "codomyrmex.import.duration",
        "codomyrmex.benchmark.duration",
    }
    got: Telemetry = otel_collector.wait_for(
        lambda t: t if wanted <= t.metric_names() else None, service_name=service
    )
    exposed = set().union(*(prometheus_series_names(point) for point in got.points))
    labels = {key.replace(".", "_") for point in got.points for key in point.attributes}
    dashboard = json.loads(DASHBOARD.read_text(encoding="utf-8"))
    exprs = [
        target["expr"]
        for panel in dashboard["panels"]
        for target in panel.get("targets", [])
        if "expr" in target
    ]
    queried = {name for expr in exprs for name in re.findall(r"\bcodomyrmex_\w+", expr)}
    assert queried, "the dashboard queries no codomyrmex metric"
    assert queried - labels <= exposed, f"queried but never sent: {queried - labels - exposed}"
    assert {
        "codomyrmex_function_duration_seconds_bucket",
        "codomyrmex_cache_requests_total",
        "codomyrmex_cache_evictions_total",
        "codomyrmex_cache_entries",
        "codomyrmex_import_duration_seconds_bucket",
        "codomyrmex_benchmark_duration_seconds_bucket",
    } <= queried
