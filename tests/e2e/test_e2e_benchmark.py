"""End to end over real OTLP: a benchmark run reaches a real collector as spans and samples."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex.performance.telemetry import SCOPE_NAME, package_version
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry

PROGRAM = """
from codomyrmex.performance import BenchmarkSuite, run_benchmark

suite = BenchmarkSuite("e2e-suite")

@suite.add
def join():
    "".join(["a"] * 10)

@suite.add(name="sum_range")
def add_up():
    sum(range(50))

run = run_benchmark(suite, rounds=5, warmup=0, min_time=0.001)
print("SAMPLES", sorted((result.name, len(result.samples)) for result in run.results))
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_benchmark_run_arrives_with_spec_names(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"e2e-bench-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(tmp_path, PROGRAM, service=service, protocol=protocol)
    assert result.returncode == 0, result.stderr
    assert "SAMPLES [('join', 5), ('sum_range', 5)]" in result.stdout

    def arrived(telemetry: Telemetry) -> Telemetry | None:
        points = telemetry.latest_points("codomyrmex.benchmark.duration")
        return telemetry if len(telemetry.spans) == 3 and len(points) == 2 else None

    got: Telemetry = otel_collector.wait_for(arrived, service_name=service)
    (root,) = got.spans_named("benchmark e2e-suite")
    assert root.parent_span_id is None
    assert root.attributes["codomyrmex.benchmark.suite"] == "e2e-suite"
    assert (root.scope_name, root.scope_version) == (SCOPE_NAME, package_version())
    for name in ("join", "sum_range"):
        (child,) = got.spans_named(f"benchmark e2e-suite.{name}")
        assert child.parent_span_id == root.span_id
        assert child.trace_id == root.trace_id
        assert child.attributes["codomyrmex.benchmark.name"] == name
        assert child.attributes["codomyrmex.benchmark.suite"] == "e2e-suite"
        assert child.attributes["codomyrmex.benchmark.rounds"] == 5
        assert child.attributes["codomyrmex.benchmark.median"] > 0
        assert root.start_time_unix_nano <= child.start_time_unix_nano
        assert child.end_time_unix_nano <= root.end_time_unix_nano

        (samples,) = got.latest_points(
            "codomyrmex.benchmark.duration", codomyrmex__benchmark__name=name
        )
        assert samples.attributes == {
            "codomyrmex.benchmark.name": name,
            "codomyrmex.benchmark.suite": "e2e-suite",
        }
        assert (samples.data_type, samples.unit, samples.count) == ("Histogram", "s", 5)
        assert samples.service_name == service
