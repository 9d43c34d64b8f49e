"""MCP tools that read this process: monitor history, live caches, resource usage."""

from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

from codomyrmex.performance.mcp._args import check_int, check_text
from codomyrmex.performance.mcp._results import (
    CacheClearResult,
    CacheReport,
    CacheSummary,
    CallRecord,
    CallStats,
    MetricsReport,
    ResourceSnapshot,
    StatsReport,
)

__all__ = [
    "performance_cache_clear",
    "performance_cache_stats",
    "performance_get_metrics",
    "performance_get_stats",
    "performance_resource_snapshot",
]

#: Most calls ``performance_get_metrics`` returns at once.
MAX_METRICS_LIMIT = 10_000

_CPU_SAMPLE_SECONDS = 0.1


def _unknown(what: str, name: str, known: list[str]) -> LookupError:
    listed = ", ".join(sorted(known)[:20]) + (", ..." if len(known) > 20 else "")
    return LookupError(f"no {what} named {name!r}; known: {listed or 'none'}")


def _call_stats(stats: Mapping[str, Any]) -> CallStats:
    return {key: stats[key] for key in CallStats.__annotations__}  # type: ignore[return-value]


def performance_get_stats(function_name: str | None = None) -> StatsReport:
    """Call statistics (seconds) of the functions monitored in this process (@monitor).

    overall covers every recorded call (or those of function_name); functions has each
    function's count, errors, total, min, max, mean, p50, p95, p99, cpu_time, memory.
    status: "success"; an unknown function_name is an error result naming the known ones.
    """
    from codomyrmex.performance.performance_monitor import default_monitor

    monitor = default_monitor()
    by_function = monitor.stats_by_function()
    if function_name is None:
        overall = monitor.get_stats()
    else:
        check_text(function_name, "function_name")
        if function_name not in by_function:
            raise _unknown("monitored function with recorded calls", function_name, [*by_function])
        by_function = {function_name: by_function[function_name]}
        overall = by_function[function_name]
    return {
        "status": "success",
        "function_name": function_name,
        "overall": _call_stats(overall),
        "functions": {name: _call_stats(stats) for name, stats in by_function.items()},
    }


def performance_get_metrics(function_name: str | None = None, limit: int = 100) -> MetricsReport:
    """The most recent monitored calls in this process, newest first, with trace ids.

    Each call has its duration and CPU time (seconds), peak RSS, error type and the
    trace_id/span_id of its span. limit: how many calls to return (1 to 10000).
    status: "success"; a bad limit or an unknown function_name is an error result.
    """
    from codomyrmex.performance.performance_monitor import default_monitor

    check_int(limit, "limit", 1, MAX_METRICS_LIMIT)
    monitor = default_monitor()
    if function_name is not None:
        check_text(function_name, "function_name")
    metrics = monitor.get_metrics(function_name)
    if function_name is not None and not metrics:
        known = [*monitor.stats_by_function()]
        raise _unknown("monitored function with recorded calls", function_name, known)
    recent = metrics[-limit:][::-1]
    calls: list[CallRecord] = [
        {
            "function_name": m.function_name,
            "execution_time": m.execution_time,
            "cpu_time": m.cpu_time,
            "cpu_percent": m.cpu_percent,
            "memory_usage_mb": m.memory_usage_mb,
            "timestamp": m.timestamp,
            "error": m.error,
            "trace_id": m.trace_id,
            "span_id": m.span_id,
            "metadata": dict(m.metadata),
        }
        for m in recent
    ]
    return {
        "status": "success",
        "function_name": function_name,
        "matching": len(metrics),
        "returned": len(calls),
        "calls": calls,
    }


def _caches_named(name: str) -> list[Any]:
    from codomyrmex.performance.cache_manager import live_caches

    caches = live_caches()
    found = [cache for cache in caches if cache.name == name]
    if not found:
        raise _unknown("live cache", name, sorted({cache.name for cache in caches}))
    return found


