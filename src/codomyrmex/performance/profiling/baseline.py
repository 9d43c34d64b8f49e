"""Benchmark baselines: versioned JSON files with raw samples and a machine fingerprint.

One file holds one or more suites, each with every per-round sample (not just a mean) and
the speed probes taken during the run, plus the package version and a fingerprint of the
machine (Python build, platform, CPU model, core count). Files are written atomically
(temporary file, fsync, rename), so an interrupted save never leaves a half-written
baseline. A file that cannot be read or parsed raises :class:`BaselineError` naming it;
it is never modified.
"""

from __future__ import annotations

import errno
import json
import os
import platform
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from codomyrmex.performance._shared.files import write_text_atomically
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.telemetry import package_version

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "BaselineError",
    "check_writable",
    "fingerprint",
    "load",
    "save",
    "select",
    "write_json",
]

SCHEMA = "codomyrmex-performance/benchmark-baseline"
SCHEMA_VERSION = 1


class BaselineError(ValueError):
    """A baseline file is missing, unreadable or not a valid baseline."""

    def __init__(self, path: str | os.PathLike[str], reason: str) -> None:
        self.path = os.fspath(path)
        self.reason = reason
        super().__init__(f"cannot use baseline {self.path}: {reason}")


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8", errors="replace") as cpuinfo:
            for line in cpuinfo:
                if line.lower().startswith(("model name", "hardware", "cpu model")):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


@lru_cache(maxsize=1)
def fingerprint() -> dict[str, Any]:
    """What makes timings from two machines or interpreters incomparable."""
    build, build_date = platform.python_build()
    return {
        "python": f"{platform.python_implementation()} {platform.python_version()}",
        "python_build": f"{build} {build_date} {platform.python_compiler()}",
        "python_debug": hasattr(sys, "gettotalrefcount"),
        "platform": platform.platform(),
        "machine": platform.machine(),
        "cpu_model": _cpu_model(),
        "cpu_count": os.cpu_count(),
    }


def fingerprint_differences(stored: dict[str, Any]) -> list[str]:
    """Human-readable differences between a stored fingerprint and this machine's."""
    current = fingerprint()
    return [
        f"{key}: baseline {stored.get(key)!r}, now {value!r}"
        for key, value in current.items()
        if key in stored and stored[key] != value
    ]


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise an ``OSError`` naming ``path`` if a result file cannot be written there.

    Checked before a run, so a typo in an output path fails in a second, not after
    every benchmark ran.
    """
    target = Path(path)
    if target.is_dir():
        raise IsADirectoryError(errno.EISDIR, "is a directory", os.fspath(path))
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"no such directory {parent}", os.fspath(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"directory {parent} is not writable", os.fspath(path))


def write_json(document: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``document`` as JSON atomically: temporary file, fsync, rename over ``path``.

    An ``OSError`` names ``path`` (not the temporary file beside it).
    """
    target = Path(path)
    text = json.dumps(document, indent=1, allow_nan=False, default=str)
    try:
        write_text_atomically(target, text)
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror, os.fspath(path)) from None
    return target


def save(results: SuiteResult | Sequence[SuiteResult], path: str | os.PathLike[str]) -> Path:
    """Write suite results as one baseline file, atomically; failed benchmarks are left out."""
    runs = [results] if isinstance(results, SuiteResult) else list(results)
    document = {
        "schema": SCHEMA,
        "schema_version": SCHEMA_VERSION,
        "package_version": package_version(),
        "fingerprint": (runs[0].fingerprint if runs else None) or fingerprint(),
        "suites": {
            run.name: {
                "run_id": run.run_id,
                "commit": run.commit,
                "benchmarks": {r.name: r.to_dict() for r in run.results if not r.failed},
            }
            for run in runs
        },
    }
    return write_json(document, path)


def load(path: str | os.PathLike[str]) -> list[SuiteResult]:
    """Read the suites of a baseline saved by :func:`save`; :class:`BaselineError` if invalid."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(path, f"unreadable ({exc.__class__.__name__}: {exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(path, f"not valid JSON ({exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise BaselineError(path, "not a codomyrmex-performance benchmark baseline")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BaselineError(path, f"unsupported schema version {version!r}")
    try:
        machine = dict(document.get("fingerprint") or {})
        return [
            SuiteResult(
                name=str(suite_name),
                results=[
                    BenchmarkResult.from_dict({**data, "name": name, "suite": suite_name})
                    for name, data in suite["benchmarks"].items()
                ],
                run_id=str(suite.get("run_id") or ""),
                commit=suite.get("commit"),
                fingerprint=machine,
            )
            for suite_name, suite in document["suites"].items()
        ]
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise BaselineError(path, f"malformed content ({exc.__class__.__name__}: {exc})") from None


def select(suites: Sequence[SuiteResult], name: str) -> SuiteResult | None:
    """The stored suite called ``name``; the only one if the file holds a single suite."""
    for suite in suites:
        if suite.name == name:
            return suite
    return suites[0] if len(suites) == 1 else None
