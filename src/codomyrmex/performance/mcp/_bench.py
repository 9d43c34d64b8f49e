"""The ``performance_run_benchmark`` MCP tool: run benchmark files, confined to one directory.

Running a benchmark executes the code of a file, so the tool runs only files inside the
benchmark directory fixed when the server starts (``codomyrmex-perf mcp --bench-dir DIR``,
``register_tools(server, bench_dir=DIR)``); with none, every run is refused. Every path
(``path``, ``baseline``, ``save_baseline``, and each ``bench_*.py`` found under a
directory) is resolved to its real location, symlinks and ``..`` included, and refused
unless it lies inside that directory. Relative paths are relative to it.

Suites are found as ``codomyrmex-perf bench`` finds them (every module-level
``BenchmarkSuite`` of ``path`` or of the ``bench_*.py`` files under it) and run with
:func:`~codomyrmex.performance.profiling.benchmark.run_benchmark`, in this process by
default (``processes`` > 0: fresh worker processes, slower to start but isolated). One
run at a time: concurrent calls wait for each other, since two runs would skew each
other's timings. The modules of the last run stay imported, so their ``@monitor`` history
and caches can be read with the other tools (with ``processes`` > 0 the calls happen in
the workers instead); a new run replaces them. ``rounds`` (at
most 1000) and ``min_time`` (seconds per round, at most 5) keep a call short.
"""

from __future__ import annotations

import gc
import os
import threading
from pathlib import Path
from typing import Any, Literal

from codomyrmex.performance.mcp._args import check_int
from codomyrmex.performance.mcp._results import (
    BenchmarkComparison,
    BenchmarkProfile,
    BenchmarkRunReport,
    BenchmarkStats,
    FunctionGrowth,
    FunctionTime,
)

__all__ = ["performance_run_benchmark", "resolve_bench_dir"]

MAX_ROUNDS = 1000
MAX_MIN_TIME = 5.0
#: Functions returned per profiled benchmark.
SHOWN_FUNCTIONS = 10

_run_lock = threading.Lock()


def resolve_bench_dir(bench_dir: str | os.PathLike[str]) -> Path:
    """The real path of the benchmark directory; ``ValueError`` unless it is a directory."""
    root = Path(os.path.realpath(os.fspath(bench_dir)))
    if not root.is_dir():
        raise ValueError(f"benchmark directory {os.fspath(bench_dir)} is not a directory")
    return root


def _inside(root: Path, candidate: str, what: str) -> Path:
    """``candidate`` (relative to ``root`` unless absolute) resolved; refused outside ``root``."""
    if not isinstance(candidate, str):
        raise TypeError(f"{what} must be a string, not {type(candidate).__name__}")
    if not candidate.strip() or "\x00" in candidate:
        raise ValueError(f"{what} must be a non-empty path")
    try:
        real = Path(os.path.realpath(root / candidate))  # an absolute candidate replaces root
    except OSError:  # a link that changes while it is resolved
        raise PermissionError(
            f"{what} {candidate!r} changed while being checked: refused"
        ) from None
    if not real.is_relative_to(root):
        raise PermissionError(
            f"{what} {candidate!r} resolves to {real}, outside the benchmark directory "
            f"{root}: refused"
        )
    return real


def _bench_files(root: Path, target: Path, shown: str) -> list[Path]:
    if target.is_file():
        if target.suffix != ".py":
            raise ValueError(f"{shown} is not a Python file")
        return [target]
    if not target.is_dir():
        raise FileNotFoundError(f"no such file or directory in the benchmark directory: {shown}")
    files = []
    for found in sorted(target.rglob("bench_*.py")):
        files.append(_inside(root, str(found), "benchmark file"))
    if not files:
        raise FileNotFoundError(f"no bench_*.py files under {shown}")
    return files


def _load(root: Path, files: list[Path], shown: str) -> list[Any]:
    from codomyrmex.performance.profiling.discover import discover

    suites = []
    for file in files:
        suites.extend(discover(file, within=root))
    names = [suite.name for suite in suites]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ValueError(f"duplicate suite names under {shown}: {', '.join(duplicates)}")
    return suites


def _comparison(data: dict[str, Any] | None) -> BenchmarkComparison | None:
    if data is None:
        return None
    changes = data.get("profile_diff")
    return {
        "verdict": data["verdict"],
        "ratio": data["ratio"],
        "ci_low": data["ci_low"],
        "ci_high": data["ci_high"],
        "p_value": data["p_value"],
        "p_adjusted": data["p_adjusted"],
        "threshold": data["threshold"],
        "mode": str(data["mode"]),
        "baseline_median": data["baseline_median"],
        "candidate_median": data["candidate_median"],
        "grew": None if changes is None else [_growth(d) for d in changes["by_own"]],
    }


def _growth(data: dict[str, Any]) -> FunctionGrowth:
    return {
        "name": data["name"],
        "file": data["file"],
        "line": data["line"],
        "own_before": data["own_before"],
        "own_after": data["own_after"],
        "own_delta": data["own_delta"],
        "cumulative_before": data["cumulative_before"],
        "cumulative_after": data["cumulative_after"],
        "cumulative_delta": data["cumulative_delta"],
    }


def _function(data: dict[str, Any]) -> FunctionTime:
    return {
        "name": data["name"],
        "file": data["file"],
        "line": data["line"],
        "own": data["own"],
        "cumulative": data["cumulative"],
        "calls": data["calls"],
    }


