"""The plugin's options: ``--perf-*``, and pytest-benchmark's ``--benchmark-*`` mapped onto them.

:func:`read` turns the command line into :class:`Settings`, raising ``pytest.UsageError``
(one line naming the option) for a value that cannot be used. Only the standard library
and pytest are imported here, so reading options costs a test session nothing; files and
endpoints are checked by :mod:`~codomyrmex.performance.pytest_plugin._run`.
"""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import pytest

__all__ = [
    "OPTION_DESTS",
    "WORKER_HOST",
    "Settings",
    "Tuning",
    "add_options",
    "pytest_benchmark_loaded",
    "read",
    "tuning_from_marker",
]

#: Set by an interleaving worker (``_worker``) before the plugin configures: the fixture
#: then serves the worker protocol instead of measuring.
WORKER_HOST = pytest.StashKey[Any]()

_OURS = (
    ("--perf-save", "FILE", "save the benchmarks as a baseline (codomyrmex-perf bench's format)"),
    ("--perf-baseline", "FILE", "compare with this baseline; a regression fails its test"),
    (
        "--perf-against",
        "DIR",
        "interleave each benchmark with the code importable from DIR first, in worker "
        "processes (repeatable); a regression fails its test",
    ),
    ("--perf-json", "FILE", "write every result as JSON (codomyrmex-perf bench --json's format)"),
    ("--perf-otlp", "URL", "export the run to this OTLP endpoint (http://host:port)"),
)
_OUR_FLAGS = (
    ("--perf-disable", "run each benchmarked function once, unmeasured"),
    ("--perf-only", "run only the tests that use the benchmark fixture"),
    ("--perf-skip", "skip the tests that use the benchmark fixture"),
)

#: Where the ``--perf-*`` options are stored on ``config.option``.
OPTION_DESTS = tuple(flag[2:].replace("-", "_") for flag, *_ in (*_OURS, *_OUR_FLAGS))

#: pytest-benchmark's options (its 5.x command line), with what each becomes here; the
#: ones without an equivalent (None) are accepted, with one warning naming them.
_COMPAT: tuple[tuple[str, dict[str, Any], str | None], ...] = (
    ("--benchmark-min-time", {"metavar": "SECONDS"}, "calibrate rounds to last SECONDS"),
    ("--benchmark-max-time", {"metavar": "SECONDS"}, "cap the rounds at SECONDS / min-time"),
    ("--benchmark-min-rounds", {"metavar": "NUM"}, "at least NUM rounds"),
    ("--benchmark-precision", {"metavar": "FRACTION"}, None),
    ("--benchmark-confidence", {"metavar": "FRACTION"}, None),
    ("--benchmark-timer", {"metavar": "FUNC"}, "time.perf_counter or time.process_time"),
    ("--benchmark-calibration-precision", {"metavar": "NUM"}, None),
    (
        "--benchmark-warmup",
        {"metavar": "KIND", "nargs": "?", "const": "on"},
        "on/off: one warm-up round or none",
    ),
    ("--benchmark-warmup-iterations", {"metavar": "NUM"}, "0: no warm-up round"),
    ("--benchmark-disable-gc", {"action": "store_true"}, "disable the GC while timing"),
    ("--benchmark-skip", {"action": "store_true"}, "as --perf-skip"),
    ("--benchmark-disable", {"action": "store_true"}, "as --perf-disable"),
    ("--benchmark-enable", {"action": "store_true"}, "cancel --benchmark-disable"),
    ("--benchmark-only", {"action": "store_true"}, "as --perf-only (overrides skip)"),
    ("--benchmark-save", {"metavar": "NAME"}, "save a baseline STORAGE/<machine>/NNNN_NAME.json"),
    ("--benchmark-autosave", {"action": "store_true"}, "save with the commit and time as NAME"),
    ("--benchmark-save-data", {"action": "store_true"}, "always: baselines hold every sample"),
    ("--benchmark-json", {"metavar": "PATH"}, "write pytest-benchmark's JSON report"),
    (
        "--benchmark-compare",
        {"metavar": "NUM", "nargs": "?", "const": ""},
        "compare with saved run NUM (default: the latest) in STORAGE",
    ),
    (
        "--benchmark-compare-fail",
        {"metavar": "EXPR", "nargs": "+", "action": "append"},
        "fail a regression; EXPR's 5%% or seconds are the minimum effect",
    ),
    ("--benchmark-cprofile", {"metavar": "COLUMN"}, None),
    ("--benchmark-cprofile-loops", {"metavar": "LOOPS"}, None),
    ("--benchmark-cprofile-top", {"metavar": "COUNT"}, None),
    (
        "--benchmark-cprofile-dump",
        {"metavar": "PREFIX", "nargs": "?", "action": "append", "const": ""},
        None,
    ),
    ("--benchmark-storage", {"metavar": "URI"}, "file://DIR for saved runs (./.benchmarks)"),
    ("--benchmark-netrc", {"metavar": "FILE", "nargs": "?", "const": "~/.netrc"}, None),
    ("--benchmark-verbose", {"action": "store_true"}, None),
    ("--benchmark-quiet", {"action": "store_true"}, "no summary table"),
    ("--benchmark-sort", {"metavar": "COL"}, "min, max, mean, stddev, name or fullname"),
    ("--benchmark-group-by", {"metavar": "LABEL"}, "group, name, func, param, param:NAME, ..."),
    ("--benchmark-columns", {"metavar": "LABELS"}, None),
    ("--benchmark-name", {"metavar": "FORMAT"}, None),
    ("--benchmark-time-unit", {"metavar": "UNIT"}, None),
    (
        "--benchmark-histogram",
        {"metavar": "PREFIX", "nargs": "?", "action": "append", "const": ""},
        None,
    ),
)

