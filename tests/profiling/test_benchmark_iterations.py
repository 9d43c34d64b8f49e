"""``run_benchmark(func, iterations=N)``: a fixed number of calls per round, no calibration."""

from __future__ import annotations

import pytest

from codomyrmex.performance import BenchmarkSuite, run_benchmark
from codomyrmex.performance.profiling.benchmark import OptionError


def test_iterations_is_the_calls_per_round_and_skips_calibration() -> None:
    calls: list[int] = []
    result = run_benchmark(lambda: calls.append(1), iterations=7, rounds=3, warmup=0)
    assert (result.iterations, result.rounds, len(result.samples)) == (7, 3, 3)
    assert len(calls) == 7 * 3


def test_iterations_applies_to_every_benchmark_of_a_suite() -> None:
    suite = BenchmarkSuite("fixed")
    counts = {"a": 0, "b": 0}

    @suite.add
    def a() -> None:
        counts["a"] += 1

    @suite.add
    def b() -> None:
        counts["b"] += 1

    run = run_benchmark(suite, iterations=5, rounds=2, warmup=1)
    assert [r.iterations for r in run.results] == [5, 5]
    assert counts == {"a": 15, "b": 15}


@pytest.mark.parametrize("bad", [0, -1, 2**31, 2.5, float("nan"), float("inf")])
def test_a_bad_iterations_value_names_iterations(bad: float) -> None:
    with pytest.raises(OptionError, match="iterations"):
        run_benchmark(lambda: None, iterations=bad)


@pytest.mark.parametrize("bad", ["3", None, b"3", [3]])
def test_iterations_of_the_wrong_type_is_a_type_error(bad: object) -> None:
    with pytest.raises(TypeError, match="iterations"):
        run_benchmark(lambda: None, iterations=bad)


def test_iterations_and_a_different_loops_are_refused() -> None:
    with pytest.raises(TypeError, match=r"iterations= and loops="):
        run_benchmark(lambda: None, iterations=3, loops=4)
    result = run_benchmark(lambda: None, iterations=3, loops=3, rounds=2, warmup=0)
    assert result.iterations == 3
