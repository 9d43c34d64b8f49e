"""Benchmarks users can trust: calibrated rounds, honest statistics, baselines, OTLP export.

::

    from codomyrmex.performance import BenchmarkSuite, run_benchmark

    suite = BenchmarkSuite("parsing")

    @suite.add
    def parse_small():
        parse(SMALL)

    run = run_benchmark(suite, save_baseline="parsing.json")   # later runs: baseline=...
    for result in run.results:
        print(result.name, result.median, result.iqr, result.verdict)

    # The gate: old and new code alternating in short rounds within ONE run.
    result = run_benchmark(new_parse, baseline=old_parse)
    assert result.comparison.verdict != "regression"

Each benchmark is calibrated (calls per round so a timed value lasts ``min_time``,
10 ms by default), warmed up, then timed for ``rounds`` rounds (10 by default, 40 pairs
when interleaved). ``samples`` are seconds per call, one per round; statistics are in
:mod:`~codomyrmex.performance.profiling.stats`; verdicts and the noise floor of stored
baselines in :mod:`~codomyrmex.performance.profiling.compare`.

``save_baseline=`` is checked before anything runs (an ``OSError`` naming it when its
directory is missing or it is a directory). ``baseline=`` accepts a JSON file written by
``save_baseline=`` (raises
:class:`BaselineError` naming the file if it cannot be used; the file is never touched),
a previous ``SuiteResult``/``BenchmarkResult``, or code to *interleave* with: a callable
(for a callable target) or a ``BenchmarkSuite`` (benchmarks matched by name).

Options: ``rounds``, ``warmup`` (rounds, default 1), ``min_time`` (s), ``loops`` (calls
per round, skipping calibration; ``iterations`` is the same option under pytest-benchmark's
name), ``processes`` (0 = in-process; N = rounds spread over N fresh worker
processes, as the CLI does), ``baseline_source`` (directories put first on ``sys.path`` of
baseline-side workers: interleave with another version of the code), ``timer``
(``"wall"``, the default, or ``"cpu"`` for CPU-bound code on a shared machine), ``disable_gc``,
``memory`` (tracemalloc peak of one call, measured after timing), ``min_effect``
(``0.05`` or ``"5%"``), ``min_effect_abs`` (seconds or ``"2us"``), ``alpha``,
``noise_floor`` (a minimum for stored comparisons), ``resamples``, ``seed``, ``progress``
(called as ``progress(name, done, total)`` after each round). ``html=FILE`` writes the
run's self-contained HTML report there (checked before anything runs, like
``save_baseline=``; see :mod:`~codomyrmex.performance.profiling.html_report`).
``profile=DIR`` (or ``True``: no files) profiles each benchmark once after its timed
rounds, writes a pstats file and a flame graph per benchmark, and on a ``regression`` gives
a differential profile (:mod:`~codomyrmex.performance.profiling.profiles`).

Every option is checked before anything runs: a wrong type is a ``TypeError``, a value out
of range an :class:`OptionError`, a ``ValueError`` naming the option (NaN, infinite, not
integral, or beyond 10,000 rounds, 1,000 warm-up rounds, 60 s ``min_time``, 2**30 loops).
A stored baseline measured another way (worker processes or in-process, timer, gc: its
fingerprint's ``measurement``) gives ``inconclusive``, never ``regression``; a stored
baseline with ``baseline_source`` is refused.

A benchmark that raises is reported with ``error`` set and no samples; the others run.
When the interleaved baseline side raises, the error starts with ``baseline:``.
When a tracer can record, the run is exported (see
:mod:`~codomyrmex.performance.profiling.export`) and flushed before returning.
"""

from __future__ import annotations

import math
import os
import time
import uuid
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import Any, overload

from codomyrmex.performance.profiling import _checks, compare, profiles
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling._checks import OptionError
from codomyrmex.performance.profiling.baseline import BaselineError
from codomyrmex.performance.profiling.export import current_commit, export_run
from codomyrmex.performance.profiling.html_report import write_report
from codomyrmex.performance.profiling.profiles import Profile
from codomyrmex.performance.profiling.result import BenchmarkResult, Comparison, SuiteResult
from codomyrmex.performance.profiling.rounds import (
    MAX_LOOPS,
    MAX_PROCESSES,
    MAX_ROUNDS,
    TIMERS,
    Benchmark,
    Collected,
    InProcessRounds,
    RoundSource,
    WorkerRounds,
    WorkerUnavailable,
    collect,
    describe,
)
from codomyrmex.performance.profiling.suite import BenchmarkSuite

