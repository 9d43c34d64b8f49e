"""performance_run_benchmark(profile=True): top functions, and on a regression what grew."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from codomyrmex.performance.mcp.tools import performance_run_benchmark

SOURCE = """
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("profiled")


def light():
    return sum(i * i for i in range(300))


def slow_helper():
    total = 0
    for i in range(20_000):
        total += i % 7
    return total


@suite.add
def work():
    light()
"""
BEFORE, AFTER = SOURCE, SOURCE + "    slow_helper()\n"
QUICK = {"rounds": 8, "min_time": 0.002}


def test_profile_true_returns_top_functions_and_what_grew(tmp_path: Path) -> None:
    bench = tmp_path / "bench"
    bench.mkdir()
    (bench / "bench_work.py").write_text(BEFORE)
    saved = performance_run_benchmark(
        "bench_work.py", save_baseline="base.json", profile=True, bench_dir=bench, **QUICK
    )
    (result,) = saved["suites"][0]["results"]
    profile = result["profile"]
    assert profile is not None and profile["calls"] > 0
    assert 0 < len(profile["top_functions"]) <= 10
    assert {"name", "file", "line", "own", "cumulative", "calls"} == set(
        profile["top_functions"][0]
    )
    stored = json.loads((bench / "base.json").read_text())
    assert stored["suites"]["profiled"]["benchmarks"]["work"]["profile"]["functions"]
    assert sorted(p.name for p in bench.iterdir()) == ["base.json", "bench_work.py"]

    (bench / "bench_work.py").write_text(AFTER)
    report = performance_run_benchmark(
        "bench_work.py", baseline="base.json", profile=True, bench_dir=bench, **QUICK
    )
    (result,) = report["suites"][0]["results"]
    comparison = result["comparison"]
    assert comparison is not None and comparison["verdict"] == "regression"
    grew = comparison["grew"]
    assert grew is not None and grew[0]["name"] == "slow_helper"
    assert grew[0]["own_before"] == 0 and grew[0]["own_delta"] > 0
    assert result["profile"]["top_functions"][0]["name"] == "slow_helper"
    json.dumps(report, allow_nan=False)

    plain = performance_run_benchmark(
        "bench_work.py", baseline="base.json", bench_dir=bench, **QUICK
    )
    (result,) = plain["suites"][0]["results"]
    assert result["profile"] is None and result["comparison"]["grew"] is None
    with pytest.raises(TypeError, match="profile"):
        performance_run_benchmark("bench_work.py", profile="yes", bench_dir=bench)  # type: ignore[arg-type]
