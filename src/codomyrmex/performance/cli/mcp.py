"""``codomyrmex-perf mcp``: serve the performance tools over the Model Context Protocol.

::

    codomyrmex-perf mcp --bench-dir benchmarks/                 # stdio, for an MCP client
    codomyrmex-perf mcp --transport streamable-http --port 8765  # http://127.0.0.1:8765/mcp

The tools are those of :mod:`codomyrmex.performance.mcp.tools`. ``performance_run_benchmark``
runs only files inside ``--bench-dir``; without it every run is refused. Over stdio the
protocol owns stdout: output of benchmark code goes to stderr. Telemetry (a span per tool
call, the benchmark runs) is exported when ``--otlp`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT``
variable is set. Needs the ``mcp`` extra: ``pip install 'codomyrmex-performance[mcp]'``.
"""

from __future__ import annotations

import argparse
import os
import socket
from pathlib import Path
from typing import Any

from codomyrmex.performance.cli._session import (
    CliError,
    add_otlp_argument,
    otlp_requested,
    start_telemetry,
)

__all__ = ["build_server", "register", "serve"]

SERVER_NAME = "codomyrmex-performance"

_INSTRUCTIONS = (
    "Performance data of this process and benchmarks: check a measurement against a "
    "baseline (performance_check_regression), compare two values, read call statistics "
    "and recent calls recorded by @monitor (with trace ids), cache statistics, a process's "
    "resource usage, and run benchmark suites from the benchmark directory with verdicts "
    "against a saved baseline."
)


def register(subparsers: Any) -> None:
    """Add the ``mcp`` subcommand."""
    parser = subparsers.add_parser(
        "mcp",
        help="serve the performance tools over the Model Context Protocol",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--bench-dir",
        metavar="DIR",
        help="directory whose benchmark files performance_run_benchmark may run "
        "(default: none, every run is refused)",
    )
    parser.add_argument(
        "--transport", choices=("stdio", "streamable-http"), default="stdio",
        help="stdio (default) or streamable-http",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    add_otlp_argument(parser, files_by_default=False)
    parser.set_defaults(handler=serve)


def build_server(bench_dir: str | os.PathLike[str] | None = None) -> Any:
    """An ``MCPServer`` named ``codomyrmex-performance`` with every tool registered."""
    from mcp.server.mcpserver import MCPServer

    from codomyrmex.performance.mcp.tools import register_tools
    from codomyrmex.performance.telemetry import package_version

    server: Any = MCPServer(
        SERVER_NAME, version=package_version(), instructions=_INSTRUCTIONS, log_level="WARNING"
    )
    register_tools(server, bench_dir=bench_dir)
    return server


def serve(args: argparse.Namespace) -> int:
    """The ``mcp`` handler: serve until the client disconnects (stdio) or interrupted."""
    if args.bench_dir is not None and not Path(args.bench_dir).is_dir():
        raise CliError(f"--bench-dir: no such directory: {args.bench_dir}", exit_code=2)
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be within 1 and 65535, got {args.port}", exit_code=2)
    try:
        server = build_server(args.bench_dir)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types"):
            raise
        raise CliError(
            f"the MCP server needs mcp>=2 ({exc.name} is missing): "
            "pip install 'codomyrmex-performance[mcp]'"
        ) from exc
    if args.transport == "streamable-http":
        _check_can_listen(args.host, args.port)
    handle = None
    if otlp_requested(args.otlp):
        handle = start_telemetry("codomyrmex-perf-mcp", args.otlp)
    try:
        if args.transport == "stdio":
            server.run("stdio")
        else:
            server.run("streamable-http", host=args.host, port=args.port)
    finally:
        if handle is not None:
            handle.shutdown()
    return 0


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one clear line, before serving, when the HTTP address cannot be bound."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CliError(f"cannot listen on {host}:{port} ({reason})") from exc
