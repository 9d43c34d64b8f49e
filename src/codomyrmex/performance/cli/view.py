"""``codomyrmex-perf view``: recorded telemetry as one self-contained HTML page, or a tree.

::

    codomyrmex-perf view                   # writes ./codomyrmex-perf-view.html
    codomyrmex-perf view DIR -o page.html  # a directory, or one OTLP-JSON file
    codomyrmex-perf view --service checkout --since 30m
    codomyrmex-perf view --tree [TRACE_ID] # the slowest (or that) trace

``TELEMETRY_DIR`` defaults to the embedded default's directory
(``$CODOMYRMEX_PERF_TELEMETRY_DIR`` or ``~/.local/state/codomyrmex-performance/telemetry``);
its ``traces.jsonl*`` and ``metrics.jsonl*`` files (rotated backups too) and any
``*.json`` file of a collector ``file`` exporter are read. Lines that cannot be read are
reported on stderr and skipped; the exit status is 2 only when nothing could be read
(a missing or empty directory, no OTLP-JSON at all, nothing left after ``--service`` or
``--since``) or the page cannot be written.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Any

from codomyrmex.performance._shared.units import count_of
from codomyrmex.performance.cli._session import PROG, CliError

__all__ = ["DEFAULT_OUTPUT", "register"]

DEFAULT_OUTPUT = "codomyrmex-perf-view.html"


def register(subparsers: Any) -> None:
    """Add the ``view`` subcommand."""
    parser = subparsers.add_parser(
        "view",
        help="write an HTML page (no server needed) of recorded traces and metrics",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "directory", metavar="TELEMETRY_DIR", nargs="?",
        help="OTLP-JSON directory or file (default: the embedded default's directory)",
    )  # fmt: skip
    parser.add_argument(
        "-o", "--output", metavar="FILE", default=DEFAULT_OUTPUT,
        help=f"the page to write (default ./{DEFAULT_OUTPUT})",
    )  # fmt: skip
    parser.add_argument("--service", metavar="NAME", help="only this service.name")
    parser.add_argument(
        "--since", metavar="DURATION", help="only the last DURATION (90s, 15m, 2h, 1d)"
    )
    parser.add_argument(
        "--tree", metavar="TRACE_ID", nargs="?", const="", default=None,
        help="print the slowest trace (or the one whose id starts with TRACE_ID) as a "
        "waterfall tree instead of writing the page",
    )  # fmt: skip
    parser.set_defaults(handler=run)


def run(args: argparse.Namespace) -> int:
    """The ``view`` handler: returns the exit status."""
    from codomyrmex.performance import view
    from codomyrmex.performance.telemetry import telemetry_dir

    since_ns = None
    if args.since is not None:
        try:
            since_ns = time.time_ns() - int(view.parse_since(args.since) * 1e9)
        except ValueError as exc:
            raise CliError(f"--since: {exc}", exit_code=2) from None
    output = Path(args.output)
    if args.tree is None:
        _check_writable(output)
    source = Path(args.directory) if args.directory else telemetry_dir()
    try:
        telemetry = view.read_telemetry(source, service=args.service, since_ns=since_ns)
    except FileNotFoundError:
        hint = "" if args.directory else f" (run '{PROG} demo' first, or give a directory)"
        raise CliError(f"no such file or directory: {source}{hint}", exit_code=2) from None
    for problem in telemetry.problems:
        print(f"{PROG}: warning: {problem}", file=sys.stderr)
    if telemetry.empty:
        raise CliError(_nothing_read(telemetry, args), exit_code=2)
    if args.tree is not None:
        return _print_tree(telemetry, args.tree or None)
    try:
        view.write_page(telemetry, output)
    except OSError as exc:
        raise CliError(f"cannot write {output}: {exc.strerror or exc}", exit_code=2) from None
    traces = len({span.trace_id for span in telemetry.spans})
    print(
        f"wrote {output} ({count_of(traces, 'trace')}, {count_of(len(telemetry.spans), 'span')}, "
        f"{count_of(len(telemetry.histograms), 'histogram')} from "
        f"{count_of(len(telemetry.files), 'file')}): "
        f"open {output.resolve().as_uri()}"
    )
    return 0


def _check_writable(output: Path) -> None:
    if output.is_dir():
        raise CliError(f"-o: {output} is a directory", exit_code=2)
    if not output.parent.is_dir():
        raise CliError(f"-o: no such directory: {output.parent}", exit_code=2)


def _nothing_read(telemetry: Any, args: argparse.Namespace) -> str:
    source = telemetry.source
    if not telemetry.files:
        return f"no telemetry files in {source} (traces.jsonl, metrics.jsonl or *.json)"
    if args.service or args.since:
        return f"no spans or metrics in {source} match " + " and ".join(
            part
            for part in (
                f"--service {args.service}" if args.service else "",
                f"--since {args.since}" if args.since else "",
            )
            if part
        )
    return f"no OTLP-JSON spans or metrics could be read from {source}"


def _print_tree(telemetry: Any, trace_id: str | None) -> int:
    from rich.console import Console

    from codomyrmex.performance import view

    try:
        layout = view.find_trace(telemetry, trace_id)
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from None
    if layout is None:
        what = f"no trace {trace_id!r}" if trace_id else "no spans"
        raise CliError(f"{what} in {telemetry.source}", exit_code=2)
    view.print_tree(layout, Console(highlight=False))
    return 0
