"""A baseline saved by pytest compares with ``codomyrmex-perf bench`` and back; OTLP export."""

from __future__ import annotations

import json
import subprocess
import sys
import uuid

import pytest

from harness.benchmark_tests import read_json, write_library
from harness.otel_collector import OtelCollector

pytestmark = pytest.mark.timeout(180)

BENCH_FILE = """
from codomyrmex.performance import BenchmarkSuite
import mylib

suite = BenchmarkSuite("roundtrip")
suite.add(mylib.work, name="nap")
"""

TESTS = """
import pytest, mylib

@pytest.mark.benchmark(group="roundtrip", min_time=0.001, max_time=0.008)
def test_nap(benchmark):
    benchmark.name = "nap"
    benchmark(mylib.work)
"""


def _bench(pytester: pytest.Pytester, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "codomyrmex.performance.cli", "bench", "bench_roundtrip.py",
         "--in-process", "--no-progress", "--rounds", "8", "--min-time", "0.001", *args],
        capture_output=True, text=True, timeout=120, cwd=pytester.path,
    )  # fmt: skip


def _only_comparison(document: dict[str, object]) -> dict[str, object]:
    (suite,) = document["suites"]  # type: ignore[misc]
    (result,) = suite["results"]  # type: ignore[index]
    assert (suite["suite"], result["name"]) == ("roundtrip", "nap")  # type: ignore[index]
    comparison = result["comparison"]
    assert comparison is not None
    assert not any("measurement differs" in w for w in result["warnings"])
    return comparison  # type: ignore[no-any-return]


def test_baselines_round_trip_between_pytest_and_codomyrmex_perf_bench(
    pytester: pytest.Pytester,
) -> None:
    write_library(pytester)
    pytester.makepyfile(bench_roundtrip=BENCH_FILE, test_roundtrip=TESTS)
    pytester.runpytest("-p", "no:cacheprovider", "--perf-save", "from-pytest.json").assert_outcomes(
        passed=1
    )
    compared = _bench(pytester, "--baseline", "from-pytest.json", "--json", "bench.json")
    comparison = _only_comparison(read_json(pytester.path / "bench.json"))
    assert comparison["mode"] == "stored"
    assert compared.returncode == (1 if comparison["verdict"] == "regression" else 0), compared

    saved = _bench(pytester, "--save-baseline", "from-bench.json")
    assert saved.returncode == 0, saved.stderr
    result = pytester.runpytest(
        "-p", "no:cacheprovider", "--perf-baseline", "from-bench.json", "--perf-json", "out.json"
    )
    comparison = _only_comparison(read_json(pytester.path / "out.json"))
    assert comparison["mode"] == "stored"
    result.assert_outcomes(**{"failed" if comparison["verdict"] == "regression" else "passed": 1})


def test_the_run_reaches_a_collector_over_otlp(
    pytester: pytest.Pytester, otel_collector: OtelCollector, monkeypatch: pytest.MonkeyPatch
) -> None:
    service = f"pytest-plugin-{uuid.uuid4().hex[:8]}"
    monkeypatch.setenv("OTEL_SERVICE_NAME", service)
    write_library(pytester)
    pytester.makepyfile(test_roundtrip=TESTS)
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "--perf-otlp", otel_collector.http_endpoint
    )
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines([f"exported to {otel_collector.http_endpoint}: 2 of 2 spans"])
    telemetry = otel_collector.wait_for(
        lambda t: t if t.spans_named("benchmark roundtrip.nap") and t.points else None,
        service_name=service,
    )
    (root,) = telemetry.spans_named("benchmark roundtrip")
    (child,) = telemetry.spans_named("benchmark roundtrip.nap")
    assert child.parent_span_id == root.span_id and child.trace_id == root.trace_id
    assert child.scope_name == "codomyrmex.performance"
    assert child.attributes["codomyrmex.benchmark.suite"] == "roundtrip"
    assert child.attributes["codomyrmex.benchmark.rounds"] == 8
    assert child.attributes["codomyrmex.benchmark.median"] >= 0.001
    (point,) = telemetry.latest_points(
        "codomyrmex.benchmark.duration", codomyrmex__benchmark__name="nap"
    )
    assert point.count == 8 and point.unit == "s"
    assert json.dumps(point.attributes, sort_keys=True) == json.dumps(
        {"codomyrmex.benchmark.name": "nap", "codomyrmex.benchmark.suite": "roundtrip"},
        sort_keys=True,
    )
