"""``codomyrmex-perf mcp --otlp``: tool-call spans reach a real collector (rotel)."""

from __future__ import annotations

from pathlib import Path

from harness.mcp import stdio_session
from harness.otel_collector import OtelCollector

SERVICE = "codomyrmex-perf-mcp"
TOOL_SPAN = "execute_tool performance_compare_benchmarks"


def test_tool_call_spans_are_exported(otel_collector: OtelCollector, tmp_path: Path) -> None:
    with stdio_session(["mcp", "--otlp", otel_collector.http_endpoint], cwd=tmp_path) as client:
        client.ok("performance_compare_benchmarks", {"name": "otlp", "before": 2, "after": 1})
        client.error("performance_cache_clear", {"name": "no-such-cache"})
    # the server flushes its telemetry when the client disconnects
    got = otel_collector.wait_for(
        lambda t: t.spans_named(TOOL_SPAN) and t.spans_named("execute_tool performance_cache_clear")
        and t, service_name=SERVICE,
    )  # fmt: skip
    (tool_span,) = got.spans_named(TOOL_SPAN)
    assert tool_span.attributes["gen_ai.tool.name"] == "performance_compare_benchmarks"
    assert tool_span.attributes["gen_ai.operation.name"] == "execute_tool"
    (server_span,) = got.spans_named("tools/call performance_compare_benchmarks")
    assert tool_span.parent_span_id == server_span.span_id
    (failed,) = got.spans_named("execute_tool performance_cache_clear")
    assert failed.attributes["error.type"] == "LookupError"
