"""BenchmarkSuite registration shapes and what run_benchmark measures."""

from __future__ import annotations

import asyncio
import gc
import time
from pathlib import Path
from typing import Any

import pytest

from codomyrmex.performance import BenchmarkResult, BenchmarkSuite, run_benchmark
from codomyrmex.performance.profiling.benchmark import SuiteResult

QUICK: dict[str, Any] = {"rounds": 5, "min_time": 0.001, "warmup": 0}

# Module-level so worker processes can import it.
worker_suite = BenchmarkSuite("worker-suite")


@worker_suite.add(kwargs={"n": 200})
def summing(n: int) -> int:
    return sum(range(n))


@worker_suite.add
async def awaiting() -> None:
    await asyncio.sleep(0)


def test_add_bare_called_and_plain() -> None:
    suite = BenchmarkSuite("shapes")

    @suite.add
    def bare() -> None:
        pass

    @suite.add(name="renamed", args=(1,), kwargs={"b": 2})
    def called(a: int, b: int) -> None:
        pass

    def plain() -> None:
        pass

    assert suite.add(plain) is plain
    assert bare.__name__ == "bare" and called.__name__ == "called"
    assert [b.name for b in suite.benchmarks] == ["bare", "renamed", "plain"]
    assert suite.benchmarks[1].args == (1,) and suite.benchmarks[1].kwargs == {"b": 2}
    with pytest.raises(ValueError, match="already has a benchmark 'bare'"):
        suite.add(bare)
    with pytest.raises(TypeError):
        suite.add(42)  # type: ignore[call-overload]


def test_suite_run_returns_one_result_per_benchmark_with_statistics() -> None:
    suite = BenchmarkSuite("stats")
    suite.add(lambda: time.sleep(0.001), name="sleep")
    suite.add(lambda: sum(range(100)), name="sum")
    run = run_benchmark(suite, **QUICK)
    assert isinstance(run, SuiteResult)
    assert [r.name for r in run.results] == ["sleep", "sum"]
    sleep = run["sleep"]
    assert sleep.rounds == 5 and len(sleep.samples) == 5 and sleep.iterations >= 1
    assert 0.001 <= sleep.min <= sleep.median <= sleep.max < 1.0  # generous: loaded machines
    assert sleep.ops_per_sec == pytest.approx(1 / sleep.mean)
    assert run["sum"].iterations > 1  # calibrated: a round lasts at least min_time
    assert run["sum"].iterations * run["sum"].min >= 0.001 * 0.5
    data = sleep.to_dict()
    assert data["samples"] == sleep.samples and data["stats"]["median"] == sleep.median
    assert set(data["stats"]) >= {"iqr", "mad", "p95", "p99", "ops_per_sec", "high_outliers"}
    assert sleep.comparison is None


def test_callable_target_returns_its_result_and_default_rounds() -> None:
    result = run_benchmark(lambda: None, min_time=0.001, warmup=0)
    assert isinstance(result, BenchmarkResult)
    assert result.rounds >= 5


def test_setup_runs_before_each_round_and_may_supply_arguments() -> None:
    seen: list[int] = []
    rounds: list[int] = []

    def setup() -> tuple[tuple[int], dict[str, int]]:
        rounds.append(len(rounds))
        return (len(rounds),), {"scale": 10}

    def work(value: int, scale: int) -> None:
        seen.append(value * scale)

    suite = BenchmarkSuite("setup")
    suite.add(work, setup=setup)
    run_benchmark(suite, rounds=3, warmup=1, loops=2)
    assert len(rounds) == 4  # one warm-up round and three timed rounds
    assert seen == [10, 10, 20, 20, 30, 30, 40, 40]


def test_failed_benchmark_reports_its_exception_and_others_still_run() -> None:
    suite = BenchmarkSuite("failing")
    suite.add(lambda: None, name="ok")

    @suite.add
    def broken() -> None:
        raise KeyError("missing")

    run = run_benchmark(suite, **QUICK)
    assert run["broken"].failed and run["broken"].error == "KeyError: 'missing'"
    assert run["broken"].samples == [] and run.failures == [run["broken"]]
    assert not run["ok"].failed and len(run["ok"].samples) == 5


async def _tick() -> None:
    await asyncio.sleep(0)


def test_async_benchmark_reuses_one_event_loop(monkeypatch: pytest.MonkeyPatch) -> None:
    created: list[asyncio.AbstractEventLoop] = []
    original = asyncio.new_event_loop

    def counting() -> asyncio.AbstractEventLoop:
        created.append(original())
        return created[-1]

    monkeypatch.setattr(asyncio, "new_event_loop", counting)
    result = run_benchmark(_tick, **QUICK)
    assert len(created) == 1 and created[0].is_closed()
    assert result.iterations > 1 and result.median < 0.001


def test_gc_disabled_while_timing_only_when_asked() -> None:
    states: list[bool] = []
    run_benchmark(lambda: states.append(gc.isenabled()), disable_gc=True, loops=1, rounds=2)
    assert states and not any(states)
    assert gc.isenabled()
    states.clear()
    run_benchmark(lambda: states.append(gc.isenabled()), loops=1, rounds=2)
    assert all(states)


