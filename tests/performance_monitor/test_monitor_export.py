"""export_metrics: json, jsonl, csv, atomically; bad formats and paths."""

from __future__ import annotations

import csv
import json
import os
from pathlib import Path

import pytest

from codomyrmex.performance.performance_monitor import PerformanceMonitor


@pytest.fixture
def recorded(perf: PerformanceMonitor) -> PerformanceMonitor:
    @perf.monitor(name="ok", attributes={"team": "core"})
    def ok() -> None:
        pass

    @perf.monitor(name="bad")
    def bad() -> None:
        raise ValueError("x")

    ok()
    with pytest.raises(ValueError):
        bad()
    return perf


def leftovers(directory: Path) -> list[str]:
    return sorted(p.name for p in directory.iterdir() if p.name.endswith(".tmp"))


def test_json(recorded, tmp_path) -> None:
    target = tmp_path / "metrics.json"
    assert recorded.export_metrics(target) == target
    rows = json.loads(target.read_text())
    assert [row["function_name"] for row in rows] == ["ok", "bad"]
    assert rows[0]["metadata"] == {"team": "core"}
    assert rows[1]["error"] == "ValueError"
    assert set(rows[0]) == {
        "function_name", "execution_time", "memory_usage_mb", "cpu_percent", "timestamp",
        "metadata", "cpu_time", "error", "trace_id", "span_id",
    }  # fmt: skip
    assert len(rows[0]["trace_id"]) == 32 and len(rows[0]["span_id"]) == 16
    assert leftovers(tmp_path) == []


def test_jsonl(recorded, tmp_path) -> None:
    target = tmp_path / "metrics.jsonl"
    recorded.export_metrics(str(target), format="jsonl")
    rows = [json.loads(line) for line in target.read_text().splitlines()]
    assert [row["function_name"] for row in rows] == ["ok", "bad"]


def test_csv(recorded, tmp_path) -> None:
    target = tmp_path / "metrics.csv"
    recorded.export_metrics(target, format="CSV")
    rows = list(csv.DictReader(target.open(newline="")))
    assert [row["function_name"] for row in rows] == ["ok", "bad"]
    assert json.loads(rows[0]["metadata"]) == {"team": "core"}
    assert float(rows[0]["execution_time"]) > 0
    assert rows[1]["error"] == "ValueError"


def test_empty_history_exports_empty(perf, tmp_path) -> None:
    perf.export_metrics(tmp_path / "e.json")
    assert json.loads((tmp_path / "e.json").read_text()) == []
    perf.export_metrics(tmp_path / "e.csv", format="csv")
    assert (tmp_path / "e.csv").read_text().startswith("function_name,")


def test_replaces_existing_file_whole(recorded, tmp_path) -> None:
    target = tmp_path / "metrics.json"
    target.write_text("old content that is longer than nothing" * 100)
    recorded.export_metrics(target)
    assert len(json.loads(target.read_text())) == 2


def test_unknown_format_writes_nothing(recorded, tmp_path) -> None:
    target = tmp_path / "metrics.xml"
    with pytest.raises(ValueError, match="xml"):
        recorded.export_metrics(target, format="xml")
    assert list(tmp_path.iterdir()) == []
    with pytest.raises(TypeError):
        recorded.export_metrics(target, format=None)  # type: ignore[arg-type]
    assert list(tmp_path.iterdir()) == []


def test_missing_directory_is_oserror(recorded, tmp_path) -> None:
    with pytest.raises(OSError):
        recorded.export_metrics(tmp_path / "missing" / "m.json")
    assert list(tmp_path.iterdir()) == []


def test_directory_target_is_oserror_and_no_temp_left(recorded, tmp_path) -> None:
    target = tmp_path / "adir"
    target.mkdir()
    (target / "keep").write_text("x")
    with pytest.raises(OSError):
        recorded.export_metrics(target)
    assert leftovers(tmp_path) == []
    assert (target / "keep").read_text() == "x"


def test_parent_is_a_file_is_oserror(recorded, tmp_path) -> None:
    blocker = tmp_path / "blocker"
    blocker.write_text("not a directory")
    with pytest.raises(OSError):
        recorded.export_metrics(blocker / "m.json")
    assert blocker.read_text() == "not a directory"
    assert leftovers(tmp_path) == []


def test_write_failure_keeps_old_file_and_removes_temp(recorded, tmp_path, monkeypatch) -> None:
    target = tmp_path / "m.json"
    target.write_text("previous")

    def failing_replace(src: str, dst: str) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        recorded.export_metrics(target)
    assert target.read_text() == "previous"
    assert leftovers(tmp_path) == []


def test_bad_path_type(recorded) -> None:
    with pytest.raises(TypeError):
        recorded.export_metrics(42)  # type: ignore[arg-type]
