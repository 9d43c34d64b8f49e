"""Performance monitoring, caching, lazy loading and benchmarking, observable with OpenTelemetry.

Every name is exported lazily (PEP 562): ``import codomyrmex.performance`` imports neither
the OpenTelemetry SDK, grpc, psutil nor wrapt; each name loads its module on first use.
"""

from __future__ import annotations

import importlib

TYPE_CHECKING = False  # not ``typing.TYPE_CHECKING``: importing typing costs milliseconds
if TYPE_CHECKING:
    from typing import Any

    from codomyrmex.performance.cache_manager import CacheManager, CacheStats, cached_function
    from codomyrmex.performance.instrumentation import PerformanceInstrumentor
    from codomyrmex.performance.lazy_loader import LazyLoader, lazy_import
    from codomyrmex.performance.performance_monitor import (
        PerformanceMetrics,
        PerformanceMonitor,
        monitor,
    )
    from codomyrmex.performance.profiling.benchmark import (
        BenchmarkResult,
        BenchmarkSuite,
        run_benchmark,
    )
    from codomyrmex.performance.resource_tracker import ResourceTracker, ResourceUsage
    from codomyrmex.performance.telemetry import configure_telemetry

_EXPORTS: dict[str, str] = {
    "PerformanceMonitor": "performance_monitor",
    "PerformanceMetrics": "performance_monitor",
    "monitor": "performance_monitor",
    "ResourceTracker": "resource_tracker",
    "ResourceUsage": "resource_tracker",
    "CacheManager": "cache_manager",
    "CacheStats": "cache_manager",
    "cached_function": "cache_manager",
    "LazyLoader": "lazy_loader",
    "lazy_import": "lazy_loader",
    "BenchmarkSuite": "profiling.benchmark",
    "BenchmarkResult": "profiling.benchmark",
    "run_benchmark": "profiling.benchmark",
    "configure_telemetry": "telemetry",
    "PerformanceInstrumentor": "instrumentation",
}

__all__ = [
    "BenchmarkResult",
    "BenchmarkSuite",
    "CacheManager",
    "CacheStats",
    "LazyLoader",
    "PerformanceInstrumentor",
    "PerformanceMetrics",
    "PerformanceMonitor",
    "ResourceTracker",
    "ResourceUsage",
    "cached_function",
    "configure_telemetry",
    "lazy_import",
    "monitor",
    "run_benchmark",
]


def __getattr__(name: str) -> Any:
    module_name = _EXPORTS.get(name)
    if module_name is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module_name}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])
