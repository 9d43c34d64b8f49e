"""Output paths that are no regular file (FIFO, socket) are refused before any benchmark runs."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from codomyrmex.performance import run_benchmark

ENTRY_POINT = (
    "import sys; from codomyrmex.performance.cli import main; sys.exit(main(sys.argv[1:]))"
)
MARKED_BENCH = """
from pathlib import Path
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("targets")

@suite.add
def touch():
    Path({marker!r}).write_text("ran")
"""


def special(tmp_path: Path, kind: str) -> Path:
    path = tmp_path / f"out-{kind}"
    if kind == "fifo":
        os.mkfifo(path)
    else:
        server = socket.socket(socket.AF_UNIX)
        server.bind(str(path))
        server.close()
    return path


@pytest.mark.parametrize("kind", ["fifo", "socket"])
@pytest.mark.parametrize("option", ["--json", "--save-baseline", "--html", "--markdown"])
def test_bench_refuses_a_special_output_before_running(
    tmp_path: Path, option: str, kind: str
) -> None:
    marker = tmp_path / "RAN"
    bench_file = tmp_path / "bench_targets.py"
    bench_file.write_text(textwrap.dedent(MARKED_BENCH.format(marker=str(marker))))
    target = special(tmp_path, kind)
    completed = subprocess.run(
        [
            sys.executable,
            "-c",
            ENTRY_POINT,
            "bench",
            str(bench_file),
            option,
            str(target),
            "--in-process",
            "--rounds",
            "2",
            "--min-time",
            "0.001",
            "--no-progress",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2, completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codomyrmex-perf: error: "), completed.stderr
    assert str(target) in lines[0] and "not a regular file" in lines[0]
    assert not marker.exists()
    assert target.is_fifo() if kind == "fifo" else target.is_socket()


def test_run_benchmark_refuses_a_fifo_baseline_target_before_running(tmp_path: Path) -> None:
    calls: list[int] = []
    target = special(tmp_path, "fifo")
    with pytest.raises(OSError, match="not a regular file") as raised:
        run_benchmark(lambda: calls.append(1), save_baseline=target)
    assert raised.value.filename == str(target)
    assert calls == []