_SORT_KEYS = ("min", "max", "mean", "stddev", "name", "fullname")
_GROUPINGS = ("group", "name", "func", "fullname", "fullfunc", "param")
#: pytest-benchmark's timers by name: the clocks of ``time``, wall-clock or CPU time.
_CLOCKS = {"wall": ("perf_counter", "monotonic", "time"), "cpu": ("process_time", "thread_time")}
_TIMERS = {
    f"{module}{name}{suffix}": kind
    for kind, names in _CLOCKS.items()
    for name in names
    for module in ("time.", "")
    for suffix in ("", "_ns")
}
_COMPARE_FAIL = re.compile(
    r"(?P<field>min|max|mean|median|stddev|iqr):"
    r"(?:(?P<percent>[0-9]+)%|(?P<seconds>[0-9]*\.?[0-9]+(?:[eE][-+]?[0-9]+)?))"
)
_SAVE_NAME_FORBIDDEN = set("\\/:*?<>|")


def _dest(flag: str) -> str:
    return flag.lstrip("-").replace("-", "_")


def pytest_benchmark_loaded(pluginmanager: pytest.PytestPluginManager) -> bool:
    """Whether pytest-benchmark's plugin is loaded in this session, or is about to be.

    Asked while the plugins load, before pytest-benchmark may have registered itself: its
    installed entry point counts unless ``-p no:benchmark`` or
    ``PYTEST_DISABLE_PLUGIN_AUTOLOAD`` keeps it out.
    """
    if pluginmanager.has_plugin("benchmark") or pluginmanager.has_plugin("pytest_benchmark.plugin"):
        return True
    if "pytest_benchmark" in os.environ.get("PYTEST_PLUGINS", ""):
        return True
    if pluginmanager.is_blocked("benchmark") or os.environ.get("PYTEST_DISABLE_PLUGIN_AUTOLOAD"):
        return False
    from importlib import metadata

    try:
        distribution = metadata.distribution("pytest-benchmark")
    except metadata.PackageNotFoundError:
        return False
    return any(
        entry.group == "pytest11" and entry.name == "benchmark"
        for entry in distribution.entry_points
    )


