"""The ``--perf-*`` options: disable, only, skip, save, baseline, json; bad values; --co, -k."""

from __future__ import annotations

import importlib.util
import os
import socket
import textwrap
from fnmatch import fnmatch
from pathlib import Path

import pytest

from harness.benchmark_tests import QUICK, read_json, write_library

pytestmark = pytest.mark.timeout(120)

BENCHMARKS = f"""
import pytest, mylib

calls = []

{QUICK}
def test_work(benchmark):
    benchmark(mylib.work)

{QUICK}
def test_counted(benchmark):
    benchmark(calls.append, 1)
    assert (len(calls) == 1) == benchmark.disabled

def test_plain():
    pass
"""


def _project(pytester: pytest.Pytester, delay: float = 0.001) -> None:
    write_library(pytester, delay)
    pytester.makepyfile(test_bench=textwrap.dedent(BENCHMARKS))


def _usage_error(result: pytest.RunResult) -> str:
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    lines = [line for line in result.stderr.lines if line.strip()]
    assert len(lines) == 1, lines
    assert lines[0].startswith("ERROR: ")
    return lines[0].removeprefix("ERROR: ")


def test_disable_runs_each_function_once_unmeasured(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(
        test_pedantic="""
        made = []

        def test_pedantic(benchmark):
            assert benchmark.pedantic(len, setup=lambda: made.append(1) or (("ab",), {}),
                                      rounds=50) == 2
            assert made == [1] and benchmark.stats is None and not benchmark.enabled
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "--perf-disable", "--perf-save", "b.json")
    result.assert_outcomes(passed=4)
    assert not [line for line in result.stdout.lines if "benchmark" in line]
    assert not (pytester.path / "b.json").exists()


@pytest.mark.parametrize(
    ("option", "passed", "skipped"),
    [("--perf-only", 2, 1), ("--perf-skip", 1, 2), ("--benchmark-only", 2, 1),
     ("--benchmark-skip", 1, 2)],
)  # fmt: skip
def test_only_and_skip_select_by_the_benchmark_fixture(
    pytester: pytest.Pytester, option: str, passed: int, skipped: int
) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider", "-rs", option)
    result.assert_outcomes(passed=passed, skipped=skipped)
    reason = "not a benchmark (--perf-only)" if "only" in option else "a benchmark (--perf-skip)"
    result.stdout.fnmatch_lines([f"SKIPPED * {reason}"])


def test_save_writes_the_baseline_format_of_codomyrmex_perf_bench(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    result = pytester.runpytest("-p", "no:cacheprovider", "--perf-save", "base.json")
    result.assert_outcomes(passed=3)
    result.stdout.fnmatch_lines(["baseline saved: base.json"])
    document = read_json(pytester.path / "base.json")
    assert document["schema"] == "codomyrmex-performance/benchmark-baseline"
    assert document["fingerprint"]["measurement"] == "in-process, wall timer"
    assert list(document["suites"]) == ["test_bench.py"]
    benchmarks = document["suites"]["test_bench.py"]["benchmarks"]
    assert set(benchmarks) == {"test_work", "test_counted"}
    assert len(benchmarks["test_work"]["samples"]) == 6
    assert min(benchmarks["test_work"]["samples"]) >= 0.001


def test_quiet_prints_nothing_but_a_line_per_regression(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.runpytest("-p", "no:cacheprovider", "--perf-save", "base.json").assert_outcomes(
        passed=3
    )
    quiet = pytester.runpytest("-p", "no:cacheprovider", "-q", "--perf-baseline", "base.json")
    quiet.assert_outcomes(passed=3)
    assert len(quiet.stdout.lines) == 2, quiet.stdout.lines
    quiet.stdout.fnmatch_lines(["...*100%]", "3 passed in *s"])


def test_a_stored_baseline_gates_a_slower_candidate(pytester: pytest.Pytester) -> None:
    _project(pytester, delay=0.001)
    pytester.runpytest("-p", "no:cacheprovider", "--perf-save", "base.json").assert_outcomes(
        passed=3
    )
    same = pytester.runpytest("-p", "no:cacheprovider", "--perf-baseline=base.json", "-k", "work")
    same.assert_outcomes(passed=1, deselected=2)
    same.stdout.fnmatch_lines(["  vs baseline: *(stored)", "compared with base.json"])
    write_library(pytester, delay=0.012)
    slower = pytester.runpytest(
        "-p", "no:cacheprovider", "-q", "--perf-baseline", "base.json", "-k", "work"
    )
    slower.assert_outcomes(failed=1, deselected=2)
    slower.stdout.fnmatch_lines(
        ["performance regression: test_work takes 1?.*× the baseline's time (95% CI *-*, "
         "p=0.00*, stored; a regression is >= *×)",
         "REGRESSION test_bench.py::test_work: 1?.*× [[]*, *] p=0.00* (stored)"]
    )  # fmt: skip


def test_json_has_every_result_with_its_test(pytester: pytest.Pytester) -> None:
    _project(pytester)
    pytester.makepyfile(
        test_info=f"""
        import pytest

        {QUICK}
        def test_info(benchmark):
            benchmark.extra_info.update(size=3, label="x", obj=object(), nan=float("nan"))
            benchmark(len, "abc")
        """
    )
    pytester.runpytest("-p", "no:cacheprovider", "--perf-json", "out.json").assert_outcomes(
        passed=4
    )
    document = read_json(pytester.path / "out.json")
    assert document["exit_status"] == 0
    by_name = {r["name"]: r for suite in document["suites"] for r in suite["results"]}
    assert set(by_name) == {"test_work", "test_counted", "test_info"}
    info = by_name["test_info"]
    assert info["nodeid"] == "test_info.py::test_info" and info["suite"] == "test_info.py"
    assert info["extra_info"]["size"] == 3 and info["extra_info"]["nan"] is None
    assert info["extra_info"]["obj"].startswith("<object object at")
    assert info["rounds"] == len(info["samples"]) == 6 and info["comparison"] is None


def _closed_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _fifo(directory: Path) -> str:
    path = directory / "pipe.json"
    os.mkfifo(path)
    return str(path)


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--perf-only", "--perf-skip"], "--perf-only and --perf-skip exclude each other: *"),
        (["--perf-baseline", "missing.json"],
         "--perf-baseline: cannot use baseline missing.json: no such file"),
        (["--perf-baseline", "corrupt.json"],
         "--perf-baseline: cannot use baseline corrupt.json: not valid JSON (*"),
        (["--perf-baseline", "."], "--perf-baseline: not a regular file: ."),
        (["--perf-baseline", "{fifo}"], "--perf-baseline: not a regular file: *pipe.json"),
        (["--perf-baseline", "a\0b"], "--perf-baseline: a path cannot contain a NUL character"),
        (["--perf-save", "nodir/base.json"],
         "--perf-save: cannot write nodir/base.json: no such directory nodir"),
        (["--perf-save", "."], "--perf-save: cannot write .: is a directory"),
        (["--perf-save", "mylib.py"],
         "--perf-save: mylib.py is a Python file: results are never written there"),
        (["--perf-json", "nodir/x.json"], "--perf-json: cannot write nodir/x.json: no such *"),
        (["--perf-against", "nodir"], "--perf-against: no such directory: nodir"),
        (["--perf-baseline", "corrupt.json", "--perf-against", "."],
         "--perf-baseline (a saved run) and --perf-against (code to interleave with) exclude*"),
        (["--perf-otlp", "localhost:4318"],
         "--perf-otlp must be an http:// or https:// URL, got 'localhost:4318'"),
        (["--perf-otlp", "http://[::1"], "--perf-otlp is not a valid URL: *"),
        (["--perf-otlp", "http://127.0.0.1:{port}"],
         "--perf-otlp: cannot reach the OTLP endpoint http://127.0.0.1:* (Connection refused)"),
    ],
)  # fmt: skip
def test_bad_values_stop_the_session_with_one_line_and_touch_nothing(
    pytester: pytest.Pytester, args: list[str], message: str
) -> None:
    _project(pytester)
    corrupt = pytester.path / "corrupt.json"
    corrupt.write_text("{not json", encoding="utf-8")
    fifo, port = _fifo(pytester.path), _closed_port()
    args = [arg.format(fifo=fifo, port=port) for arg in args]
    before = sorted(p.name for p in pytester.path.iterdir())
    line = _usage_error(pytester.runpytest("-p", "no:cacheprovider", *args))
    assert fnmatch(line, message), line
    assert sorted(p.name for p in pytester.path.iterdir()) == before
    assert corrupt.read_text(encoding="utf-8") == "{not json"


def test_collect_only_and_k_run_no_benchmark(pytester: pytest.Pytester) -> None:
    _project(pytester)
    listed = pytester.runpytest("-p", "no:cacheprovider", "--co", "-q", "--perf-save", "b.json")
    assert listed.ret == pytest.ExitCode.OK
    assert listed.stdout.lines[:3] == [
        "test_bench.py::test_work",
        "test_bench.py::test_counted",
        "test_bench.py::test_plain",
    ]
    assert not any("benchmark" in line for line in listed.stdout.lines[3:])
    assert not (pytester.path / "b.json").exists()
    selected = pytester.runpytest("-p", "no:cacheprovider", "-k", "work", "--perf-json", "o.json")
    selected.assert_outcomes(passed=1, deselected=2)
    document = read_json(pytester.path / "o.json")
    assert [r["name"] for s in document["suites"] for r in s["results"]] == ["test_work"]


def test_an_output_that_cannot_be_written_at_the_end_fails_the_session(
    pytester: pytest.Pytester,
) -> None:
    _project(pytester)
    (pytester.path / "out").mkdir()
    pytester.makepyfile(
        test_late="""
        import shutil, pathlib

        def test_replace_the_directory():
            shutil.rmtree("out")
            pathlib.Path("out").write_text("now a file")
        """
    )
    result = pytester.runpytest("-p", "no:cacheprovider", "-q", "--perf-json", "out/r.json")
    result.assert_outcomes(passed=4)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["--perf-json: cannot write out/r.json: *"])


def test_otlp_needs_the_sdk(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    found = importlib.util.find_spec
    monkeypatch.setattr(
        importlib.util,
        "find_spec",
        lambda name, *args: None if name == "opentelemetry.sdk" else found(name, *args),
    )
    _project(pytester)
    line = _usage_error(pytester.runpytest("--perf-otlp", "http://127.0.0.1:4318"))
    assert line == (
        "--perf-otlp needs the OpenTelemetry SDK: pip install 'codomyrmex-performance[sdk]'"
    )
