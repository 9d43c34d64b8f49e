"""``bench --profile DIR``, and bad input that bench refuses before anything runs."""

from __future__ import annotations

import json
import os
import pstats
import subprocess
import sys
from pathlib import Path

import pytest
from rich.console import Console
from rich.text import Text

from codomyrmex.performance.cli import _bench_profiles
from codomyrmex.performance.profiling.profiles import FunctionStat, Profile, diff
from codomyrmex.performance.profiling.result import BenchmarkResult, Comparison, SuiteResult

ENTRY_POINT = (
    "import sys; from codomyrmex.performance.cli import main; sys.exit(main(sys.argv[1:]))"
)
QUICK = ["--rounds", "8", "--min-time", "0.002", "--warmup", "0", "--no-progress"]

OLD = """
def work():
    return sum(i * i for i in range(1000))
"""
NEW = """
def work():
    slow_helper()
    return sum(i * i for i in range(1000))


def slow_helper():
    total = 0
    for i in range(20_000):
        total += i % 7
    return total
"""
BENCH = """
import mylib
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("lib")
suite.add(mylib.work)
"""


def bench(*argv: str | Path, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", ENTRY_POINT, "bench", *map(str, argv)],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=cwd,
    )


def _checkouts(tmp_path: Path) -> tuple[Path, Path]:
    old, new = tmp_path / "old", tmp_path / "new"
    for directory, code in ((old, OLD), (new, NEW)):
        directory.mkdir()
        (directory / "mylib.py").write_text(code)
        (directory / "bench_lib.py").write_text(BENCH)
    return old, new


def _grown_first(stdout: str) -> str:
    lines = stdout.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("What grew in lib.work"))
    return lines[header + 3]  # title, column headers, rule, then the first function