__all__ = [
    "BaselineError",
    "BenchmarkResult",
    "BenchmarkSuite",
    "Comparison",
    "OptionError",
    "SuiteResult",
    "check_options",
    "run_benchmark",
]


#: Rounds of a benchmark when ``rounds`` is not given (pairs when interleaved), and the
#: default ``min_time``: the pytest plugin derives its own options from them.
DEFAULT_ROUNDS, DEFAULT_INTERLEAVED_ROUNDS, DEFAULT_MIN_TIME = 10, 40, 0.01


@dataclass(frozen=True)
class _Options:
    rounds: int | None = None
    warmup: int = 1
    min_time: float = DEFAULT_MIN_TIME
    loops: int | None = None
    processes: int = 0
    baseline_source: Sequence[str] = ()
    disable_gc: bool = False
    timer: str = "wall"
    memory: bool = False
    progress: Callable[[str, int, int], None] | None = None
    profile: str | bool | None = None  # a directory (absolute) or True: see profiles


#: Upper bounds of options (with ``rounds.MAX_*``): beyond them a run would not end in practice.
MAX_WARMUP = 1_000
MAX_MIN_TIME = 60.0
MAX_RESAMPLES = 100_000


def _parse_options(options: dict[str, Any]) -> tuple[_Options, compare.Criteria]:
    criteria_keys = {"min_effect", "min_effect_abs", "alpha", "noise_floor", "resamples", "seed"}
    if "iterations" in options:  # pytest-benchmark's name for a fixed loop count
        iterations = _checks.integer(options.pop("iterations"), "iterations", 1, MAX_LOOPS)
        if options.get("loops") not in (None, iterations):
            raise TypeError("run_benchmark() got both iterations= and loops=: give one")
        options["loops"] = iterations
    unknown = set(options) - criteria_keys - set(_Options.__dataclass_fields__)
    if unknown:
        raise TypeError(f"run_benchmark() got unexpected option(s): {', '.join(sorted(unknown))}")
    criteria = compare.Criteria(
        min_effect=_parsed("min_effect", compare.parse_effect, options.pop("min_effect", 0.05)),
        min_effect_abs=_parsed(
            "min_effect_abs", compare.parse_duration, options.pop("min_effect_abs", 0.0)
        ),
        alpha=_checks.number(options.pop("alpha", 0.05), "alpha", 0, 1, above_low=True),
        noise_floor=_checks.number(options.pop("noise_floor", 1.0), "noise_floor", 1, 100),
        resamples=_checks.integer(options.pop("resamples", 2000), "resamples", 1, MAX_RESAMPLES),
        seed=_checks.integer(options.pop("seed", 0), "seed", -(2**63), 2**63),
    )
    if criteria.alpha >= 1:
        raise _checks.OptionError("alpha", f"must be < 1, got {criteria.alpha!r}")
    source = options.get("baseline_source", ())
    if isinstance(source, (str, os.PathLike)):
        source = [source]
    options["baseline_source"] = tuple(os.path.abspath(os.fspath(p)) for p in source)
    parsed = _Options(**options)
    if parsed.rounds is not None:
        _checks.integer(parsed.rounds, "rounds", 2, MAX_ROUNDS)
    _checks.integer(parsed.warmup, "warmup", 0, MAX_WARMUP)
    _checks.integer(parsed.processes, "processes", 0, MAX_PROCESSES)
    if parsed.loops is not None:
        _checks.integer(parsed.loops, "loops", 1, MAX_LOOPS)
    _checks.number(parsed.min_time, "min_time", 0, MAX_MIN_TIME, above_low=True)
    _checks.flag(parsed.disable_gc, "disable_gc")
    _checks.flag(parsed.memory, "memory")
    if parsed.progress is not None and not callable(parsed.progress):
        raise TypeError(f"progress must be callable, not {type(parsed.progress).__name__}")
    if parsed.timer not in TIMERS:
        raise _checks.OptionError(
            "timer", f"must be one of {', '.join(TIMERS)}, got {parsed.timer!r}"
        )
    if parsed.baseline_source and not parsed.processes:
        parsed = _Options(**{**parsed.__dict__, "processes": 1})
    if parsed.profile is not None:
        parsed = _Options(**{**parsed.__dict__, "profile": _profile_target(parsed.profile)})
    return parsed, criteria


