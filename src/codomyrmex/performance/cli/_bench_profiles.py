"""``bench --profile DIR``: the profile tables printed after the benchmark table.

For each profiled benchmark, in the order of the benchmark table: its 10 functions with the
most own time per call (own, cumulative, calls per benchmark call) and the files written;
on a ``regression`` with profiles of both sides, the functions whose own time per call grew
most, before and after, with the growth of their cumulative time.
"""

from __future__ import annotations

import argparse
from typing import Any

from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.cli import _format
from codomyrmex.performance.cli._session import CliError
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult

__all__ = ["add_argument", "check", "print_profiles"]

_TOP = (
    _format.Column("function", "left"),
    _format.Column("own"),
    _format.Column("cumulative"),
    _format.Column("calls"),
)
_GREW = (
    _format.Column("function", "left"),
    _format.Column("own before"),
    _format.Column("own after"),
    _format.Column("Δ own"),
    _format.Column("Δ cumulative"),
)
#: Narrow terminals: before over after, the two growths stacked.
_GREW_STACKED = (((0,), (1, 2), (3, 4)),)


def add_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--profile", metavar="DIR",
        help="profile each benchmark after its rounds: DIR/<suite>.<benchmark>.pstats and "
        ".speedscope.json; on a regression, the functions that grew",
    )  # fmt: skip


def check(args: argparse.Namespace) -> str | None:
    """The profile directory, created; a ``CliError`` (exit 2) when it cannot be used."""
    if not args.profile:
        return None
    from codomyrmex.performance.profiling import profiles

    try:
        profiles.check_available()
        return profiles.check_directory(args.profile)
    except ImportError as exc:
        raise CliError(f"--profile: {exc}", exit_code=2) from None
    except OSError as exc:
        reason = exc.strerror or str(exc)
        raise CliError(f"--profile: cannot write to {args.profile}: {reason}", 2) from None


def print_profiles(console: Any, runs: list[SuiteResult]) -> None:
    for run in runs:
        for result in run.results:
            if result.profile is not None:
                _print_one(console, f"{run.name}.{result.name}", result)


def _print_one(console: Any, name: str, result: BenchmarkResult) -> None:
    from rich.markup import escape

    profile = result.profile
    assert profile is not None
    rows = [
        [
            _function(f.name, f.file, f.where),
            format_seconds(f.own),
            format_seconds(f.cumulative),
            f"{f.calls:,.0f}" if f.calls >= 100 else f"{f.calls:.3g}",
        ]
        for f in profile.top
    ]
    title = f"Profile of {name}: per call, {profile.calls:,} calls profiled"
    _format.print_table(console, escape(title), _TOP, rows)
    files = [path for path in (profile.pstats, profile.flamegraph) if path]
    if files:
        console.print(f"[dim]written: {escape(', '.join(files))}[/]", highlight=False)
    comparison = result.comparison
    changes = None if comparison is None else comparison.profile_diff
    if changes is None:
        return
    grew = [
        [
            _function(d.name, d.file, d.where),
            format_seconds(d.own_before),
            format_seconds(d.own_after),
            f"[bold red]+{format_seconds(d.own_delta)}[/]",
            f"{'+' if d.cumulative_delta >= 0 else ''}{format_seconds(d.cumulative_delta)}",
        ]
        for d in changes.by_own
    ]
    _format.print_table(
        console, escape(f"What grew in {name}: per call, baseline → this run"), _GREW, grew,
        _GREW_STACKED,
    )  # fmt: skip


def _function(name: str, file: str, where: str) -> str:
    """The function's name over its ``file:line`` (built-ins have no file)."""
    from rich.markup import escape

    return escape(name) if file == "~" else f"{escape(name)}\n[dim]{escape(where)}[/]"
