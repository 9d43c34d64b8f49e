"""The environment variables of codomyrmex-performance (besides the standard ``OTEL_*``).

``CODOMYRMEX_PERF_TELEMETRY_DIR``
    Where the embedded default writes its OTLP-JSON files (default
    ``$XDG_STATE_HOME/codomyrmex-performance/telemetry``, ``XDG_STATE_HOME`` defaulting to
    ``~/.local/state``).
``CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES``, ``CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS``
    Rotation of those files (``configure_telemetry(output_max_megabytes=...,
    output_max_backups=...)``): a file is rotated before it would pass this size
    (default 8 MiB) and this many rotated files are kept (default 3, ``0``: none).
``CODOMYRMEX_PERF_INSTRUMENT``
    Functions :class:`~codomyrmex.performance.PerformanceInstrumentor` wraps without code
    changes: ``pkg.mod:func,pkg.mod:Class.method,pkg.mod:*``.
``CODOMYRMEX_PERF_PROFILE_SLOWER_THAN``
    Seconds: the functions the instrumentor wraps get ``profile_slower_than`` this, so a
    call running longer has its sampled stacks on its span (unset: no profiling).
``CODOMYRMEX_PERF_MCP_TOKEN``
    The bearer token ``codomyrmex-perf mcp --transport streamable-http`` requires, unless
    ``--token-file`` gives one (with neither, a new random token is printed at start).
``CODOMYRMEX_BENCH_COMMIT``
    The commit recorded with benchmark runs (else ``GITHUB_SHA``, ``CI_COMMIT_SHA``,
    ``GIT_COMMIT``, else ``git rev-parse HEAD``).
"""

from __future__ import annotations

CODOMYRMEX_PERF_TELEMETRY_DIR = "CODOMYRMEX_PERF_TELEMETRY_DIR"
CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES = "CODOMYRMEX_PERF_TELEMETRY_MAX_MEGABYTES"
CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS = "CODOMYRMEX_PERF_TELEMETRY_MAX_BACKUPS"
CODOMYRMEX_PERF_INSTRUMENT = "CODOMYRMEX_PERF_INSTRUMENT"
CODOMYRMEX_PERF_PROFILE_SLOWER_THAN = "CODOMYRMEX_PERF_PROFILE_SLOWER_THAN"
CODOMYRMEX_PERF_MCP_TOKEN = "CODOMYRMEX_PERF_MCP_TOKEN"
CODOMYRMEX_BENCH_COMMIT = "CODOMYRMEX_BENCH_COMMIT"

#: Standard variables read by this package (defined by the XDG and OTel specifications).
XDG_STATE_HOME = "XDG_STATE_HOME"
#: Which measurements may become exemplars (``trace_based``, the default, ``always_on``,
#: ``always_off``): the monitor offers one exemplar per bucket and collection only under
#: ``trace_based``.
OTEL_METRICS_EXEMPLAR_FILTER = "OTEL_METRICS_EXEMPLAR_FILTER"
#: GitHub Actions' job summary file: ``bench --markdown`` appends its table there too.
GITHUB_STEP_SUMMARY = "GITHUB_STEP_SUMMARY"
