"""Helpers of the MCP tests: a benchmark directory with escape attempts, a stdio client.

``make_bench_tree(tmp)`` lays out::

    tmp/bench/bench_demo.py          monitored + cached work, prints to stdout
    tmp/bench/failing/bench_boom.py  a benchmark that raises
    tmp/bench/exits/bench_exit.py    calls sys.exit(3) when loaded
    tmp/bench/links/bench_link.py -> tmp/outside/bench_evil.py
    tmp/bench/linked_dir -> tmp/outside
    tmp/outside/bench_evil.py        writes tmp/outside/EXECUTED when loaded

``StdioClient`` spawns ``codomyrmex-perf mcp`` and holds one ``ClientSession`` open in a
blocking portal, so synchronous tests share one server; every request has a timeout.
"""

from __future__ import annotations

import json
import sys
import textwrap
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from pathlib import Path
from typing import Any

import anyio
from anyio.from_thread import BlockingPortal, start_blocking_portal

from mcp import ClientSession, StdioServerParameters, stdio_client

__all__ = [
    "DEMO_CACHE",
    "DEMO_FUNCTION",
    "DEMO_SUITE",
    "QUICK",
    "StdioClient",
    "console_script",
    "dead_pid",
    "make_bench_tree",
    "stdio_session",
]

DEMO_SUITE = "mcp-demo"
DEMO_FUNCTION = "mcp_demo.work"
DEMO_CACHE = "mcp-demo-cache"
QUICK = {"rounds": 3, "min_time": 0.002}

_DEMO = f"""
from codomyrmex.performance import BenchmarkSuite, cached_function, monitor

suite = BenchmarkSuite({DEMO_SUITE!r})


@monitor(name={DEMO_FUNCTION!r})
def work():
    return sum(range(100))


@cached_function(name={DEMO_CACHE!r}, max_size=8)
def lookup(key):
    return key * 2


@suite.add
def monitored_sum():
    work()
    lookup(3)


@suite.add
def plain_sum():
    sum(range(100))


print("benchmark code writing to stdout must not break the protocol")
"""

_BOOM = """
from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("boom")


@suite.add
def raises():
    raise KeyError("broken benchmark")


@suite.add
def fine():
    pass
"""

_EXIT = """
import sys

sys.exit(3)
"""

_EVIL = """
from pathlib import Path

Path(__file__).with_name("EXECUTED").write_text("outside code ran")

from codomyrmex.performance import BenchmarkSuite

suite = BenchmarkSuite("evil")
suite.add(lambda: None, name="noop")
"""


def make_bench_tree(tmp: Path) -> Path:
    """Create the tree above under ``tmp``; returns the benchmark directory."""
    bench, outside = tmp / "bench", tmp / "outside"
    for directory in (bench / "failing", bench / "exits", bench / "links", outside):
        directory.mkdir(parents=True)
    (bench / "bench_demo.py").write_text(textwrap.dedent(_DEMO))
    (bench / "failing" / "bench_boom.py").write_text(_BOOM)
    (bench / "exits" / "bench_exit.py").write_text(_EXIT)
    (outside / "bench_evil.py").write_text(_EVIL)
    (bench / "links" / "bench_link.py").symlink_to(outside / "bench_evil.py")
    (bench / "linked_dir").symlink_to(outside, target_is_directory=True)
    return bench


def console_script() -> str:
    """The ``codomyrmex-perf`` script installed next to this interpreter."""
    script = Path(sys.executable).with_name("codomyrmex-perf")
    assert script.is_file(), f"codomyrmex-perf is not installed next to {sys.executable}"
    return str(script)


class StdioClient:
    """Synchronous access to one ``ClientSession`` held open in a portal's event loop."""

    def __init__(self, portal: BlockingPortal, session: ClientSession) -> None:
        self.portal = portal
        self.session = session

    def call(self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        async def call() -> Any:
            with anyio.fail_after(timeout):
                return await self.session.call_tool(name, arguments or {})

        return self.portal.call(call)

    def ok(self, name: str, arguments: dict[str, Any] | None = None, timeout: float = 60) -> Any:
        """The structured result of a call that must succeed (also checks the text form)."""
        result = self.call(name, arguments, timeout)
        assert not result.is_error, result.content
        assert json.loads(result.content[0].text) == result.structured_content
        return result.structured_content

    def error(self, name: str, arguments: dict[str, Any] | None = None) -> str:
        """The message of a call that must be an error result."""
        result = self.call(name, arguments)
        assert result.is_error, result.structured_content
        assert result.structured_content is None
        return str(result.content[0].text)

    def list_tools(self) -> Any:
        async def list_tools() -> Any:
            with anyio.fail_after(20):
                return await self.session.list_tools()

        return self.portal.call(list_tools)

    def ping(self) -> None:
        async def ping() -> None:
            with anyio.fail_after(20):
                await self.session.send_ping()

        self.portal.call(ping)


@asynccontextmanager
async def _session(
    arguments: list[str], cwd: Path, env: dict[str, str]
) -> AsyncIterator[ClientSession]:
    parameters = StdioServerParameters(
        command=console_script(), args=arguments, cwd=cwd, env={"PYTHONUNBUFFERED": "1", **env}
    )
    async with stdio_client(parameters) as (read, write), ClientSession(read, write) as session:
        with anyio.fail_after(60):
            await session.initialize()
        yield session


@contextmanager
def stdio_session(
    arguments: list[str], cwd: Path, env: dict[str, str] | None = None
) -> Iterator[StdioClient]:
    """A session with ``codomyrmex-perf <arguments>``, closed (server ended) on exit."""
    with (
        start_blocking_portal() as portal,
        portal.wrap_async_context_manager(_session(arguments, cwd, env or {})) as session,
    ):
        yield StdioClient(portal, session)


def dead_pid() -> int:
    """The pid of a process that has exited and been reaped."""
    import subprocess

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid
