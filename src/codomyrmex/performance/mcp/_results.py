"""Result types of the MCP tools (:mod:`codomyrmex.performance.mcp.tools`).

Each tool returns one of these ``TypedDict`` s: plain dicts for Python callers, and the
source of the tool's JSON output schema for MCP clients (so the class docstrings, which
become schema descriptions, are plain text). Durations are seconds unless a field says
otherwise; a statistic that does not exist (no samples, a failed benchmark) is ``None``,
never NaN, so that every result is valid JSON.

``status`` is ``"success"`` in every answer. ``performance_check_regression`` and
``performance_compare_benchmarks`` keep the contract of the codomyrmex tools they replace:
bad input is an answer too, ``{"status": "error", "message": ..., "error_type": ...}``
with no other key. The other tools report bad input as an MCP error result (``isError``)
carrying the message.
"""

from __future__ import annotations

from typing import Any, Literal

from typing_extensions import NotRequired, TypedDict  # pydantic needs them on Python < 3.12

from codomyrmex.performance.profiling.result import Verdict

__all__ = [
    "BenchmarkComparison",
    "BenchmarkProfile",
    "BenchmarkRunReport",
    "BenchmarkStats",
    "CacheClearResult",
    "CacheReport",
    "CacheSummary",
    "CallRecord",
    "CallStats",
    "ComparisonResult",
    "FunctionGrowth",
    "FunctionTime",
    "MetricsReport",
    "RegressionCheck",
    "ResourceSnapshot",
    "Severity",
    "StatsReport",
    "Status",
    "SuiteReport",
]

Severity = Literal["info", "warning", "critical"]
#: The status of the two tools that answer bad input instead of failing the call.
Status = Literal["success", "error"]


class RegressionCheck(TypedDict):
    """performance_check_regression: is measured_value a regression from the baseline?

    status is "success", or "error" when an argument was wrong: then message says which
    and error_type is the exception class (TypeError, ValueError), with no other key.
    deviation is (measured - mean) / |mean| (deviation_kind="relative"), or
    measured - mean in unit when the baseline mean is 0 ("absolute").
    z_score is the change in baseline standard deviations (None when it is 0);
    noise_band the absolute change the baseline's noise explains (2 standard deviations).
    """

    status: Status
    message: str
    error_type: NotRequired[str]
    benchmark: NotRequired[str]
    is_regression: NotRequired[bool]
    severity: NotRequired[Severity]
    deviation: NotRequired[float]
    deviation_kind: NotRequired[Literal["relative", "absolute"]]
    z_score: NotRequired[float | None]
    noise_band: NotRequired[float]
    measured_value: NotRequired[float]
    baseline_mean: NotRequired[float]
    baseline_stddev: NotRequired[float]
    higher_is_better: NotRequired[bool]
    unit: NotRequired[str]


class ComparisonResult(TypedDict):
    """performance_compare_benchmarks: the change from before to after.

    status is "success", or "error" when an argument was wrong: then message says which
    and error_type is the exception class (TypeError, ValueError), with no other key.
    relative_delta_pct is (after - before) / |before| * 100; None when before
    is 0 and after is not (the relative change is undefined).
    """

    status: Status
    message: str
    error_type: NotRequired[str]
    name: NotRequired[str]
    before: NotRequired[float]
    after: NotRequired[float]
    absolute_delta: NotRequired[float]
    relative_delta_pct: NotRequired[float | None]
    improved: NotRequired[bool]
    regressed: NotRequired[bool]
    higher_is_better: NotRequired[bool]


class CallStats(TypedDict):
    """Statistics of recorded calls (seconds); None where there are no calls."""

    count: int
    errors: int
    total: float
    min: float | None
    max: float | None
    mean: float | None
    p50: float | None
    p95: float | None
    p99: float | None
    cpu_time: float
    memory_peak_mb: float | None


class StatsReport(TypedDict):
    """performance_get_stats: all calls (overall) and each function's."""

    status: Literal["success"]
    function_name: str | None
    overall: CallStats
    functions: dict[str, CallStats]


