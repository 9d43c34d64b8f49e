"""Model Context Protocol tools: agents read performance data and run benchmarks.

Eight plain, typed functions, each also an MCP tool whose input schema comes from its
signature and whose structured output schema comes from its return type (the
``TypedDict`` s of :mod:`codomyrmex.performance.mcp._results`):

* ``performance_check_regression`` - is a measurement a regression from a baseline
  (mean and standard deviation)? Noise-aware, see below.
* ``performance_compare_benchmarks`` - the change between two values.
* ``performance_get_stats`` / ``performance_get_metrics`` - statistics and the most recent
  calls (with trace and span ids) recorded by the process's default monitor (``@monitor``).
* ``performance_cache_stats`` / ``performance_cache_clear`` - the live caches
  (``@cached_function``, ``CacheManager``) of the process.
* ``performance_resource_snapshot`` - RSS, CPU, threads and file descriptors of this
  process or one of its children (any process only with ``any_process=True``).
* ``performance_run_benchmark`` - run the ``BenchmarkSuite`` s of a file or directory
  inside the benchmark directory and return statistics and verdicts
  (:mod:`codomyrmex.performance.mcp._bench`).

Serve them standalone with ``codomyrmex-perf mcp --bench-dir DIR`` (stdio, or
``--transport streamable-http``), or add them to the MCP server of an agent runtime::

    from mcp.server.mcpserver import MCPServer
    from codomyrmex.performance.mcp.tools import register_tools

    server = MCPServer("my-agent-tools")
    register_tools(server, bench_dir="benchmarks")   # no bench_dir: benchmarks refused

The functions need no ``mcp`` package (install the ``mcp`` extra, ``mcp>=2``, to serve
them). Every answer has ``"status": "success"``. ``performance_check_regression`` and
``performance_compare_benchmarks`` answer bad arguments too, as the codomyrmex tools they
replace did: ``{"status": "error", "message": ..., "error_type": ...}``. The others raise
``ValueError``, ``TypeError``, ``LookupError`` or ``OSError``; registered as tools, those
become error results (``isError``) carrying the message, and the server keeps serving.
Each tool's description lists its status values.

Regression rule. With ``change = measured - mean`` and the direction given by
``higher_is_better``, a measurement is a regression when the change is *worse*, larger
than the baseline's noise (``|change| > 2 * stddev``) and at least ``warning_threshold``
of ``|mean|``; severity is ``critical`` from ``critical_threshold`` on, else ``warning``;
everything else is ``info``. With a zero baseline mean the relative change is undefined:
``deviation`` is the absolute change and any worse change beyond the noise is critical.

Telemetry. Each tool call through MCP is an INTERNAL span ``execute_tool <tool name>``
(the OpenTelemetry GenAI convention; a child of the SDK's ``tools/call`` server span) of
the ``codomyrmex.performance`` scope with ``gen_ai.operation.name = execute_tool`` and
``gen_ai.tool.name``; a failed call has status ERROR, ``error.type`` (the exception's
class) and an exception event; an ``"error"`` answer has status ERROR and its
``error_type``. Attributes are set only on recording spans.
"""

from __future__ import annotations

import functools
import inspect
import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from codomyrmex.performance import semconv
from codomyrmex.performance.mcp._bench import performance_run_benchmark, resolve_bench_dir
from codomyrmex.performance.mcp._process import (
    performance_cache_clear,
    performance_cache_stats,
    performance_get_metrics,
    performance_get_stats,
    performance_resource_snapshot,
)
from codomyrmex.performance.mcp._regression import (
    NOISE_SIGMAS,
    performance_check_regression,
    performance_compare_benchmarks,
)

if TYPE_CHECKING:
    from opentelemetry.trace import Span

__all__ = [
    "NOISE_SIGMAS",
    "TOOLS",
    "performance_cache_clear",
    "performance_cache_stats",
    "performance_check_regression",
    "performance_compare_benchmarks",
    "performance_get_metrics",
    "performance_get_stats",
    "performance_resource_snapshot",
    "performance_run_benchmark",
    "register_tools",
]


#: Every tool, in the order they are registered.
TOOLS: tuple[Callable[..., Any], ...] = (
    performance_check_regression,
    performance_compare_benchmarks,
    performance_get_stats,
    performance_get_metrics,
    performance_cache_stats,
    performance_cache_clear,
    performance_resource_snapshot,
    performance_run_benchmark,
)

