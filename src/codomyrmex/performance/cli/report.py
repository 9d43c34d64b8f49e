"""The performance report printed by ``codomyrmex-perf demo`` and ``codomyrmex-perf run``.

A :class:`Report` is plain data gathered from what the package already measured — a
monitor's per-function statistics, a :class:`~codomyrmex.performance.ResourceUsage`,
cache statistics, lazy import timings and the telemetry handle — so any command can
build one and print it with rich (:func:`render`) or as JSON (:meth:`Report.to_dict`)::

    report = build_report(
        "my job", monitor=monitor, usage=tracker.usage, caches=live_caches(),
        import_timings=import_timings(), handle=handle, blocks={"my job.load"},
    )
    render(report)

Names in ``blocks`` (``PerformanceMonitor.track`` blocks) are shown in a table of their
own: a block's total includes every call made inside it, so it would top the functions.
Only :func:`render` needs rich (the ``cli`` extra); it is imported there.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from codomyrmex.performance._shared.units import format_seconds
from codomyrmex.performance.cli import _format
from codomyrmex.performance.cli._session import PROG

if TYPE_CHECKING:
    from rich.console import Console

    from codomyrmex.performance.cli._session import TelemetryOutcome
    from codomyrmex.performance.resource_tracker import ResourceUsage
    from codomyrmex.performance.telemetry import TelemetryHandle

__all__ = [
    "CacheRow",
    "FunctionSummary",
    "ImportSummary",
    "Report",
    "TelemetrySummary",
    "build_report",
    "render",
]

#: Files the embedded telemetry default writes in its directory.


class _Monitor(Protocol):
    def stats_by_function(self) -> Mapping[str, Mapping[str, Any]]: ...


class _Cache(Protocol):
    name: Any

    def stats(self) -> Any: ...


@dataclass(frozen=True)
class FunctionSummary:
    """Calls of one monitored function (times in seconds)."""

    name: str
    calls: int
    errors: int
    total: float
    mean: float
    p50: float
    p95: float
    p99: float
    max: float
    cpu_time: float


@dataclass(frozen=True)
class CacheRow:
    """Lookups and entries of one cache."""

    name: str
    hits: int
    misses: int
    hit_rate: float
    size: int
    max_size: int | None
    evictions: int
    expirations: int
    errors: int = 0


@dataclass(frozen=True)
class ImportSummary:
    """How long one lazily imported module took to import."""

    module: str
    seconds: float


@dataclass(frozen=True)
class TelemetrySummary:
    """Where the telemetry went and how many spans made it."""

    destination: str
    spans_ended: int
    spans_exported: int
    spans_failed: int
    spans_dropped: int
    files: list[str] = field(default_factory=list)
    flushed: bool = True
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class Report:
    """Everything one report shows; functions and blocks sorted by total time, most first."""

    title: str
    functions: list[FunctionSummary] = field(default_factory=list)
    blocks: list[FunctionSummary] = field(default_factory=list)
    resources: ResourceUsage | None = None
    caches: list[CacheRow] = field(default_factory=list)
    imports: list[ImportSummary] = field(default_factory=list)
    telemetry: TelemetrySummary | None = None

    def to_dict(self) -> dict[str, Any]:
        """The report as JSON-ready data (the ``--json`` output)."""
        data = asdict(self)
        data["resources"] = self.resources.to_dict() if self.resources is not None else None
        return data


def build_report(
    title: str,
    *,
    monitor: _Monitor | None = None,
    usage: ResourceUsage | None = None,
    caches: Iterable[_Cache] = (),
    import_timings: Mapping[str, float] | None = None,
    handle: TelemetryHandle | None = None,
    outcome: TelemetryOutcome | None = None,
    blocks: Collection[str] = (),
) -> Report:
    """Gather a :class:`Report` from the objects that hold the measurements.

    ``outcome``: how the handle's shutdown went (``_session.stop_telemetry``).
    ``blocks``: the names of the monitor's tracked blocks, reported apart from functions.
    """
    summaries = _function_summaries(monitor) if monitor is not None else []
    return Report(
        title=title,
        functions=[summary for summary in summaries if summary.name not in blocks],
        blocks=[summary for summary in summaries if summary.name in blocks],
        resources=usage,
        caches=[_cache_summary(cache) for cache in caches],
        imports=sorted(
            (
                ImportSummary(name, float(seconds))
                for name, seconds in (import_timings or {}).items()
            ),
            key=lambda item: item.seconds,
            reverse=True,
        ),
        telemetry=_telemetry_summary(handle, outcome) if handle is not None else None,
    )


def _function_summaries(monitor: _Monitor) -> list[FunctionSummary]:
    summaries = [
        FunctionSummary(
            name=name,
            calls=int(stats["count"]),
            errors=int(stats["errors"]),
            total=float(stats["total"]),
            mean=float(stats["mean"]),
            p50=float(stats["p50"]),
            p95=float(stats["p95"]),
            p99=float(stats["p99"]),
            max=float(stats["max"]),
            cpu_time=float(stats["cpu_time"]),
        )
        for name, stats in monitor.stats_by_function().items()
        if stats["count"]
    ]
    return sorted(summaries, key=lambda summary: summary.total, reverse=True)


def _cache_summary(cache: _Cache) -> CacheRow:
    stats = cache.stats()
    return CacheRow(
        name=str(cache.name),
        hits=stats.hits,
        misses=stats.misses,
        hit_rate=float(stats.hit_rate),
        size=stats.size,
        max_size=stats.max_size,
        evictions=stats.evictions,
        expirations=stats.expirations,
        errors=getattr(stats, "errors", 0),
    )


def _telemetry_summary(
    handle: TelemetryHandle, outcome: TelemetryOutcome | None
) -> TelemetrySummary:
    stats = handle.stats()
    from codomyrmex.performance.view import telemetry_files

    directory = Path(handle.destination)
    files = [str(path) for path in telemetry_files(directory)] if directory.is_dir() else []
    return TelemetrySummary(
        destination=handle.destination,
        spans_ended=stats.ended,
        spans_exported=stats.exported,
        spans_failed=stats.failed,
        spans_dropped=stats.dropped,
        files=files,
        flushed=outcome is None or outcome.flushed,
        problems=[] if outcome is None else list(outcome.problems),
    )


#: The columns of the functions and tracked-blocks tables (after the name).
_CALL_COLUMNS = ("calls", "errors", "total", "CPU time", "p50", "p95", "p99", "max")
#: Narrower layouts of those tables: counts stacked, then times stacked by two or three.
_CALL_LAYOUTS = (
    ((0,), (1, 2), (3, 4), (5, 6), (7, 8)),
    ((0,), (1, 2), (3, 4, 8), (5, 6, 7)),
)


def render(report: Report, console: Console | None = None, *, top: int = 15) -> None:
    """Print the report with rich: the ``top`` slowest functions, then every other section.

    ``console`` defaults to :func:`~codomyrmex.performance.cli._format.console` (stdout).
    Every table fits the console's width (see :mod:`codomyrmex.performance.cli._format`).
    """
    from rich.markup import escape

    out = console if console is not None else _format.console()
    out.print(f"[bold]{escape(report.title)}[/bold]", highlight=False)
    if report.functions:
        _render_calls(out, "Slowest functions (by total time)", "function", report.functions, top)
    else:
        out.print("No monitored calls were recorded.")
    if report.blocks:
        title = "Tracked blocks (each total includes the calls made inside it)"
        _render_calls(out, title, "block", report.blocks, top)
    if report.resources is not None:
        _render_resources(out, report.resources)
    if report.caches:
        _render_caches(out, report.caches)
    if report.imports:
        _format.print_table(
            out,
            "Lazy imports",
            [_format.Column("module"), _format.Column("import time")],
            [[escape(item.module), format_seconds(item.seconds)] for item in report.imports],
        )
    if report.telemetry is not None:
        _render_telemetry(out, report.telemetry)


def _render_calls(
    out: Console, title: str, kind: str, summaries: list[FunctionSummary], top: int
) -> None:
    from rich.markup import escape

    shown = summaries[:top]
    prefix = _shared_prefix([summary.name for summary in shown])
    if prefix:
        title = f"{title}, in {prefix.removesuffix('.')}"
    rows = [
        [
            escape(summary.name.removeprefix(prefix)),
            str(summary.calls),
            f"[red]{summary.errors}[/red]" if summary.errors else "0",
            *(
                format_seconds(value)
                for value in (
                    summary.total,
                    summary.cpu_time,
                    summary.p50,
                    summary.p95,
                    summary.p99,
                    summary.max,
                )
            ),
        ]
        for summary in shown
    ]
    columns = [_format.Column(kind), *map(_format.Column, _CALL_COLUMNS)]
    _format.print_table(out, title, columns, rows, _CALL_LAYOUTS)
    if len(summaries) > top:
        hidden = len(summaries) - top
        out.print(f"... and {hidden} more {kind}{'s' if hidden > 1 else ''}")


def _shared_prefix(names: list[str]) -> str:
    """The dotted prefix (``pkg.module.``) of every name, written once in the title.

    Empty for fewer than two names; never a whole name.
    """
    if len(names) < 2:
        return ""
    shared: list[str] = []
    for parts in zip(*(name.split(".")[:-1] for name in names), strict=False):
        if len(set(parts)) > 1:
            break
        shared.append(parts[0])
    return "".join(f"{part}." for part in shared)


def _render_resources(out: Console, usage: ResourceUsage) -> None:
    source = "kernel high-water mark" if usage.peak_rss_exact else "sampled"
    rows = [
        ["peak memory (RSS)", f"{usage.peak_rss_mb:.1f} MiB ({source})"],
        ["memory change (RSS)", f"{usage.rss_delta_mb:+.1f} MiB"],
        ["wall time", format_seconds(usage.duration)],
        ["CPU time", format_seconds(usage.cpu_time)],
        ["  user", format_seconds(usage.user_time)],
        ["  system", format_seconds(usage.system_time)],
        ["CPU utilisation", f"{usage.cpu_percent:.0f} %"],
        ["peak threads", str(usage.peak_threads)],
    ]
    if usage.peak_fds is not None:
        rows.append(["peak open files", str(usage.peak_fds)])
    rows.append(["samples", str(usage.samples)])
    columns = [_format.Column("resource"), _format.Column("value", justify="left")]
    _format.print_table(out, "Process resources", columns, rows)


def _render_caches(out: Console, caches: list[CacheRow]) -> None:
    from rich.markup import escape

    headers = ["hits", "misses", "hit rate", "entries", "evictions", "expirations"]
    show_errors = any(cache.errors for cache in caches)
    if show_errors:
        headers.append("errors")
    rows = []
    for cache in caches:
        bound = "unbounded" if cache.max_size is None else str(cache.max_size)
        row = [
            escape(cache.name),
            str(cache.hits),
            str(cache.misses),
            f"{cache.hit_rate:.0%}" if cache.hits + cache.misses else "-",
            f"{cache.size} / {bound}",
            str(cache.evictions),
            str(cache.expirations),
        ]
        if show_errors:
            row.append(f"[red]{cache.errors}[/red]" if cache.errors else "0")
        rows.append(row)
    columns = [_format.Column("cache"), *map(_format.Column, headers)]
    stacked = ((0,), (1, 2, 3), (4,), tuple(range(5, len(columns))))
    _format.print_table(out, "Caches", columns, rows, [stacked])


def _render_telemetry(out: Console, telemetry: TelemetrySummary) -> None:
    from rich.markup import escape

    out.print("[bold]Telemetry[/bold]")
    out.print(f"  sent to: {telemetry.destination}", soft_wrap=True, highlight=False, markup=False)
    for path in telemetry.files:
        out.print(f"  file: {path}", soft_wrap=True, highlight=False, markup=False)
    out.print(
        f"  spans: {telemetry.spans_ended} ended, {telemetry.spans_exported} exported",
        highlight=False,
    )
    lost = telemetry.spans_dropped + telemetry.spans_failed
    if lost:
        out.print(
            f"  [yellow]{lost} span(s) lost: {telemetry.spans_dropped} dropped (queue full), "
            f"{telemetry.spans_failed} failed to export[/yellow]"
        )
    if not telemetry.flushed:
        out.print("  [yellow]gave up waiting for the export to finish[/yellow]")
    for problem in telemetry.problems:
        out.print(f"  [yellow]{escape(problem)}[/yellow]", highlight=False)
    if telemetry.files:
        out.print(
            "  (OTLP/JSON lines: replay them into any backend with an OpenTelemetry Collector "
            "'otlpjsonfile' receiver, or send live with --otlp URL)",
            highlight=False,
        )
        out.print(f"view it: {PROG} view", highlight=False)