def test_against_another_checkout_names_the_function_that_grew(tmp_path: Path) -> None:
    old, new = _checkouts(tmp_path)
    profiles, out = tmp_path / "profiles", tmp_path / "out.json"
    completed = bench(
        new / "bench_lib.py", "--against", old, "--processes", "2", "--profile", profiles,
        "--json", out, *QUICK,
    )  # fmt: skip
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "regression" in completed.stdout and "Profile of lib.work" in completed.stdout
    assert _grown_first(completed.stdout).split()[0] == "slow_helper"
    (result,) = json.loads(out.read_text())["suites"][0]["results"]
    (top,) = result["comparison"]["profile_diff"]["by_own"][:1]
    assert (top["name"], top["file"], top["line"]) == ("slow_helper", "mylib.py", 7)
    assert top["own_before"] == 0 and top["own_delta"] > 0
    assert result["profile"]["functions"][0]["name"] == "slow_helper"
    baseline_side = result["comparison"]["baseline_profile"]
    assert "slow_helper" not in {f["name"] for f in baseline_side["functions"]}
    assert sorted(os.listdir(profiles)) == [
        "lib.work.baseline.pstats",
        "lib.work.baseline.speedscope.json",
        "lib.work.pstats",
        "lib.work.speedscope.json",
    ]
    stats = pstats.Stats(str(profiles / "lib.work.pstats"))
    assert any(name == "slow_helper" for (_, _, name) in stats.stats)  # type: ignore[attr-defined]
    flame = json.loads((profiles / "lib.work.speedscope.json").read_text())
    assert flame["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    assert "slow_helper" in {frame["name"] for frame in flame["shared"]["frames"]}


def test_a_stored_baseline_saved_with_profile_gives_the_differential_profile(
    tmp_path: Path,
) -> None:
    old, new = _checkouts(tmp_path)
    base, profiles = tmp_path / "base.json", tmp_path / "profiles"
    saved = bench(old / "bench_lib.py", "--save-baseline", base, "--profile", profiles, *QUICK)
    assert saved.returncode == 0, saved.stdout + saved.stderr
    stored = json.loads(base.read_text())["suites"]["lib"]["benchmarks"]["work"]["profile"]
    assert stored["functions"] and stored["pstats"] == str(profiles / "lib.work.pstats")
    completed = bench(new / "bench_lib.py", "--baseline", base, "--profile", profiles, *QUICK)
    assert completed.returncode == 1, completed.stdout + completed.stderr
    assert "stored" in completed.stdout
    assert _grown_first(completed.stdout).split()[0] == "slow_helper"


@pytest.mark.parametrize(
    ("argv", "fragments"),
    [
        (["--profile", "a_file"], ["--profile: cannot write to a_file: not a directory"]),
        (["--profile", "locked"], ["--profile: cannot write to locked: "]),
        (["--profile", "nodir/profiles"], ["--profile", "nodir/profiles", "no such directory"]),
        (["--baseline", "base.json", "--against", "."], ["--baseline", "--against"]),
        (["--rounds", "100000"], ["--rounds must be between 2 and 10000"]),
        (["--warmup", "5000"], ["--warmup must be between 0 and 1000"]),
        (["--min-time", "nan"], ["--min-time"]),
        (["--baseline", "zero_probe.json"], ["zero_probe.json", "probes"]),
        (["--save-baseline", "bench_ran.py"], ["bench_ran.py", "Python file"]),
    ],
)
def test_bad_input_is_one_line_before_any_benchmark_runs(
    tmp_path: Path, immutable: Path, argv: list[str], fragments: list[str]
) -> None:
    marker = tmp_path / "RAN"
    (tmp_path / "bench_ran.py").write_text(
        "from pathlib import Path\nfrom codomyrmex.performance import BenchmarkSuite\n"
        "suite = BenchmarkSuite('ran')\n"
        f"suite.add(lambda: Path({str(marker)!r}).touch(), name='touch')\n"
    )
    (tmp_path / "a_file").write_text("keep")
    document = {
        "schema": "codomyrmex-performance/benchmark-baseline", "schema_version": 1,
        "suites": {"ran": {"benchmarks": {"touch": {
            "samples": [1e-6] * 3, "iterations": 1, "probes": [0.0],
        }}}},
    }  # fmt: skip
    (tmp_path / "zero_probe.json").write_text(json.dumps(document))
    (tmp_path / "base.json").write_text(json.dumps(document))
    before = (tmp_path / "bench_ran.py").read_bytes()
    completed = bench("bench_ran.py", "--in-process", *QUICK, *argv, cwd=tmp_path)
    assert completed.returncode == 2, completed.stdout + completed.stderr
    lines = completed.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("codomyrmex-perf: error: "), completed.stderr
    for fragment in fragments:
        assert fragment in lines[0]
    assert not marker.exists() and "Benchmarks" not in completed.stdout
    assert (tmp_path / "a_file").read_text() == "keep" and not (tmp_path / "nodir").exists()
    assert (tmp_path / "bench_ran.py").read_bytes() == before


def _function(name: str, line: int, own: float) -> FunctionStat:
    return FunctionStat(name, "a_rather_long_package_name/and_module.py", line, 1.0, own, own)


def test_profile_tables_fit_80_columns_without_cutting_names() -> None:
    before = Profile(1000, 0.1, (_function("parse", 3, 2e-6),))
    after = Profile(1000, 0.1, (
        _function("a_slow_helper_with_a_long_descriptive_name", 40, 9e-4),
        _function("parse", 3, 2.5e-6),
        FunctionStat("<built-in method builtins.sum>", "~", 0, 2000.0, 1e-6, 1e-6),
    ))  # fmt: skip
    result = BenchmarkResult("work", [1e-3] * 5, 10, 5, suite="lib", profile=after)
    result.comparison = Comparison(
        1.5, 1.4, 1.6, 1e-4, "regression", profile_diff=diff(before, after), baseline_profile=before
    )
    console = Console(width=80, record=True, force_terminal=True, color_system="standard")
    _bench_profiles.print_profiles(console, [SuiteResult("lib", [result])])
    plain = Text.from_ansi(console.export_text(styles=True)).plain
    assert max(len(line) for line in plain.splitlines()) <= 80
    assert "…" not in plain
    assert "Profile of lib.work" in plain and "What grew in lib.work" in plain
    assert "a_slow_helper_with_a_long_descriptive_name" in " ".join(plain.split())
    assert "+900 µs" in plain and "2,000" in plain
