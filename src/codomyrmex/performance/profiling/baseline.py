"""Benchmark baselines: versioned JSON files with raw samples and a machine fingerprint.

One file holds one or more suites, each with every per-round sample (not just a mean) and
the speed probes taken during the run, plus the package version and a fingerprint of the
machine (Python build, platform, CPU model, core count) and of how the run measured
(``measurement``: worker processes or in-process, timer, gc). A benchmark saved from a run
with ``profile=`` keeps its profile summary (``"profile"``, see
:mod:`~codomyrmex.performance.profiling.profiles`): a later regression against the file gets
a differential profile. Files without these keys load as before. Files are written atomically
(temporary file, fsync, rename), so an interrupted save never leaves a half-written
baseline. A file that cannot be read or parsed raises :class:`BaselineError` naming it;
it is never modified.
"""

from __future__ import annotations

import errno
import importlib.machinery
import json
import math
import os
import platform
import sys
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from codomyrmex.performance._shared.files import check_replaceable, write_text_atomically
from codomyrmex.performance.profiling.profiles import Profile
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.profiling.rounds import MAX_LOOPS, MAX_PROCESSES, MAX_ROUNDS
from codomyrmex.performance.telemetry import package_version

__all__ = [
    "SCHEMA",
    "SCHEMA_VERSION",
    "BaselineError",
    "check_writable",
    "fingerprint",
    "load",
    "measurement_change",
    "refuse_code",
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


def measurement_change(stored: SuiteResult, current: SuiteResult) -> str | None:
    """Why ``stored`` cannot be compared with ``current`` (measured another way), or None.

    Worker processes and in-process rounds, or the wall and CPU timers, give systematically
    different timings of unchanged code; baselines without the record compare as before.
    """
    before, now = stored.fingerprint.get("measurement"), current.fingerprint.get("measurement")
    if before is None or before == now:
        return None
    return (
        f"measurement differs: baseline {before!r}, this run {now!r}; a comparison across "
        "measurement modes is inconclusive (save the baseline the way this run measures)"
    )


def check_writable(path: str | os.PathLike[str]) -> None:
    """Raise an ``OSError`` naming ``path`` if a result file cannot be written there.

    Checked before a run, so a typo in an output path fails in a second, not after
    every benchmark ran.
    """
    target = Path(path)
    refuse_code(target)
    check_replaceable(target)
    parent = target.parent
    if not parent.is_dir():
        raise FileNotFoundError(errno.ENOENT, f"no such directory {parent}", os.fspath(path))
    if not os.access(parent, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"directory {parent} is not writable", os.fspath(path))


def refuse_code(target: Path) -> None:
    """A ``ValueError`` for a path of Python code: results never replace a module."""
    if target.suffix.lower() in (*importlib.machinery.all_suffixes(), ".pyw", ".pyi"):
        raise ValueError(f"{os.fspath(target)} is a Python file: results are never written there")


def write_json(document: Any, path: str | os.PathLike[str]) -> Path:
    """Write ``document`` as JSON atomically: temporary file, fsync, rename over ``path``.

    An ``OSError`` names ``path`` (not the temporary file beside it); a path of Python code
    (``.py``, ``.pyc``, an extension module) is a ``ValueError``.
    """
    target = Path(path)
    refuse_code(target)
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


#: Largest baseline file read (a baseline of every sample of a large suite is a few MB).
MAX_BYTES = 64 << 20


class _Invalid(Exception):
    """A value of a baseline document that cannot be used; the message says where."""


def load(path: str | os.PathLike[str]) -> list[SuiteResult]:
    """Read the suites of a baseline saved by :func:`save`; :class:`BaselineError` if invalid.

    Every value is checked: finite positive timings, counts within the run limits
    (``rounds.MAX_ROUNDS`` samples per benchmark), strings where text belongs.
    """
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > MAX_BYTES:
                raise BaselineError(path, f"too large ({size} bytes, at most {MAX_BYTES})")
            text = handle.read(MAX_BYTES + 1).decode("utf-8")
    except FileNotFoundError:
        raise BaselineError(path, "no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(path, f"unreadable ({exc.__class__.__name__}: {exc})") from None
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BaselineError(path, f"not valid JSON ({exc})") from None
    except RecursionError:
        raise BaselineError(path, "not valid JSON (nested too deeply)") from None
    except ValueError as exc:  # an integer of more digits than int() converts
        raise BaselineError(path, f"not valid JSON (a number out of range: {exc})") from None
    if not isinstance(document, dict) or document.get("schema") != SCHEMA:
        raise BaselineError(path, "not a codomyrmex-performance benchmark baseline")
    version = document.get("schema_version")
    if version != SCHEMA_VERSION:
        raise BaselineError(path, f"unsupported schema version {version!r}")
    try:
        return _suites(document)
    except _Invalid as exc:
        raise BaselineError(path, f"malformed content ({exc})") from None


def _suites(document: dict[str, Any]) -> list[SuiteResult]:
    machine = document.get("fingerprint") or {}
    _expect(isinstance(machine, dict), "fingerprint must be an object")
    suites = _mapping(document.get("suites"), "suites")
    loaded = []
    for suite_name, suite in suites.items():
        where = f"suite {suite_name!r}"
        suite = _mapping(suite, where)
        benchmarks = _mapping(suite.get("benchmarks"), f"{where}: benchmarks")
        run_id, commit = suite.get("run_id") or "", suite.get("commit")
        _expect(isinstance(run_id, str), f"{where}: run_id must be text")
        _expect(commit is None or isinstance(commit, str), f"{where}: commit must be text")
        results = [
            _benchmark(data, str(suite_name), str(name), f"{where}, benchmark {name!r}")
            for name, data in benchmarks.items()
        ]
        loaded.append(SuiteResult(str(suite_name), results, run_id, commit, dict(machine)))
    return loaded


def _benchmark(data: Any, suite: str, name: str, where: str) -> BenchmarkResult:
    data = _mapping(data, where)
    samples = _numbers(data.get("samples"), f"{where}: samples", positive=True)
    count = len(samples)
    groups = _integers(data.get("groups") or [0] * count, f"{where}: groups", MAX_PROCESSES)
    rounds = data.get("rounds", count)
    _expect(_is_int(rounds, 0, MAX_ROUNDS), f"{where}: rounds must be 0 to {MAX_ROUNDS}")
    _expect(_is_int(data.get("iterations"), 1, MAX_LOOPS), f"{where}: iterations must be 1 to "
            f"{MAX_LOOPS}")  # fmt: skip
    memory_peak = data.get("memory_peak")
    _expect(memory_peak is None or _is_int(memory_peak, 0, 2**63), f"{where}: memory_peak")
    error = data.get("error")
    _expect(error is None or isinstance(error, str), f"{where}: error must be text")
    warnings = data.get("warnings") or []
    _expect(
        isinstance(warnings, list) and len(warnings) <= MAX_ROUNDS
        and all(isinstance(w, str) for w in warnings),
        f"{where}: warnings must be a list of text",
    )  # fmt: skip
    return BenchmarkResult(
        name=name,
        samples=samples,
        iterations=int(data["iterations"]),
        rounds=int(rounds),
        suite=suite,
        groups=groups,
        probes=_numbers(data.get("probes") or [], f"{where}: probes", positive=True),
        cpu_shares=_numbers(data.get("cpu_shares") or [], f"{where}: cpu_shares"),
        error=error,
        memory_peak=memory_peak,
        warnings=list(warnings),
        profile=_profile(data.get("profile"), where),
    )


def _profile(data: Any, where: str) -> Profile | None:
    """A benchmark's saved profile summary (baselines saved with ``--profile``), or None."""
    if data is None:
        return None
    try:
        return Profile.from_dict(data)
    except ValueError as exc:
        raise _Invalid(f"{where}: {exc}") from None


def _expect(condition: bool, message: str) -> None:
    if not condition:
        raise _Invalid(message)


def _mapping(value: Any, where: str) -> dict[str, Any]:
    _expect(isinstance(value, dict), f"{where} must be an object")
    return dict(value)


def _is_int(value: Any, low: int, high: int) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _numbers(value: Any, where: str, *, positive: bool = False) -> list[float]:
    _expect(isinstance(value, list), f"{where} must be a list of numbers")
    _expect(len(value) <= MAX_ROUNDS, f"{where}: {len(value)} values, at most {MAX_ROUNDS}")
    numbers = []
    for item in value:
        _expect(
            isinstance(item, (int, float)) and not isinstance(item, bool),
            f"{where} must be numbers, got {item!r}",
        )
        number = float(item)
        valid = math.isfinite(number) and (number > 0 if positive else number >= 0)
        _expect(valid, f"{where} must be finite and {'> 0' if positive else '>= 0'}, got {item!r}")
        numbers.append(number)
    return numbers


def _integers(value: Any, where: str, high: int) -> list[int]:
    _expect(isinstance(value, list), f"{where} must be a list of integers")
    _expect(len(value) <= MAX_ROUNDS, f"{where}: {len(value)} values, at most {MAX_ROUNDS}")
    for item in value:
        _expect(_is_int(item, 0, high), f"{where} must be integers 0 to {high}, got {item!r}")
    return list(value)


def select(suites: Sequence[SuiteResult], name: str) -> SuiteResult | None:
    """The stored suite called ``name``; the only one if the file holds a single suite."""
    for suite in suites:
        if suite.name == name:
            return suite
    return suites[0] if len(suites) == 1 else None