class CallRecord(TypedDict):
    """One monitored call; trace_id/span_id find it in a tracing backend."""

    function_name: str
    execution_time: float
    cpu_time: float
    cpu_percent: float
    memory_usage_mb: float
    timestamp: float
    error: str | None
    trace_id: str | None
    span_id: str | None
    metadata: dict[str, Any]


class MetricsReport(TypedDict):
    """performance_get_metrics: the most recent calls, newest first."""

    status: Literal["success"]
    function_name: str | None
    matching: int
    returned: int
    calls: list[CallRecord]


class CacheSummary(TypedDict):
    """One live cache: its counters since creation and its current size."""

    name: str
    backend: Literal["memory", "redis"]
    ttl_seconds: float | None
    max_size: int | None
    size: int
    hits: int
    misses: int
    hit_rate: float
    evictions: int
    expirations: int
    errors: int


class CacheReport(TypedDict):
    """performance_cache_stats."""

    status: Literal["success"]
    caches: list[CacheSummary]


class CacheClearResult(TypedDict):
    """performance_cache_clear: how many caches of that name were emptied."""

    status: Literal["success"]
    name: str
    caches_cleared: int
    entries_removed: int


class ResourceSnapshot(TypedDict):
    """performance_resource_snapshot: one process right now.

    cpu_percent is measured over 0.1 s and can exceed 100 with several busy threads;
    fds is None where the platform or permissions do not tell.
    """

    status: Literal["success"]
    pid: int
    name: str
    process_status: str
    rss_mb: float
    vms_mb: float
    memory_percent: float
    cpu_percent: float
    cpu_time_user: float
    cpu_time_system: float
    threads: int
    fds: int | None
    create_time: float


class FunctionTime(TypedDict):
    """One function of a profile: seconds and calls per call of the benchmark.

    own is the time in the function itself, cumulative includes what it called; file is
    relative to its sys.path entry ("~" for built-ins).
    """

    name: str
    file: str
    line: int
    own: float
    cumulative: float
    calls: float


class FunctionGrowth(TypedDict):
    """A function whose time per benchmark call grew from the baseline to this run."""

    name: str
    file: str
    line: int
    own_before: float
    own_after: float
    own_delta: float
    cumulative_before: float
    cumulative_after: float
    cumulative_delta: float


class BenchmarkProfile(TypedDict):
    """A profiled pass after the timed rounds (profile=True): calls profiled, top functions."""

    calls: int
    top_functions: list[FunctionTime]


class BenchmarkComparison(TypedDict):
    """How a benchmark compares with its baseline (see profiling.result.Comparison).

    grew: on a regression run with profile=True, the functions whose own time per call
    grew most (biggest first), when the baseline side has a profile too; else None.
    """

    verdict: Verdict
    ratio: float | None
    ci_low: float | None
    ci_high: float | None
    p_value: float | None
    p_adjusted: float | None
    threshold: float | None
    mode: str
    baseline_median: float | None
    candidate_median: float | None
    grew: list[FunctionGrowth] | None


class BenchmarkStats(TypedDict):
    """One benchmark's statistics (seconds per call) and verdict."""

    name: str
    error: str | None
    rounds: int
    iterations: int
    min: float | None
    max: float | None
    mean: float | None
    median: float | None
    stdev: float | None
    iqr: float | None
    p95: float | None
    p99: float | None
    ops_per_sec: float | None
    verdict: Verdict | None
    comparison: BenchmarkComparison | None
    profile: BenchmarkProfile | None
    warnings: list[str]


class SuiteReport(TypedDict):
    """One suite's run."""

    suite: str
    run_id: str
    commit: str | None
    warnings: list[str]
    results: list[BenchmarkStats]


class BenchmarkRunReport(TypedDict):
    """performance_run_benchmark: every suite found under path.

    passed is False on a regression or a failed benchmark; baseline_saved is the
    file written for save_baseline (None when not asked, or when the run did not pass).
    """

    status: Literal["success"]
    path: str
    passed: bool
    regressions: int
    failures: int
    baseline_saved: str | None
    suites: list[SuiteReport]