def performance_cache_stats(name: str | None = None) -> CacheReport:
    """Hits, misses, hit rate, size, evictions and expirations of the live caches.

    Every cache in this process (@cached_function, CacheManager), or those named name.
    status: "success"; an unknown name is an error result naming the live caches.
    """
    from codomyrmex.performance.cache_manager import live_caches

    caches = live_caches() if name is None else _caches_named(check_text(name, "name"))
    summaries: list[CacheSummary] = []
    for cache in caches:
        stats = cache.stats()
        summaries.append(
            {
                "name": cache.name,
                "backend": "memory" if cache.backend is None else "redis",
                "ttl_seconds": cache.ttl_seconds,
                "max_size": cache.max_size,
                "size": stats.size,
                "hits": stats.hits,
                "misses": stats.misses,
                "hit_rate": stats.hit_rate,
                "evictions": stats.evictions,
                "expirations": stats.expirations,
                "errors": stats.errors,
            }
        )
    return {"status": "success", "caches": summaries}


def performance_cache_clear(name: str) -> CacheClearResult:
    """Empty every live cache named name (its counters are kept).

    status: "success"; an unknown name is an error result naming the live caches.
    """
    caches = _caches_named(check_text(name, "name"))
    removed = 0
    for cache in caches:
        before = len(cache)
        cache.clear()
        removed += max(before - len(cache), 0)
    return {
        "status": "success",
        "name": name,
        "caches_cleared": len(caches),
        "entries_removed": removed,
    }


def performance_resource_snapshot(
    pid: int | None = None, *, any_process: bool = False
) -> ResourceSnapshot:
    """Memory (RSS, VMS), CPU, threads and open file descriptors of a process now.

    pid: the process to read, this server's own by default; only this process and its
    child processes, unless the server was started to read any process. cpu_percent is
    measured over 0.1 s (above 100 when several threads are busy).
    status: "success"; another process, a bad or unknown pid is an error result.
    """
    import psutil

    if pid is not None and (isinstance(pid, bool) or not isinstance(pid, int)):
        raise TypeError(f"pid must be an integer, not {type(pid).__name__}")
    if pid is not None and pid < 0:
        raise ValueError(f"pid must be >= 0, got {pid}")
    target = os.getpid() if pid is None else pid
    if not any_process and target != os.getpid() and target not in _children():
        raise PermissionError(
            f"process {target} is neither this server nor one of its child processes: "
            "refused (start the server with --any-process to read every process)"
        )
    try:
        process = psutil.Process(target)
        with process.oneshot():
            memory = process.memory_info()
            times = process.cpu_times()
            snapshot: ResourceSnapshot = {
                "status": "success",
                "pid": target,
                "name": process.name(),
                "process_status": str(process.status()),
                "rss_mb": memory.rss / 2**20,
                "vms_mb": memory.vms / 2**20,
                "memory_percent": float(process.memory_percent()),
                "cpu_percent": 0.0,
                "cpu_time_user": times.user,
                "cpu_time_system": times.system,
                "threads": process.num_threads(),
                "fds": _open_fds(process),
                "create_time": process.create_time(),
            }
        snapshot["cpu_percent"] = process.cpu_percent(interval=_CPU_SAMPLE_SECONDS)
    except psutil.ZombieProcess as exc:
        raise LookupError(f"process {target} is a zombie (exited, not yet reaped)") from exc
    except psutil.NoSuchProcess as exc:
        raise LookupError(f"no process with pid {target}") from exc
    except psutil.AccessDenied as exc:
        raise PermissionError(f"not allowed to read process {target}") from exc
    return snapshot


def _children() -> set[int]:
    import psutil

    return {child.pid for child in psutil.Process().children(recursive=True)}


def _open_fds(process: Any) -> int | None:
    import psutil

    try:
        return int(process.num_fds()) if hasattr(process, "num_fds") else None
    except psutil.AccessDenied:
        return None
