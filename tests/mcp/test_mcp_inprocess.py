"""The tools in-process: register_tools onto an existing server, spans, the plain functions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import anyio
import pytest
from mcp.server.mcpserver import MCPServer
from opentelemetry.trace import SpanKind, StatusCode

from codomyrmex.performance import CacheManager, PerformanceMonitor
from codomyrmex.performance.mcp.tools import (
    TOOLS,
    performance_cache_clear,
    performance_cache_stats,
    performance_get_metrics,
    performance_get_stats,
    performance_resource_snapshot,
    performance_run_benchmark,
    register_tools,
)
from codomyrmex.performance.performance_monitor import default_monitor
from harness.mcp import DEMO_FUNCTION, QUICK, make_bench_tree
from harness.subprocesses import run_python
from mcp import Client


@pytest.fixture
def host_server() -> MCPServer:
    """An agent runtime's server that already has a tool of its own."""
    server = MCPServer("agent-runtime")

    @server.tool()
    def echo(text: str) -> str:
        return text

    return server


async def call(server: MCPServer, name: str, arguments: dict[str, Any]) -> Any:
    with anyio.fail_after(30):
        async with Client(server) as client:
            return await client.call_tool(name, arguments)


async def test_register_tools_onto_an_existing_server(host_server: MCPServer) -> None:
    names = register_tools(host_server)
    assert names == [tool.__name__ for tool in TOOLS]
    with anyio.fail_after(30):
        async with Client(host_server) as client:
            listed = {tool.name for tool in (await client.list_tools()).tools}
            assert listed == {"echo", *names}
            echoed = await client.call_tool("echo", {"text": "still here"})
            assert echoed.content[0].text == "still here"
            result = await client.call_tool(
                "performance_compare_benchmarks", {"name": "x", "before": 2, "after": 1}
            )
    assert result.is_error is False
    assert result.structured_content["improved"] is True
    assert json.loads(result.content[0].text) == result.structured_content


async def test_each_tool_call_is_a_span(host_server: MCPServer, spans: Any) -> None:
    register_tools(host_server)
    await call(
        host_server, "performance_compare_benchmarks", {"name": "x", "before": 1, "after": 1}
    )
    finished = spans.get_finished_spans()
    (tool_span,) = [s for s in finished if s.name == "execute_tool performance_compare_benchmarks"]
    assert tool_span.kind is SpanKind.INTERNAL
    assert tool_span.instrumentation_scope.name == "codomyrmex.performance"
    assert dict(tool_span.attributes) == {
        "gen_ai.operation.name": "execute_tool",
        "gen_ai.tool.name": "performance_compare_benchmarks",
    }
    assert tool_span.status.status_code is StatusCode.UNSET
    (server_span,) = [s for s in finished if s.name == "tools/call performance_compare_benchmarks"]
    assert tool_span.parent is not None
    assert tool_span.parent.span_id == server_span.context.span_id


async def test_a_failed_tool_call_is_an_error_span(host_server: MCPServer, spans: Any) -> None:
    register_tools(host_server)
    result = await call(host_server, "performance_cache_clear", {"name": "no-such-cache"})
    assert result.is_error is True
    assert "no live cache named 'no-such-cache'" in result.content[0].text
    (tool_span,) = [
        s for s in spans.get_finished_spans() if s.name == "execute_tool performance_cache_clear"
    ]
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.attributes["error.type"] == "LookupError"
    assert [event.name for event in tool_span.events] == ["exception"]


async def test_an_error_answer_is_an_error_span(host_server: MCPServer, spans: Any) -> None:
    register_tools(host_server)
    result = await call(
        host_server, "performance_compare_benchmarks", {"name": " ", "before": 1, "after": 2}
    )
    assert result.is_error is False  # the codomyrmex contract: an answer
    assert result.structured_content == {
        "status": "error", "message": "name must not be empty", "error_type": "ValueError",
    }  # fmt: skip
    (tool_span,) = [
        s
        for s in spans.get_finished_spans()
        if s.name == "execute_tool performance_compare_benchmarks"
    ]
    assert tool_span.status.status_code is StatusCode.ERROR
    assert tool_span.status.description == "name must not be empty"
    assert tool_span.attributes["error.type"] == "ValueError"


