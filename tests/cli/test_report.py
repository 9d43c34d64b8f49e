"""The shared report: gathered from real measurements, rendered with rich, dumped as JSON."""

from __future__ import annotations

import contextlib
import json
from dataclasses import dataclass
from pathlib import Path

import pytest
from rich.console import Console

from codomyrmex.performance import PerformanceMonitor, ResourceTracker, ResourceUsage
from codomyrmex.performance.cli._session import TelemetryOutcome
from codomyrmex.performance.cli.report import (
    CacheRow,
    FunctionSummary,
    Report,
    TelemetrySummary,
    build_report,
    render,
)
from codomyrmex.performance.telemetry import TelemetryHandle, TelemetryStats


@dataclass(frozen=True)
class FakeCacheStats:
    hits: int
    misses: int
    evictions: int
    expirations: int
    size: int
    max_size: int | None
    hit_rate: float
    errors: int = 0


class FakeCache:
    def __init__(self, name: str, stats: FakeCacheStats) -> None:
        self.name = name
        self._stats = stats

    def stats(self) -> FakeCacheStats:
        return self._stats


class FakeHandle:
    def __init__(self, destination: str, stats: TelemetryStats) -> None:
        self.destination = destination
        self._stats = stats

    def stats(self) -> TelemetryStats:
        return self._stats


def recorded_monitor() -> PerformanceMonitor:
    monitor = PerformanceMonitor()

    @monitor.monitor(name="fast")
    def fast() -> None:
        pass

    @monitor.monitor(name="slow")
    def slow(fail: bool = False) -> None:
        total = 0
        for value in range(20_000):
            total += value
        if fail:
            raise ValueError("bad")

    for _ in range(10):
        fast()
    for fail in (False, False, True):
        with contextlib.suppress(ValueError):
            slow(fail)
    return monitor


def sample_usage() -> ResourceUsage:
    with ResourceTracker() as tracker:
        pass
    assert tracker.usage is not None
    return tracker.usage


def text_of(report: Report, **options: int) -> str:
    console = Console(record=True, width=200, color_system=None)
    render(report, console, **options)
    return console.export_text()


def test_functions_come_from_the_monitor_slowest_first() -> None:
    monitor = recorded_monitor()
    report = build_report("t", monitor=monitor)
    assert [f.name for f in report.functions] == ["slow", "fast"]
    slow, fast = report.functions
    stats = monitor.get_stats("slow")
    assert (slow.calls, slow.errors) == (3, 1)
    assert (fast.calls, fast.errors) == (10, 0)
    assert slow.total == pytest.approx(stats["total"])
    assert slow.p50 == pytest.approx(stats["p50"])
    assert slow.p95 == pytest.approx(stats["p95"])
    assert slow.p99 == pytest.approx(stats["p99"])
    assert slow.max == pytest.approx(stats["max"])
    assert slow.cpu_time == pytest.approx(stats["cpu_time"])
    assert slow.total >= slow.max >= slow.p99 >= slow.p95 >= slow.p50 > 0


def test_caches_imports_and_telemetry(tmp_path: Path) -> None:
    (tmp_path / "traces.jsonl").write_text("{}\n")
    caches = [
        FakeCache("prices", FakeCacheStats(3, 1, 2, 0, 4, 8, 0.75)),
        FakeCache("users", FakeCacheStats(0, 5, 0, 1, 4, None, 0.0, errors=2)),
    ]
    handle = FakeHandle(str(tmp_path), TelemetryStats(ended=12, exported=9, failed=1, dropped=2))
    report = build_report(
        "t",
        caches=caches,
        import_timings={"sqlite3": 0.004, "statistics": 0.012},
        handle=handle,  # type: ignore[arg-type]
    )
    assert report.caches[0] == CacheRow("prices", 3, 1, 0.75, 4, 8, 2, 0, 0)
    assert report.caches[1].errors == 2 and report.caches[1].max_size is None
    assert [(i.module, i.seconds) for i in report.imports] == [
        ("statistics", 0.012),
        ("sqlite3", 0.004),
    ]
    assert report.telemetry == TelemetrySummary(
        destination=str(tmp_path),
        spans_ended=12,
        spans_exported=9,
        spans_failed=1,
        spans_dropped=2,
        files=[str(tmp_path / "traces.jsonl")],
    )


def test_real_handle_without_sdk_work_reports_zero_spans(tmp_path: Path) -> None:
    handle = TelemetryHandle(
        None,
        None,
        destination="none",
        owns_tracer_provider=False,
        owns_meter_provider=False,
    )
    report = build_report("t", handle=handle)
    assert report.telemetry == TelemetrySummary("none", 0, 0, 0, 0, [])