def add_options(parser: pytest.Parser, *, compat: bool) -> None:
    """Add the ``--perf-*`` options, and pytest-benchmark's when ``compat``."""
    group = parser.getgroup("codomyrmex-performance", "benchmarks (codomyrmex-performance)")
    for flag, metavar, text in _OURS:
        kwargs: dict[str, Any] = {"metavar": metavar, "help": text}
        if flag == "--perf-against":
            kwargs.update(action="append", default=[])
        group.addoption(flag, dest=_dest(flag), **kwargs)
    for flag, text in _OUR_FLAGS:
        group.addoption(flag, dest=_dest(flag), action="store_true", help=text)
    if not compat:
        return
    group = parser.getgroup(
        "benchmark", "pytest-benchmark's options (mapped by codomyrmex-performance)"
    )
    for flag, kwargs, meaning in _COMPAT:
        text = meaning or "no equivalent here: accepted and ignored, with a warning"
        group.addoption(flag, dest=_dest(flag), help=text, **kwargs)


@dataclass(frozen=True)
class Tuning:
    """How a benchmark is measured, before the engine's own defaults apply.

    Set from the command line, then per test by ``@pytest.mark.benchmark(...)``.
    ``max_time`` caps the rounds at ``max_time / min_time`` (each round lasts about
    ``min_time``), never below ``min_rounds`` (5 when not given, as in pytest-benchmark);
    ``warmup`` False means no warm-up round.
    """

    min_rounds: int | None = None
    min_time: float | None = None
    max_time: float | None = None
    warmup: bool = True
    timer: str = "wall"
    disable_gc: bool = False


@dataclass(frozen=True)
class Settings:
    """Everything the command line asks of the plugin."""

    tuning: Tuning = field(default_factory=Tuning)
    disabled: bool = False
    only: bool = False
    skip: bool = False
    save: Path | None = None
    baseline: Path | None = None
    against: tuple[Path, ...] = ()
    json: Path | None = None
    otlp: str | None = None
    #: Regressions fail their test (``--benchmark-compare`` alone only reports them).
    gate: bool = True
    min_effect: float | None = None
    min_effect_abs: float | None = None
    #: pytest-benchmark's run directory and the options that use it.
    storage: Path = Path(".benchmarks")
    storage_save: str | None = None
    autosave: bool = False
    compare: str | None = None
    compat_json: Path | None = None
    sort: str | None = None
    group_by: str = "group"
    quiet: bool = False
    #: pytest-benchmark options given that have no equivalent here.
    ignored: tuple[str, ...] = ()

    @property
    def uses_files(self) -> bool:
        """Whether an option names a file, a directory or an endpoint to check first."""
        return (
            any((self.save, self.baseline, self.against, self.json, self.compat_json))
            or self.otlp is not None
            or self.uses_storage
        )

    @property
    def uses_storage(self) -> bool:
        """Whether ``--benchmark-save``, ``-autosave`` or ``-compare`` reads or writes it."""
        return bool(self.storage_save or self.autosave or self.compare is not None)


def read(config: pytest.Config) -> Settings:
    """The settings of this session's command line; ``pytest.UsageError`` for bad values."""

    def given(name: str) -> Any:
        return config.getoption(name, None)

    if given("perf_only") and given("perf_skip"):
        raise pytest.UsageError("--perf-only and --perf-skip exclude each other: pass one")
    if given("perf_baseline") and given("perf_against"):
        raise pytest.UsageError(
            "--perf-baseline (a saved run) and --perf-against (code to interleave with) "
            "exclude each other: pass one"
        )
    settings = Settings(
        disabled=bool(given("perf_disable")),
        only=bool(given("perf_only")),
        skip=bool(given("perf_skip")),
        save=_path(given("perf_save"), "--perf-save"),
        baseline=_path(given("perf_baseline"), "--perf-baseline"),
        against=tuple(
            path
            for value in given("perf_against") or ()
            if (path := _path(value, "--perf-against"))
        ),
        json=_path(given("perf_json"), "--perf-json"),
        otlp=given("perf_otlp"),
    )
    return _with_compat(settings, given)


def _path(value: str | None, option: str) -> Path | None:
    if value is None:
        return None
    if "\0" in value:
        raise pytest.UsageError(f"{option}: a path cannot contain a NUL character")
    return Path(value)


