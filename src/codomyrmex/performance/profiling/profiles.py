"""Profiles of benchmarks: where the time goes, and on a regression what grew.

``run_benchmark(..., profile=DIR)`` (``codomyrmex-perf bench --profile DIR``) profiles each
benchmark once after its timed rounds, never during them: the calibrated number of calls
per round, repeated until the pass lasts at least :data:`MIN_SECONDS`, first under
``cProfile`` (exact call counts and own times), then under pyinstrument's sampling profiler
(the call stacks of a flame graph; the ``profile`` extra). Written per benchmark:

- ``DIR/<suite>.<benchmark>.pstats``: ``pstats.Stats`` loads it (snakeviz, gprof2dot, ...);
- ``DIR/<suite>.<benchmark>.speedscope.json``: a flame graph in speedscope's file format
  (open it at speedscope.app or with ``speedscope FILE``).

Names are kept to letters, digits, ``.``, ``_`` and ``-`` (a name that needed changing gets
a short hash). An interleaved baseline side is profiled too, in its own worker, and written
as ``<suite>.<benchmark>.baseline.pstats`` (and ``.baseline.speedscope.json``).
``profile=True`` profiles without writing files.

A :class:`Profile` summarises a pass per call of the benchmark (times divided by the calls
profiled): the functions with the most own or cumulative time, file paths relative to
their ``sys.path`` entry (so two checkouts of the same code match). Baselines saved with a
profile keep that summary. When a comparison's verdict is ``regression`` and both sides
have a profile, :func:`diff` names the functions whose own and cumulative time per call
grew most (a :class:`ProfileDiff`).
"""

from __future__ import annotations

import base64
import cProfile
import errno
import hashlib
import importlib.util
import marshal
import os
import pstats
import re
import sys
import tempfile
from collections.abc import Callable, Iterable, Sequence
from contextlib import AbstractContextManager
from dataclasses import dataclass, replace
from pathlib import Path
from time import perf_counter
from typing import Any, TypeGuard

from codomyrmex.performance._shared.files import write_bytes_atomically

__all__ = [
    "MIN_SECONDS",
    "Capture",
    "FunctionDelta",
    "FunctionStat",
    "Profile",
    "ProfileDiff",
    "capture",
    "check_available",
    "check_directory",
    "diff",
    "file_stem",
]

#: Shortest profiled pass, in seconds (at least the calibrated calls of one round run).
MIN_SECONDS = 0.1
#: Functions kept in a summary: the most expensive by own time and by cumulative time.
KEPT = 100
#: Rows of the tables shown for a profile and a differential profile.
SHOWN = 10
#: Sampling interval of the flame graph, seconds.
SAMPLE_INTERVAL = 0.0005


@dataclass(frozen=True)
class FunctionStat:
    """One function of a profile; times in seconds and calls, each per benchmark call."""

    name: str
    file: str  # relative to its sys.path entry; "~" for built-ins
    line: int
    calls: float
    own: float  # time in the function itself (pstats "tottime")
    cumulative: float  # including what it called (pstats "cumtime")

    @property
    def where(self) -> str:
        return self.file if self.file == "~" else f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "calls": self.calls,
            "own": self.own,
            "cumulative": self.cumulative,
        }


@dataclass(frozen=True)
class Profile:
    """A profiled pass: ``functions`` sorted by own time, files written (None when not)."""

    calls: int  # benchmark calls profiled
    seconds: float  # duration of the cProfile pass
    functions: tuple[FunctionStat, ...]
    pstats: str | None = None
    flamegraph: str | None = None

    @property
    def top(self) -> tuple[FunctionStat, ...]:
        """The :data:`SHOWN` functions with the most own time."""
        return self.functions[:SHOWN]

    def to_dict(self) -> dict[str, Any]:
        return {
            "calls": self.calls,
            "seconds": self.seconds,
            "pstats": self.pstats,
            "flamegraph": self.flamegraph,
            "functions": [f.to_dict() for f in self.functions],
        }

    @classmethod
    def from_dict(cls, data: Any) -> Profile:
        """Rebuild a saved profile; ``ValueError`` saying what is wrong if it is not one."""
        if not isinstance(data, dict):
            raise ValueError("profile must be an object")
        calls, seconds = data.get("calls"), data.get("seconds")
        if not _is_count(calls) or calls < 1:
            raise ValueError("profile calls must be a positive integer")
        functions = data.get("functions")
        if not isinstance(functions, list) or len(functions) > 4 * KEPT:
            raise ValueError(f"profile functions must be a list of at most {4 * KEPT}")
        paths = [data.get("pstats"), data.get("flamegraph")]
        if not all(p is None or isinstance(p, str) for p in paths):
            raise ValueError("profile files must be text")
        return cls(
            calls=calls,
            seconds=_time(seconds, "profile seconds"),
            functions=tuple(_function(item) for item in functions),
            pstats=paths[0],
            flamegraph=paths[1],
        )


