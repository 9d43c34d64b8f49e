"""What every subcommand shares: the error type, ``--otlp``, and starting telemetry checked.

Handlers raise :class:`CliError` for expected failures; ``main`` prints it as one line.
"""

from __future__ import annotations

import argparse
import socket
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from codomyrmex.performance.telemetry import TelemetryHandle

__all__ = ["PROG", "CliError", "add_otlp_argument", "otlp_requested", "start_telemetry"]

PROG = "codomyrmex-perf"


class CliError(Exception):
    """An expected failure, reported as one line on stderr with ``exit_code``."""

    def __init__(self, message: str, exit_code: int = 1) -> None:
        super().__init__(message)
        self.exit_code = exit_code


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
