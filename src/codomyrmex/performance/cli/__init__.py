"""``codomyrmex-perf``: the command line of codomyrmex-performance.

Each subcommand lives in its own module, which exposes ``register(subparsers)``: it adds
its parser and sets ``handler`` (``(argparse.Namespace) -> int``, the exit code) as a
default. This module only wires them together and turns failures into one line::

    codomyrmex-perf: error: <what went wrong>

on stderr with a non-zero exit (2 for bad input: usage errors, missing files, unreachable
endpoints; 1 otherwise), never a traceback (``--traceback`` shows it). Handlers raise
:class:`CliError` for expected failures.
"""

from __future__ import annotations

import argparse
import importlib
import socket
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, NoReturn

if TYPE_CHECKING:
    from codomyrmex.performance.telemetry import TelemetryHandle

__all__ = [
    "PROG",
    "CliError",
    "add_otlp_argument",
    "build_parser",
    "main",
    "otlp_requested",
    "start_telemetry",
]

PROG = "codomyrmex-perf"

#: Modules that each contribute one subcommand through ``register(subparsers)``.
SUBCOMMAND_MODULES: tuple[str, ...] = (
    "codomyrmex.performance.cli.demo",
    "codomyrmex.performance.cli.mcp",
    "codomyrmex.performance.cli.bench",
    "codomyrmex.performance.cli.run",
)

#: Which extra brings a module that a subcommand may miss.
_EXTRA_OF_MODULE: tuple[tuple[str, str], ...] = (
    ("rich", "cli"),
    ("opentelemetry.sdk", "cli"),
    ("opentelemetry.exporter", "cli"),
    ("google.protobuf", "cli"),
    ("opentelemetry.instrumentation", "instrument"),
)


class CliError(Exception):
    """An expected failure, reported as one line on stderr with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {package_version()}")
    parser.add_argument(
        "--traceback", action="store_true", help="show the full traceback of an unexpected error"
    )
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for module_name in SUBCOMMAND_MODULES:
        importlib.import_module(module_name).register(subparsers)
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
        missing = getattr(exc, "name", None) or ""
        for prefix, extra in _EXTRA_OF_MODULE:
            if missing.startswith(prefix):
                return _fail(
                    f"{missing} is not installed; install the {extra} extra: "
                    f"pip install 'codomyrmex-performance[{extra}]'"
                )
        return _fail(str(exc))
    except Exception as exc:
        if show_traceback:
            raise
        return _fail(f"{type(exc).__name__}: {exc} (run with --traceback for details)")


def add_otlp_argument(parser: argparse.ArgumentParser, *, files_by_default: bool = True) -> None:
    """Add ``--otlp URL``, the OTLP endpoint option every telemetry-producing command shares.

    ``files_by_default``: without an endpoint, the command writes OTLP-JSON files (demo,
    run) rather than exporting nothing (bench, mcp: see :func:`otlp_requested`).
    """
    fallback = (
        "OTLP-JSON files in the telemetry directory ($CODOMYRMEX_PERF_TELEMETRY_DIR or "
        "~/.local/state/codomyrmex-performance/telemetry)"
        if files_by_default
        else "no export"
    )
    parser.add_argument(
        "--otlp",
        metavar="URL",
        help="send traces and metrics to this OTLP endpoint (base URL such as "
        "http://localhost:4318; grpc with OTEL_EXPORTER_OTLP_PROTOCOL=grpc). Default: "
        f"the OTEL_EXPORTER_OTLP_*ENDPOINT variables, else {fallback}",
    )


def otlp_requested(endpoint: str | None) -> bool:
    """Whether ``--otlp`` or any ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable asks for export."""
    from codomyrmex.performance.telemetry._exporters import SIGNALS, env_endpoint

    return endpoint is not None or any(env_endpoint(signal) for signal in SIGNALS)


def start_telemetry(service_name: str, endpoint: str | None) -> TelemetryHandle:
    """``configure_telemetry`` for a command, after checking that the endpoints answer.

    The endpoint is ``endpoint`` (``--otlp``), else each one in the ``OTEL_EXPORTER_OTLP_*``
    variables (per signal or shared). A malformed or unreachable URL is bad input: a
    :class:`CliError` with exit code 2, before any work is done.
    """
    from codomyrmex.performance.telemetry import configure_telemetry
    from codomyrmex.performance.telemetry._exporters import SIGNALS, env_endpoint

    if endpoint is not None:
        _check_reachable(endpoint, from_option=True)
    else:
        urls = {env_endpoint(signal) for signal in SIGNALS}
        for url in sorted(url for url in urls if url):
            _check_reachable(url, from_option=False)
    try:
        return configure_telemetry(service_name, endpoint=endpoint)
    except (TypeError, ValueError) as exc:
        raise CliError(str(exc), exit_code=2) from exc


def _check_reachable(url: str, *, from_option: bool, timeout: float = 3.0) -> None:
    from codomyrmex.performance.telemetry._exporters import check_endpoint

    source = "--otlp" if from_option else "the OTEL_EXPORTER_OTLP_* endpoint"
    try:
        parts = check_endpoint(url, source)
    except ValueError as exc:
        raise CliError(str(exc), exit_code=2) from exc
    address = (parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80))
    try:
        with socket.create_connection(address, timeout=timeout):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CliError(f"cannot reach the OTLP endpoint {url} ({reason})", exit_code=2) from exc


def _fail(message: str, exit_code: int = 1) -> int:
    print(f"{PROG}: error: {' '.join(message.split())}", file=sys.stderr)
    return exit_code


if __name__ == "__main__":
    # ``python -m`` runs this file as ``__main__``; subcommands import the package module,
    # so run that one's ``main`` to share one ``CliError`` class.
    from codomyrmex.performance.cli import main as package_main

    sys.exit(package_main())
