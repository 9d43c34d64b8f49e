"""``codomyrmex-perf demo``: the subcommand's parser.

The workload lives in :mod:`codomyrmex.performance.cli._workload` and is imported only when the
command runs, so other commands never build the demo's monitor and caches.
"""

from __future__ import annotations

import argparse
from typing import Any

from codomyrmex.performance.cli._session import add_otlp_argument

__all__ = ["register"]


def register(subparsers: Any) -> None:
    """Add the ``demo`` subcommand."""
    parser = subparsers.add_parser(
        "demo",
        help="run an instrumented sample workload and print a performance report",
        description="Run an instrumented sample workload (sync, async, generator, nested and "
        "failing calls, a memory peak, caches, lazy imports) with OpenTelemetry on, then "
        "print a report: the slowest functions, peak memory, cache hit rates, import "
        "times, and where the telemetry went. Needs no collector.",
    )
    add_otlp_argument(parser)
    parser.add_argument(
        "--json", action="store_true", help="print the report as JSON instead of tables"
    )
    parser.set_defaults(handler=_run_demo)


def _run_demo(args: argparse.Namespace) -> int:
    from codomyrmex.performance.cli._workload import run_demo

    return run_demo(args)
