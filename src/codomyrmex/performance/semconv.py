"""Every span, metric and attribute name this package emits, defined once.

Dashboards, the collector configuration and the tests rely on these names; the table in
the README lists them. Standard OpenTelemetry semantic-convention names (``code.*``,
``error.type``, ``gen_ai.*``) are spelled here too, so no module writes a name by hand.
Importing this module costs nothing: it holds only strings.
"""

from __future__ import annotations

#: Instrumentation scope of every tracer and meter of this package.
SCOPE_NAME = "codomyrmex.performance"

# Semantic-convention attributes (code, errors).
CODE_FUNCTION_NAME = "code.function.name"
CODE_FILE_PATH = "code.file.path"
CODE_LINE_NUMBER = "code.line.number"
ERROR_TYPE = "error.type"
CODE_STACKTRACE = "code.stacktrace"
EXCEPTION_MESSAGE = "exception.message"
EXCEPTION_STACKTRACE = "exception.stacktrace"

# Monitored calls.
FUNCTION_DURATION = "codomyrmex.function.duration"
FUNCTION_DURATION_DESCRIPTION = (
    "Duration of calls to functions monitored by codomyrmex.performance."
)
#: An observable gauge that never reports a point: its callback tells the monitor when
#: metrics are collected, so that each histogram bucket offers one exemplar per collection.
COLLECTION_PROBE = "codomyrmex.collection.probe"
COLLECTION_PROBE_DESCRIPTION = (
    "Reports nothing: marks metric collections for codomyrmex.performance exemplar sampling."
)
#: ``@monitor(profile_slower_than=...)``: the event on a slow call's span, with its stack
#: samples (``code.stacktrace``: the stack sampled most often).
SLOW_CALL_EVENT = "codomyrmex.slow_call"
PROFILE_PREFIX = "codomyrmex.profile."
PROFILE_THRESHOLD = PROFILE_PREFIX + "threshold"
PROFILE_INTERVAL = PROFILE_PREFIX + "interval"
PROFILE_SAMPLES = PROFILE_PREFIX + "samples"
PROFILE_TOP_FRAMES = PROFILE_PREFIX + "top_frames"
PROFILE_TOP_FRAME_SAMPLES = PROFILE_PREFIX + "top_frame_samples"

# Caches.
CACHE_REQUESTS = "codomyrmex.cache.requests"
CACHE_EVICTIONS = "codomyrmex.cache.evictions"
CACHE_ENTRIES = "codomyrmex.cache.entries"
CACHE_NAME = "codomyrmex.cache.name"
CACHE_RESULT = "codomyrmex.cache.result"
CACHE_REASON = "codomyrmex.cache.reason"
#: Values of ``codomyrmex.cache.result`` and ``codomyrmex.cache.reason``, in counting order.
CACHE_RESULTS = ("hit", "miss", "error")
CACHE_REASONS = ("size", "ttl")

# Lazy imports: span ``import <module>``.
IMPORT_SPAN_PREFIX = "import "
IMPORT_DURATION = "codomyrmex.import.duration"
IMPORT_DURATION_DESCRIPTION = "Duration of imports done through lazy_import"
MODULE_NAME = "codomyrmex.module.name"

# Benchmarks: span ``benchmark <suite>`` with a child per benchmark.
BENCHMARK_SPAN_PREFIX = "benchmark "
BENCHMARK_DURATION = "codomyrmex.benchmark.duration"
BENCHMARK_DURATION_DESCRIPTION = "Per-call duration of benchmark rounds"
#: Prefix of every benchmark attribute (``codomyrmex.benchmark.name``, ``.suite``, ``.ratio``...).
BENCHMARK_PREFIX = "codomyrmex.benchmark."
BENCHMARK_NAME = BENCHMARK_PREFIX + "name"
BENCHMARK_SUITE = BENCHMARK_PREFIX + "suite"
#: A profiled benchmark (``profile=DIR``): its pstats file and its flame graph.
BENCHMARK_PROFILE_FILE = BENCHMARK_PREFIX + "profile.file"
BENCHMARK_PROFILE_FLAMEGRAPH = BENCHMARK_PREFIX + "profile.flamegraph"
#: On a regression with profiles of both sides: the function whose own time per call grew
#: most (``name (file:line)``) and by how much (seconds per call).
BENCHMARK_PROFILE_TOP_REGRESSED = BENCHMARK_PREFIX + "profile.top_regressed.function"
BENCHMARK_PROFILE_TOP_REGRESSED_DELTA = BENCHMARK_PREFIX + "profile.top_regressed.delta"

# ResourceTracker: attributes set on the current span when a tracked block ends.
RESOURCE_PREFIX = "codomyrmex.resource."

# MCP tool calls (GenAI conventions): span ``execute_tool <tool>``.
GEN_AI_OPERATION_NAME = "gen_ai.operation.name"
GEN_AI_TOOL_NAME = "gen_ai.tool.name"
EXECUTE_TOOL = "execute_tool"
