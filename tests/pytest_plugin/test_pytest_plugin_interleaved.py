"""``--perf-against DIR``: each benchmark interleaved with the code of DIR, in worker processes."""

from __future__ import annotations

import textwrap

import pytest

from harness.benchmark_tests import ini, read_json, write_library

pytestmark = pytest.mark.timeout(180)

#: Twelve pairs of rounds of about a millisecond; workers load no hypothesis plugin.
PAIRS = "@pytest.mark.benchmark(min_time=0.001, max_time=0.012)"
ARGS = ("-p", "no:cacheprovider", "-p", "no:hypothesispytest", "--perf-against", "base")


def _project(pytester: pytest.Pytester, candidate: float, baseline: float) -> None:
    """The code under test in ``src/`` (on ``pythonpath``), its baseline in ``base/``."""
    pytester.makeini(ini() + "pythonpath = src\n")
    write_library(pytester, candidate, "src")
    write_library(pytester, baseline, "base")
    pytester.makepyfile(
        test_bench=f"""
        import pytest, mylib

        {PAIRS}
        def test_work(benchmark):
            benchmark(mylib.work)
        """
    )


def test_a_slower_candidate_fails_with_the_ratio_ci_and_p_value(pytester: pytest.Pytester) -> None:
    _project(pytester, candidate=0.0016, baseline=0.001)
    result = pytester.runpytest(*ARGS, "--perf-json", "out.json")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["performance regression: test_work takes 1.*× the baseline's time "
         "(95% CI 1.*-1.*, p=*, interleaved; a regression is >= 1.050×)",
         "  vs baseline: 1.*× [[]1.*, 1.*]  p=*  regression (interleaved)"]
    )  # fmt: skip
    (result_document,) = read_json(pytester.path / "out.json")["suites"][0]["results"]
    comparison = result_document["comparison"]
    assert comparison["mode"] == "interleaved" and comparison["verdict"] == "regression"
    assert 1.3 < comparison["ratio"] < 1.9 and comparison["p_value"] < 0.05
    assert result_document["rounds"] == 12


def test_identical_code_does_not_fail(pytester: pytest.Pytester) -> None:
    _project(pytester, candidate=0.001, baseline=0.001)
    result = pytester.runpytest(*ARGS, "--perf-json", "out.json")
    result.assert_outcomes(passed=1)
    (result_document,) = read_json(pytester.path / "out.json")["suites"][0]["results"]
    assert result_document["comparison"]["verdict"] in ("no_change", "inconclusive")
    assert 0.9 < result_document["comparison"]["ratio"] < 1.1


def test_pedantic_setup_runs_in_the_workers_too(pytester: pytest.Pytester) -> None:
    _project(pytester, candidate=0.001, baseline=0.001)
    pytester.makepyfile(
        test_pedantic="""
        import mylib

        def test_sorted(benchmark):
            result = benchmark.pedantic(sorted, setup=lambda: ((list(range(9, 0, -1)),), {}),
                                        rounds=8)
            assert result == list(range(1, 10))
            assert benchmark.stats.rounds == 8
        """
    )
    pytester.runpytest(*ARGS, "test_pedantic.py").assert_outcomes(passed=1)


def test_a_test_that_never_reaches_its_benchmark_in_a_worker_fails(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, candidate=0.001, baseline=0.001)
    (pytester.path / "base" / "mylib.py").write_text("OLD = True\n", encoding="utf-8")
    pytester.makepyfile(
        test_new=textwrap.dedent(
            """
            import pytest, mylib

            def test_new_api(benchmark):
                if getattr(mylib, "OLD", False):
                    return  # the baseline has no work(): never reaches its benchmark
                benchmark(mylib.work)
            """
        )
    )
    result = pytester.runpytest(*ARGS, "test_new.py")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(
        ["benchmark test_new_api failed: WorkerUnavailable: *test_new.py::test_new_api "
         "did not reach its benchmark in a worker (pytest exit status 0)"]
    )  # fmt: skip