async def test_run_benchmark_refused_without_a_bench_dir(
    host_server: MCPServer, tmp_path: Path
) -> None:
    bench = make_bench_tree(tmp_path)
    register_tools(host_server)
    result = await call(host_server, "performance_run_benchmark", {"path": "bench_demo.py"})
    assert result.is_error is True
    assert "running benchmarks is disabled" in result.content[0].text
    with pytest.raises(PermissionError, match="running benchmarks is disabled"):
        performance_run_benchmark(str(bench / "bench_demo.py"))


def test_register_tools_checks_the_bench_dir(host_server: MCPServer, tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="is not a directory"):
        register_tools(host_server, bench_dir=tmp_path / "missing")


def test_recent_calls_carry_the_trace_ids_of_their_spans(spans: Any) -> None:
    monitor = default_monitor()
    monitor.clear_metrics()

    @monitor.monitor(name="mcp.traced")
    def traced() -> int:
        return 1

    traced()
    traced()
    report = performance_get_metrics("mcp.traced", limit=1)
    assert report["matching"] == 2 and report["returned"] == 1
    (latest,) = report["calls"]
    span = [s for s in spans.get_finished_spans() if s.name == "mcp.traced"][-1]
    assert latest["trace_id"] == format(span.context.trace_id, "032x")
    assert latest["span_id"] == format(span.context.span_id, "016x")
    stats = performance_get_stats()
    assert stats["overall"]["count"] == 2
    assert stats["functions"]["mcp.traced"]["count"] == 2
    monitor.clear_metrics()
    assert performance_get_stats()["overall"] == {
        "count": 0, "errors": 0, "total": 0.0, "min": None, "max": None, "mean": None,
        "p50": None, "p95": None, "p99": None, "cpu_time": 0.0, "memory_peak_mb": None,
    }  # fmt: skip


def test_the_tools_read_the_default_monitor_only() -> None:
    own = PerformanceMonitor()
    own.monitor(name="mcp.private")(lambda: None)()
    with pytest.raises(LookupError, match=r"mcp\.private"):
        performance_get_metrics("mcp.private")


def test_cache_tools_on_caches_sharing_a_name() -> None:
    first = CacheManager(name="mcp-shared", max_size=4)
    second = CacheManager(name="mcp-shared", max_size=4)
    first.set("a", 1)
    second.set("b", 2)
    second.set("c", 3)
    assert first.get("a") == 1 and first.get("zz") is None
    report = performance_cache_stats("mcp-shared")
    assert sorted(c["size"] for c in report["caches"]) == [1, 2]
    assert sum(c["hits"] for c in report["caches"]) == 1
    cleared = performance_cache_clear("mcp-shared")
    assert cleared["caches_cleared"] == 2
    assert cleared["entries_removed"] == 3
    assert len(first) == len(second) == 0


def test_resource_snapshot_of_this_process_and_its_children_only() -> None:
    snapshot = performance_resource_snapshot()
    assert snapshot["status"] == "success" and snapshot["name"]
    assert snapshot["rss_mb"] <= snapshot["vms_mb"]
    assert 0 < snapshot["memory_percent"] < 100
    with pytest.raises(TypeError, match="pid must be an integer"):
        performance_resource_snapshot(True)  # type: ignore[arg-type]
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert performance_resource_snapshot(child.pid)["pid"] == child.pid
    finally:
        child.kill()
        child.wait()
    with pytest.raises(PermissionError, match="neither this server nor one of its child"):
        performance_resource_snapshot(os.getppid())
    assert performance_resource_snapshot(os.getppid(), any_process=True)["pid"] == os.getppid()