def _with_compat(settings: Settings, given: Any) -> Settings:
    """``settings`` with pytest-benchmark's options applied (none unless registered)."""
    ignored = tuple(
        flag
        for flag, _, meaning in _COMPAT
        if meaning is None and given(_dest(flag)) not in (None, False, [])
    )
    tuning = Tuning(
        min_rounds=_count(given("benchmark_min_rounds"), "--benchmark-min-rounds", low=1),
        min_time=_seconds(given("benchmark_min_time"), "--benchmark-min-time"),
        max_time=_seconds(given("benchmark_max_time"), "--benchmark-max-time"),
        warmup=_warmup(given("benchmark_warmup"), given("benchmark_warmup_iterations")),
        disable_gc=bool(given("benchmark_disable_gc")),
    )
    timer = given("benchmark_timer")
    if timer is not None:
        if timer in _TIMERS:
            tuning = replace(tuning, timer=_TIMERS[timer])
        else:
            ignored += (f"--benchmark-timer={timer}",)
    storage = given("benchmark_storage")
    if storage is not None and "://" in storage and not storage.startswith("file://"):
        ignored += (f"--benchmark-storage={storage}",)
        storage = None
    compare = given("benchmark_compare")
    fail = [expr for exprs in given("benchmark_compare_fail") or () for expr in exprs]
    if fail and compare is None:
        raise pytest.UsageError("--benchmark-compare-fail needs --benchmark-compare")
    if compare is not None and settings.baseline is not None:
        raise pytest.UsageError("--perf-baseline and --benchmark-compare exclude each other")
    if compare is not None and settings.against:
        raise pytest.UsageError("--perf-against and --benchmark-compare exclude each other")
    min_effect, min_effect_abs = _compare_fail(fail)
    save = given("benchmark_save")
    if save is not None and (not save or _SAVE_NAME_FORBIDDEN & set(save)):
        raise pytest.UsageError(
            f"--benchmark-save: a name without any of \\/:*?<>| is needed, got {save!r}"
        )
    sort = given("benchmark_sort")
    if sort is not None and sort.strip().lower() not in _SORT_KEYS:
        raise pytest.UsageError(
            f"--benchmark-sort must be one of {', '.join(_SORT_KEYS)}, got {sort!r}"
        )
    group_by = given("benchmark_group_by") or "group"
    for grouping in group_by.split(","):
        if grouping not in _GROUPINGS and not grouping.startswith("param:"):
            raise pytest.UsageError(
                f"--benchmark-group-by: unknown grouping {grouping!r} "
                f"(one of {', '.join(_GROUPINGS)}, param:NAME)"
            )
    json_report = given("benchmark_json")
    only = settings.only or bool(given("benchmark_only"))
    return replace(
        settings,
        tuning=tuning,
        disabled=(settings.disabled or bool(given("benchmark_disable")))
        and not given("benchmark_enable"),
        only=only,
        skip=(settings.skip or bool(given("benchmark_skip"))) and not only,
        gate=compare is None or bool(fail),
        min_effect=min_effect,
        min_effect_abs=min_effect_abs,
        storage=Path(storage.removeprefix("file://")) if storage else settings.storage,
        storage_save=save,
        autosave=bool(given("benchmark_autosave")),
        compare=compare,
        compat_json=_path(json_report, "--benchmark-json"),
        sort=None if sort is None else sort.strip().lower(),
        group_by=group_by,
        quiet=bool(given("benchmark_quiet")),
        ignored=ignored,
    )


def _number(value: Any, option: str) -> float:
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"{option} must be a number, got {value!r}") from None
    if not math.isfinite(number):
        raise pytest.UsageError(f"{option} must be a finite number, got {value!r}")
    return number


def _seconds(value: Any, option: str) -> float | None:
    if value is None:
        return None
    seconds = _number(value, option)
    if not 0 < seconds <= 3600:
        raise pytest.UsageError(f"{option} must be within 0 and 3600 seconds, got {value!r}")
    return seconds


def _count(value: Any, option: str, *, low: int) -> int | None:
    if value is None:
        return None
    try:
        count = int(value)
    except (TypeError, ValueError):
        raise pytest.UsageError(f"{option} must be an integer, got {value!r}") from None
    if not low <= count <= 10_000:
        raise pytest.UsageError(f"{option} must be within {low} and 10000, got {value!r}")
    return count


