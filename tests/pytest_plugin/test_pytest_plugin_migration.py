"""pytest-benchmark's test files and ``--benchmark-*`` options, without pytest-benchmark."""

from __future__ import annotations

import json
from fnmatch import fnmatch

import pytest

from codomyrmex.performance.pytest_plugin._compat import machine_id
from harness.benchmark_tests import ini, read_json, write_library

pytestmark = pytest.mark.timeout(120)

#: A test file as pytest-benchmark's documentation writes them (times kept short).
PYTEST_BENCHMARK_TESTS = """
import time

import pytest

import mylib


def something(duration=0.0001):
    time.sleep(duration)
    return 123


def test_my_stuff(benchmark):
    result = benchmark(something)
    assert result == 123


def test_my_stuff_different_arg(benchmark):
    benchmark(something, 0.0002)


@pytest.mark.benchmark(group="group-name", min_time=0.001, max_time=0.005, min_rounds=5,
                       timer=time.time, disable_gc=True, warmup=False)
def test_work(benchmark):
    benchmark(mylib.work)


def test_pedantic(benchmark):
    benchmark.pedantic(something, args=(0.0001,), iterations=2, rounds=5)
"""

QUICK_OPTIONS = "--benchmark-min-time=0.001 --benchmark-max-time=0.006"


def _project(pytester: pytest.Pytester, delay: float, addopts: str) -> None:
    pytester.makeini(ini(addopts))
    write_library(pytester, delay)
    pytester.makepyfile(test_pb=PYTEST_BENCHMARK_TESTS)


def _saved(pytester: pytest.Pytester) -> list[str]:
    directory = pytester.path / ".benchmarks" / machine_id()
    return sorted(p.name for p in directory.iterdir()) if directory.is_dir() else []


def test_an_existing_test_file_runs_saves_and_gates_unchanged(pytester: pytest.Pytester) -> None:
    addopts = (f"{QUICK_OPTIONS} --benchmark-autosave --benchmark-compare "
               "--benchmark-compare-fail=mean:10%")  # fmt: skip
    _project(pytester, 0.001, addopts)
    first = pytester.runpytest()
    first.assert_outcomes(passed=4)
    first.stdout.fnmatch_lines(
        ["*- benchmark test_pb.py: 3 tests -*",
         "name * median * IQR * ops/s * rounds×calls",
         "test_my_stuff *",
         "*- benchmark group-name: 1 test -*",
         "test_work * 5×1",
         "nothing to compare with: no run saved in *.benchmarks* yet",
         f"baseline saved: .benchmarks/{machine_id()}/0001_*.json"]
    )  # fmt: skip
    (saved,) = _saved(pytester)
    document = read_json(pytester.path / ".benchmarks" / machine_id() / saved)
    assert set(document["suites"]) == {"test_pb.py", "group-name"}

    write_library(pytester, 0.012)
    slower = pytester.runpytest("-k", "test_work")  # comparisons of the others may be noise
    slower.assert_outcomes(failed=1, deselected=3)
    slower.stdout.fnmatch_lines(
        ["performance regression: test_work takes *× the baseline's time (95% CI *, p=*, "
         "stored; a regression is >= *)", f"compared with .benchmarks/{machine_id()}/0001_*"]
    )  # fmt: skip
    assert _saved(pytester) == [saved]

    write_library(pytester, 0.001)
    pytester.runpytest("-k", "test_work").assert_outcomes(passed=1, deselected=3)
    assert len(_saved(pytester)) == 2 and _saved(pytester)[1].startswith("0002_")


def test_compare_without_compare_fail_only_reports(pytester: pytest.Pytester) -> None:
    _project(pytester, 0.001, f"{QUICK_OPTIONS} --benchmark-save=main")
    pytester.runpytest().assert_outcomes(passed=4)
    assert _saved(pytester) == ["0001_main.json"]
    write_library(pytester, 0.012)
    result = pytester.runpytest("--benchmark-compare=0001", "-k", "work")
    result.assert_outcomes(passed=1, deselected=3)
    result.stdout.fnmatch_lines(["  vs baseline: * regression (stored)"])


