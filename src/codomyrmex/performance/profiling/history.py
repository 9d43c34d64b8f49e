"""Benchmark history: one JSON line per run in ``DIR/history.jsonl``, for trend charts.

``codomyrmex-perf bench ... --history DIR`` appends a line after every run: when it ran
(UTC), the commit under test (CI variables or ``git rev-parse HEAD``, None outside git),
the machine fingerprint, the package version and, per suite and benchmark, the figures
(median, mean, min, max, IQR, p95, ops/s, rounds, calls per round) and the comparison
(ratio, 95 % CI, verdict) or the error. Lines are whole or absent: each is written with
one ``write`` on a file opened for appending, then fsynced. :func:`load` reads them back,
oldest first, skipping (and naming) lines that cannot be read.
"""

from __future__ import annotations

import errno
import json
import math
import os
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.telemetry import package_version

__all__ = [
    "FILE_NAME",
    "SCHEMA",
    "HistoryRecord",
    "append",
    "check_directory",
    "load",
    "record_of",
]

SCHEMA = "codomyrmex-performance/benchmark-history"
FILE_NAME = "history.jsonl"
_FIGURES = ("median", "mean", "min", "max", "iqr", "p95", "ops_per_sec")


@dataclass(frozen=True)
class HistoryRecord:
    """One past run: ``benchmarks`` maps ``"suite.name"`` to its figures and verdict."""

    timestamp: str
    commit: str | None
    fingerprint: dict[str, Any]
    benchmarks: dict[str, dict[str, Any]] = field(default_factory=dict)

    @property
    def label(self) -> str:
        """The commit's first 8 characters, else the date and time."""
        return self.commit[:8] if self.commit else self.timestamp[5:16].replace("T", " ")

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema": SCHEMA,
            "timestamp": self.timestamp,
            "commit": self.commit,
            "package_version": package_version(),
            "fingerprint": self.fingerprint,
            "benchmarks": self.benchmarks,
        }


def _finite(value: float) -> float | None:
    return value if math.isfinite(value) else None


def _figures(result: BenchmarkResult) -> dict[str, Any]:
    entry: dict[str, Any] = {"rounds": result.rounds, "iterations": result.iterations}
    if result.failed:
        entry["error"] = result.error
        return entry
    for key in _FIGURES:
        entry[key] = _finite(float(getattr(result, key)))
    c = result.comparison
    if c is not None:
        entry.update(
            ratio=_finite(c.ratio),
            ci_low=_finite(c.ci_low),
            ci_high=_finite(c.ci_high),
            verdict=c.verdict,
        )
    return entry


def record_of(runs: Sequence[SuiteResult]) -> HistoryRecord:
    """The history line of ``runs`` (one ``bench`` invocation), stamped now."""
    first = runs[0] if runs else None
    return HistoryRecord(
        timestamp=time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        commit=first.commit if first else None,
        fingerprint=dict(first.fingerprint) if first else {},
        benchmarks={f"{run.name}.{r.name}": _figures(r) for run in runs for r in run.results},
    )


def check_directory(directory: str | os.PathLike[str]) -> None:
    """``OSError`` naming ``directory`` unless it is, or can be made as, a writable directory."""
    path = Path(directory)
    if path.exists() and not path.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", os.fspath(directory))
    where = path if path.is_dir() else path.parent
    if not where.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"no such directory {where}", os.fspath(directory))
    if not os.access(where, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, "not writable", os.fspath(directory))


def append(runs: Sequence[SuiteResult], directory: str | os.PathLike[str]) -> HistoryRecord:
    """Append the line of ``runs`` to ``directory/history.jsonl`` (made if missing)."""
    path = Path(directory)
    path.mkdir(exist_ok=True)
    record = record_of(runs)
    line = json.dumps(record.to_dict(), separators=(",", ":"), allow_nan=False) + "\n"
    with open(path / FILE_NAME, "a", encoding="utf-8") as handle:
        handle.write(line)
        handle.flush()
        os.fsync(handle.fileno())
    return record


def load(directory: str | os.PathLike[str]) -> tuple[list[HistoryRecord], list[str]]:
    """The records of ``directory/history.jsonl``, oldest first, and the lines skipped."""
    path = Path(directory) / FILE_NAME
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except FileNotFoundError:
        return [], []
    records, problems = [], []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            data = json.loads(line)
            if not isinstance(data, dict) or data.get("schema") != SCHEMA:
                raise ValueError("not a benchmark history line")
            benchmarks = data.get("benchmarks") or {}
            if not isinstance(benchmarks, dict):
                raise ValueError("benchmarks is not an object")
            records.append(
                HistoryRecord(
                    timestamp=str(data.get("timestamp", "")),
                    commit=str(data["commit"]) if data.get("commit") else None,
                    fingerprint=dict(data.get("fingerprint") or {}),
                    benchmarks={str(k): dict(v) for k, v in benchmarks.items()},
                )
            )
        except (ValueError, TypeError) as exc:
            problems.append(f"{path}:{number}: skipped ({exc})")
    return records, problems
