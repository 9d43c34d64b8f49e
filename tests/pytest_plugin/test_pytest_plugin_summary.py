"""The end-of-session table: one section per group, at the terminal's width (80 columns too)."""

from __future__ import annotations

from fnmatch import fnmatch

import pytest

from harness.benchmark_tests import QUICK, write_library

pytestmark = pytest.mark.timeout(120)

TESTS = f"""
import pytest, mylib

{QUICK}
@pytest.mark.parametrize("label", ["a-parameter-id-long-enough-to-need-a-line-of-its-own-here"])
def test_work(benchmark, label):
    benchmark(mylib.work)

@pytest.mark.benchmark(group="sums", min_time=0.001, max_time=0.006)
def test_compute(benchmark):
    benchmark(mylib.compute, 100)

{QUICK}
def test_broken(benchmark):
    calls = []
    def breaks_later():
        calls.append(1)
        if len(calls) > 1:
            raise RuntimeError("a long message " * 8)
    benchmark(breaks_later)
"""


def _section(lines: list[str]) -> list[str]:
    """Our part of the output: from the first benchmark section to pytest's summary."""
    start = next(i for i, line in enumerate(lines) if line.startswith("-") and "benchmark" in line)
    end = next(i for i, line in enumerate(lines) if line.startswith("=") and i > start)
    return lines[start:end]


def _run(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch, columns: int) -> list[str]:
    """The table of a run compared with a saved one (``--benchmark-compare`` only reports)."""
    write_library(pytester)
    pytester.makepyfile(test_table=TESTS)
    pytester.runpytest("-p", "no:cacheprovider", "-k", "not broken", "--benchmark-save=base")
    monkeypatch.setenv("COLUMNS", str(columns))
    result = pytester.runpytest("-p", "no:cacheprovider", "--benchmark-compare")
    result.assert_outcomes(passed=2, failed=1)
    return _section(result.stdout.lines)


def test_at_80_columns_every_line_fits(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = _run(pytester, monkeypatch, 80)
    assert max(len(line) for line in section) <= 80, "\n".join(section)
    assert [line.strip("- ") for line in section if line.startswith("---")] == [
        "benchmark test_table.py: 2 tests",
        "benchmark sums: 1 test",
    ]
    name = "test_work[a-parameter-id-long-enough-to-need-a-line-of-its-own-here]"
    at = section.index(name)  # a long name gets its own line, the figures the next
    assert section[at + 1].startswith(" " * 30) and section[at + 1].rstrip().endswith("×1")
    assert section[at + 2].startswith("  vs baseline: ")
    assert section[at + 2].endswith("(stored)")
    broken = section.index("test_broken")
    assert section[broken + 1].startswith("  FAILED: RuntimeError: a long message")
    assert section[broken + 2].startswith("  ")  # the error folds onto the next line
    assert section[-2] == "" and fnmatch(section[-1], "compared with .benchmarks/*/0001_base.json")


def test_a_wide_terminal_gets_one_line_per_benchmark(
    pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch
) -> None:
    section = _run(pytester, monkeypatch, 180)
    header = section[1].split()
    assert header == ["name", "median", "IQR", "ops/s", "rounds×calls", "ratio", "95%", "CI",
                      "p", "verdict"]  # fmt: skip
    assert not any("vs baseline" in line for line in section)
    (compute,) = [line for line in section if line.startswith("test_compute")]
    assert compute.split()[-1] in ("no_change", "inconclusive", "improvement", "regression")
    assert max(len(line) for line in section) <= 180