def _profile_target(profile: object) -> str | bool | None:
    """``profile=``: False/None (off), True (no files) or a directory, checked and created."""
    if isinstance(profile, bool):
        target: str | bool | None = True if profile else None
    elif isinstance(profile, (str, os.PathLike)):
        target = profiles.check_directory(profile)
    else:
        raise TypeError(f"profile must be a directory or a bool, not {type(profile).__name__}")
    if target is not None:
        profiles.check_available()
    return target


def check_options(**options: Any) -> None:
    """Raise what :func:`run_benchmark` raises for ``options`` (``OptionError`` is a
    ``ValueError`` with ``.option``), running nothing; a profile directory is created."""
    _parse_options(dict(options))


def _parsed(option: str, parse: Callable[[Any], float], value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        raise TypeError(f"{option} must be a number or a string, not {type(value).__name__}")
    try:
        return parse(value)
    except ValueError as exc:
        raise _checks.OptionError(option, f"is invalid: {exc}") from None


def _as_suite(target: Any) -> tuple[BenchmarkSuite, bool]:
    if isinstance(target, BenchmarkSuite):
        return target, False
    if not callable(target):
        raise TypeError(f"run_benchmark() needs a BenchmarkSuite or a callable, got {target!r}")
    name = str(getattr(target, "__qualname__", None) or getattr(target, "__name__", repr(target)))
    suite = BenchmarkSuite(name)
    suite.add(target, name=name)
    for bench in suite.benchmarks:  # a bare callable is located by its own module in workers
        bench.suite, bench.origin = None, None
    return suite, True


def _stored_baseline(baseline: Any, suite: str, notes: list[str]) -> SuiteResult | None:
    if isinstance(baseline, (str, os.PathLike)):
        found = baselines.select(baselines.load(baseline), suite)
        if found is None:
            notes.append(f"baseline {os.fspath(baseline)} has no suite {suite!r}: no comparison")
            return SuiteResult(suite, [])
        return found
    if isinstance(baseline, SuiteResult):
        return baseline
    if isinstance(baseline, BenchmarkResult):
        return SuiteResult(baseline.suite or "", [baseline])
    return None


@overload
def run_benchmark(
    target: BenchmarkSuite,
    *,
    baseline: Any = None,
    save_baseline: str | os.PathLike[str] | None = None,
    **options: Any,
) -> SuiteResult: ...


@overload
def run_benchmark(
    target: Callable[[], Any],
    *,
    baseline: Any = None,
    save_baseline: str | os.PathLike[str] | None = None,
    **options: Any,
) -> BenchmarkResult: ...


def run_benchmark(
    target: BenchmarkSuite | Callable[[], Any],
    *,
    baseline: Any = None,
    save_baseline: str | os.PathLike[str] | None = None,
    **options: Any,
) -> SuiteResult | BenchmarkResult:
    """Run a suite (returns a ``SuiteResult``) or a callable (returns its ``BenchmarkResult``)."""
    html = options.pop("html", None)
    opts, criteria = _parse_options(dict(options))
    for output in (save_baseline, html):
        if output is not None:
            baselines.check_writable(output)
    suite, single = _as_suite(target)
    if baseline is None:
        baseline = suite.baseline
    notes: list[str] = []
    stored = _stored_baseline(baseline, suite.name, notes)
    partners: dict[str, Benchmark] = {}
    if isinstance(baseline, BenchmarkSuite):
        partners = {b.name: b for b in baseline.benchmarks}
    elif stored is None and baseline is not None:
        if not callable(baseline) or not single:
            raise TypeError(
                "baseline must be a path, a result, a BenchmarkSuite, or (for a callable "
                f"target) a callable to interleave with; got {baseline!r}"
            )
        partner_name = getattr(baseline, "__qualname__", "baseline")
        partners = {suite.benchmarks[0].name: Benchmark(name=partner_name, func=baseline)}
    if opts.baseline_source and stored is not None:
        raise ValueError(
            "baseline= (a stored result) and baseline_source= (code to interleave with) "
            "cannot be combined: pass one"
        )
    rounds = _rounds(opts, interleave=bool(partners) or bool(opts.baseline_source))

    run = SuiteResult(
        suite.name, [], run_id=uuid.uuid4().hex, commit=current_commit(),
        fingerprint={**baselines.fingerprint(), "measurement": _measurement(opts)},
        warnings=notes,
    )  # fmt: skip
    mode_change = None if stored is None else baselines.measurement_change(stored, run)
    unprofiled = stored is not None and not any(r.profile is not None for r in stored.results)
    if opts.profile is not None and stored is not None and stored.results and unprofiled:
        run.warnings.append(
            "the baseline has no profile (save it with profile=): a regression "
            "against it gets no differential profile"
        )
    if stored is not None and stored.fingerprint:
        differences = baselines.fingerprint_differences(stored.fingerprint)
        if differences:
            message = "baseline measured on a different machine or Python: " + "; ".join(
                differences
            )
            run.warnings.append(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)

    started = time.time_ns()
    windows: list[tuple[int, int]] = []
    drafts: list[Comparison | None] = []
    for bench in suite.benchmarks:
        window_start = time.time_ns()
        partner = partners.get(bench.name)
        if partners and partner is None:
            run.warnings.append(f"{bench.name}: no baseline benchmark of that name to interleave")
        result, draft = _run_one(bench, partner, stored, opts, criteria, rounds, suite.name)
        run.results.append(result)
        drafts.append(draft)
        windows.append((window_start, time.time_ns()))
    for result, comparison in zip(run.results, compare.decide(drafts, criteria), strict=False):
        _settle(result, comparison, mode_change)
    export_run(run, windows, started, time.time_ns())

    if save_baseline is not None:
        if run.failures:
            names = ", ".join(r.name for r in run.failures)
            reasons = "; ".join(f"{r.name}: {r.error}" for r in run.failures)
            message = f"baseline {os.fspath(save_baseline)} not written: {names} failed ({reasons})"
            run.warnings.append(message)
            warnings.warn(message, RuntimeWarning, stacklevel=2)
        else:
            run.baseline_saved = str(baselines.save(run, save_baseline))
    if html is not None:
        write_report([run], html)
    return run.results[0] if single else run


def measure(
    bench: Benchmark, *, suite: str, baseline: SuiteResult | None = None, **options: Any
) -> SuiteResult:
    """Measure one benchmark and compare it, for a runner that gathers its own run.

    The pytest plugin's engine: nothing is exported or saved, and the p-value is the
    benchmark's own (Holm's adjustment needs the whole run). ``baseline`` is a stored suite
    to compare with; ``baseline_source=`` interleaves instead. Options are
    :func:`run_benchmark`'s, except that ``rounds`` may be 1 (a pedantic benchmark). Returns
    a suite of that one result, its fingerprint saying how it was measured.
    """
    rounds = options.pop("rounds", None)
    if rounds is not None:
        _checks.integer(rounds, "rounds", 1, MAX_ROUNDS)
    opts, criteria = _parse_options(options)
    run = SuiteResult(
        suite, [], fingerprint={**baselines.fingerprint(), "measurement": _measurement(opts)}
    )
    rounds = rounds or _rounds(opts, interleave=bool(opts.baseline_source))
    result, draft = _run_one(bench, None, baseline, opts, criteria, rounds, suite)
    mode_change = None if baseline is None else baselines.measurement_change(baseline, run)
    _settle(result, compare.decide([draft], criteria)[0], mode_change)
    run.results.append(result)
    return run


def _rounds(opts: _Options, *, interleave: bool) -> int:
    return opts.rounds or (DEFAULT_INTERLEAVED_ROUNDS if interleave else DEFAULT_ROUNDS)


def _settle(
    result: BenchmarkResult, comparison: Comparison | None, mode_change: str | None
) -> None:
    """Give ``result`` its decided comparison: inconclusive across measurement modes."""
    if comparison is not None and comparison.mode == "stored" and mode_change:
        comparison = replace(
            comparison,
            verdict="inconclusive",
            profile_diff=None,
            warnings=(*comparison.warnings, mode_change),
        )
    result.comparison = comparison
    if comparison is not None:
        result.warnings.extend(comparison.warnings)


def _measurement(opts: _Options) -> str:
    """How timings were taken: comparing timings taken two different ways is meaningless."""
    parts = ["worker processes" if opts.processes else "in-process", f"{opts.timer} timer"]
    if opts.disable_gc:
        parts.append("gc disabled")
    return ", ".join(parts)


def _samplers(
    bench: Benchmark, partner: Benchmark | None, opts: _Options, notes: list[str]
) -> Callable[[], list[RoundSource]]:
    def in_process() -> list[RoundSource]:
        sides = [partner, bench] if partner is not None else [bench]
        return [InProcessRounds(b, disable_gc=opts.disable_gc, timer=opts.timer) for b in sides]

    def workers() -> list[RoundSource]:
        made: list[RoundSource] = []
        try:
            if partner is not None:
                made.append(WorkerRounds(partner, disable_gc=opts.disable_gc, timer=opts.timer))
            elif opts.baseline_source:
                made.append(
                    WorkerRounds(
                        bench,
                        disable_gc=opts.disable_gc,
                        timer=opts.timer,
                        extra_path=opts.baseline_source,
                    )
                )
            made.append(WorkerRounds(bench, disable_gc=opts.disable_gc, timer=opts.timer))
        except WorkerUnavailable as exc:
            for sampler in made:
                sampler.close()
            if opts.baseline_source:
                raise
            if not notes:
                notes.append(f"ran in-process: no worker can load it ({exc})")
            return in_process()
        return made

    return workers if opts.processes else in_process


def _run_one(
    bench: Benchmark,
    partner: Benchmark | None,
    stored: SuiteResult | None,
    opts: _Options,
    criteria: compare.Criteria,
    rounds: int,
    suite_name: str,
) -> tuple[BenchmarkResult, Comparison | None]:
    notes: list[str] = []
    done = 0

    def on_round() -> None:
        nonlocal done
        done += 1
        if opts.progress is not None:
            opts.progress(bench.name, done, rounds)

    try:
        collected: Collected = collect(
            _samplers(bench, partner, opts, notes),
            rounds=rounds,
            warmup=opts.warmup,
            min_time=opts.min_time,
            loops=opts.loops,
            processes=opts.processes,
            memory=opts.memory,
            profile=opts.profile is not None,
            on_round=on_round,
        )
    except Exception as exc:
        failed = BenchmarkResult(bench.name, [], 0, 0, suite=suite_name, error=describe(exc))
        failed.warnings.extend(notes)
        return failed, None
    samples = collected.samples[-1]
    result = BenchmarkResult(
        name=bench.name,
        samples=samples,
        iterations=collected.loops,
        rounds=len(samples),
        suite=suite_name,
        groups=collected.groups,
        probes=collected.probes,
        cpu_shares=collected.cpu_shares[-1],
        memory_peak=collected.memory_peak[-1] if collected.memory_peak else None,
        warnings=notes,
    )
    result.warnings.extend(_stability_warnings(result))
    captures = collected.profiles or []
    if collected.profile_error is not None:
        result.warnings.append(f"not profiled: {collected.profile_error}")
    if captures:
        result.profile = _kept(captures[-1], opts.profile, suite_name, bench.name, result)
    draft: Comparison | None = None
    before: Profile | None = None
    if len(collected.samples) == 2:
        draft = compare.interleaved(collected.samples[0], samples, criteria)
        if len(samples) < 6:
            result.warnings.append(
                f"only {len(samples)} interleaved pairs: the signed-rank test needs >= 6"
            )
        if captures:
            before = _kept(captures[0], opts.profile, suite_name, bench.name, result, "baseline")
    elif stored is not None:
        try:
            reference = stored[bench.name]
        except KeyError:
            result.warnings.append("not in the baseline: no comparison")
        else:
            draft = compare.stored(reference, result, criteria)
            before = reference.profile
    if draft is not None and result.profile is not None:
        changes = None if before is None else profiles.diff(before, result.profile)
        draft = replace(draft, baseline_profile=before, profile_diff=changes)
    return result, draft


def _kept(
    capture: profiles.Capture,
    directory: str | bool | None,
    suite: str,
    name: str,
    result: BenchmarkResult,
    side: str = "",
) -> Profile:
    """The profile of ``capture``, its files written in ``directory`` when it is one."""
    if not isinstance(directory, str):
        return capture.profile
    try:
        return capture.write(directory, profiles.file_stem(suite, name, side))
    except OSError as exc:
        result.warnings.append(f"profile not written: {exc}")
        return capture.profile


def _stability_warnings(result: BenchmarkResult) -> list[str]:
    found: list[str] = []
    count = len(result.samples)
    if count < 5:
        found.append(f"only {count} samples: too few for stable statistics")
    if not math.isnan(result.cv) and result.cv > 0.10:
        found.append(f"unstable: coefficient of variation {result.cv:.0%} (> 10%)")
    low, high = result.outliers
    if count and (low + high) / count >= 0.1:
        found.append(f"{low + high} of {count} samples are outliers (kept)")
    return found
