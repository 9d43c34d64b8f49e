"""``codomyrmex-perf``: the command line of codomyrmex-performance.

Each subcommand lives in its own module, which exposes ``register(subparsers)``: it adds
its parser and sets ``handler`` (``(argparse.Namespace) -> int``, the exit code) as a
default. This module only wires them together and turns failures into one line::

    codomyrmex-perf: error: <what went wrong>

on stderr with the exit codes of :data:`~codomyrmex.performance.cli._session.EXIT_STATUS`
(2 for bad input: usage errors, missing files, unreachable endpoints, a missing extra; 130
when interrupted; 1 otherwise), never a traceback (``--traceback``, before or after the
subcommand, shows it). Handlers raise :class:`CliError` for expected failures.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from typing import NoReturn

from codomyrmex.performance.cli._session import (
    EXIT_STATUS,
    PROG,
    CliError,
    HelpFormatter,
    plain_text,
)

__all__ = ["build_parser", "main"]

#: Modules that each contribute one subcommand through ``register(subparsers)``.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "codomyrmex.performance.cli.demo",
    "codomyrmex.performance.cli.mcp",
    "codomyrmex.performance.cli.bench",
    "codomyrmex.performance.cli.run",
    "codomyrmex.performance.cli.view",
)

#: Which extra brings a module that a subcommand may miss.
_EXTRA_OF_MODULE: tuple[tuple[str, str], ...] = (
    ("rich", "cli"),
    ("opentelemetry.sdk", "cli"),
    ("opentelemetry.exporter", "cli"),
    ("google.protobuf", "cli"),
    ("opentelemetry.instrumentation", "instrument"),
)


_TRACEBACK_HELP = "show the full traceback of an unexpected error"


class _Parser(argparse.ArgumentParser):
    """An ``ArgumentParser`` whose usage errors become a :class:`CliError` (exit 2)."""

    def error(self, message: str) -> NoReturn:
        raise CliError(f"{message} (see '{self.prog} --help')", exit_code=2)


def build_parser() -> argparse.ArgumentParser:
    """The ``codomyrmex-perf`` parser with every subcommand registered."""
    from codomyrmex.performance.telemetry import package_version

    parser = _Parser(
        prog=PROG,
        description="Performance monitoring, caching, lazy loading and benchmarking, "
        "observable with OpenTelemetry.",
        epilog=EXIT_STATUS,
        formatter_class=HelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument("--traceback", action="store_true", help=_TRACEBACK_HELP)
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
    for command in subparsers.choices.values():
        command.description = plain_text(command.description or "")
        command.formatter_class = HelpFormatter
        command.epilog = EXIT_STATUS
        command.add_argument(
            "--traceback", action="store_true", default=argparse.SUPPRESS, help=_TRACEBACK_HELP
        )
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run ``codomyrmex-perf`` with ``argv`` (default ``sys.argv[1:]``); return the exit code."""
    show_traceback = False
    try:
        args = build_parser().parse_args(argv)
        show_traceback = args.traceback
        return int(args.handler(args))
    except CliError as exc:
        return _fail(str(exc), exc.exit_code)
    except KeyboardInterrupt:
        return _fail("interrupted", 130)
    except ImportError as exc:
        if show_traceback:
            raise
        missing = exc.name or getattr(exc.__cause__, "name", None) or ""
        for prefix, extra in _EXTRA_OF_MODULE:
            if missing.startswith(prefix):
                return _fail(
                    f"{missing} is not installed; install the {extra} extra: "
                    f"pip install 'codomyrmex-performance[{extra}]'",
                    2,
                )
        return _fail(str(exc), 2)  # a missing module: the installation lacks something
    except Exception as exc:
        if show_traceback:
            raise
        return _fail(f"{type(exc).__name__}: {exc} (run with --traceback for details)")


def _fail(message: str, exit_code: int = 1) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return exit_code
