"""``codomyrmex-perf mcp --transport streamable-http``: the same tools over HTTP."""

from __future__ import annotations

import socket
import subprocess
import time
from collections.abc import Iterator

import anyio
import pytest

from harness.mcp import console_script
from mcp import Client


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="module")
def url() -> Iterator[str]:
    port = free_port()
    server = subprocess.Popen(
        [console_script(), "mcp", "--transport", "streamable-http", "--port", str(port)],
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                break
            except OSError:
                assert server.poll() is None, server.communicate()[1]
                time.sleep(0.05)
        yield f"http://127.0.0.1:{port}/mcp"
    finally:
        server.terminate()
        server.communicate(timeout=20)


async def test_tools_over_streamable_http(url: str) -> None:
    with anyio.fail_after(30):
        async with Client(url) as client:
            tools = (await client.list_tools()).tools
            assert len(tools) == 8
            result = await client.call_tool(
                "performance_check_regression",
                {"benchmark_name": "b", "measured_value": 0.5, "baseline_mean": 0.0},
            )
            refused = await client.call_tool("performance_run_benchmark", {"path": "x.py"})
            snapshot = await client.call_tool("performance_resource_snapshot", {})
    assert result.structured_content["deviation_kind"] == "absolute"
    assert refused.is_error and "running benchmarks is disabled" in refused.content[0].text
    assert snapshot.structured_content["rss_mb"] > 0


def test_a_busy_port_is_one_clear_line() -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        completed = subprocess.run(
            [console_script(), "mcp", "--transport", "streamable-http", "--port", str(port)],
            capture_output=True,
            text=True,
            timeout=60,
        )
    assert completed.returncode == 1
    assert completed.stderr.startswith(f"codomyrmex-perf: error: cannot listen on 127.0.0.1:{port}")
    assert len(completed.stderr.splitlines()) == 1


def test_a_missing_bench_dir_is_a_usage_error() -> None:
    completed = subprocess.run(
        [console_script(), "mcp", "--bench-dir", "no/such/dir"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert completed.returncode == 2
    assert (
        completed.stderr == "codomyrmex-perf: error: --bench-dir: no such directory: no/such/dir\n"
    )