def test_a_run_saved_by_pytest_benchmark_is_not_compared(pytester: pytest.Pytester) -> None:
    _project(pytester, 0.001, QUICK_OPTIONS)
    directory = pytester.path / ".benchmarks" / machine_id()
    directory.mkdir(parents=True)
    foreign = directory / "0001_theirs.json"
    foreign.write_text(json.dumps({"machine_info": {}, "benchmarks": []}), encoding="utf-8")
    result = pytester.runpytest("--benchmark-compare", "-k", "my_stuff")
    result.assert_outcomes(passed=2, deselected=2)
    result.stdout.fnmatch_lines(
        ["1 run(s) in * were saved by pytest-benchmark: not compared",
         "nothing to compare with: no run saved in * yet"]
    )  # fmt: skip
    assert json.loads(foreign.read_text(encoding="utf-8"))["benchmarks"] == []


def test_json_is_pytest_benchmarks_report(pytester: pytest.Pytester) -> None:
    _project(pytester, 0.001, QUICK_OPTIONS)
    pytester.runpytest("--benchmark-json", "report.json").assert_outcomes(passed=4)
    report = read_json(pytester.path / "report.json")
    assert set(report) == {"machine_info", "commit_info", "benchmarks", "datetime", "version"}
    by_name = {b["name"]: b for b in report["benchmarks"]}
    assert set(by_name) == {"test_my_stuff", "test_my_stuff_different_arg", "test_work",
                            "test_pedantic"}  # fmt: skip
    work = by_name["test_work"]
    assert (work["group"], work["fullname"], work["params"]) == (
        "group-name", "test_pb.py::test_work", None
    )  # fmt: skip
    stats = work["stats"]
    assert set(stats) == {"min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
                          "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr",
                          "ops", "total", "data", "iterations"}  # fmt: skip
    assert stats["rounds"] == len(stats["data"]) == 5 and stats["min"] >= 0.001
    assert stats["ops"] == pytest.approx(1 / stats["mean"])
    assert by_name["test_my_stuff"]["group"] is None
    assert by_name["test_pedantic"]["stats"]["iterations"] == 2


@pytest.mark.parametrize(
    ("options", "passed", "measured"),
    [
        ("--benchmark-disable", 4, False),
        ("--benchmark-disable --benchmark-enable", 4, True),
        ("--benchmark-skip", 0, False),
        ("--benchmark-only --benchmark-skip", 4, True),
    ],
)
def test_disable_enable_skip_only(
    pytester: pytest.Pytester, options: str, passed: int, measured: bool
) -> None:
    _project(pytester, 0.001, f"{QUICK_OPTIONS} {options}")
    result = pytester.runpytest()
    result.assert_outcomes(passed=passed, skipped=4 - passed)
    assert any("benchmark test_pb.py" in line for line in result.stdout.lines) == measured


def test_options_without_an_equivalent_are_accepted_with_one_warning(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester, 0.001, QUICK_OPTIONS)
    result = pytester.runpytest(
        "--benchmark-histogram", "--benchmark-cprofile=tottime", "--benchmark-columns=min,max",
        "--benchmark-timer=mymodule.clock", "--benchmark-storage=elasticsearch+http://es:9200",
        "--benchmark-save-data", "--benchmark-verbose", "-k", "my_stuff",
    )  # fmt: skip
    result.assert_outcomes(passed=2, deselected=2, warnings=1)
    result.stdout.fnmatch_lines(
        ["*PytestConfigWarning: codomyrmex-performance has no equivalent of "
         "--benchmark-cprofile, --benchmark-verbose, --benchmark-columns, --benchmark-histogram, "
         "--benchmark-timer=mymodule.clock, "
         "--benchmark-storage=elasticsearch+http://es:9200: ignored"]
    )  # fmt: skip