def test_run_benchmark_as_a_plain_function(tmp_path: Path) -> None:
    bench = make_bench_tree(tmp_path)
    with pytest.raises(PermissionError, match=r"benchmark file .*bench_link\.py"):
        performance_run_benchmark(".", bench_dir=bench)  # one file in the tree escapes
    for link in (bench / "links" / "bench_link.py", bench / "linked_dir"):
        link.unlink()
    (bench / "exits" / "bench_exit.py").unlink()
    report = performance_run_benchmark(".", bench_dir=bench, **QUICK)  # type: ignore[arg-type]
    assert report["passed"] is False  # the failing suite is under the directory too
    assert sorted(s["suite"] for s in report["suites"]) == ["boom", "mcp-demo"]
    assert DEMO_FUNCTION in performance_get_stats()["functions"]


@pytest.mark.parametrize(
    ("path", "error", "text"),
    [
        ("../outside/bench_evil.py", PermissionError, "outside the benchmark directory"),
        ("links/bench_link.py", PermissionError, "outside the benchmark directory"),
        ("links", PermissionError, "benchmark file"),
        ("", ValueError, "path must be a non-empty path"),
        ("bench_demo.py\x00", ValueError, "path must be a non-empty path"),
        ("failing/nothing_here", FileNotFoundError, "no such file or directory"),
    ],
)
def test_run_benchmark_paths(tmp_path: Path, path: str, error: type, text: str) -> None:
    bench = make_bench_tree(tmp_path)
    with pytest.raises(error, match=text):
        performance_run_benchmark(path, bench_dir=bench)
    assert not (tmp_path / "outside" / "EXECUTED").exists()


def test_run_benchmark_options_are_bounded(tmp_path: Path) -> None:
    bench = make_bench_tree(tmp_path)
    with pytest.raises(ValueError, match="rounds must be between 2 and 1000"):
        performance_run_benchmark("bench_demo.py", rounds=5000, bench_dir=bench)
    with pytest.raises(ValueError, match=r"min_time must be > 0 and <= 5\.0"):
        performance_run_benchmark("bench_demo.py", min_time=60, bench_dir=bench)
    with pytest.raises(ValueError, match="timer must be 'wall' or 'cpu'"):
        performance_run_benchmark("bench_demo.py", timer="gpu", bench_dir=bench)  # type: ignore[arg-type]
    (bench / "empty").mkdir()
    with pytest.raises(FileNotFoundError, match=r"no bench_\*\.py files under empty"):
        performance_run_benchmark("empty", bench_dir=bench)


def test_a_corrupt_baseline_is_a_clear_error_and_untouched(tmp_path: Path) -> None:
    bench = make_bench_tree(tmp_path)
    (bench / "base.json").write_text("{not json")
    with pytest.raises(ValueError, match=r"cannot use baseline .*base\.json"):
        performance_run_benchmark("bench_demo.py", baseline="base.json", bench_dir=bench)
    assert (bench / "base.json").read_text() == "{not json"


def test_the_tools_work_without_mcp_installed() -> None:
    completed = run_python(
        """
        import sys
        sys.modules["mcp"] = None  # as if the mcp extra were not installed
        from codomyrmex.performance.mcp.tools import (
            performance_check_regression, performance_get_stats, register_tools,
        )
        print(performance_check_regression("b", 2.0, 1.0)["severity"])
        print(performance_get_stats()["overall"]["count"])
        try:
            register_tools(object())
        except ImportError as exc:
            print("ImportError", exc.name)
        """
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.split("\n")[:3] == ["critical", "0", "ImportError mcp.server"]


def test_importing_the_package_does_not_import_the_tools() -> None:
    completed = run_python(
        """
        import sys
        import codomyrmex.performance
        print(sorted(m for m in sys.modules if "mcp" in m))
        """
    )
    assert completed.returncode == 0, completed.stderr
    assert completed.stdout.strip() == "[]"
