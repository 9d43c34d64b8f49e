"""The ``benchmark`` fixture: pytest-benchmark's API, async functions, pedantic, markers."""

from __future__ import annotations

import textwrap

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from harness.benchmark_tests import QUICK, read_json, write_library

pytestmark = pytest.mark.timeout(120)


def _tests(pytester: pytest.Pytester, source: str) -> None:
    pytester.makepyfile(test_bench=textwrap.dedent(source))


def test_call_returns_the_result_measures_and_exports_one_span_per_group(
    pytester: pytest.Pytester, spans: InMemorySpanExporter
) -> None:
    """The spans, exactly (the duration points: in the collector test, since the export's
    flush hands this process's delta points to whoever collects first)."""
    write_library(pytester)
    _tests(
        pytester,
        """
        import pytest, mylib

        @pytest.mark.benchmark(group="sums", min_time=0.001, max_time=0.006)
        def test_compute(benchmark):
            benchmark.extra_info["n"] = 100
            assert benchmark(mylib.compute, 100) == 4950
            stats = benchmark.stats
            assert stats["rounds"] == stats.stats.rounds == stats.rounds == 6
            assert stats.min <= stats.q1 <= stats.median <= stats.q3 <= stats.max
            assert stats["ops"] == pytest.approx(1 / stats.mean)
            assert stats.data == stats.result.samples and stats.iterations > 1
            assert (stats.name, stats.group) == ("test_compute", "sums")
            assert stats.extra_info == {"n": 100}

        @pytest.mark.benchmark(group="sums", min_time=0.001, max_time=0.006)
        def test_sleep(benchmark):
            benchmark(mylib.work)
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=2)
    finished = {s.name: s for s in spans.get_finished_spans()}
    assert set(finished) == {"benchmark sums", "benchmark sums.test_compute",
                             "benchmark sums.test_sleep"}  # fmt: skip
    root = finished["benchmark sums"]
    run_id = root.attributes["codomyrmex.benchmark.run_id"]
    assert root.attributes["codomyrmex.benchmark.count"] == 2
    assert root.status.status_code == StatusCode.UNSET
    for name in ("test_compute", "test_sleep"):
        child = finished[f"benchmark sums.{name}"]
        assert child.parent is not None and child.parent.span_id == root.context.span_id
        assert child.attributes["codomyrmex.benchmark.run_id"] == run_id
        assert child.attributes["codomyrmex.benchmark.rounds"] == 6
        assert root.start_time <= child.start_time <= child.end_time <= root.end_time


def test_pedantic_runs_exactly_the_rounds_with_setup_and_teardown(
    pytester: pytest.Pytester,
) -> None:
    _tests(
        pytester,
        """
        def test_sort(benchmark):
            made, torn = [], []

            def setup():
                made.append(list(range(50, 0, -1)))
                return (made[-1],), {}

            result = benchmark.pedantic(sorted, setup=setup, teardown=torn.append,
                                        rounds=4, warmup_rounds=2)
            assert result == list(range(1, 51))
            assert len(made) == len(torn) == 6 and torn == made
            assert (benchmark.stats.rounds, benchmark.stats.iterations) == (4, 1)

        def test_iterations(benchmark):
            calls = []
            def add(a, b):
                calls.append(1)
                return a + b
            assert benchmark.pedantic(add, args=(2,), kwargs={"b": 3}, rounds=3, iterations=5) == 5
            assert len(calls) == 3 * 5 + 1
            assert (benchmark.stats.rounds, benchmark.stats.iterations) == (3, 5)

        def test_one_round_by_default(benchmark):
            assert benchmark.pedantic(len, args=("abc",)) == 3
            assert benchmark.stats.rounds == 1
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=3)


@pytest.mark.parametrize(
    ("call", "error"),
    [
        ("args=('a',), rounds=0", "E *ValueError: rounds must be an integer >= 1, got 0"),
        ("args=('a',), rounds=True", "E *ValueError: rounds must be*True"),
        ("args=('a',), rounds=2.5", "E *ValueError: rounds must be*2.5"),
        ("args=('a',), warmup_rounds=-1", "E *ValueError: warmup_rounds must be*"),
        ("setup=lambda: None, iterations=2", "E *ValueError: iterations > 1 cannot*"),
        ("args=('a',), setup=lambda: (('b',), {})",
         "benchmark test_bad failed: TypeError: setup cannot return arguments when args*"),
    ],
)  # fmt: skip
def test_pedantic_bad_arguments_fail_the_test(
    pytester: pytest.Pytester, call: str, error: str
) -> None:
    _tests(pytester, f"def test_bad(benchmark):\n    benchmark.pedantic(len, {call})\n")
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines([error])