def test_mapped_tuning_options(pytester: pytest.Pytester) -> None:
    _project(pytester, 0.001, "")
    result = pytester.runpytest(
        "--benchmark-min-rounds=7", "--benchmark-min-time=0.0005", "--benchmark-warmup=off",
        "--benchmark-timer=time.process_time", "--benchmark-disable-gc",
        "--benchmark-json=report.json", "-k", "my_stuff and not arg",
    )  # fmt: skip
    result.assert_outcomes(passed=1, deselected=3)
    (bench,) = read_json(pytester.path / "report.json")["benchmarks"]
    assert bench["options"] == {"timer": "cpu", "disable_gc": True, "rounds": 10,
                                "min_time": 0.0005, "warmup": 0}  # fmt: skip
    iterations = pytester.runpytest(
        "--benchmark-min-rounds=12", "--benchmark-warmup-iterations=0", QUICK_OPTIONS.split()[0],
        "--benchmark-json=report.json", "-k", "my_stuff and not arg",
    )  # fmt: skip
    iterations.assert_outcomes(passed=1, deselected=3)
    (bench,) = read_json(pytester.path / "report.json")["benchmarks"]
    assert (bench["options"]["rounds"], bench["options"]["warmup"]) == (12, 0)


def test_sort_and_group_by_shape_the_summary(pytester: pytest.Pytester) -> None:
    _project(pytester, 0.001, QUICK_OPTIONS)
    pytester.makepyfile(
        test_params="""
        import pytest

        @pytest.mark.parametrize("size", [30, 10, 20])
        def test_sizes(benchmark, size):
            benchmark(sum, range(size))
        """
    )
    result = pytester.runpytest(
        "test_params.py", "--benchmark-sort=name", "--benchmark-group-by=param:size"
    )
    result.assert_outcomes(passed=3)
    sections = [line for line in result.stdout.lines if line.startswith("---")]
    assert [s.strip("- ") for s in sections] == [
        "benchmark size=30: 1 test", "benchmark size=10: 1 test", "benchmark size=20: 1 test"
    ]  # fmt: skip
    by_func = pytester.runpytest("test_params.py", "--benchmark-group-by=func",
                                 "--benchmark-sort=name")  # fmt: skip
    names = [line.split()[0] for line in by_func.stdout.lines if line.startswith("test_sizes[")]
    assert names == ["test_sizes[10]", "test_sizes[20]", "test_sizes[30]"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--benchmark-sort=nope"], "--benchmark-sort must be one of min, max, mean, stddev, *"),
        (["--benchmark-min-rounds=0"], "--benchmark-min-rounds must be within 1 and 10000, *'0'"),
        (["--benchmark-min-time=-1"], "--benchmark-min-time must be within 0 and 3600 seconds*"),
        (["--benchmark-max-time=inf"], "--benchmark-max-time must be a finite number, got 'inf'"),
        (["--benchmark-warmup=maybe"], "--benchmark-warmup must be auto, on or off, got 'maybe'"),
        (["--benchmark-group-by=bogus"], "--benchmark-group-by: unknown grouping 'bogus' *"),
        (["--benchmark-save=a/b"], "--benchmark-save: a name without any of *, got 'a/b'"),
        (["--benchmark-compare-fail=mean:5%"], "--benchmark-compare-fail needs -*"),
        (["--benchmark-compare", "--benchmark-compare-fail=foo:5%"],
         "--benchmark-compare-fail: cannot parse 'foo:5%' *"),
        (["--benchmark-compare=0007"], "--benchmark-compare: no saved run 0007 in *"),
        (["--benchmark-compare", "--perf-baseline=x.json"],
         "--perf-baseline and --benchmark-compare exclude each other"),
        (["--benchmark-storage=file://tox.ini", "--benchmark-autosave"],
         "--benchmark-storage: not a directory: tox.ini"),
    ],
)  # fmt: skip
def test_bad_values_are_usage_errors(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    _project(pytester, 0.001, "")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    (line,) = [line for line in result.stderr.lines if line.strip()]
    assert fnmatch(line, f"ERROR: {message}"), line
    assert not (pytester.path / ".benchmarks").exists()
