"""The performance report printed by ``codomyrmex-perf demo`` and ``codomyrmex-perf run``.

A :class:`Report` is plain data gathered from what the package already measured — a
monitor's per-function statistics, a :class:`~codomyrmex.performance.ResourceUsage`,
cache statistics, lazy import timings and the telemetry handle — so any command can
build one and print it with rich (:func:`render`) or as JSON (:meth:`Report.to_dict`)::

    report = build_report(
        "my job", monitor=monitor, usage=tracker.usage, caches=live_caches(),
        import_timings=import_timings(), handle=handle,
    )
    render(report)

Only :func:`render` needs rich (the ``cli`` extra); it is imported there.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:
    from rich.console import Console

    from codomyrmex.performance.resource_tracker import ResourceUsage
    from codomyrmex.performance.telemetry import TelemetryHandle

__all__ = [
    "CacheRow",
    "FunctionSummary",
    "ImportSummary",
    "Report",
    "TelemetrySummary",
    "build_report",
    "format_seconds",
    "render",
    "report_console",
]

#: Files the embedded telemetry default writes in its directory.
TELEMETRY_FILES = ("traces.jsonl", "metrics.jsonl")


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


@dataclass(frozen=True)
class Report:
    """Everything one report shows; functions are sorted slowest (most total time) first."""

    title: str
    functions: list[FunctionSummary] = field(default_factory=list)
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
) -> Report:
    """Gather a :class:`Report` from the objects that hold the measurements."""
    return Report(
        title=title,
        functions=_function_summaries(monitor) if monitor is not None else [],
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
        telemetry=_telemetry_summary(handle) if handle is not None else None,
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


def _telemetry_summary(handle: TelemetryHandle) -> TelemetrySummary:
    stats = handle.stats()
    directory = Path(handle.destination)
    files = [str(directory / name) for name in TELEMETRY_FILES if (directory / name).is_file()]
    return TelemetrySummary(
        destination=handle.destination,
        spans_ended=stats.ended,
        spans_exported=stats.exported,
        spans_failed=stats.failed,
        spans_dropped=stats.dropped,
        files=files,
    )


def format_seconds(seconds: float) -> str:
    """A duration in the unit that reads best: ``840 ns``, ``12.3 µs``, ``4.56 ms``, ``1.23 s``."""
    magnitude = abs(seconds)
    if magnitude < 5e-10:
        return "0"
    if magnitude < 1e-6:
        return f"{seconds * 1e9:.0f} ns"
    if magnitude < 1e-3:
        return f"{seconds * 1e6:.1f} µs"
    if magnitude < 1:
        return f"{seconds * 1e3:.2f} ms"
    return f"{seconds:.2f} s"


#: Width of a report written to a pipe or file (no terminal width to fit): wide enough
#: that function names are never folded.
LOG_WIDTH = 200


def report_console(*, stderr: bool = False) -> Console:
    """A rich console on stdout (or stderr) for :func:`render`.

    At the terminal's width on a terminal; else (a pipe, a file, captured output: CI
    logs) at :data:`LOG_WIDTH` whatever ``$COLUMNS`` says, where rich would otherwise use
    80 columns and squeeze the function names out of the table.
    """
    from rich.console import Console

    console = Console(stderr=stderr)
    if not console.is_terminal:
        console = Console(stderr=stderr, width=LOG_WIDTH)
    return console


def render(report: Report, console: Console | None = None, *, top: int = 15) -> None:
    """Print the report with rich: the ``top`` slowest functions, then every other section.

    ``console`` defaults to :func:`report_console` (stdout).
    """
    if console is None:
        console = report_console()
    console.print(f"[bold]{report.title}[/bold]", highlight=False)
    _render_functions(console, report.functions, top)
    if report.resources is not None:
        _render_resources(console, report.resources)
    if report.caches:
        _render_caches(console, report.caches)
    if report.imports:
        _render_imports(console, report.imports)
    if report.telemetry is not None:
        _render_telemetry(console, report.telemetry)


#: Narrowest the name column of a table gets, however many number columns compete.
_NAME_MIN_WIDTH = 24


def _render_functions(console: Console, functions: list[FunctionSummary], top: int) -> None:
    from rich.table import Table

    if not functions:
        console.print("No monitored calls were recorded.")
        return
    table = Table(title="Slowest functions (by total time)", title_justify="left")
    table.add_column("function", overflow="fold", min_width=_NAME_MIN_WIDTH)
    for header in ("calls", "errors", "total", "p50", "p95", "p99", "max", "CPU time"):
        table.add_column(header, justify="right", no_wrap=True)
    for summary in functions[:top]:
        table.add_row(
            summary.name,
            str(summary.calls),
            f"[red]{summary.errors}[/red]" if summary.errors else "0",
            *(
                format_seconds(value)
                for value in (
                    summary.total,
                    summary.p50,
                    summary.p95,
                    summary.p99,
                    summary.max,
                    summary.cpu_time,
                )
            ),
        )
    console.print(table)
    if len(functions) > top:
        hidden = len(functions) - top
        console.print(f"... and {hidden} more function{'s' if hidden > 1 else ''}")


def _render_resources(console: Console, usage: ResourceUsage) -> None:
    from rich.table import Table

    table = Table(
        title="Process resources (tracked block)", title_justify="left", show_header=False
    )
    table.add_column("what")
    table.add_column("value", justify="right")
    source = "kernel high-water mark" if usage.peak_rss_exact else "sampled"
    table.add_row("peak memory (RSS)", f"{usage.peak_rss_mb:.1f} MiB ({source})")
    table.add_row("memory change (RSS)", f"{usage.rss_delta_mb:+.1f} MiB")
    table.add_row("wall time", format_seconds(usage.duration))
    table.add_row(
        "CPU time",
        f"{format_seconds(usage.cpu_time)} (user {format_seconds(usage.user_time)}, "
        f"system {format_seconds(usage.system_time)})",
    )
    table.add_row("CPU utilisation", f"{usage.cpu_percent:.0f} %")
    table.add_row("peak threads", str(usage.peak_threads))
    if usage.peak_fds is not None:
        table.add_row("peak open files", str(usage.peak_fds))
    table.add_row("samples", str(usage.samples))
    console.print(table)


def _render_caches(console: Console, caches: list[CacheRow]) -> None:
    from rich.table import Table

    table = Table(title="Caches", title_justify="left")
    table.add_column("cache", overflow="fold", min_width=_NAME_MIN_WIDTH)
    headers = ["hits", "misses", "hit rate", "entries", "evictions", "expirations"]
    show_errors = any(cache.errors for cache in caches)
    if show_errors:
        headers.append("errors")
    for header in headers:
        table.add_column(header, justify="right", no_wrap=True)
    for cache in caches:
        bound = "unbounded" if cache.max_size is None else str(cache.max_size)
        row = [
            cache.name,
            str(cache.hits),
            str(cache.misses),
            f"{cache.hit_rate:.0%}" if cache.hits + cache.misses else "-",
            f"{cache.size} / {bound}",
            str(cache.evictions),
            str(cache.expirations),
        ]
        if show_errors:
            row.append(f"[red]{cache.errors}[/red]" if cache.errors else "0")
        table.add_row(*row)
    console.print(table)


def _render_imports(console: Console, imports: list[ImportSummary]) -> None:
    from rich.table import Table

    table = Table(title="Lazy imports", title_justify="left")
    table.add_column("module", overflow="fold", min_width=_NAME_MIN_WIDTH)
    table.add_column("import time", justify="right", no_wrap=True)
    for item in imports:
        table.add_row(item.module, format_seconds(item.seconds))
    console.print(table)


def _render_telemetry(console: Console, telemetry: TelemetrySummary) -> None:
    console.print("[bold]Telemetry[/bold]")
    console.print(f"  sent to: {telemetry.destination}", soft_wrap=True, highlight=False)
    for path in telemetry.files:
        console.print(f"  file: {path}", soft_wrap=True, highlight=False)
    console.print(
        f"  spans: {telemetry.spans_ended} ended, {telemetry.spans_exported} exported",
        highlight=False,
    )
    lost = telemetry.spans_dropped + telemetry.spans_failed
    if lost:
        console.print(
            f"  [yellow]{lost} span(s) lost: {telemetry.spans_dropped} dropped (queue full), "
            f"{telemetry.spans_failed} failed to export[/yellow]"
        )
    if telemetry.files:
        console.print(
            "  (OTLP/JSON lines: replay them into any backend with an OpenTelemetry Collector "
            "'otlpjsonfile' receiver, or send live with --otlp URL)",
            highlight=False,
        )
