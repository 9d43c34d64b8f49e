"""``codomyrmex-perf bench``: discovery, table, exit codes, baselines, JSON, --against."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

BENCH_FILE = """
import time
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("cli-suite")

@suite.add
def nap():
    time.sleep({delay})
"""

# What the ``codomyrmex-perf`` console script runs.
ENTRY_POINT = (
    "import sys; from codomyrmex.performance.cli import main; sys.exit(main(sys.argv[1:]))"
)
QUICK = ["--rounds", "8", "--min-time", "0.001", "--warmup", "0", "--no-progress"]


def bench(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, "bench", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
    )


def _write(path: Path, delay: float) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(textwrap.dedent(BENCH_FILE.format(delay=delay)))
    return path


def _one_error_line(completed: subprocess.CompletedProcess[str], *fragments: str) -> None:
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1, completed.stderr
    assert lines[0].startswith("codomyrmex-perf: error: ")
    assert "Traceback" not in completed.stderr
    for fragment in fragments:
        assert fragment in lines[0]


def test_directory_run_saves_baseline_and_json(tmp_path: Path) -> None:
    _write(tmp_path / "benches" / "bench_sleep.py", 0.002)
    (tmp_path / "benches" / "helper.py").write_text("raise RuntimeError('not a bench file')")
    base, out = tmp_path / "base.json", tmp_path / "out.json"
    completed = bench(tmp_path / "benches", "--save-baseline", base, "--json", out, *QUICK)
    assert completed.returncode == 0, completed.stderr
    assert "cli-suite.nap" in completed.stdout and "no baseline" in completed.stdout
    assert json.loads(base.read_text())["suites"]["cli-suite"]["benchmarks"]["nap"]["samples"]
    document = json.loads(out.read_text())
    assert document["exit_status"] == 0
    assert document["suites"][0]["results"][0]["name"] == "nap"


def test_regression_against_a_stored_baseline_exits_1_and_keeps_the_baseline(
    tmp_path: Path,
) -> None:
    base = tmp_path / "base.json"
    fast = _write(tmp_path / "fast" / "bench_x.py", 0.002)
    assert bench(fast, "--save-baseline", base, "--in-process", *QUICK).returncode == 0
    saved = base.read_bytes()
    slow = _write(tmp_path / "slow" / "bench_x.py", 0.008)
    completed = bench(slow, "--baseline", base, "--save-baseline", base, "--in-process", *QUICK)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "regression" in completed.stdout and "stored" in completed.stdout
    assert "not written" in completed.stderr
    assert base.read_bytes() == saved


def test_workers_and_against_interleave_two_code_versions(tmp_path: Path) -> None:
    old, new = tmp_path / "old", tmp_path / "new"
    old.mkdir()
    new.mkdir()
    (old / "mylib.py").write_text("import time\ndef work():\n    time.sleep(0.002)\n")
    (new / "mylib.py").write_text("import time\ndef work():\n    time.sleep(0.005)\n")
    (new / "bench_lib.py").write_text(
        "import mylib\nfrom codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('lib')\nsuite.add(mylib.work)\n"
    )
    completed = bench(new / "bench_lib.py", "--against", old, "--processes", "2", *QUICK)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "regression" in completed.stdout and "interleaved" in completed.stdout
    same = bench(new / "bench_lib.py", "--against", new, *QUICK)
    assert same.returncode == 0, same.stdout + same.stderr
    assert "regression" not in same.stdout


def test_failed_benchmark_exits_1_is_shown_and_written_as_json(tmp_path: Path) -> None:
    path, out = tmp_path / "bench_fail.py", tmp_path / "jf.json"
    path.write_text(
        "from codomyrmex.performance import BenchmarkSuite\nsuite = BenchmarkSuite('f')\n"
        "suite.add(lambda: None, name='fine')\n"
        "@suite.add\ndef bad():\n    raise ValueError('broken on purpose')\n"
    )
    completed = bench(path, "--json", out, "--in-process", *QUICK)
    assert completed.returncode == 1, completed.stderr
    assert "FAILED" in completed.stdout and "broken on purpose" in completed.stdout
    assert "Traceback" not in completed.stderr and "error:" not in completed.stderr
    document = json.loads(out.read_text())  # strict JSON: no NaN
    assert document["exit_status"] == 1
    fine, bad = document["suites"][0]["results"]
    assert bad["error"] == "ValueError: broken on purpose"
    assert bad["stats"]["median"] is None and bad["stats"]["ops_per_sec"] is None
    assert bad["samples"] == [] and bad["comparison"] is None
    assert fine["stats"]["median"] > 0


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["missing_dir"], ["no such file or directory", "missing_dir"]),
        (["sub"], ["no bench_*.py files"]),
        (["bench_empty.py"], ["no BenchmarkSuite found"]),
        (["bench_bad.py"], ["cannot load", "SyntaxError"]),
        (["bench_ok.py", "--baseline", "corrupt.json"], ["corrupt.json", "JSON"]),
        (["bench_ok.py", "--otlp", "http://127.0.0.1:9"], ["cannot reach", "127.0.0.1:9"]),
        (["bench_ok.py", "--min-effect", "lots"], ["minimum effect"]),
        (["bench_ok.py", "--rounds", "1"], ["--rounds"]),
        (["bench_ok.py", "--bogus"], ["unrecognized arguments: --bogus"]),
    ],
)
def test_bad_input_exits_2_with_one_line(
    tmp_path: Path, argv: list[str], fragments: list[str]
) -> None:
    _write(tmp_path / "bench_ok.py", 0.0)
    (tmp_path / "sub").mkdir()
    (tmp_path / "bench_empty.py").write_text("x = 1\n")
    (tmp_path / "bench_bad.py").write_text("def (:\n")
    (tmp_path / "corrupt.json").write_text("{truncated")
    before = (tmp_path / "corrupt.json").read_bytes()
    completed = bench("--save-baseline", "corrupt.json", *QUICK, *argv, cwd=tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    _one_error_line(completed, *fragments)
    assert (tmp_path / "corrupt.json").read_bytes() == before
