"""``codomyrmex-perf bench``: discovery, table, exit codes, baselines, JSON, --against."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from codomyrmex.performance.cli import bench as bench_cli
from codomyrmex.performance.profiling.result import (
    BenchmarkResult,
    Comparison,
    SuiteResult,
    Verdict,
)
from codomyrmex.performance.telemetry import SCOPE_NAME
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry
from harness.terminal import first_column

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


def bench(
    *argv: str | Path, cwd: Path | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, "bench", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=cwd,
        env=None if env is None else {**os.environ, **env},
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
    assert document["suites"][0]["results"][0]["groups"] == [0, 0, 0, 1, 1, 1, 2, 2]  # 3 workers


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


def test_only_a_regression_fails_the_gate(tmp_path: Path) -> None:
    fast, slow = tmp_path / "fast", tmp_path / "slow"
    for directory, delay in ((fast, 0.002), (slow, 0.005)):
        directory.mkdir()
        (directory / "mylib.py").write_text(f"import time\ndef work():\n    time.sleep({delay})\n")
        (directory / "bench_lib.py").write_text(
            "import mylib\nfrom codomyrmex.performance import BenchmarkSuite\n"
            "suite = BenchmarkSuite('a_rather_long_suite_name_for_the_logs')\n"
            "suite.add(mylib.work)\n"
        )
    out = tmp_path / "out.json"
    narrow = {"COLUMNS": "50"}  # not a terminal: the table ignores the width, nothing is cut
    faster = bench(fast / "bench_lib.py", "--against", slow, "--json", out, *QUICK, env=narrow)
    assert faster.returncode == 0, faster.stdout + faster.stderr
    (result,) = json.loads(out.read_text())["suites"][0]["results"]
    assert result["comparison"]["verdict"] == "improvement"
    assert sorted(set(result["groups"])) == [0, 1, 2]  # worker processes by default
    row = next(line for line in faster.stdout.splitlines() if "improvement" in line)
    assert "a_rather_long_suite_name_for_the_logs.work" in row and "interleaved" in row
    quick = [*QUICK[2:], "--rounds", "2"]  # two pairs cannot show significance
    unsure = bench(slow / "bench_lib.py", "--against", fast, "--json", out, *quick)
    assert unsure.returncode == 0, unsure.stdout + unsure.stderr
    (result,) = json.loads(out.read_text())["suites"][0]["results"]
    assert result["comparison"]["verdict"] == "inconclusive" and result["comparison"]["ratio"] > 1.5
    assert json.loads(out.read_text())["exit_status"] == 0


def test_processes_0_runs_in_process(tmp_path: Path) -> None:
    path, out = tmp_path / "bench_pid.py", tmp_path / "out.json"
    path.write_text(  # workers inherit the environment, so they see the parent's pid
        "import os\nfrom codomyrmex.performance import BenchmarkSuite\n"
        "os.environ.setdefault('BENCH_PARENT_PID', str(os.getpid()))\n"
        "suite = BenchmarkSuite('pid')\n"
        "@suite.add\ndef where():\n"
        "    if os.getpid() != int(os.environ['BENCH_PARENT_PID']):\n"
        "        raise RuntimeError('ran in a worker process')\n"
    )
    completed = bench(path, "--processes", "0", "--json", out, *QUICK)
    assert completed.returncode == 0, completed.stdout + completed.stderr
    (result,) = json.loads(out.read_text())["suites"][0]["results"]
    assert result["error"] is None and result["groups"] == [0] * 8
    workers = bench(path, "--processes", "1", *QUICK)
    assert workers.returncode == 1 and "ran in a worker process" in workers.stdout


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
        (["bench_ok.py", "--min-effect", "lots"], ["--min-effect: minimum effect"]),
        (["bench_ok.py", "--min-effect-abs", "2xs"], ["--min-effect-abs: duration", "'2xs'"]),
        (["bench_ok.py", "--rounds", "1"], ["--rounds"]),
        (["bench_ok.py", "--bogus"], ["unrecognized arguments: --bogus"]),
        (["bench_ok.py", "--processes", "-1"], ["--processes"]),
        (["bench_ok.py", "--against", ".", "--processes", "0"], ["--against", "--processes >= 1"]),
        (["bench_ok.py", "--json", "nodir/out.json"], ["--json", "nodir/out.json", "directory"]),
        (["bench_ok.py", "--json", "sub"], ["--json", "sub", "is a directory"]),
        (
            ["bench_ok.py", "--save-baseline", "nodir/b.json"],
            ["--save-baseline", "nodir/b.json", "no such directory"],
        ),
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
    assert "Benchmarks" not in completed.stdout  # rejected before anything ran
    assert (tmp_path / "corrupt.json").read_bytes() == before
    assert not (tmp_path / "nodir").exists()


def test_an_output_that_cannot_be_written_after_the_run_names_the_target(tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    path = tmp_path / "bench_rm.py"
    path.write_text(  # the directory is there when checked, gone when results are written
        "import shutil\nfrom codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('rm')\n"
        f"suite.add(lambda: shutil.rmtree({str(out)!r}, ignore_errors=True), name='rm')\n"
    )
    for option in ("--json", "--save-baseline"):
        out.mkdir(exist_ok=True)
        completed = bench(path, option, out / "r.json", "--in-process", *QUICK)
        assert completed.returncode == 2, completed.stdout + completed.stderr
        (error,) = [line for line in completed.stderr.splitlines() if "error" in line]
        assert error == (
            f"codomyrmex-perf: error: {option}: cannot write {out / 'r.json'}: "
            "No such file or directory"
        )
        assert "Traceback" not in completed.stderr and ".tmp" not in completed.stderr


def _compared(name: str, verdict: Verdict, mode: str, ratio: float) -> BenchmarkResult:
    result = BenchmarkResult(name, [0.00121, 0.00125, 0.00123, 0.00122, 0.0013], 123_456, 5)
    result.comparison = Comparison(
        ratio, ratio * 0.9, ratio * 1.1, 1e-4, verdict, p_adjusted=4.3e-4, mode=mode,  # type: ignore[arg-type]
    )  # fmt: skip
    return result


TABLE_RUNS = [
    SuiteResult(
        "parsing",
        [
            _compared("parse_small", "regression", "interleaved", 1.61234),
            _compared("parse_large", "inconclusive", "stored", 1.02),
            _compared("tokenize", "improvement", "interleaved", 0.5),
            BenchmarkResult("broken", [], 0, 0, error="ValueError: broken on purpose"),
        ],
    )
]


def _render(width: int) -> str:
    console = Console(width=width, record=True, force_terminal=True, color_system="standard")
    bench_cli._print_table(console, TABLE_RUNS)
    return console.export_text(styles=True)


@pytest.mark.parametrize("width", [60, 80, 100, 140])
def test_table_truncates_neither_verdicts_nor_names(width: int) -> None:
    plain = Text.from_ansi(_render(width)).plain
    assert max(len(line) for line in plain.splitlines()) <= width
    assert "…" not in plain
    names = first_column(plain)
    for whole in ("parsing.parse_small", "parsing.parse_large", "parsing.tokenize"):
        assert whole in "".join(names)
    assert "ValueError: broken on purpose" in " ".join(names)  # why it failed
    for whole in ("regression", "inconclusive", "improvement", "interleaved", "stored", "FAILED"):
        assert whole in plain


def test_table_is_one_line_per_benchmark_when_it_fits() -> None:
    wide = Text.from_ansi(_render(200)).plain
    row = next(line for line in wide.splitlines() if "parsing.parse_large" in line)
    assert "inconclusive" in row and "stored" in row  # one line per benchmark when it fits


def test_regression_row_is_bold_red_and_shows_its_confidence_interval() -> None:
    for width in (80, 200):
        styled = _render(width)
        assert "\x1b[1;31mregression\x1b[0m" in styled
        assert "\x1b[1;32mimprovement\x1b[0m" in styled
        assert "\x1b[33minconclusive\x1b[0m" in styled
        plain = Text.from_ansi(styled).plain
        assert "1.612" in plain and "[1.451, 1.774]" in plain
        assert "4.3e-04" in plain or "0.00043" in plain


def test_otlp_run_reaches_a_live_collector(otel_collector: OtelCollector, tmp_path: Path) -> None:
    suite = f"otlp-{uuid.uuid4().hex[:8]}"  # the session collector is shared: find our run
    path = tmp_path / "bench_otlp.py"
    path.write_text(
        "import time\nfrom codomyrmex.performance import BenchmarkSuite\n"
        f"suite = BenchmarkSuite({suite!r})\n"
        "suite.add(lambda: time.sleep(0.001), name='nap')\n"
        "suite.add(lambda: sum(range(100)), name='add')\n"
    )
    saved = tmp_path / "saved.json"
    completed = bench(
        path, "--otlp", otel_collector.http_endpoint, "--in-process", "--save-baseline", saved,
        *QUICK,
    )  # fmt: skip
    assert completed.returncode == 0, completed.stdout + completed.stderr
    feedback = [line for line in completed.stderr.splitlines() if not line.startswith("warning")]
    assert feedback == [  # where everything went
        f"telemetry: 3 of 3 spans sent to {otel_collector.http_endpoint} (http/protobuf)",
        f"baseline saved to {saved}",
    ]
    assert saved.is_file()

    def arrived(telemetry: Telemetry) -> Telemetry | None:
        ours = [s for s in telemetry.spans if s.name.startswith(f"benchmark {suite}")]
        points = telemetry.latest_points(
            "codomyrmex.benchmark.duration", codomyrmex__benchmark__suite=suite
        )
        return telemetry if len(ours) == 3 and len(points) == 2 else None

    got: Telemetry = otel_collector.wait_for(arrived, service_name="codomyrmex-perf-bench")
    (root,) = got.spans_named(f"benchmark {suite}")
    assert root.parent_span_id is None and root.scope_name == SCOPE_NAME
    assert root.service_name == "codomyrmex-perf-bench"
    assert root.attributes["codomyrmex.benchmark.suite"] == suite
    for name in ("nap", "add"):
        (child,) = got.spans_named(f"benchmark {suite}.{name}")
        assert (child.trace_id, child.parent_span_id) == (root.trace_id, root.span_id)
        assert child.attributes["codomyrmex.benchmark.name"] == name
        assert child.attributes["codomyrmex.benchmark.rounds"] == 8
        (samples,) = got.latest_points(
            "codomyrmex.benchmark.duration",
            codomyrmex__benchmark__suite=suite,
            codomyrmex__benchmark__name=name,
        )
        assert (samples.data_type, samples.unit, samples.count) == ("Histogram", "s", 8)
        assert samples.service_name == "codomyrmex-perf-bench"
