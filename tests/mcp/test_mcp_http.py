"""``codomyrmex-perf mcp --transport streamable-http``: the tools over HTTP, behind a token.

Each server runs on a free loopback port; the real ``mcp`` client talks to it with the
bearer token the server printed (or was given), and raw requests check what a client
without it, or a DNS-rebinding page, gets.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import anyio
import httpx2
import pytest
from mcp.client.streamable_http import streamable_http_client

from harness.mcp import console_script
from mcp import Client

TOKEN_VARIABLE = "CODOMYRMEX_PERF_MCP_TOKEN"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class HttpServer:
    url: str
    port: int
    banner: list[str]  # what the server printed before serving

    @property
    def printed_token(self) -> str:
        (line,) = [line for line in self.banner if "Authorization: Bearer " in line]
        return line.split("Authorization: Bearer ", 1)[1]


@contextmanager
def http_server(*options: str, env: dict[str, str] | None = None) -> Iterator[HttpServer]:
    port = free_port()
    command = [console_script(), "mcp", "--transport", "streamable-http", "--port", str(port)]
    environment = {k: v for k, v in os.environ.items() if k != TOKEN_VARIABLE}
    server = subprocess.Popen(
        [*command, *options], stderr=subprocess.PIPE, text=True, env={**environment, **(env or {})}
    )
    assert server.stderr is not None
    banner: list[str] = []
    try:
        while not any("serving http://" in line for line in banner):
            line = server.stderr.readline()
            assert line, f"the server exited with {server.wait(10)}: {banner}"
            banner.append(line.rstrip("\n"))
        banner += [server.stderr.readline().rstrip("\n")]  # the token line
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, banner
                time.sleep(0.05)
        yield HttpServer(f"http://127.0.0.1:{port}/mcp", port, banner)
    finally:
        server.terminate()
        server.communicate(timeout=20)


async def call_tools(url: str, token: str) -> dict[str, object]:
    headers = {"Authorization": f"Bearer {token}"}
    with anyio.fail_after(30):
        async with (
            httpx2.AsyncClient(headers=headers, timeout=30) as http,
            Client(streamable_http_client(url, http_client=http)) as client,
        ):
            tools = (await client.list_tools()).tools
            check = await client.call_tool(
                "performance_check_regression",
                {"benchmark_name": "b", "measured_value": 0.5, "baseline_mean": 0.0},
            )
            refused = await client.call_tool("performance_run_benchmark", {"path": "x.py"})
            snapshot = await client.call_tool("performance_resource_snapshot", {})
    return {"tools": len(tools), "check": check, "refused": refused, "snapshot": snapshot}


def post(url: str, headers: dict[str, str]) -> tuple[int, str]:
    body = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "raw", "version": "1"},
            },
        }
    ).encode()
    request = urllib.request.Request(
        url,
        data=body,
        method="POST",
        headers={
            "Content-Type": "application/json",
            "Accept": "application/json, text/event-stream",
            **headers,
        },
    )
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode()


@pytest.fixture(scope="module")
def served() -> Iterator[HttpServer]:
    with http_server() as server:
        yield server


def test_the_url_and_a_new_token_are_printed(served: HttpServer) -> None:
    assert served.banner[0] == f"codomyrmex-perf mcp: serving {served.url}"  # no warning
    assert len(served.printed_token) >= 32
    assert not any("warning" in line for line in served.banner)  # loopback: no warning


async def test_tools_over_streamable_http_with_the_token(served: HttpServer) -> None:
    got = await call_tools(served.url, served.printed_token)
    assert got["tools"] == 8
    check, refused, snapshot = got["check"], got["refused"], got["snapshot"]
    assert check.structured_content["status"] == "success"  # type: ignore[attr-defined]
    assert check.structured_content["deviation_kind"] == "absolute"  # type: ignore[attr-defined]
    assert refused.is_error  # type: ignore[attr-defined]
    assert "running benchmarks is disabled" in refused.content[0].text  # type: ignore[attr-defined]
    assert snapshot.structured_content["rss_mb"] > 0  # type: ignore[attr-defined]


@pytest.mark.parametrize(
    "authorization",
    [None, "", "Bearer", "Bearer wrong-token-of-some-length", "Basic dXNlcjpwYXNz", "TOKEN"],
)
def test_without_the_bearer_token_every_request_is_401(
    served: HttpServer, authorization: str | None
) -> None:
    headers = {} if authorization is None else {"Authorization": authorization}
    if authorization == "TOKEN":  # the token without its scheme
        headers = {"Authorization": served.printed_token}
    status, body = post(served.url, headers)
    assert status == 401
    assert "bearer token" in body


@pytest.mark.parametrize(
    ("header", "value", "status"),
    [
        ("Host", "attacker.example", 421),
        ("Host", "attacker.example:PORT", 421),
        ("Origin", "http://attacker.example", 403),
        ("Host", "localhost:PORT", 200),
        ("Origin", "http://127.0.0.1:PORT", 200),
    ],
)
def test_host_and_origin_are_checked_dns_rebinding(
    served: HttpServer, header: str, value: str, status: int
) -> None:
    headers = {
        "Authorization": f"Bearer {served.printed_token}",
        header: value.replace("PORT", str(served.port)),
    }
    assert post(served.url, headers)[0] == status


async def test_the_token_from_the_variable_or_a_file(tmp_path: Path) -> None:
    token = "given-token-0123456789"
    with http_server(env={TOKEN_VARIABLE: token}) as server:
        assert server.banner[1] == f"  bearer token from ${TOKEN_VARIABLE}"
        assert token not in "\n".join(server.banner)  # a given secret is not echoed
        assert (await call_tools(server.url, token))["tools"] == 8
        assert post(server.url, {"Authorization": "Bearer other-token-0123456789"})[0] == 401
    token_file = tmp_path / "token"
    token_file.write_text("file-token-0123456789\n")
    with http_server("--token-file", str(token_file), env={TOKEN_VARIABLE: token}) as server:
        assert server.banner[1] == f"  bearer token from --token-file {token_file}"
        assert (await call_tools(server.url, "file-token-0123456789"))["tools"] == 8


def test_binding_beyond_loopback_warns_and_keeps_the_checks() -> None:
    with http_server("--host", "0.0.0.0", "--allow-host", "perf.example") as server:
        (warning,) = [line for line in server.banner if "warning" in line]
        assert warning.startswith("codomyrmex-perf: warning: listening on 0.0.0.0, beyond")
        assert "has the token" in warning
        token = server.printed_token
        url = server.url
        assert post(url, {"Authorization": f"Bearer {token}"})[0] == 200
        assert post(url, {"Authorization": f"Bearer {token}", "Host": "perf.example"})[0] == 200
        rebinding = {"Authorization": f"Bearer {token}", "Host": "attacker.example"}
        assert post(url, rebinding)[0] == 421
        assert post(url, {})[0] == 401


def run_mcp(*options: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [console_script(), "mcp", *options],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
    )


def test_a_busy_port_is_one_clear_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        completed = run_mcp("--transport", "streamable-http", "--port", str(port))
    assert completed.returncode == 2
    assert completed.stderr.startswith(f"codomyrmex-perf: error: cannot listen on 127.0.0.1:{port}")
    assert len(completed.stderr.splitlines()) == 1


@pytest.mark.parametrize(
    ("options", "env", "message"),
    [
        (["--bench-dir", "no/such/dir"], {}, "--bench-dir: no such directory: no/such/dir"),
        (["--transport", "streamable-http", "--host", "bogus.invalid"], {}, "cannot listen on"),
        (["--transport", "streamable-http", "--port", "0"], {}, "--port must be within"),
        (
            ["--transport", "streamable-http"],
            {TOKEN_VARIABLE: "short"},
            f"the token from ${TOKEN_VARIABLE} must be at least 16 printable ASCII characters",
        ),
        (
            ["--transport", "streamable-http", "--token-file", "no/such/token"],
            {},
            "--token-file: cannot read no/such/token: No such file or directory",
        ),
    ],
)
def test_bad_input_is_one_line_and_exit_2(
    options: list[str], env: dict[str, str], message: str
) -> None:
    completed = run_mcp(*options, env=env)
    assert completed.returncode == 2, completed.stderr
    (line,) = completed.stderr.splitlines()
    assert line.startswith("codomyrmex-perf: error: ") and message in line