def _warmup(kind: str | None, iterations: Any) -> bool:
    if _count(iterations, "--benchmark-warmup-iterations", low=0) == 0:
        return False
    if kind is None:
        return True
    text = kind.strip().lower()
    if text in ("auto", "on", "true", "yes", ""):
        return True
    if text in ("off", "false", "no"):
        return False
    raise pytest.UsageError(f"--benchmark-warmup must be auto, on or off, got {kind!r}")


def _compare_fail(expressions: list[str]) -> tuple[float | None, float | None]:
    """The smallest relative and absolute minimum effects of ``--benchmark-compare-fail``."""
    percents: list[float] = []
    seconds: list[float] = []
    for expression in expressions:
        match = _COMPARE_FAIL.fullmatch(expression)
        if match is None:
            raise pytest.UsageError(
                f"--benchmark-compare-fail: cannot parse {expression!r} "
                "(FIELD:N% or FIELD:SECONDS, FIELD one of min, max, mean, median, stddev, iqr)"
            )
        if match["percent"] is not None:
            percents.append(int(match["percent"]) / 100)
        else:
            seconds.append(float(match["seconds"]))
    return (min(percents) if percents else None), (min(seconds) if seconds else None)


_MARKER_KEYS = ("group", "min_rounds", "min_time", "max_time", "warmup", "timer", "disable_gc")
#: pytest-benchmark marker arguments without an equivalent here: accepted, one warning.
MARKER_IGNORED = ("warmup_iterations", "calibration_precision", "precision", "confidence")


def tuning_from_marker(
    tuning: Tuning, marker: pytest.Mark | None
) -> tuple[Tuning, str | None, tuple[str, ...]]:
    """``tuning`` with ``@pytest.mark.benchmark(...)`` applied, the marker's group, and its
    arguments that have no equivalent; ``TypeError``/``ValueError`` for bad arguments."""
    if marker is None:
        return tuning, None, ()
    if marker.args:
        raise TypeError("@pytest.mark.benchmark takes keyword arguments only")
    kwargs = dict(marker.kwargs)
    unknown = set(kwargs) - set(_MARKER_KEYS) - set(MARKER_IGNORED)
    if unknown:
        raise TypeError(f"@pytest.mark.benchmark got unexpected {', '.join(sorted(unknown))}")
    group = kwargs.get("group")
    if group is not None and (not isinstance(group, str) or not group):
        raise TypeError(f"@pytest.mark.benchmark group must be a non-empty str, got {group!r}")
    changes: dict[str, Any] = {}
    for key in ("min_time", "max_time"):
        if kwargs.get(key) is not None:
            changes[key] = _marker_seconds(kwargs[key], key)
    if kwargs.get("min_rounds") is not None:
        rounds = kwargs["min_rounds"]
        if isinstance(rounds, bool) or not isinstance(rounds, int) or not 1 <= rounds <= 10_000:
            raise ValueError(f"min_rounds must be an integer within 1 and 10000, got {rounds!r}")
        changes["min_rounds"] = rounds
    for key in ("warmup", "disable_gc"):
        if key in kwargs:
            changes[key] = bool(kwargs[key])
    ignored = tuple(key for key in MARKER_IGNORED if key in kwargs)
    if "timer" in kwargs:
        timer = _marker_timer(kwargs["timer"])
        if timer is None:
            ignored += ("timer",)
        else:
            changes["timer"] = timer
    return replace(tuning, **changes), group, ignored


def _marker_seconds(value: Any, key: str) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{key} must be a number of seconds, got {value!r}")
    try:
        seconds = float(value)
    except ValueError:
        raise ValueError(f"{key} must be a number of seconds, got {value!r}") from None
    if not 0 < seconds <= 3600:
        raise ValueError(f"{key} must be within 0 and 3600 seconds, got {value!r}")
    return seconds


def _marker_timer(value: Any) -> str | None:
    """``wall`` or ``cpu`` for a clock of ``time`` (or those words), else None."""
    if value in ("wall", "cpu"):
        return str(value)
    name = f"{getattr(value, '__module__', '')}.{getattr(value, '__qualname__', '')}"
    return _TIMERS.get(name)