def test_cpu_timer_ignores_waiting_and_shares_are_recorded() -> None:
    wall = run_benchmark(lambda: time.sleep(0.002), loops=1, rounds=3, warmup=0)
    cpu = run_benchmark(lambda: time.sleep(0.002), loops=1, rounds=3, warmup=0, timer="cpu")
    assert wall.median >= 0.002 > cpu.median
    assert all(0 <= share < 0.5 for share in wall.cpu_shares) and len(wall.cpu_shares) == 3
    with pytest.raises(ValueError, match="timer"):
        run_benchmark(lambda: None, timer="gpu")


def test_memory_peak_is_opt_in() -> None:
    def allocate() -> None:
        bytearray(2_000_000)

    assert run_benchmark(allocate, **QUICK).memory_peak is None
    assert run_benchmark(allocate, memory=True, **QUICK).memory_peak >= 2_000_000


def test_stability_warnings() -> None:
    samples = iter([0.001] * 3 + [0.05])

    def uneven() -> None:
        time.sleep(next(samples, 0.001))

    result = run_benchmark(uneven, rounds=4, loops=1, warmup=0)
    assert any("too few" in w for w in result.warnings)
    assert any("coefficient of variation" in w for w in result.warnings)
    assert result.outliers[1] >= 1
    assert any(w.endswith("of 4 samples are outliers (kept)") for w in result.warnings)
    assert len(result.samples) == 4 and max(result.samples) >= 0.05  # kept, not dropped


def _nap(seconds: float) -> Any:
    def nap() -> None:
        time.sleep(seconds)

    return nap


def test_suite_baseline_path_gives_a_stored_comparison(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    first = BenchmarkSuite("pinned")
    first.add(_nap(0.001), name="work")
    run_benchmark(first, save_baseline=path, **QUICK)
    suite = BenchmarkSuite("pinned", baseline=path)
    suite.add(_nap(0.001), name="work")
    assert suite.baseline == path
    c = run_benchmark(suite, **QUICK)["work"].comparison
    assert c is not None and c.mode == "stored" and len(c.baseline_samples) == 5


def test_suite_baseline_suite_gives_an_interleaved_comparison() -> None:
    old = BenchmarkSuite("old")
    old.add(_nap(0.001), name="work")
    new = BenchmarkSuite("new", baseline=old)
    new.add(_nap(0.001), name="work")
    c = run_benchmark(new, rounds=4, loops=1, warmup=0)["work"].comparison
    assert c is not None and c.mode == "interleaved" and len(c.baseline_samples) == 4


def test_progress_is_called_after_every_round() -> None:
    calls: list[tuple[str, int, int]] = []
    suite = BenchmarkSuite("progress")
    suite.add(lambda: None, name="a")
    suite.add(lambda: None, name="b")
    run_benchmark(suite, rounds=3, loops=1, warmup=1, progress=lambda *a: calls.append(a))
    assert calls == [("a", 1, 3), ("a", 2, 3), ("a", 3, 3), ("b", 1, 3), ("b", 2, 3), ("b", 3, 3)]
    calls.clear()
    run_benchmark(
        lambda: None, baseline=lambda: None, rounds=2, loops=1, progress=lambda *a: calls.append(a)
    )
    assert [(done, total) for _, done, total in calls] == [(1, 2), (2, 2)]  # pairs


def test_run_benchmark_return_type_follows_the_target(tmp_path: Path) -> None:
    from mypy import api

    program = tmp_path / "typed.py"
    program.write_text(
        "from codomyrmex.performance import BenchmarkSuite, run_benchmark\n"
        "suite = BenchmarkSuite('typed')\n"
        "reveal_type(run_benchmark(suite))\n"
        "reveal_type(run_benchmark(lambda: None))\n"
    )
    stdout, stderr, _ = api.run(
        ["--strict", "--follow-imports=silent", "--no-error-summary", str(program)]
    )
    revealed = [
        line.split("Revealed type is ")[1] for line in stdout.splitlines() if "Reveal" in line
    ]
    assert revealed == [
        '"codomyrmex.performance.profiling.result.SuiteResult"',
        '"codomyrmex.performance.profiling.result.BenchmarkResult"',
    ], stdout + stderr


def test_worker_processes_run_module_level_suites() -> None:
    run = run_benchmark(worker_suite, processes=2, rounds=4, min_time=0.001, warmup=0)
    assert all(not r.failed for r in run.results), [r.error for r in run.results]
    assert run["summing"].groups == [0, 0, 1, 1]
    assert run["awaiting"].median < 0.001


def test_worker_failure_is_reported() -> None:
    suite = BenchmarkSuite("local")
    suite.add(lambda: None, name="local")  # defined in a function: workers cannot load it
    run = run_benchmark(suite, processes=1, **QUICK)
    assert not run["local"].failed
    assert any("ran in-process" in w for w in run["local"].warnings)


@pytest.mark.parametrize(
    ("options", "error"),
    [
        ({"rounds": 1}, ValueError),
        ({"min_effect": "five"}, ValueError),
        ({"unknown": 1}, TypeError),
        ({"min_time": 0}, ValueError),
    ],
)
def test_bad_options(options: dict[str, Any], error: type[Exception]) -> None:
    with pytest.raises(error):
        run_benchmark(lambda: None, **options)
    with pytest.raises(TypeError):
        run_benchmark(42)  # type: ignore[arg-type]
