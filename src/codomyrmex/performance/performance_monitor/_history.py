"""``PerformanceMetrics`` and what a monitor computes from its history: stats and exports.

Kept apart from ``performance_monitor`` because ``dataclasses``, ``json`` and ``csv`` cost
tens of milliseconds to import; a program that only decorates functions never loads them.
"""

from __future__ import annotations

import csv
import io
import json
import math
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import TYPE_CHECKING, Any, NamedTuple

from codomyrmex.performance._shared.files import write_text_atomically
from codomyrmex.performance._shared.quantiles import percentile
from codomyrmex.performance.performance_monitor._core import MAXRSS_TO_MB

if TYPE_CHECKING:
    from codomyrmex.performance.performance_monitor._core import RawRecord

__all__ = [
    "EXPORT_FORMATS",
    "PerformanceMetrics",
    "Record",
    "by_function",
    "compute_stats",
    "export",
    "select",
    "to_metrics",
]

EXPORT_FORMATS = ("json", "jsonl", "csv")


class Record(NamedTuple):
    """One history entry read by field name (the monitor stores it as a plain tuple)."""

    function_name: str
    #: ``perf_counter`` at the call's start.
    start: float
    #: Seconds of wall time.
    duration: float
    #: Seconds of the thread's CPU time (not yet clamped to ``duration``).
    cpu_time: float
    #: ``ru_maxrss`` when the call returned (platform units, see ``MAXRSS_TO_MB``).
    maxrss: int
    #: ``error.type`` of a failed call.
    error: str | None
    trace_id: int | None
    span_id: int | None
    metadata: Mapping[str, Any] | None


_read = Record._make


def select(records: Iterable[RawRecord], function_name: str) -> Iterator[Record]:
    """The records of one function name."""
    return (record for record in map(_read, records) if record.function_name == function_name)


def by_function(records: Iterable[RawRecord]) -> dict[str, list[Record]]:
    """The records grouped by function name, in order of first appearance."""
    grouped: dict[str, list[Record]] = {}
    for record in map(_read, records):
        grouped.setdefault(record.function_name, []).append(record)
    return grouped


@dataclass(frozen=True)
class PerformanceMetrics:
    """One recorded call.

    ``execution_time`` and ``cpu_time`` are seconds (``perf_counter`` and the thread's CPU
    time, ``time.thread_time``). For generators both add up the generator's steps. For
    coroutines and async generators ``cpu_time`` adds up the steps the function itself
    ran, so other tasks' CPU while it was suspended is not counted. For an ``async with
    track()`` block it is the thread's CPU over the block, other tasks included (a block
    has no steps of its own to measure). ``cpu_time`` never exceeds ``execution_time`` (it is
    clamped: one thread cannot use more CPU than the wall time that passed), so
    ``cpu_percent``, ``cpu_time / execution_time * 100``, is at most 100.
    ``memory_usage_mb`` is the process's peak resident set size (the kernel's high-water
    mark, ``ru_maxrss``) when the call returned: it tells whether a call pushed the process
    to a new peak, not what the call itself allocated (use ``ResourceTracker`` for a
    block's own peak). ``timestamp`` is the call's start in Unix seconds (``time.time()``
    when built by hand without one). ``error`` is the exception's type name (``error.type``)
    or None.
    ``trace_id``/``span_id`` are hex ids of the call's span, None when it was not recorded.
    """

    function_name: str
    execution_time: float
    memory_usage_mb: float
    cpu_percent: float
    timestamp: float = field(default_factory=time.time)
    metadata: dict[str, Any] = field(default_factory=dict)
    cpu_time: float = 0.0
    error: str | None = None
    trace_id: str | None = None
    span_id: str | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict of every field."""
        return asdict(self)


def cpu_within(cpu: float, duration: float) -> float:
    """A call's CPU time clamped to ``[0, duration]``.

    One thread cannot use more CPU than the wall time that passed; the two clocks differ
    in resolution, so a short call can read a few nanoseconds more CPU than wall time.
    """
    if cpu > duration:
        return duration
    return cpu if cpu > 0.0 else 0.0


def to_metrics(raw: RawRecord, epoch_offset: float) -> PerformanceMetrics:
    """Build the public object from a history entry."""
    record = _read(raw)
    duration = record.duration
    cpu = cpu_within(record.cpu_time, duration)
    return PerformanceMetrics(
        function_name=record.function_name,
        execution_time=duration,
        memory_usage_mb=record.maxrss * MAXRSS_TO_MB,
        cpu_percent=cpu / duration * 100.0 if duration > 0 else 0.0,
        timestamp=epoch_offset + record.start,
        metadata=dict(record.metadata) if record.metadata else {},
        cpu_time=cpu,
        error=record.error,
        trace_id=None if record.trace_id is None else format(record.trace_id, "032x"),
        span_id=None if record.span_id is None else format(record.span_id, "016x"),
    )


def compute_stats(records: Iterable[RawRecord]) -> dict[str, Any]:
    """count, errors, total, min, max, mean, p50, p95, p99 (seconds), cpu_time, memory.

    With no calls, count/errors/total are 0 and the rest None.
    """
    durations: list[float] = []
    errors = 0
    cpu_total = 0.0
    maxrss = 0
    for record in map(_read, records):
        durations.append(record.duration)
        cpu_total += cpu_within(record.cpu_time, record.duration)
        maxrss = max(maxrss, record.maxrss)
        if record.error is not None:
            errors += 1
    if not durations:
        return {
            "count": 0, "errors": 0, "total": 0.0, "min": None, "max": None,
            "mean": None, "p50": None, "p95": None, "p99": None,
            "cpu_time": 0.0, "memory_peak_mb": None,
        }  # fmt: skip
    durations.sort()
    total = math.fsum(durations)
    return {
        "count": len(durations),
        "errors": errors,
        "total": total,
        "min": durations[0],
        "max": durations[-1],
        "mean": total / len(durations),
        "p50": percentile(durations, 0.50),
        "p95": percentile(durations, 0.95),
        "p99": percentile(durations, 0.99),
        "cpu_time": cpu_total,
        "memory_peak_mb": maxrss * MAXRSS_TO_MB,
    }


_CSV_FIELDS = [f.name for f in fields(PerformanceMetrics)]


def _render(metrics: Sequence[PerformanceMetrics], fmt: str) -> str:
    if fmt == "json":
        return json.dumps([m.to_dict() for m in metrics], indent=2, default=str) + "\n"
    if fmt == "jsonl":
        return "".join(json.dumps(m.to_dict(), default=str) + "\n" for m in metrics)
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=_CSV_FIELDS, lineterminator="\n")
    writer.writeheader()
    for metric in metrics:
        row = metric.to_dict()
        row["metadata"] = json.dumps(row["metadata"], default=str, sort_keys=True)
        writer.writerow(row)
    return buffer.getvalue()


def export(metrics: Sequence[PerformanceMetrics], path: Path, fmt: str) -> None:
    """Write ``metrics`` to ``path`` in format ``fmt``, atomically (see ``_shared.files``)."""
    write_text_atomically(path, _render(metrics, fmt))