@dataclass(frozen=True)
class FunctionDelta:
    """How one function changed from the baseline to the candidate, per benchmark call."""

    name: str
    file: str
    line: int
    own_before: float
    own_after: float
    cumulative_before: float
    cumulative_after: float
    calls_before: float
    calls_after: float

    @property
    def own_delta(self) -> float:
        return self.own_after - self.own_before

    @property
    def cumulative_delta(self) -> float:
        return self.cumulative_after - self.cumulative_before

    @property
    def where(self) -> str:
        return self.file if self.file == "~" else f"{self.file}:{self.line}"

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "file": self.file,
            "line": self.line,
            "own_before": self.own_before,
            "own_after": self.own_after,
            "own_delta": self.own_delta,
            "cumulative_before": self.cumulative_before,
            "cumulative_after": self.cumulative_after,
            "cumulative_delta": self.cumulative_delta,
            "calls_before": self.calls_before,
            "calls_after": self.calls_after,
        }


@dataclass(frozen=True)
class ProfileDiff:
    """The functions that grew most, by own time (``by_own``) and by cumulative time."""

    by_own: tuple[FunctionDelta, ...]
    by_cumulative: tuple[FunctionDelta, ...]

    @property
    def top(self) -> FunctionDelta | None:
        """The function whose own time per call grew most."""
        return self.by_own[0] if self.by_own else None

    def to_dict(self) -> dict[str, Any]:
        return {
            "by_own": [d.to_dict() for d in self.by_own],
            "by_cumulative": [d.to_dict() for d in self.by_cumulative],
        }


def diff(before: Profile, after: Profile) -> ProfileDiff:
    """The :data:`SHOWN` functions whose own (and, separately, cumulative) time grew most.

    Functions match by file (relative to ``sys.path``) and name, so a function that moved
    within its file still matches; same-named functions of a file match in line order.
    """
    old, new = _keyed(before.functions), _keyed(after.functions)
    absent = FunctionStat("", "", 0, 0.0, 0.0, 0.0)
    deltas = []
    for key in dict.fromkeys([*new, *old]):
        b, a = old.get(key, absent), new.get(key, absent)
        shown = a if key in new else b
        deltas.append(
            FunctionDelta(
                name=shown.name,
                file=shown.file,
                line=shown.line,
                own_before=b.own,
                own_after=a.own,
                cumulative_before=b.cumulative,
                cumulative_after=a.cumulative,
                calls_before=b.calls,
                calls_after=a.calls,
            )
        )
    by_own = sorted((d for d in deltas if d.own_delta > 0), key=lambda d: -d.own_delta)
    by_cumulative = sorted(
        (d for d in deltas if d.cumulative_delta > 0), key=lambda d: -d.cumulative_delta
    )
    return ProfileDiff(tuple(by_own[:SHOWN]), tuple(by_cumulative[:SHOWN]))


def _keyed(functions: Iterable[FunctionStat]) -> dict[tuple[str, str, int], FunctionStat]:
    keyed: dict[tuple[str, str, int], FunctionStat] = {}
    for function in sorted(functions, key=lambda f: (f.file, f.name, f.line)):
        index = 0
        while (function.file, function.name, index) in keyed:
            index += 1
        keyed[(function.file, function.name, index)] = function
    return keyed


@dataclass(frozen=True)
class Capture:
    """What a profiled pass produced, before any file is written."""

    profile: Profile
    pstats: bytes  # marshal data, as pstats.Stats.dump_stats writes it
    flamegraph: str  # speedscope JSON

    def to_message(self) -> dict[str, Any]:
        """A JSON-ready form, to cross from a worker process."""
        return {
            "profile": self.profile.to_dict(),
            "pstats": base64.b64encode(self.pstats).decode("ascii"),
            "flamegraph": self.flamegraph,
        }

    @classmethod
    def from_message(cls, message: dict[str, Any]) -> Capture:
        return cls(
            Profile.from_dict(message["profile"]),
            base64.b64decode(message["pstats"]),
            str(message["flamegraph"]),
        )

    def write(self, directory: str, stem: str) -> Profile:
        """Write ``stem.pstats`` and ``stem.speedscope.json`` in ``directory``."""
        pstats_path = os.path.join(directory, f"{stem}.pstats")
        flame_path = os.path.join(directory, f"{stem}.speedscope.json")
        write_bytes_atomically(pstats_path, self.pstats)
        write_bytes_atomically(flame_path, self.flamegraph.encode("utf-8"))
        return replace(self.profile, pstats=pstats_path, flamegraph=flame_path)


def file_stem(suite: str | None, benchmark: str, side: str = "") -> str:
    """``<suite>.<benchmark>`` (``side`` appended), safe as a file name on every platform."""
    wanted = ".".join(part for part in (suite, benchmark) if part)
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", wanted).lstrip(".") or "benchmark"
    if safe != wanted:
        safe += "-" + hashlib.sha256(wanted.encode("utf-8", "surrogatepass")).hexdigest()[:8]
    return f"{safe}.{side}" if side else safe


