"""What the view shows, computed from the spans and metric streams that were read.

Traces are laid out for a waterfall (spans depth-first, children by start time; a span
whose parent is missing starts a tree of its own). Function, cache and import figures
come from this package's metrics (``codomyrmex.function.duration``,
``codomyrmex.cache.*``, ``codomyrmex.import.duration``), added up over every stream
(every process and service instance) that was read; quantiles are estimated from the
explicit histogram buckets, as Prometheus's ``histogram_quantile`` does, clamped to the
recorded min and max. Benchmark runs are the ``benchmark <suite>`` spans with their
per-benchmark children.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from codomyrmex.performance import semconv
from codomyrmex.performance.view._reader import Exemplar, Histogram, Point, Span

__all__ = [
    "BenchmarkRow",
    "BenchmarkRun",
    "CacheRow",
    "FunctionRow",
    "ImportRow",
    "TraceLayout",
    "benchmark_runs",
    "cache_rows",
    "function_rows",
    "import_rows",
    "lay_out_traces",
]

#: Exemplars listed per function (the slowest): enough links, a bounded page.
EXEMPLARS_SHOWN = 12


@dataclass
class TraceLayout:
    """One trace ready for a waterfall: ``rows`` are (span, depth) in display order."""

    trace_id: str
    rows: list[tuple[Span, int]]
    start: int
    end: int
    errors: int

    @property
    def root(self) -> Span:
        return self.rows[0][0]

    @property
    def duration(self) -> int:
        return max(0, self.end - self.start)

    @property
    def services(self) -> list[str]:
        return sorted({span.service for span, _ in self.rows})


def lay_out_traces(spans: Iterable[Span]) -> list[TraceLayout]:
    """Group spans by trace (a span exported twice counts once), newest trace first."""
    by_trace: dict[str, dict[str, Span]] = defaultdict(dict)
    for span in spans:
        by_trace[span.trace_id].setdefault(span.span_id, span)
    layouts = [_layout(trace_id, members) for trace_id, members in by_trace.items()]
    layouts.sort(key=lambda layout: layout.start, reverse=True)
    return layouts


def _layout(trace_id: str, members: dict[str, Span]) -> TraceLayout:
    children: dict[str, list[Span]] = defaultdict(list)
    roots: list[Span] = []
    for span in members.values():
        if span.parent_id and span.parent_id in members and span.parent_id != span.span_id:
            children[span.parent_id].append(span)
        else:
            roots.append(span)
    rows: list[tuple[Span, int]] = []
    stack = [(span, 0) for span in sorted(roots, key=_by_start, reverse=True)]
    seen: set[str] = set()
    while stack:
        span, depth = stack.pop()
        if span.span_id in seen:  # a parent cycle in corrupt input
            continue
        seen.add(span.span_id)
        rows.append((span, depth))
        for child in sorted(children.get(span.span_id, ()), key=_by_start, reverse=True):
            stack.append((child, depth + 1))
    for span in members.values():  # spans only reachable through a cycle
        if span.span_id not in seen:
            rows.append((span, 0))
    return TraceLayout(
        trace_id=trace_id,
        rows=rows,
        start=min(span.start for span in members.values()),
        end=max(span.end for span in members.values()),
        errors=sum(1 for span in members.values() if span.error),
    )


def _by_start(span: Span) -> tuple[int, int]:
    return span.start, -span.end


@dataclass
class FunctionRow:
    """Calls of one function from ``codomyrmex.function.duration`` (seconds)."""

    name: str
    count: int = 0
    errors: int = 0
    total: float = 0.0
    bounds: tuple[float, ...] = ()
    counts: list[int] = field(default_factory=list)
    minimum: float | None = None
    maximum: float | None = None
    exemplars: list[Exemplar] = field(default_factory=list)

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan

    def quantile(self, q: float) -> float:
        """The ``q`` quantile estimated from the buckets (NaN without calls)."""
        return bucket_quantile(self.bounds, self.counts, q, self.minimum, self.maximum)


def bucket_quantile(
    bounds: Sequence[float],
    counts: Sequence[int],
    q: float,
    minimum: float | None = None,
    maximum: float | None = None,
) -> float:
    """Linear interpolation inside the bucket holding rank ``q * count``."""
    count = sum(counts)
    if count == 0:
        return math.nan
    rank = q * count
    seen = 0
    for index, in_bucket in enumerate(counts):
        if in_bucket and seen + in_bucket >= rank:
            low = bounds[index - 1] if index > 0 else (minimum if minimum is not None else 0.0)
            high = bounds[index] if index < len(bounds) else (maximum or bounds[-1])
            if minimum is not None:
                low = max(low, minimum)
            if maximum is not None:
                high = min(high, maximum)
            value = low + (high - low) * (rank - seen) / in_bucket
            return max(low, min(high, value))
        seen += in_bucket
    return maximum if maximum is not None else bounds[-1]


def function_rows(histograms: Iterable[Histogram]) -> list[FunctionRow]:
    """One row per monitored function, the most total time first."""
    rows: dict[str, FunctionRow] = {}
    for h in histograms:
        if h.name != semconv.FUNCTION_DURATION:
            continue
        name = str(h.attributes.get(semconv.CODE_FUNCTION_NAME, "?"))
        row = rows.setdefault(name, FunctionRow(name, bounds=h.bounds, counts=[0] * len(h.counts)))
        if h.bounds != row.bounds:  # another bucket layout: the totals still count
            row.count += h.count
            row.total += h.total
            continue
        row.counts = [a + b for a, b in zip(row.counts, h.counts, strict=False)]
        row.count += h.count
        row.total += h.total
        if semconv.ERROR_TYPE in h.attributes:
            row.errors += h.count
        if h.minimum is not None:
            row.minimum = h.minimum if row.minimum is None else min(row.minimum, h.minimum)
        if h.maximum is not None:
            row.maximum = h.maximum if row.maximum is None else max(row.maximum, h.maximum)
        row.exemplars.extend(h.exemplars)
    for row in rows.values():
        unique = {(e.trace_id, e.span_id): e for e in row.exemplars}
        row.exemplars = sorted(unique.values(), key=lambda e: e.value, reverse=True)
        row.exemplars = row.exemplars[:EXEMPLARS_SHOWN]
    return sorted(rows.values(), key=lambda row: row.total, reverse=True)


@dataclass
class CacheRow:
    """One cache: totals at the last export and how they went over time (cumulative)."""

    name: str
    hits: float = 0.0
    misses: float = 0.0
    evictions: dict[str, float] = field(default_factory=dict)
    entries: float | None = None
    times: list[int] = field(default_factory=list)
    hit_rates: list[float | None] = field(default_factory=list)
    evicted: list[float] = field(default_factory=list)

    @property
    def hit_rate(self) -> float:
        lookups = self.hits + self.misses
        return self.hits / lookups if lookups else math.nan


def cache_rows(points: Iterable[Point]) -> list[CacheRow]:
    """Hit rates and evictions of every cache, from ``codomyrmex.cache.*`` points."""
    wanted = (semconv.CACHE_REQUESTS, semconv.CACHE_EVICTIONS, semconv.CACHE_ENTRIES)
    by_cache: dict[str, list[Point]] = defaultdict(list)
    for point in points:
        if point.name in wanted:
            by_cache[str(point.attributes.get(semconv.CACHE_NAME, "?"))].append(point)
    rows = []
    for name, members in by_cache.items():
        members.sort(key=lambda p: p.time)
        row = CacheRow(name)
        streams = {point.stream: point for point in members}
        totals: dict[tuple[Any, ...], float] = {}
        for point in members:
            if point.cumulative:
                totals[point.stream] = point.value
            else:
                totals[point.stream] = totals.get(point.stream, 0.0) + point.value
            if row.times and row.times[-1] == point.time:
                row.times.pop()
                row.hit_rates.pop()
                row.evicted.pop()
            _fill(row, streams, totals)
            row.times.append(point.time)
            row.hit_rates.append(None if math.isnan(row.hit_rate) else row.hit_rate)
            row.evicted.append(sum(row.evictions.values()))
        rows.append(row)
    return sorted(rows, key=lambda row: row.name)


def _fill(
    row: CacheRow, streams: dict[tuple[Any, ...], Point], totals: dict[tuple[Any, ...], float]
) -> None:
    row.hits = row.misses = 0.0
    row.evictions = {}
    row.entries = None
    for stream, value in totals.items():
        point = streams[stream]
        if point.name == semconv.CACHE_REQUESTS:
            result = point.attributes.get(semconv.CACHE_RESULT)
            if result == "hit":
                row.hits += value
            elif result == "miss":
                row.misses += value
        elif point.name == semconv.CACHE_EVICTIONS:
            reason = str(point.attributes.get(semconv.CACHE_REASON, "?"))
            row.evictions[reason] = row.evictions.get(reason, 0.0) + value
        else:
            row.entries = (row.entries or 0.0) + value


@dataclass
class ImportRow:
    """Lazy imports of one module (seconds)."""

    module: str
    count: int
    total: float
    maximum: float | None
    exemplars: list[Exemplar]

    @property
    def mean(self) -> float:
        return self.total / self.count if self.count else math.nan


def import_rows(histograms: Iterable[Histogram]) -> list[ImportRow]:
    """One row per lazily imported module, the slowest first."""
    rows: dict[str, ImportRow] = {}
    for h in histograms:
        if h.name != semconv.IMPORT_DURATION:
            continue
        module = str(h.attributes.get(semconv.MODULE_NAME, "?"))
        row = rows.setdefault(module, ImportRow(module, 0, 0.0, None, []))
        row.count += h.count
        row.total += h.total
        if h.maximum is not None:
            row.maximum = h.maximum if row.maximum is None else max(row.maximum, h.maximum)
        row.exemplars.extend(h.exemplars)
    return sorted(rows.values(), key=lambda row: row.mean, reverse=True)


@dataclass
class BenchmarkRow:
    """One benchmark of a run, from its ``benchmark <suite>.<name>`` span."""

    name: str
    span: Span

    def figure(self, key: str) -> float:
        value = self.span.attributes.get(semconv.BENCHMARK_PREFIX + key)
        return float(value) if isinstance(value, (int, float)) else math.nan

    @property
    def verdict(self) -> str | None:
        value = self.span.attributes.get(semconv.BENCHMARK_PREFIX + "verdict")
        return str(value) if value is not None else None


@dataclass
class BenchmarkRun:
    """One ``benchmark <suite>`` span and its benchmarks."""

    suite: str
    span: Span
    benchmarks: list[BenchmarkRow]

    @property
    def commit(self) -> str | None:
        value = self.span.attributes.get(semconv.BENCHMARK_PREFIX + "commit")
        return str(value) if value is not None else None


def benchmark_runs(spans: Iterable[Span]) -> list[BenchmarkRun]:
    """Every benchmark run found, newest first."""
    runs: dict[str, BenchmarkRun] = {}
    children: list[Span] = []
    for span in spans:
        if not span.name.startswith(semconv.BENCHMARK_SPAN_PREFIX):
            continue
        if semconv.BENCHMARK_NAME in span.attributes:
            children.append(span)
        elif semconv.BENCHMARK_SUITE in span.attributes:
            suite = str(span.attributes[semconv.BENCHMARK_SUITE])
            runs[span.span_id] = BenchmarkRun(suite, span, [])
    for child in sorted(children, key=lambda span: span.start):
        run = runs.get(child.parent_id)
        if run is not None:
            run.benchmarks.append(
                BenchmarkRow(str(child.attributes[semconv.BENCHMARK_NAME]), child)
            )
    return sorted(runs.values(), key=lambda run: run.span.start, reverse=True)
