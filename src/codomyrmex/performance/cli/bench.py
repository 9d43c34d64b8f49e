"""``codomyrmex-perf bench``: run benchmark suites, compare, gate.

::

    codomyrmex-perf bench benchmarks/ --save-baseline base.json  # on main
    codomyrmex-perf bench benchmarks/ --baseline base.json --json out.json
    codomyrmex-perf bench benchmarks/ --against ../main/src      # the CI gate

``PATH`` is a Python file or a directory searched recursively for ``bench_*.py``; every
module-level ``BenchmarkSuite`` in them runs. Rounds run in fresh worker processes
(``--processes``, default 3; ``--in-process`` or ``--processes 0`` for quick runs).
``--profile DIR`` profiles each benchmark after its rounds (a pstats file and a speedscope
flame graph per benchmark in DIR), prints its top functions and, on a regression, the
functions whose time grew (the ``profile`` extra).
``--against DIR`` interleaves each benchmark with the same benchmark importing the code
under ``DIR`` first (for example a checkout of the main branch): the comparison that stays
trustworthy on a noisy machine; its baseline side always runs in worker processes. Against
``--baseline`` (a file saved earlier) a change within the measured noise is reported
``inconclusive``.

Exit status: 0 when nothing regressed, 1 on a regression or a failed benchmark, 2 on bad
input (missing path, no suites, corrupt baseline, unreachable ``--otlp``, an output path
whose directory does not exist: checked before anything runs) or an output file that
could not be written, always with one line on stderr. ``--save-baseline`` is written
only when every benchmark succeeded and none regressed. Telemetry is exported when
``--otlp`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable is set.
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.cli import _bench_profiles, _bench_reports, _format
from codomyrmex.performance.cli._session import (
    CliError,
    add_otlp_argument,
    otlp_requested,
    start_telemetry,
    stop_telemetry,
)
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling.discover import DiscoveryError, discover
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.profiling.suite import BenchmarkSuite

__all__ = ["register"]

_VERDICT_STYLES = {
    "regression": "bold red",
    "improvement": "bold green",
    "no_change": "dim",
    "inconclusive": "yellow",
}


def register(subparsers: Any) -> None:
    """Add the ``bench`` subcommand."""
    parser = subparsers.add_parser(
        "bench", help="run benchmark suites and compare with a baseline",
        description=__doc__,
    )  # fmt: skip
    parser.add_argument("path", metavar="PATH", help="a bench file or a directory of bench_*.py")
    parser.add_argument("--baseline", metavar="FILE", help="compare with this saved baseline")
    parser.add_argument("--save-baseline", metavar="FILE", help="save this run as a baseline")
    parser.add_argument(
        "--against", metavar="DIR", action="append", default=[],
        help="interleave with the code importable from DIR first (repeatable)",
    )  # fmt: skip
    parser.add_argument("--json", metavar="FILE", help="write all results as JSON")
    _bench_reports.add_arguments(parser)
    _bench_profiles.add_argument(parser)
    add_otlp_argument(parser, files_by_default=False)
    parser.add_argument("--rounds", type=int, help="rounds (pairs when interleaved)")
    parser.add_argument("--warmup", type=int, default=1, help="warm-up rounds (default 1)")
    parser.add_argument("--min-time", type=float, default=0.01, help="seconds per round")
    parser.add_argument(
        "--processes", type=int, default=3,
        help="worker processes (default 3); 0 runs in-process like --in-process",
    )  # fmt: skip
    parser.add_argument("--in-process", action="store_true", help="no worker processes")
    parser.add_argument("--timer", choices=("wall", "cpu"), default="wall",
                        help="wall clock (default) or process CPU time")  # fmt: skip
    parser.add_argument("--min-effect", default="5%", help="smallest relevant change (5%%)")
    parser.add_argument("--min-effect-abs", default="0", help="absolute floor, e.g. 2us")
    parser.add_argument("--alpha", type=float, default=0.05, help="significance level")
    parser.add_argument("--memory", action="store_true", help="measure tracemalloc peak")
    parser.add_argument("--disable-gc", action="store_true", help="disable GC while timing")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")
    parser.set_defaults(handler=run)


def _options(args: argparse.Namespace) -> dict[str, Any]:
    from codomyrmex.performance.profiling.compare import parse_duration, parse_effect

    for key in ("rounds", "warmup", "processes"):
        value = getattr(args, key)
        if value is not None and value < (2 if key == "rounds" else 0):
            raise CliError(f"--{key} must be at least {2 if key == 'rounds' else 0}", 2)
    if not 0 < args.min_time < math.inf:
        raise CliError(f"--min-time must be a positive number of seconds, got {args.min_time}", 2)
    if not 0 < args.alpha < 1:
        raise CliError(f"--alpha must be between 0 and 1 (exclusive), got {args.alpha}", 2)
    try:
        min_effect = parse_effect(args.min_effect)
    except ValueError as exc:
        raise CliError(f"--min-effect: {exc}", exit_code=2) from None
    try:
        min_effect_abs = parse_duration(args.min_effect_abs)
    except ValueError as exc:
        raise CliError(f"--min-effect-abs: {exc}", exit_code=2) from None
    for directory in args.against:
        if not Path(directory).is_dir():
            raise CliError(f"--against: no such directory: {directory}", exit_code=2)
    if args.against and args.processes == 0:
        raise CliError("--against runs the baseline in worker processes: --processes >= 1", 2)
    if args.against and args.baseline:
        raise CliError("--baseline and --against are two ways to compare: give one", 2)
    for option, path in (("--json", args.json), ("--save-baseline", args.save_baseline)):
        if path:
            try:
                baselines.check_writable(path)
            except OSError as exc:
                raise CliError(f"{option}: cannot write {path}: {exc.strerror}", 2) from None
            except ValueError as exc:  # a Python file
                raise CliError(f"{option}: {exc}", 2) from None
    _bench_reports.check(args)
    options = {
        "rounds": args.rounds,
        "warmup": args.warmup,
        "min_time": args.min_time,
        "processes": 0 if args.in_process and not args.against else args.processes,
        "baseline_source": args.against,
        "min_effect": min_effect,
        "min_effect_abs": min_effect_abs,
        "alpha": args.alpha,
        "memory": args.memory,
        "disable_gc": args.disable_gc,
        "timer": args.timer,
    }
    from codomyrmex.performance.profiling.benchmark import OptionError, check_options

    try:
        check_options(**options)
    except OptionError as exc:
        raise CliError(f"--{exc.option.replace('_', '-')} {exc.reason}", exit_code=2) from None
    return {**options, "profile": _bench_profiles.check(args)}


def run(args: argparse.Namespace) -> int:
    """The ``bench`` handler: returns the exit status."""
    options = _options(args)
    stored: list[SuiteResult] | None = None
    if args.baseline:
        try:
            stored = baselines.load(args.baseline)
        except baselines.BaselineError as exc:
            raise CliError(str(exc), exit_code=2) from exc
    try:
        suites = discover(Path(args.path))
    except DiscoveryError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    handle = None
    if otlp_requested(args.otlp):
        handle = start_telemetry("codomyrmex-perf-bench", args.otlp)
    console, errors = _format.console(), _format.console(stderr=True)
    telemetry = None
    try:
        runs = _run_suites(suites, stored, options, errors, progress=not args.no_progress)
    finally:
        if handle is not None:
            telemetry = stop_telemetry(handle).line(handle)
    _print_table(console, runs)
    _bench_profiles.print_profiles(console, runs)
    for run_result in runs:
        notes = [(run_result.name, w) for w in run_result.warnings]
        notes += [
            (f"{run_result.name}.{r.name}", w) for r in run_result.results for w in r.warnings
        ]
        for where, warning in notes:
            errors.print(f"[yellow]warning[/]: {where}: {warning}", highlight=False)
    if telemetry is not None:
        errors.print(telemetry, highlight=False, markup=False)
    regressed = any(r.regressions for r in runs)
    failed = any(r.failures for r in runs)
    if args.json:
        document = {"exit_status": int(regressed or failed), "suites": [r.to_dict() for r in runs]}
        _write("--json", args.json, lambda: baselines.write_json(document, args.json))
    if args.save_baseline:
        if regressed or failed:
            errors.print(f"baseline {args.save_baseline} not written: the run did not pass")
        else:
            _write(
                "--save-baseline",
                args.save_baseline,
                lambda: baselines.save(runs, args.save_baseline),
            )
            errors.print(f"baseline saved to {args.save_baseline}", highlight=False, markup=False)
    _bench_reports.write(args, runs, errors, _write)
    return 1 if regressed or failed else 0


def _write(option: str, path: str, write: Callable[[], object]) -> None:
    try:
        write()
    except OSError as exc:
        raise CliError(f"{option}: cannot write {path}: {exc.strerror or exc}", 2) from None


def _run_suites(
    suites: list[BenchmarkSuite],
    stored: list[SuiteResult] | None,
    options: dict[str, Any],
    errors: Any,
    *,
    progress: bool,
) -> list[SuiteResult]:
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn

    from codomyrmex.performance.profiling.benchmark import run_benchmark

    runs: list[SuiteResult] = []
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn())
    with Progress(*columns, console=errors, disable=not progress, transient=True) as bar:
        for suite in suites:
            task = bar.add_task(suite.name, total=None)

            def advance(
                name: str, done: int, total: int, task: Any = task, suite: str = suite.name
            ) -> None:
                bar.update(task, description=f"{suite}: {name}", completed=done, total=total)

            base: Any = None
            if stored is not None:
                base = baselines.select(stored, suite.name) or SuiteResult(suite.name, [])
            runs.append(run_benchmark(suite, baseline=base, progress=advance, **options))
            bar.remove_task(task)
    return runs


_COLUMNS = (
    *map(_format.Column, ("benchmark", "median", "IQR", "ops/s", "rounds×loops", "ratio",
                          "95% CI", "p (Holm)")),
    _format.Column("verdict", "left"), _format.Column("mode", "left"),
)  # fmt: skip
#: Narrower terminals: related cells stacked in one column (median over IQR, ...).
_STACKED = (
    ((0,), (1, 2), (3, 4), (5, 6, 7), (8, 9)),
    ((0,), (1, 2, 3, 4), (8, 9, 5, 6, 7)),
)


def _print_table(console: Any, runs: list[SuiteResult]) -> None:
    """Print the results: one line per benchmark where that fits, else stacked cells.

    Names fold rather than being cut; the verdict is never truncated.
    """
    rows = [_row(run_result.name, r) for run_result in runs for r in run_result.results]
    _format.print_table(console, "Benchmarks", _COLUMNS, rows, _STACKED)


def _row(suite: str, result: BenchmarkResult) -> list[str]:
    """The wide row's cells (rich markup): one per header of ``_WIDE_HEADERS``."""
    from rich.markup import escape

    name = escape(f"{suite}.{result.name}")
    if result.failed:
        error = escape(result.error or "")
        return [f"{name}\n[red]{error}[/]", *[""] * 7, "[bold red]FAILED[/]", ""]
    cells = [
        name,
        format_seconds(result.median),
        format_seconds(result.iqr),
        f"{result.ops_per_sec:,.0f}",
        f"{result.rounds}×{result.iterations}",
    ]
    c = result.comparison
    if c is None:
        return [*cells, "", "", "", "[dim]no baseline[/]", ""]
    style = _VERDICT_STYLES[c.verdict]
    return [
        *cells,
        f"{c.ratio:.3f}",
        escape(f"[{c.ci_low:.3f}, {c.ci_high:.3f}]"),
        f"{c.p_adjusted:.2g}",
        f"[{style}]{c.verdict}[/]",
        f"[dim]{c.mode}[/]",
    ]