def test_render_shows_every_section(tmp_path: Path) -> None:
    (tmp_path / "metrics.jsonl").write_text("{}\n")
    usage = sample_usage()
    report = build_report(
        "my job",
        monitor=recorded_monitor(),
        usage=usage,
        caches=[FakeCache("prices", FakeCacheStats(3, 1, 2, 0, 4, 8, 0.75))],
        import_timings={"sqlite3": 0.0042},
        handle=FakeHandle(str(tmp_path), TelemetryStats(5, 5, 0, 0)),  # type: ignore[arg-type]
    )
    text = text_of(report)
    assert text.startswith("my job")
    assert "Slowest functions (by total time)" in text
    slow_row = next(line for line in text.splitlines() if line.startswith("slow "))
    assert [cell.strip() for cell in slow_row.split("│")[:3]] == ["slow", "3", "1"]
    assert f"{usage.peak_rss_mb:.1f} MiB" in text
    prices_row = next(line for line in text.splitlines() if "prices" in line)
    assert [cell.strip() for cell in prices_row.split("│")[1:4]] == ["3", "1", "75%"]
    assert "4 / 8" in prices_row
    assert "sqlite3" in text and "4.20 ms" in text
    assert f"sent to: {tmp_path}" in text
    assert f"file: {tmp_path / 'metrics.jsonl'}" in text
    assert "5 ended, 5 exported" in text
    assert "lost" not in text


def test_render_warns_about_lost_spans_and_limits_rows() -> None:
    functions = [
        FunctionSummary(f"f{i}", 1, 0, 1.0 - i / 10, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0) for i in range(5)
    ]
    report = Report(
        "t",
        functions=functions,
        telemetry=TelemetrySummary("http://collector:4318 (http/protobuf)", 10, 6, 3, 1),
    )
    text = text_of(report, top=3)
    assert "\nf2 " in text and "\nf3 " not in text
    assert "... and 2 more functions" in text
    assert "4 span(s) lost: 1 dropped (queue full), 3 failed to export" in text


def test_empty_report() -> None:
    assert "No monitored calls were recorded." in text_of(Report("t"))


def test_to_dict_is_json_ready() -> None:
    usage = sample_usage()
    report = build_report("t", monitor=recorded_monitor(), usage=usage)
    data = json.loads(json.dumps(report.to_dict()))
    assert data["title"] == "t"
    assert [f["name"] for f in data["functions"]] == ["slow", "fast"]
    assert data["resources"] == usage.to_dict()
    assert data["caches"] == [] and data["imports"] == [] and data["telemetry"] is None


def test_tracked_blocks_are_reported_apart_from_functions() -> None:
    monitor = recorded_monitor()
    with monitor.track("job.block"):
        pass
    report = build_report("t", monitor=monitor, blocks={"job.block"})
    assert [f.name for f in report.functions] == ["slow", "fast"]
    assert [b.name for b in report.blocks] == ["job.block"]
    text = text_of(report)
    functions, blocks = text.split("Tracked blocks (each total includes the calls made inside it)")
    assert "job.block" not in functions and "\njob.block " in blocks
    assert report.to_dict()["blocks"][0]["name"] == "job.block"


def test_the_module_every_name_shares_is_written_once_in_the_title() -> None:
    functions = [
        FunctionSummary(f"shop.cart.{name}", 1, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.0)
        for name in ("Cart.total", "add_item")
    ]
    text = text_of(Report("t", functions=functions))
    assert "Slowest functions (by total time), in shop.cart\n" in text
    assert "\nCart.total " in text and "\nadd_item " in text
    assert "shop.cart.add_item" not in text
    alone = text_of(Report("t", functions=functions[:1]))  # one name: written whole
    assert "\nshop.cart.Cart.total " in alone and "), in" not in alone
    unrelated = [functions[0], FunctionSummary("other.f", 1, 0, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0)]
    assert "), in" not in text_of(Report("t", functions=unrelated))


def test_why_spans_were_lost_and_a_shutdown_that_gave_up() -> None:
    handle = FakeHandle("http://collector:4318 (http/protobuf)", TelemetryStats(10, 0, 10, 0))
    outcome = TelemetryOutcome(
        flushed=False, problems=["Failed to export spans batch code: 404, reason: Not Found"]
    )
    report = build_report("t", handle=handle, outcome=outcome)  # type: ignore[arg-type]
    assert report.telemetry is not None
    assert report.telemetry.flushed is False
    text = text_of(report)
    assert "10 span(s) lost: 0 dropped (queue full), 10 failed to export" in text
    assert "gave up waiting for the export to finish" in text
    assert "  Failed to export spans batch code: 404, reason: Not Found\n" in text
    assert outcome.line(handle) == (  # type: ignore[arg-type]
        "telemetry: 0 of 10 spans sent to http://collector:4318 (http/protobuf); 10 lost "
        "(0 dropped, 10 failed to export); gave up waiting for the export to finish: "
        "Failed to export spans batch code: 404, reason: Not Found"
    )
