"""``codomyrmex-perf mcp``: serve the performance tools over the Model Context Protocol.

::

    codomyrmex-perf mcp --bench-dir benchmarks/   # stdio, for an MCP client
    codomyrmex-perf mcp --transport streamable-http --port 8765
        # serves http://127.0.0.1:8765/mcp

The tools are those of :mod:`codomyrmex.performance.mcp.tools`. ``performance_run_benchmark``
runs only files inside ``--bench-dir``; without it every run is refused.
``performance_resource_snapshot`` reads this server and its child processes only, unless
started with ``--any-process``. Over stdio the protocol owns stdout: output of benchmark
code goes to stderr. Telemetry (a span per tool call, the benchmark runs) is exported when
``--otlp`` or an ``OTEL_EXPORTER_OTLP_*ENDPOINT`` variable is set. Needs the ``mcp`` extra:
``pip install 'codomyrmex-performance[mcp]'``.

Over HTTP every request needs ``Authorization: Bearer <token>``: the token is the first
line of ``--token-file``, else ``$CODOMYRMEX_PERF_MCP_TOKEN``, else a new random one,
printed at start with the URL served. The Host and Origin headers are checked on
every bind (DNS-rebinding protection): the names and addresses of the bound host, plus
those given with ``--allow-host``. Binding beyond loopback (``--host 0.0.0.0``) prints a
warning: anyone who can reach the port and has the token can call the tools.
"""

from __future__ import annotations

import argparse
import hmac
import ipaddress
import os
import secrets
import socket
import sys
from collections.abc import Awaitable, Callable, MutableMapping
from pathlib import Path
from typing import Any

from codomyrmex.performance.cli._session import (
    PROG,
    CliError,
    add_otlp_argument,
    otlp_requested,
    start_telemetry,
    stop_telemetry,
)
from codomyrmex.performance.environment_variables import CODOMYRMEX_PERF_MCP_TOKEN

__all__ = ["build_server", "register", "serve"]

SERVER_NAME = "codomyrmex-performance"

#: Path of the MCP endpoint over HTTP.
HTTP_PATH = "/mcp"

#: Shortest bearer token accepted from the variable or the token file.
MIN_TOKEN_LENGTH = 16

