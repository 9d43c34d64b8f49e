"""History, PerformanceMetrics and get_stats."""

from __future__ import annotations

import contextlib
import dataclasses
import json
import math
import resource
import statistics
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from codomyrmex.performance import PerformanceMetrics
from codomyrmex.performance._shared.quantiles import percentile
from codomyrmex.performance.performance_monitor import PerformanceMonitor
from codomyrmex.performance.performance_monitor._history import compute_stats
from harness.subprocesses import run_python


def test_history_is_bounded_and_drops_the_oldest() -> None:
    perf = PerformanceMonitor(max_metrics=5)
    for i in range(12):
        with perf.track(f"step{i}"):
            pass
    assert perf.max_metrics == 5
    assert [m.function_name for m in perf.get_metrics()] == [f"step{i}" for i in range(7, 12)]
    assert perf.get_stats()["count"] == 5


def test_get_metrics_filters_by_name(perf) -> None:
    @perf.monitor(name="a")
    def a() -> None:
        pass

    @perf.monitor(name="b")
    def b() -> None:
        pass

    a(), b(), a()
    assert [m.function_name for m in perf.get_metrics("a")] == ["a", "a"]
    assert len(perf.get_metrics()) == 3
    assert perf.get_metrics("missing") == []


def test_metrics_fields_and_values(perf) -> None:
    before = time.time()

    @perf.monitor(name="busy")
    def busy() -> None:
        end = time.thread_time() + 0.03
        while time.thread_time() < end:
            pass

    busy()
    (metric,) = perf.get_metrics()
    assert [f.name for f in dataclasses.fields(PerformanceMetrics)] == [
        "function_name", "execution_time", "memory_usage_mb", "cpu_percent", "timestamp",
        "metadata", "cpu_time", "error", "trace_id", "span_id",
    ]  # fmt: skip
    assert metric.execution_time >= 0.03
    assert 0.025 <= metric.cpu_time <= metric.execution_time + 0.002
    assert metric.cpu_percent == pytest.approx(metric.cpu_time / metric.execution_time * 100)
    assert before - 0.01 <= metric.timestamp <= time.time()
    peak_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    assert 0 < metric.memory_usage_mb <= peak_mb
    assert metric.metadata == {}
    assert metric.to_dict()["function_name"] == "busy"
    with pytest.raises(dataclasses.FrozenInstanceError):
        metric.error = "x"  # type: ignore[misc]


def test_sleeping_call_uses_little_cpu(perf) -> None:
    @perf.monitor
    def sleepy() -> None:
        time.sleep(0.05)

    sleepy()
    (metric,) = perf.get_metrics()
    assert metric.execution_time >= 0.05
    assert metric.cpu_time < 0.02
    assert metric.cpu_percent < 40


def test_cpu_time_never_exceeds_execution_time_on_trivial_calls(perf) -> None:
    @perf.monitor(name="trivial")
    def trivial(fail: bool = False) -> int:
        if fail:
            raise ValueError
        return 1

    @perf.monitor(name="trivial_gen")
    def trivial_gen() -> Iterator[int]:
        yield 1

    for i in range(1000):
        trivial()
        with contextlib.suppress(ValueError):
            trivial(fail=i % 10 == 0)
        list(trivial_gen())
        with perf.track("trivial_block"):
            pass
    metrics = perf.get_metrics()
    assert len(metrics) == 4000
    for metric in metrics:
        assert 0.0 <= metric.cpu_time <= metric.execution_time, metric
        assert metric.cpu_percent <= 100.0, metric
    for stats in perf.stats_by_function().values():
        assert stats["cpu_time"] <= stats["total"]
    # The CPU clock is read inside the wall-clock reads: even unclamped, no call shows
    # more CPU than wall time (reading it outside put more CPU on every trivial call).
    raw_over = [record for record in perf._history if record[3] > record[2]]
    assert raw_over == []


def test_demo_report_cpu_never_exceeds_total(tmp_path: Path) -> None:
    result = run_python(
        "from codomyrmex.performance.cli import main; raise SystemExit(main(['demo', '--json']))",
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    functions = json.loads(result.stdout)["functions"]
    assert len(functions) >= 5
    for function in functions:
        assert function["cpu_time"] <= function["total"], function


def test_stats_on_real_calls(perf) -> None:
    @perf.monitor(name="mixed")
    def mixed(fail: bool) -> None:
        if fail:
            raise ValueError

    for i in range(20):
        with contextlib.suppress(ValueError):
            mixed(i % 5 == 0)
    stats = perf.get_stats("mixed")
    durations = sorted(m.execution_time for m in perf.get_metrics("mixed"))
    assert stats["count"] == 20
    assert stats["errors"] == 4
    assert stats["total"] == pytest.approx(math.fsum(durations))
    assert stats["mean"] == pytest.approx(stats["total"] / 20)
    assert stats["min"] == durations[0] and stats["max"] == durations[-1]
    assert stats["min"] <= stats["p50"] <= stats["p95"] <= stats["p99"] <= stats["max"]
    assert stats == perf.get_stats()
    assert perf.stats_by_function() == {"mixed": stats}


@pytest.mark.parametrize("size", [2, 3, 10, 101, 1000])
def test_percentiles_match_statistics_inclusive(size: int) -> None:
    values = [((i * 7919) % size) / 1000 + 0.001 for i in range(size)]
    records = [("f", 0.0, v, 0.0, 0, None, None, None, None) for v in values]
    stats = compute_stats(records)
    cuts = statistics.quantiles(values, n=100, method="inclusive")
    assert stats["p50"] == pytest.approx(cuts[49])
    assert stats["p95"] == pytest.approx(cuts[94])
    assert stats["p99"] == pytest.approx(cuts[98])
    assert stats["p50"] == pytest.approx(statistics.median(values))


def test_percentile_of_one_value() -> None:
    assert percentile([0.5], 0.99) == 0.5
    stats = compute_stats([("f", 0.0, 0.25, 0.0, 0, None, None, None, None)])
    assert stats["p50"] == stats["p95"] == stats["p99"] == stats["min"] == stats["max"] == 0.25


def test_empty_stats(perf) -> None:
    stats = perf.get_stats()
    assert stats["count"] == 0 and stats["errors"] == 0 and stats["total"] == 0.0
    for key in ("min", "max", "mean", "p50", "p95", "p99"):
        assert stats[key] is None
    assert perf.stats_by_function() == {}


def test_clear_metrics(perf) -> None:
    perf.track_execution(len, "abc")
    assert perf.get_stats()["count"] == 1
    perf.clear_metrics()
    assert perf.get_metrics() == []
    perf.track_execution(len, "abc")
    assert perf.get_stats()["count"] == 1


def test_default_monitor_backs_module_level_monitor() -> None:
    from codomyrmex.performance import monitor
    from codomyrmex.performance.performance_monitor import default_monitor

    @monitor(name="test_history.default")
    def through_default() -> int:
        return 1

    shared = default_monitor()
    before = shared.get_stats("test_history.default")["count"]
    through_default()
    assert shared.get_stats("test_history.default")["count"] == before + 1
    assert isinstance(shared, PerformanceMonitor)
