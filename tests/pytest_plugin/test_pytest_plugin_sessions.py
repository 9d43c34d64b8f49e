"""Whole sessions in a fresh interpreter: nothing imported until needed, pytest-xdist."""

from __future__ import annotations

import ast
import textwrap

import pytest

from harness.benchmark_tests import QUICK
from harness.subprocesses import run_python

pytestmark = pytest.mark.timeout(120)

#: Runs pytest in this directory and prints the modules of this package and of
#: OpenTelemetry it imported.
IMPORTS = """
import sys, pytest
status = pytest.main({args!r})
print("STATUS", int(status))
print("IMPORTED", sorted(m for m in sys.modules if m.startswith(("opentelemetry", "codomyrmex"))))
"""


def _imported(pytester: pytest.Pytester, *args: str) -> list[str]:
    completed = run_python(IMPORTS.format(args=[*args, "-p", "no:cacheprovider"]),
                           cwd=str(pytester.path))  # fmt: skip
    lines = completed.stdout.splitlines()
    assert "STATUS 0" in lines, completed.stdout + completed.stderr
    (imported,) = [line for line in lines if line.startswith("IMPORTED ")]
    return list(ast.literal_eval(imported.removeprefix("IMPORTED ")))


def test_a_session_without_benchmarks_imports_no_engine_and_no_opentelemetry(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_plain="def test_plain():\n    assert True\n")
    assert _imported(pytester) == [
        "codomyrmex",
        "codomyrmex.performance",
        "codomyrmex.performance.pytest_plugin",
        "codomyrmex.performance.pytest_plugin._settings",
    ]


def test_disabled_benchmarks_import_no_engine(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bench=f"import pytest\n\n{QUICK}\ndef test_len(benchmark):\n    benchmark(len, 'a')\n"
    )
    imported = _imported(pytester, "--perf-disable")
    assert "codomyrmex.performance.pytest_plugin._fixture" in imported
    assert not [m for m in imported if m.startswith(("opentelemetry", "codomyrmex.performance.pr"))]


XDIST_TESTS = """
import os, pytest

@pytest.mark.parametrize("n", range(4))
def test_call(benchmark, n):
    benchmark(lambda: open("calls.txt", "a").write(f"{n} {os.getpid()}\\n"))
"""


def test_xdist_runs_benchmarks_unmeasured_with_one_warning(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_xdist=textwrap.dedent(XDIST_TESTS))
    result = pytester.runpytest_subprocess("-p", "no:cacheprovider", "-n", "2")
    result.assert_outcomes(passed=4, warnings=1)
    result.stdout.fnmatch_lines(
        ["*PytestWarning: 4 benchmark(s) ran unmeasured under pytest-xdist: parallel tests "
         "share the CPU and would distort the timings; run benchmarks without -n*"]
    )  # fmt: skip
    calls = (pytester.path / "calls.txt").read_text(encoding="utf-8").split("\n")[:-1]
    assert sorted(line.split()[0] for line in calls) == ["0", "1", "2", "3"]
    assert len({line.split()[1] for line in calls}) == 2  # two worker processes ran them
    assert not any("benchmark test_xdist" in line for line in result.stdout.lines)


def test_xdist_with_no_workers_measures(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(test_xdist=textwrap.dedent(XDIST_TESTS.replace("range(4)", "range(1)")))
    result = pytester.runpytest_subprocess(
        "-p", "no:cacheprovider", "-n", "0", "--benchmark-min-time=0.001",
        "--benchmark-max-time=0.004",
    )  # fmt: skip
    result.assert_outcomes(passed=1)
    result.stdout.fnmatch_lines(["*- benchmark test_xdist.py: 1 test -*"])
