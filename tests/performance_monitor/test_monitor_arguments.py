"""Constructor arguments, fuzzed: a clear error at construction, never a hang or an overflow."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.subprocesses import run_python


@given(st.integers(min_value=1, max_value=sys.maxsize))
def test_every_size_up_to_maxsize_is_accepted(size: int) -> None:
    assert PerformanceMonitor(max_metrics=size).max_metrics == size


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=sys.maxsize + 1)))
def test_sizes_out_of_range_are_a_value_error(size: int) -> None:
    with pytest.raises(ValueError, match=r"max_metrics must be between 1 and \d+, got -?\d+"):
        PerformanceMonitor(max_metrics=size)


@given(
    st.one_of(
        st.floats(allow_nan=True, allow_infinity=True),
        st.text(),
        st.booleans(),
        st.none(),
        st.binary(),
        st.lists(st.integers(), max_size=2),
    )
)
def test_sizes_that_are_not_ints_are_a_type_error(size: object) -> None:
    with pytest.raises(TypeError, match="max_metrics must be an int"):
        PerformanceMonitor(max_metrics=size)  # type: ignore[arg-type]


def test_two_to_the_63_is_a_value_error_not_an_overflow() -> None:
    with pytest.raises(ValueError, match="max_metrics"):
        PerformanceMonitor(max_metrics=2**63)


@given(st.one_of(st.integers(), st.floats(), st.binary(), st.lists(st.text(), max_size=2)))
def test_log_files_that_are_not_paths_are_a_type_error(path: object) -> None:
    with pytest.raises(TypeError, match="log_file must be a path"):
        PerformanceMonitor(log_file=path)  # type: ignore[arg-type]


def test_a_nul_in_the_path_is_a_value_error(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="null byte"):
        PerformanceMonitor(log_file=tmp_path / "nul\x00byte")
    assert list(tmp_path.iterdir()) == []


def test_a_fifo_is_refused_at_once_instead_of_blocking(tmp_path: Path) -> None:
    fifo = tmp_path / "calls.jsonl"
    os.mkfifo(fifo)
    result = run_python(
        f"""
from codomyrmex.performance.performance_monitor import PerformanceMonitor
try:
    PerformanceMonitor(log_file={str(fifo)!r})
except ValueError as exc:
    print(exc)
""",
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"log_file must be a regular file: {fifo} is a FIFO"


def test_a_fifo_with_a_reader_is_refused_too(tmp_path: Path) -> None:
    fifo = tmp_path / "calls.jsonl"
    os.mkfifo(fifo)
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        with pytest.raises(ValueError, match=f"{fifo} is a FIFO"):
            PerformanceMonitor(log_file=fifo)
    finally:
        os.close(reader)


def test_a_device_is_refused() -> None:
    with pytest.raises(ValueError, match="/dev/null is a character device"):
        PerformanceMonitor(log_file="/dev/null")


def test_a_log_replaced_by_a_fifo_is_dropped_without_blocking_the_call(tmp_path: Path) -> None:
    result = run_python(
        f"""
import json, logging, os
from codomyrmex.performance.performance_monitor import PerformanceMonitor

logging.basicConfig(level=logging.WARNING, format="%(message)s")
path = {str(tmp_path / "calls.jsonl")!r}
perf = PerformanceMonitor(log_file=path)

@perf.monitor
def job():
    return 1

job()
os.unlink(path)
os.mkfifo(path)
job()
perf.flush()
print(json.dumps(perf.get_stats()["count"]))
""",
        timeout=30,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "2"
    assert "is a FIFO" in result.stderr
