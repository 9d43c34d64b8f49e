"""The MCP server over stdio, through the real ``mcp`` client: one spawned server per module."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest

from harness.mcp import (
    DEMO_CACHE,
    DEMO_FUNCTION,
    DEMO_SUITE,
    QUICK,
    StdioClient,
    dead_pid,
    stdio_session,
)

#: The tools that keep the codomyrmex contract: bad values answered, never an error result.
ANSWERING = {"performance_check_regression", "performance_compare_benchmarks"}

TOOL_NAMES = {
    "performance_check_regression",
    "performance_compare_benchmarks",
    "performance_get_stats",
    "performance_get_metrics",
    "performance_cache_stats",
    "performance_cache_clear",
    "performance_resource_snapshot",
    "performance_run_benchmark",
}


@pytest.fixture(scope="module")
def first_run(client: StdioClient) -> dict[str, Any]:
    """The demo suite run once in the server, saving a baseline."""
    return client.ok(  # type: ignore[no-any-return]
        "performance_run_benchmark",
        {"path": "bench_demo.py", "save_baseline": "saved/base.json", **QUICK},
    )


def test_lists_every_tool_with_input_and_output_schemas(client: StdioClient) -> None:
    tools = {tool.name: tool for tool in client.list_tools().tools}
    assert set(tools) == TOOL_NAMES
    for tool in tools.values():
        assert tool.input_schema["type"] == "object"
        assert tool.output_schema is not None and tool.output_schema["type"] == "object"
        status = tool.output_schema["properties"]["status"]
        if tool.name in ANSWERING:
            assert status["enum"] == ["success", "error"]
            assert set(tool.output_schema["required"]) == {"status", "message"}
        else:
            assert status == {"const": "success", "title": "Status", "type": "string"}
        assert tool.description and "status" in tool.description  # documents its values
    check = tools["performance_check_regression"]
    assert check.input_schema["required"] == ["benchmark_name", "measured_value", "baseline_mean"]
    properties = check.input_schema["properties"]
    assert {name: p.get("type") for name, p in properties.items()} == {
        "benchmark_name": "string",
        "measured_value": "number",
        "baseline_mean": "number",
        "baseline_stddev": "number",
        "warning_threshold": "number",
        "critical_threshold": "number",
        "higher_is_better": "boolean",
        "unit": "string",
    }
    assert properties["unit"]["default"] == "ms"
    assert properties["critical_threshold"]["default"] == 0.25
    assert check.output_schema["properties"]["severity"]["enum"] == ["info", "warning", "critical"]
    assert set(check.output_schema["properties"]) >= {
        "status", "benchmark", "is_regression", "severity", "deviation", "message", "error_type",
    }  # fmt: skip
    compare = tools["performance_compare_benchmarks"].output_schema
    assert set(compare["properties"]) >= {
        "status", "name", "before", "after", "absolute_delta", "relative_delta_pct", "improved",
    }  # fmt: skip
    bench = tools["performance_run_benchmark"].input_schema
    assert bench["required"] == ["path"]
    assert "bench_dir" not in bench["properties"]  # fixed by the server, not the caller
    assert bench["properties"]["timer"]["enum"] == ["wall", "cpu"]
    assert tools["performance_get_metrics"].input_schema["properties"]["limit"]["default"] == 100
    assert tools["performance_resource_snapshot"].input_schema["properties"]["pid"]["anyOf"] == [
        {"type": "integer"},
        {"type": "null"},
    ]
    assert tools["performance_get_stats"].annotations.read_only_hint is True
    assert tools["performance_cache_clear"].annotations.destructive_hint is True
    assert tools["performance_run_benchmark"].annotations.read_only_hint is False
    assert "any_process" not in tools["performance_resource_snapshot"].input_schema["properties"]


def test_check_regression(client: StdioClient) -> None:
    arguments = {"benchmark_name": "parse", "measured_value": 130, "baseline_mean": 100}
    assert client.ok("performance_check_regression", arguments)["severity"] == "critical"
    noisy = client.ok("performance_check_regression", {**arguments, "baseline_stddev": 20})
    assert noisy["is_regression"] is False
    assert noisy["deviation"] == pytest.approx(0.3)
    zero = client.ok("performance_check_regression", {**arguments, "baseline_mean": 0})
    assert zero["deviation_kind"] == "absolute"
    assert zero["deviation"] == 130
    assert zero["is_regression"] is True


def test_compare_benchmarks(client: StdioClient) -> None:
    result = client.ok("performance_compare_benchmarks", {"name": "ops", "before": 0, "after": 5})
    assert result["relative_delta_pct"] is None
    assert result["absolute_delta"] == 5
    assert result["improved"] is False


def test_run_benchmark_returns_statistics(first_run: dict[str, Any], tree: Path) -> None:
    assert first_run["passed"] is True
    assert first_run["failures"] == first_run["regressions"] == 0
    assert first_run["baseline_saved"] == str(tree / "bench" / "saved" / "base.json")
    assert (tree / "bench" / "saved" / "base.json").is_file()
    (suite,) = first_run["suites"]
    assert suite["suite"] == DEMO_SUITE
    results = {result["name"]: result for result in suite["results"]}
    assert set(results) == {"monitored_sum", "plain_sum"}
    for result in results.values():
        assert result["error"] is None
        assert result["rounds"] == 3
        assert 0 < result["min"] <= result["median"] <= result["max"]
        assert result["ops_per_sec"] > 0
        assert result["verdict"] is None and result["comparison"] is None


def test_run_benchmark_against_the_saved_baseline(
    client: StdioClient, first_run: dict[str, Any]
) -> None:
    again = client.ok(
        "performance_run_benchmark",
        {"path": "bench_demo.py", "baseline": "saved/base.json", **QUICK},
    )
    for result in again["suites"][0]["results"]:
        comparison = result["comparison"]
        assert comparison is not None
        assert result["verdict"] == comparison["verdict"]
        assert comparison["verdict"] in {"regression", "improvement", "no_change", "inconclusive"}
        assert comparison["mode"] == "stored"
        assert comparison["ratio"] > 0


def test_a_failing_benchmark_is_reported_not_raised(client: StdioClient) -> None:
    result = client.ok("performance_run_benchmark", {"path": "failing", **QUICK})
    assert result["passed"] is False
    assert result["failures"] == 1
    results = {r["name"]: r for r in result["suites"][0]["results"]}
    assert "broken benchmark" in results["raises"]["error"]
    assert results["raises"]["median"] is None  # NaN statistics become null
    assert results["fine"]["error"] is None


def test_monitor_stats_and_recent_calls_of_the_server(
    client: StdioClient, first_run: dict[str, Any]
) -> None:
    stats = client.ok("performance_get_stats", {"function_name": DEMO_FUNCTION})
    assert stats["function_name"] == DEMO_FUNCTION
    assert set(stats["functions"]) == {DEMO_FUNCTION}
    assert stats["overall"]["count"] > 0
    assert stats["overall"]["errors"] == 0
    assert stats["overall"]["p50"] > 0
    everything = client.ok("performance_get_stats")
    assert DEMO_FUNCTION in everything["functions"]

    metrics = client.ok("performance_get_metrics", {"function_name": DEMO_FUNCTION, "limit": 5})
    assert metrics["returned"] == 5
    assert metrics["matching"] >= 5
    stamps = [call["timestamp"] for call in metrics["calls"]]
    assert stamps == sorted(stamps, reverse=True)  # newest first
    call = metrics["calls"][0]
    assert call["function_name"] == DEMO_FUNCTION
    assert call["execution_time"] > 0
    assert call["trace_id"] is None  # no SDK in the server: no span ids

    message = client.error("performance_get_stats", {"function_name": "nope"})
    assert "no monitored function with recorded calls named 'nope'" in message
    assert DEMO_FUNCTION in message


def test_cache_stats_and_clear(client: StdioClient, first_run: dict[str, Any]) -> None:
    (cache,) = client.ok("performance_cache_stats", {"name": DEMO_CACHE})["caches"]
    assert cache["name"] == DEMO_CACHE
    assert cache["backend"] == "memory"
    assert cache["max_size"] == 8
    assert cache["size"] == 1
    assert cache["hits"] > 0 and cache["misses"] == 1
    assert 0 < cache["hit_rate"] < 1
    names = [c["name"] for c in client.ok("performance_cache_stats")["caches"]]
    assert DEMO_CACHE in names

    cleared = client.ok("performance_cache_clear", {"name": DEMO_CACHE})
    assert cleared == {
        "status": "success", "name": DEMO_CACHE, "caches_cleared": 1, "entries_removed": 1,
    }  # fmt: skip
    (after,) = client.ok("performance_cache_stats", {"name": DEMO_CACHE})["caches"]
    assert after["size"] == 0
    assert after["hits"] == cache["hits"]  # counters survive a clear

    message = client.error("performance_cache_clear", {"name": "no-such-cache"})
    assert "no live cache named 'no-such-cache'" in message
    assert DEMO_CACHE in message


def test_resource_snapshot_reads_the_server_only(client: StdioClient) -> None:
    server = client.ok("performance_resource_snapshot")
    assert server["pid"] != os.getpid()
    assert server["rss_mb"] > 1
    assert server["threads"] >= 1
    assert server["fds"] is None or server["fds"] >= 3
    for pid in (os.getpid(), 1, dead_pid()):  # not the server nor one of its children
        message = client.error("performance_resource_snapshot", {"pid": pid})
        assert f"process {pid} is neither this server nor one of its child processes" in message
        assert "--any-process" in message


def test_resource_snapshot_of_any_process_when_started_so(tree: Path) -> None:
    with stdio_session(["mcp", "--any-process"], cwd=tree) as any_process:
        mine = any_process.ok("performance_resource_snapshot", {"pid": os.getpid()})
        assert mine["pid"] == os.getpid()
        assert mine["cpu_time_user"] > 0
        pid = dead_pid()
        message = any_process.error("performance_resource_snapshot", {"pid": pid})
        assert f"no process with pid {pid}" in message


@pytest.mark.parametrize(
    ("tool", "arguments", "expected"),
    [
        (
            "performance_check_regression",
            {"benchmark_name": "b", "measured_value": "fast", "baseline_mean": 1},
            "measured_value",
        ),
        (
            "performance_check_regression",
            {"benchmark_name": "b", "measured_value": 1},
            "baseline_mean",
        ),
        ("performance_compare_benchmarks", {"name": ["x"], "before": 1, "after": 2}, "name"),
        ("performance_get_metrics", {"limit": 0}, "limit must be between 1 and 10000"),
        ("performance_get_metrics", {"limit": "many"}, "limit"),
        ("performance_resource_snapshot", {"pid": "self"}, "pid"),
        ("performance_resource_snapshot", {"pid": -5}, "pid must be >= 0"),
        ("performance_cache_clear", {}, "name"),
        ("performance_run_benchmark", {"path": "bench_demo.py", "rounds": 1}, "rounds"),
        ("performance_run_benchmark", {"path": "missing.py"}, "no such file or directory"),
        ("performance_run_benchmark", {"path": "exits"}, "called sys.exit(3)"),
    ],
)
def test_bad_arguments_are_error_results(
    client: StdioClient, tool: str, arguments: dict[str, Any], expected: str
) -> None:
    message = client.error(tool, arguments)
    assert message.startswith(f"Error executing tool {tool}")
    assert expected in message
    client.ping()
    assert client.ok("performance_compare_benchmarks", {"name": "n", "before": 1, "after": 1})


@pytest.mark.parametrize(
    ("tool", "arguments", "message", "error_type"),
    [
        (
            "performance_check_regression",
            {"benchmark_name": "b", "measured_value": 1, "baseline_mean": 1, "baseline_stddev": -2},
            "baseline_stddev must be >= 0, got -2.0",
            "ValueError",
        ),
        (
            "performance_check_regression",
            {"benchmark_name": " ", "measured_value": 1, "baseline_mean": 1},
            "benchmark_name must not be empty",
            "ValueError",
        ),
        (
            "performance_check_regression",
            {"benchmark_name": "b", "measured_value": 1, "baseline_mean": 1,
             "warning_threshold": 0.5, "critical_threshold": 0.2},
            "thresholds must satisfy 0 <= warning_threshold <= critical_threshold, got "
            "warning_threshold=0.5, critical_threshold=0.2",
            "ValueError",
        ),
        (
            "performance_compare_benchmarks",
            {"name": "", "before": 1, "after": 2},
            "name must not be empty",
            "ValueError",
        ),
    ],
)  # fmt: skip
def test_the_codomyrmex_tools_answer_bad_values(
    client: StdioClient, tool: str, arguments: dict[str, Any], message: str, error_type: str
) -> None:
    answer = client.ok(tool, arguments)  # an answer, not an error result
    assert answer == {"status": "error", "message": message, "error_type": error_type}


def test_an_unknown_tool_is_an_error(client: StdioClient) -> None:
    assert "performance_nothing" in client.error("performance_nothing", {})
    client.ping()


@pytest.mark.parametrize(
    "path",
    [
        "../outside/bench_evil.py",
        "linked_dir/../../outside/bench_evil.py",
        "links/bench_link.py",
        "links",
        "linked_dir/bench_evil.py",
        "linked_dir",
        "OUTSIDE_ABSOLUTE",
        "/",
    ],
)
def test_paths_escaping_the_bench_dir_are_refused(
    client: StdioClient, tree: Path, path: str
) -> None:
    if path == "OUTSIDE_ABSOLUTE":
        path = str(tree / "outside" / "bench_evil.py")
    message = client.error("performance_run_benchmark", {"path": path, **QUICK})
    assert "outside the benchmark directory" in message
    assert "refused" in message
    assert not (tree / "outside" / "EXECUTED").exists()
    assert client.ok("performance_resource_snapshot")["pid"] > 0


@pytest.mark.parametrize("option", ["baseline", "save_baseline"])
def test_baseline_files_outside_are_refused(client: StdioClient, tree: Path, option: str) -> None:
    arguments = {"path": "bench_demo.py", option: str(tree / "outside" / "base.json"), **QUICK}
    message = client.error("performance_run_benchmark", arguments)
    assert f"{option} " in message and "outside the benchmark directory" in message
    assert not (tree / "outside" / "base.json").exists()


def test_without_bench_dir_every_run_is_refused(tree: Path) -> None:
    with stdio_session(["mcp"], cwd=tree / "bench") as bare:
        message = bare.error("performance_run_benchmark", {"path": "bench_demo.py"})
        assert "running benchmarks is disabled" in message
        assert "--bench-dir" in message
        assert bare.ok("performance_compare_benchmarks", {"name": "n", "before": 1, "after": 2})
    assert not (tree / "outside" / "EXECUTED").exists()