def check_directory(directory: str | os.PathLike[str]) -> str:
    """The absolute path of a profile directory, created if missing; ``OSError`` naming it
    when it is a file, its parent is missing, or it is not writable (tried, not guessed)."""
    path = os.path.abspath(os.fspath(directory))
    shown = os.fspath(directory)
    if os.path.exists(path) and not os.path.isdir(path):
        raise NotADirectoryError(errno.ENOTDIR, "not a directory", shown)
    parent = os.path.dirname(path)
    if not os.path.isdir(path) and not os.path.isdir(parent):
        raise FileNotFoundError(errno.ENOENT, f"no such directory {parent}", shown)
    try:
        os.makedirs(path, exist_ok=True)
        with tempfile.TemporaryFile(dir=path):
            pass
    except OSError as exc:
        raise type(exc)(exc.errno, exc.strerror or "not writable", shown) from None
    return path


def check_available() -> None:
    """An ``ImportError`` naming the extra when the sampling profiler is not installed."""
    if importlib.util.find_spec("pyinstrument") is None:
        raise ImportError(
            "profiles need pyinstrument: pip install 'codomyrmex-performance[profile]'",
            name="pyinstrument",
        )


def capture(
    run_round: Callable[[AbstractContextManager[Any]], object],
    loops: int,
    *,
    excluded: Sequence[str] = (),
) -> Capture:
    """Profile rounds of ``loops`` calls: ``run_round(profiler)`` runs one round with the
    profiler active around the calls only. ``excluded``: files of the runner's own frames."""
    from pyinstrument import Profiler
    from pyinstrument.renderers import SpeedscopeRenderer

    deterministic = cProfile.Profile()
    rounds, seconds = _repeat(run_round, deterministic)
    stats = pstats.Stats(deterministic)
    calls = rounds * loops
    sampling = Profiler(interval=SAMPLE_INTERVAL, async_mode="disabled")
    _repeat(run_round, sampling)
    session = sampling.last_session
    flamegraph = SpeedscopeRenderer().render(session) if session is not None else "{}"
    profile = Profile(calls, seconds, _summary(stats, calls, excluded))
    return Capture(profile, marshal.dumps(stats.stats), flamegraph)  # type: ignore[attr-defined]


def _repeat(
    run_round: Callable[[AbstractContextManager[Any]], object],
    profiler: AbstractContextManager[Any],
) -> tuple[int, float]:
    rounds, started = 0, perf_counter()
    while True:
        run_round(profiler)
        rounds += 1
        elapsed = perf_counter() - started
        if elapsed >= MIN_SECONDS:
            return rounds, elapsed


def _summary(stats: pstats.Stats, calls: int, excluded: Sequence[str]) -> tuple[FunctionStat, ...]:
    roots = sorted((p for p in sys.path if p and os.path.isabs(p)), key=len, reverse=True)
    rows = []
    raw: dict[tuple[str, int, str], tuple[Any, ...]] = stats.stats  # type: ignore[attr-defined]
    runner = {*excluded, cProfile.__file__}
    for (file, line, name), (_, total_calls, own, cumulative, callers) in raw.items():
        if file in runner or (file == "~" and all(c[0] in runner for c in callers)):
            continue  # the runner's loop, the profiler's switch, the clock read around calls
        rows.append(
            FunctionStat(
                name=name,
                file=_relative(file, roots),
                line=line,
                calls=total_calls / calls,
                own=own / calls,
                cumulative=cumulative / calls,
            )
        )
    by_own = sorted(rows, key=lambda f: -f.own)
    by_cumulative = sorted(rows, key=lambda f: -f.cumulative)
    kept = {id(f): f for f in [*by_own[:KEPT], *by_cumulative[:KEPT]]}
    return tuple(sorted(kept.values(), key=lambda f: -f.own))


def _relative(file: str, roots: Sequence[str]) -> str:
    if file == "~" or not os.path.isabs(file):
        return file
    for root in roots:
        prefix = root.rstrip(os.sep) + os.sep
        if file.startswith(prefix):
            return Path(file[len(prefix) :]).as_posix()
    return file


def _is_count(value: Any) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 2**63


def _time(value: Any, what: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise ValueError(f"{what} must be a number")
    number = float(value)
    if not 0 <= number < 1e9:  # NaN fails too
        raise ValueError(f"{what} must be finite and >= 0, got {value!r}")
    return number


def _function(item: Any) -> FunctionStat:
    if not isinstance(item, dict):
        raise ValueError("profile functions must be objects")
    name, file, line = item.get("name"), item.get("file"), item.get("line")
    if not isinstance(name, str) or not isinstance(file, str) or not _is_count(line):
        raise ValueError("profile function needs a name, a file and a line")
    return FunctionStat(
        name,
        file,
        line,
        _time(item.get("calls"), "profile calls"),
        _time(item.get("own"), "profile own time"),
        _time(item.get("cumulative"), "profile cumulative time"),
    )