#: Errors whose message is the answer for the caller (bad arguments, missing things).
_EXPECTED_ERRORS = (ValueError, TypeError, LookupError, OSError, RuntimeError)

#: Tools that change state, and whether that destroys data (MCP behaviour hints).
_WRITES: dict[str, bool] = {"performance_cache_clear": True, "performance_run_benchmark": False}


@contextmanager
def _tool_span(tool_name: str) -> Iterator[Span | None]:
    """The span of one tool call (None when tracing is off)."""
    from codomyrmex.performance.telemetry import scope_telemetry

    tracer = scope_telemetry().tracer()
    if tracer is None:
        yield None
        return
    from opentelemetry.trace import SpanKind

    from codomyrmex.performance._safe import error_type_name, fail_span

    with tracer.start_as_current_span(
        f"{semconv.EXECUTE_TOOL} {tool_name}",
        kind=SpanKind.INTERNAL,
        record_exception=False,
        set_status_on_exception=False,
    ) as span:
        if span.is_recording():
            span.set_attribute(semconv.GEN_AI_OPERATION_NAME, semconv.EXECUTE_TOOL)
            span.set_attribute(semconv.GEN_AI_TOOL_NAME, tool_name)
        try:
            yield span
        except Exception as exc:
            fail_span(span, exc, error_type_name(exc))
            raise


def _mark_error_answer(span: Span, answer: Mapping[str, Any]) -> None:
    """An ``"error"`` answer on the tool's span: status ERROR and its ``error.type``."""
    if span.is_recording():
        from opentelemetry.trace import Status, StatusCode

        from codomyrmex.performance._safe import encodable

        span.set_attribute(semconv.ERROR_TYPE, str(answer.get("error_type", "error")))
        span.set_status(Status(StatusCode.ERROR, encodable(str(answer.get("message", "")))))


def _as_tool(
    function: Callable[..., Any], tool_error: type[Exception], bound: Mapping[str, Any]
) -> Callable[..., Any]:
    """``function`` as an MCP tool: a span per call, expected errors as tool errors.

    Keyword arguments in ``bound`` are fixed by the server and hidden from the schema.
    """
    name = function.__name__
    signature = inspect.signature(function, eval_str=True)
    fixed = {key: value for key, value in bound.items() if key in signature.parameters}

    @functools.wraps(function)
    def tool(**arguments: Any) -> Any:
        try:
            with _tool_span(name) as span:
                answer = function(**arguments, **fixed)
                if span is not None and answer.get("status") == "error":
                    _mark_error_answer(span, answer)
                return answer
        except _EXPECTED_ERRORS as exc:
            raise tool_error(str(exc)) from exc

    tool.__signature__ = signature.replace(  # type: ignore[attr-defined]
        parameters=[p for p in signature.parameters.values() if p.name not in fixed]
    )
    return tool


def register_tools(
    server: Any,
    *,
    bench_dir: str | os.PathLike[str] | None = None,
    any_process: bool = False,
) -> list[str]:
    """Add every tool to ``server`` (an ``mcp.server.mcpserver.MCPServer``); their names.

    ``performance_run_benchmark`` runs benchmark files only inside ``bench_dir`` (checked
    now: it must be an existing directory); without it every run is refused.
    ``performance_resource_snapshot`` reads this process and its children, or any process
    the server may read with ``any_process=True``.
    """
    from mcp.server.mcpserver.exceptions import ToolError
    from mcp.types import ToolAnnotations

    bound = {
        "bench_dir": None if bench_dir is None else resolve_bench_dir(bench_dir),
        "any_process": any_process,
    }
    names: list[str] = []
    for function in TOOLS:
        destructive = _WRITES.get(function.__name__)
        hints = ToolAnnotations(
            read_only_hint=destructive is None,
            destructive_hint=destructive,
            open_world_hint=False,
        )
        server.add_tool(
            _as_tool(function, ToolError, bound),
            name=function.__name__,
            description=inspect.cleandoc(function.__doc__ or ""),
            annotations=hints,
            structured_output=True,
        )
        names.append(function.__name__)
    return names