def _profile(data: dict[str, Any] | None) -> BenchmarkProfile | None:
    if data is None:
        return None
    top = [_function(f) for f in data["functions"][:SHOWN_FUNCTIONS]]
    return {"calls": data["calls"], "top_functions": top}


def _stats(result: Any) -> BenchmarkStats:
    data = result.to_dict()
    stats = data["stats"]
    comparison = _comparison(data["comparison"])
    return {
        "name": data["name"],
        "error": data["error"],
        "rounds": data["rounds"],
        "iterations": data["iterations"],
        "min": stats["min"],
        "max": stats["max"],
        "mean": stats["mean"],
        "median": stats["median"],
        "stdev": stats["stdev"],
        "iqr": stats["iqr"],
        "p95": stats["p95"],
        "p99": stats["p99"],
        "ops_per_sec": stats["ops_per_sec"],
        "verdict": None if comparison is None else comparison["verdict"],
        "comparison": comparison,
        "profile": _profile(data["profile"]),
        "warnings": [str(w) for w in data["warnings"]],
    }


def performance_run_benchmark(
    path: str,
    baseline: str | None = None,
    save_baseline: str | None = None,
    rounds: int | None = None,
    min_time: float = 0.01,
    processes: int = 0,
    timer: Literal["wall", "cpu"] = "wall",
    profile: bool = False,
    *,
    bench_dir: str | os.PathLike[str] | None = None,
) -> BenchmarkRunReport:
    """Run the BenchmarkSuites of a file (or of the bench_*.py files under a directory).

    Only inside the server's benchmark directory; relative paths are relative to it.
    Returns per benchmark the statistics in seconds per call (median, IQR, p95, ...,
    ops/s) and, with baseline (a baseline JSON file saved earlier with save_baseline),
    a verdict: regression, improvement, no_change or inconclusive. rounds: timed rounds
    per benchmark (default 10, 2 to 1000); min_time: seconds per round (default 0.01);
    processes: 0 runs in the server process, N in N fresh worker processes; timer: wall
    or cpu. save_baseline is written only when nothing failed or regressed. profile: after
    the timed rounds, profile each benchmark once and return its top functions by own time
    per call; on a regression against a baseline that has a profile (saved with
    profile=True) the comparison's grew lists the functions whose time grew most.
    status: "success" once the suites ran (passed tells whether they all passed); a path
    outside the benchmark directory or a bad argument is an error result.
    """
    from codomyrmex.performance.profiling import baseline as baselines
    from codomyrmex.performance.profiling.benchmark import run_benchmark
    from codomyrmex.performance.profiling.result import SuiteResult

    if bench_dir is None:
        raise PermissionError(
            "running benchmarks is disabled: the server was started without a benchmark "
            "directory (codomyrmex-perf mcp --bench-dir DIR)"
        )
    root = resolve_bench_dir(bench_dir)
    target = _inside(root, path, "path")
    stored_path = None if baseline is None else _inside(root, baseline, "baseline")
    save_path = None if save_baseline is None else _inside(root, save_baseline, "save_baseline")
    if save_path is not None:
        baselines.refuse_code(save_path)
    if rounds is not None:
        check_int(rounds, "rounds", 2, MAX_ROUNDS)
    check_int(processes, "processes", 0, os.cpu_count() or 1)
    if isinstance(min_time, bool) or not isinstance(min_time, (int, float)):
        raise TypeError(f"min_time must be a number, not {type(min_time).__name__}")
    if not 0 < min_time <= MAX_MIN_TIME:
        raise ValueError(f"min_time must be > 0 and <= {MAX_MIN_TIME} seconds, got {min_time}")
    if timer not in ("wall", "cpu"):
        raise ValueError(f"timer must be 'wall' or 'cpu', got {timer!r}")
    if not isinstance(profile, bool):
        raise TypeError(f"profile must be true or false, not {type(profile).__name__}")

    with _run_lock:
        gc.collect()  # the modules of earlier runs, replaced in sys.modules, and their caches
        stored = None if stored_path is None else baselines.load(stored_path)
        try:
            suites = _load(root, _bench_files(root, target, path), path)
            runs = []
            for suite in suites:
                base: Any = None
                if stored is not None:
                    base = baselines.select(stored, suite.name) or SuiteResult(suite.name, [])
                runs.append(
                    run_benchmark(
                        suite,
                        baseline=base,
                        rounds=rounds,
                        min_time=float(min_time),
                        processes=processes,
                        timer=timer,
                        profile=profile,
                    )
                )
        except SystemExit as exc:  # benchmark code must not stop the server
            raise RuntimeError(
                f"the benchmark code under {path} called sys.exit({exc.code!r})"
            ) from None
        regressions = sum(len(run.regressions) for run in runs)
        failures = sum(len(run.failures) for run in runs)
        saved = None
        if save_path is not None and not regressions and not failures:
            save_path.parent.mkdir(parents=True, exist_ok=True)
            saved = str(baselines.save(runs, save_path))
    return {
        "status": "success",
        "path": path,
        "passed": not regressions and not failures,
        "regressions": regressions,
        "failures": failures,
        "baseline_saved": saved,
        "suites": [
            {
                "suite": run.name,
                "run_id": run.run_id,
                "commit": run.commit,
                "warnings": [str(w) for w in run.warnings],
                "results": [_stats(result) for result in run.results],
            }
            for run in runs
        ],
    }
