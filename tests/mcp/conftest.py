"""Fixtures of the MCP tests: one benchmark tree and one stdio server per test module.

``tree`` is the directory laid out by ``harness.mcp.make_bench_tree`` (``tree / "bench"``
is the benchmark directory, ``tree / "outside"`` the escape targets); ``client`` is a
``codomyrmex-perf mcp --bench-dir tree/bench`` server spawned over stdio, shared by the
module's tests and ended after them.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.mcp import StdioClient, make_bench_tree, stdio_session


@pytest.fixture(scope="module")
def tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_bench_tree(tmp_path_factory.mktemp("mcp")).parent


@pytest.fixture(scope="module")
def client(tree: Path) -> Iterator[StdioClient]:
    with stdio_session(["mcp", "--bench-dir", str(tree / "bench")], cwd=tree) as session:
        yield session
