"""``bench --html FILE``, ``--history DIR`` and ``--markdown FILE``: the run's picture and log.

Checked before anything runs (a missing directory is bad input, exit 2); written after
the run, whatever its verdicts: the history line first, so the HTML report's trend charts
include this run.
"""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import Any

from codomyrmex.performance.cli._session import CliError
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling import history, html_report, markdown
from codomyrmex.performance.profiling.result import SuiteResult

__all__ = ["add_arguments", "check", "write"]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """Add ``--html``, ``--history`` and ``--markdown``."""
    parser.add_argument(
        "--html", metavar="FILE",
        help="write a self-contained HTML report (round-time histograms, ratios with 95%% "
        "CIs, trends across --history)",
    )  # fmt: skip
    parser.add_argument(
        "--history", metavar="DIR",
        help="append this run to DIR/history.jsonl (commit, time, machine, figures, verdicts)",
    )  # fmt: skip
    parser.add_argument(
        "--markdown", metavar="FILE",
        help="write the comparison table as GitHub Markdown (also appended to "
        "$GITHUB_STEP_SUMMARY when set)",
    )  # fmt: skip


def check(args: argparse.Namespace) -> None:
    """``CliError`` (exit 2) when an output cannot be written there."""
    for option, path in (("--html", args.html), ("--markdown", args.markdown)):
        if path:
            try:
                baselines.check_writable(path)
            except OSError as exc:
                raise CliError(f"{option}: cannot write {path}: {exc.strerror}", 2) from None
            except ValueError as exc:  # a Python file
                raise CliError(f"{option}: {exc}", 2) from None
    if args.history:
        try:
            history.check_directory(args.history)
        except OSError as exc:
            raise CliError(f"--history: cannot use {args.history}: {exc.strerror}", 2) from None


def write(
    args: argparse.Namespace,
    runs: list[SuiteResult],
    errors: Any,
    guard: Callable[[str, str, Callable[[], object]], None],
) -> None:
    """Write the outputs asked for through ``guard(option, path, action)`` (bench's error
    translation); unreadable past history lines are warnings."""
    past: list[history.HistoryRecord] = []
    if args.history:
        guard("--history", args.history, lambda: history.append(runs, args.history))
        past, problems = history.load(args.history)
        for problem in problems:
            errors.print(f"warning: {problem}", highlight=False, markup=False)
    if args.html:
        guard("--html", args.html, lambda: html_report.write_report(runs, args.html, past))
        errors.print(f"report written to {args.html}", highlight=False, markup=False)
    if args.markdown:
        guard("--markdown", args.markdown, lambda: markdown.write_markdown(runs, args.markdown))