def test_one_function_per_test(pytester: pytest.Pytester) -> None:
    _tests(
        pytester,
        f"""
        import pytest

        {QUICK}
        def test_twice(benchmark):
            benchmark(len, "a")
            with pytest.raises(RuntimeError, match="one function per test"):
                benchmark(len, "b")
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=1)


def test_async_functions_are_awaited_on_one_loop_for_every_round(
    pytester: pytest.Pytester,
) -> None:
    _tests(
        pytester,
        f"""
        import asyncio, pytest

        loops = []

        async def nap():
            loops.append(asyncio.get_running_loop())
            await asyncio.sleep(0.002)
            return "rested"

        {QUICK}
        def test_coroutine_function(benchmark):
            assert benchmark(nap) == "rested"
            first, timed = loops[0], loops[1:]
            assert len(set(map(id, timed))) == 1 and timed[0] is not first
            assert len(timed) > benchmark.stats.rounds * benchmark.stats.iterations
            assert benchmark.stats.min >= 0.002  # the await is timed, not the coroutine's creation

        {QUICK}
        def test_function_returning_awaitables(benchmark):
            assert benchmark(lambda: nap()) == "rested"
            assert benchmark.stats.min >= 0.002

        {QUICK}
        @pytest.mark.asyncio
        async def test_from_a_running_loop(benchmark):
            outer = asyncio.get_running_loop()
            loops.clear()
            assert benchmark(nap) == "rested"
            assert outer not in loops and benchmark.stats.min >= 0.002

        def test_pedantic_coroutine_function(benchmark):
            assert benchmark.pedantic(nap, rounds=3) == "rested"
            assert benchmark.stats.rounds == 3 and benchmark.stats.min >= 0.002
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider").assert_outcomes(passed=4)


def test_names_groups_and_parameters_are_the_baseline_keys(pytester: pytest.Pytester) -> None:
    write_library(pytester)
    _tests(
        pytester,
        f"""
        import pytest, mylib

        {QUICK}
        @pytest.mark.parametrize("n", [10, 1000])
        def test_sizes(benchmark, n):
            benchmark(mylib.compute, n)

        class TestGrouped:
            @pytest.mark.benchmark(group="marked", min_time=0.001, max_time=0.006)
            def test_marked(self, benchmark):
                benchmark(mylib.compute, 1)

            {QUICK}
            def test_renamed(self, benchmark):
                benchmark.group, benchmark.name = "set", "compute-one"
                benchmark(mylib.compute, 1)
        """,
    )
    pytester.runpytest("-p", "no:cacheprovider", "--perf-json", "out.json").assert_outcomes(
        passed=4
    )
    document = read_json(pytester.path / "out.json")
    assert document["exit_status"] == 0
    found = {
        (suite["suite"], r["name"], r["nodeid"], str(r["params"]))
        for suite in document["suites"]
        for r in suite["results"]
    }
    assert found == {
        ("test_bench.py", "test_sizes[10]", "test_bench.py::test_sizes[10]", "{'n': 10}"),
        ("test_bench.py", "test_sizes[1000]", "test_bench.py::test_sizes[1000]", "{'n': 1000}"),
        ("marked", "TestGrouped::test_marked", "test_bench.py::TestGrouped::test_marked", "None"),
        ("set", "compute-one", "test_bench.py::TestGrouped::test_renamed", "None"),
    }


def test_a_name_used_twice_in_a_group_fails_the_second_test(pytester: pytest.Pytester) -> None:
    _tests(
        pytester,
        f"""
        import pytest

        {QUICK}
        def test_one(benchmark):
            benchmark.name = "same"
            benchmark(len, "a")

        {QUICK}
        def test_two(benchmark):
            benchmark.name = "same"
            benchmark(len, "b")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*benchmark name 'same' of group 'test_bench.py' is already used by "
         "test_bench.py::test_one: set benchmark.name or benchmark.group"]
    )  # fmt: skip


@pytest.mark.parametrize(
    ("marker", "message"),
    [
        ("benchmark(0.1)", "@pytest.mark.benchmark takes keyword arguments only"),
        ("benchmark(rounds=3)", "@pytest.mark.benchmark got unexpected rounds"),
        ("benchmark(min_rounds=0)", "min_rounds must be an integer within 1 and 10000, got 0"),
        ("benchmark(min_time=float('nan'))", "min_time must be within 0 and 3600 seconds, got nan"),
        ("benchmark(max_time='soon')", "max_time must be a number of seconds, got 'soon'"),
        ("benchmark(group='')", "@pytest.mark.benchmark group must be a non-empty str, got ''"),
    ],
)  # fmt: skip
def test_bad_marker_arguments_fail_the_test_with_one_line(
    pytester: pytest.Pytester, marker: str, message: str
) -> None:
    _tests(
        pytester,
        f"import pytest\n@pytest.mark.{marker}\ndef test_x(benchmark):\n    benchmark(len, 'a')\n",
    )
    result = pytester.runpytest("-p", "no:cacheprovider")
    result.assert_outcomes(errors=1)
    result.stdout.fnmatch_lines([f"*{message}"])


def test_marker_options_shape_the_measurement(pytester: pytest.Pytester) -> None:
    _tests(
        pytester,
        """
        import time, pytest

        @pytest.mark.benchmark(min_rounds=12, min_time=0.0005)
        def test_more_rounds(benchmark):
            benchmark(len, "a")
            assert benchmark.stats.rounds == 12

        @pytest.mark.benchmark(min_time=0.001, max_time=0.007)
        def test_capped(benchmark):
            benchmark(len, "a")
            assert benchmark.stats.rounds == 7

        @pytest.mark.benchmark(min_time=0.001, max_time=0.002)
        def test_five_rounds_at_least(benchmark):
            benchmark(len, "a")
            assert benchmark.stats.rounds == 5

        @pytest.mark.benchmark(min_time=0.001, max_time=0.001, min_rounds=3)
        def test_min_rounds_win(benchmark):
            benchmark(len, "a")
            assert benchmark.stats.rounds == 3

        @pytest.mark.benchmark(min_time=0.001, max_time=0.004, timer=time.process_time,
                               warmup=False, disable_gc=True, calibration_precision=10)
        def test_cpu_timer(benchmark):
            benchmark(len, "a")

        @pytest.mark.benchmark(min_time=0.001, max_time=0.004, timer=time.time)
        def test_wall_clock(benchmark):
            benchmark(len, "a")

        @pytest.mark.benchmark(min_time=0.001, max_time=0.004, timer=len)
        def test_unknown_timer(benchmark):
            benchmark(len, "a")

        @pytest.mark.benchmark(min_time=0.001, max_time=0.004, calibration_precision=5)
        def test_warned_once(benchmark):
            benchmark(len, "a")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--benchmark-json", "report.json")
    result.assert_outcomes(passed=8, warnings=2)
    result.stdout.fnmatch_lines(
        ["*@pytest.mark.benchmark(calibration_precision=...) has no equivalent*: ignored",
         "*@pytest.mark.benchmark(timer=...) has no equivalent*: ignored"]
    )  # fmt: skip
    report = read_json(pytester.path / "report.json")
    options = {b["name"]: b["options"] for b in report["benchmarks"]}
    assert options["test_cpu_timer"] == {"timer": "cpu", "disable_gc": True, "rounds": 5,
                                         "min_time": 0.001, "warmup": 0}  # fmt: skip
    assert options["test_capped"]["warmup"] == 1 and options["test_capped"]["timer"] == "wall"
    assert options["test_wall_clock"]["timer"] == options["test_unknown_timer"]["timer"] == "wall"


def test_a_benchmark_that_raises_later_fails_its_test_and_is_not_saved(
    pytester: pytest.Pytester,
) -> None:
    _tests(
        pytester,
        f"""
        import pytest

        calls = []

        def flaky():
            calls.append(1)
            if len(calls) > 3:
                raise ZeroDivisionError("on call 4")

        {QUICK}
        def test_flaky(benchmark):
            benchmark(flaky)

        {QUICK}
        def test_fine(benchmark):
            benchmark(len, "a")
        """,
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--perf-save", "base.json")
    result.assert_outcomes(passed=1, failed=1)
    result.stdout.fnmatch_lines(
        ["*benchmark test_flaky failed: ZeroDivisionError: on call 4",
         "baseline base.json not written: 1 failed, 0 regressed"]
    )  # fmt: skip
    assert not (pytester.path / "base.json").exists()