_LOOPBACK_NAMES = ("localhost", "127.0.0.1", "[::1]")

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
    )
    parser.add_argument(
        "--bench-dir",
        metavar="DIR",
        help="directory whose benchmark files performance_run_benchmark may run "
        "(default: none, every run is refused)",
    )
    parser.add_argument(
        "--any-process",
        action="store_true",
        help="let performance_resource_snapshot read any process this user may read "
        "(default: this server and its child processes)",
    )
    parser.add_argument(
        "--transport", choices=("stdio", "streamable-http"), default="stdio",
        help="stdio (default) or streamable-http",
    )  # fmt: skip
    parser.add_argument("--host", default="127.0.0.1", help="HTTP host (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="HTTP port (default 8000)")
    parser.add_argument(
        "--token-file",
        metavar="FILE",
        help="HTTP bearer token: the first line of FILE (default "
        f"${CODOMYRMEX_PERF_MCP_TOKEN}, else a new token printed at start)",
    )
    parser.add_argument(
        "--allow-host",
        metavar="NAME",
        action="append",
        default=[],
        help="another Host header name clients may use, such as a DNS name of this "
        "machine (repeatable)",
    )
    add_otlp_argument(parser, files_by_default=False)
    parser.set_defaults(handler=serve)


def build_server(
    bench_dir: str | os.PathLike[str] | None = None, *, any_process: bool = False
) -> Any:
    """An ``MCPServer`` named ``codomyrmex-performance`` with every tool registered."""
    from mcp.server.mcpserver import MCPServer

    from codomyrmex.performance.mcp.tools import register_tools
    from codomyrmex.performance.telemetry import package_version

    server: Any = MCPServer(
        SERVER_NAME, version=package_version(), instructions=_INSTRUCTIONS, log_level="WARNING"
    )
    register_tools(server, bench_dir=bench_dir, any_process=any_process)
    return server


def serve(args: argparse.Namespace) -> int:
    """The ``mcp`` handler: serve until the client disconnects (stdio) or interrupted."""
    if args.bench_dir is not None and not Path(args.bench_dir).is_dir():
        problem = "not a directory" if Path(args.bench_dir).exists() else "no such directory"
        raise CliError(f"--bench-dir: {problem}: {args.bench_dir}", exit_code=2)
    if not 0 < args.port < 65536:
        raise CliError(f"--port must be within 1 and 65535, got {args.port}", exit_code=2)
    try:
        args.host.encode("idna")
    except UnicodeError:
        raise CliError(f"--host: not a host name or address: {args.host!r}", exit_code=2) from None
    http = args.transport == "streamable-http"
    token = _token(args.token_file) if http else None
    try:
        server = build_server(args.bench_dir, any_process=args.any_process)
    except ImportError as exc:
        if (exc.name or "").split(".")[0] not in ("mcp", "mcp_types"):
            raise
        raise CliError(
            f"the MCP server needs mcp>=2 ({exc.name} is missing): "
            "pip install 'codomyrmex-performance[mcp]'",
            exit_code=2,
        ) from exc
    if http:
        _check_can_listen(args.host, args.port)
    handle = None
    if otlp_requested(args.otlp):
        handle = start_telemetry("codomyrmex-perf-mcp", args.otlp)
    try:
        if token is None:
            server.run("stdio")
        else:
            _serve_http(server, args.host, args.port, token, args.allow_host)
    finally:
        if handle is not None:
            print(stop_telemetry(handle).line(handle), file=sys.stderr)
    return 0


def _token(token_file: str | None) -> tuple[str, str | None]:
    """The bearer token and where it came from (None: generated now, to be printed)."""
    if token_file is not None:
        try:
            lines = Path(token_file).read_text(encoding="utf-8").splitlines()
        except (OSError, UnicodeDecodeError) as exc:
            reason = getattr(exc, "strerror", None) or str(exc)
            raise CliError(f"--token-file: cannot read {token_file}: {reason}", 2) from None
        token, source = (lines[0].strip() if lines else ""), f"--token-file {token_file}"
    elif os.environ.get(CODOMYRMEX_PERF_MCP_TOKEN):
        token, source = os.environ[CODOMYRMEX_PERF_MCP_TOKEN], f"${CODOMYRMEX_PERF_MCP_TOKEN}"
    else:
        return secrets.token_urlsafe(32), None
    if len(token) < MIN_TOKEN_LENGTH or not all("!" <= char <= "~" for char in token):
        raise CliError(
            f"the token from {source} must be at least {MIN_TOKEN_LENGTH} printable ASCII "
            "characters without spaces",
            exit_code=2,
        )
    return token, source


def _serve_http(
    server: Any, host: str, port: int, token: tuple[str, str | None], allowed: list[str]
) -> None:
    import uvicorn
    from mcp.server.transport_security import TransportSecuritySettings

    names = _host_names(host, allowed)
    hosts = [name for base in names for name in (base, f"{base}:{port}")]
    security = TransportSecuritySettings(
        enable_dns_rebinding_protection=True,
        allowed_hosts=hosts,
        allowed_origins=[f"{scheme}://{name}" for name in hosts for scheme in ("http", "https")],
    )
    app = server.streamable_http_app(transport_security=security, host=host)
    secret, source = token

    def started() -> None:  # uvicorn handles Ctrl-C from now on: interrupted, one line
        if not _is_loopback(host):
            print(
                f"{PROG}: warning: listening on {host}, beyond this machine: anyone who can "
                f"reach port {port} and has the token can call the tools (read this "
                "process's performance data, run the benchmarks of --bench-dir). Use "
                "--host 127.0.0.1 unless you mean it.",
                file=sys.stderr,
            )
        shown = names[0] if _is_wildcard(host) else _url_host(host)
        print(f"{PROG} mcp: serving http://{shown}:{port}{HTTP_PATH}", file=sys.stderr)
        if source is None:
            print(f"  Authorization: Bearer {secret}", file=sys.stderr)
        else:
            print(f"  bearer token from {source}", file=sys.stderr)

    front = _BearerToken(app, secret, started)
    config = uvicorn.Config(front, host=host, port=port, log_level="warning")
    uvicorn.Server(config).run()


_Scope = MutableMapping[str, Any]
_Receive = Callable[[], Awaitable[MutableMapping[str, Any]]]
_Send = Callable[[MutableMapping[str, Any]], Awaitable[None]]


class _BearerToken:
    """ASGI middleware: HTTP requests without ``Authorization: Bearer <token>`` get 401.

    ``started`` is called once the application has started (the server is about to listen).
    """

    def __init__(
        self,
        app: Callable[[_Scope, _Receive, _Send], Awaitable[None]],
        token: str,
        started: Callable[[], None],
    ) -> None:
        self._app = app
        self._expected = f"Bearer {token}".encode()
        self._started = started

    async def __call__(self, scope: _Scope, receive: _Receive, send: _Send) -> None:
        if scope["type"] == "lifespan":

            async def send_started(message: MutableMapping[str, Any]) -> None:
                if message["type"] == "lifespan.startup.complete":
                    self._started()
                await send(message)

            await self._app(scope, receive, send_started)
            return
        if scope["type"] == "http":
            given = next(
                (value for name, value in scope["headers"] if name == b"authorization"), b""
            )
            if not hmac.compare_digest(given, self._expected):
                body = b"missing or wrong bearer token\n"
                await send(
                    {
                        "type": "http.response.start",
                        "status": 401,
                        "headers": [
                            (b"www-authenticate", b'Bearer realm="codomyrmex-perf mcp"'),
                            (b"content-type", b"text/plain; charset=utf-8"),
                            (b"content-length", str(len(body)).encode()),
                        ],
                    }
                )
                await send({"type": "http.response.body", "body": body})
                return
        await self._app(scope, receive, send)


def _is_wildcard(host: str) -> bool:
    return host in ("", "0.0.0.0", "::")


def _is_loopback(host: str) -> bool:
    """Whether every address ``host`` stands for is a loopback address."""
    if _is_wildcard(host):
        return False
    try:
        infos = socket.getaddrinfo(host, None)
    except OSError:
        return False
    return all(ipaddress.ip_address(str(info[4][0]).split("%")[0]).is_loopback for info in infos)


def _url_host(name: str) -> str:
    """``name`` as written in a URL and a Host header (IPv6 literals in brackets)."""
    try:
        return f"[{name}]" if ipaddress.ip_address(name).version == 6 else name
    except ValueError:
        return name


def _host_names(host: str, allowed: list[str]) -> list[str]:
    """The Host header names clients may use: the bound host's, loopback's and ``allowed``."""
    names = [_url_host(host)] if not _is_wildcard(host) else []
    if _is_wildcard(host):
        import psutil

        names += [socket.gethostname(), socket.getfqdn()]
        for addresses in psutil.net_if_addrs().values():
            names += [
                _url_host(address.address.split("%")[0])
                for address in addresses
                if address.family in (socket.AF_INET, socket.AF_INET6)
            ]
    names += [*_LOOPBACK_NAMES, *(_url_host(name) for name in allowed)]
    return list(dict.fromkeys(name for name in names if name))


def _check_can_listen(host: str, port: int) -> None:
    """Fail with one clear line, before serving, when the HTTP address cannot be bound."""
    try:
        with socket.create_server((host, port)):
            pass
    except OSError as exc:
        reason = exc.strerror or str(exc) or type(exc).__name__
        raise CliError(f"cannot listen on {host}:{port} ({reason})", exit_code=2) from exc
