"""Bad input on every entry point: a clear exception, nothing half-done."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from codomyrmex.performance.performance_monitor import PerformanceMonitor


@pytest.mark.parametrize(
    ("value", "error"),
    [(0, ValueError), (-1, ValueError), (True, TypeError), (False, TypeError),
     (1.5, TypeError), ("10", TypeError), (None, TypeError)],
)  # fmt: skip
def test_max_metrics(value: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="max_metrics"):
        PerformanceMonitor(max_metrics=value)  # type: ignore[arg-type]


def test_positional_arguments_are_refused() -> None:
    with pytest.raises(TypeError):
        PerformanceMonitor(10)  # type: ignore[misc]


def test_log_file_type() -> None:
    with pytest.raises(TypeError, match="log_file"):
        PerformanceMonitor(log_file=3)  # type: ignore[arg-type]


def test_log_file_in_a_missing_directory(tmp_path: Path) -> None:
    path = tmp_path / "missing" / "calls.jsonl"
    with pytest.raises(FileNotFoundError, match=re.escape(str(path))):
        PerformanceMonitor(log_file=path)
    assert not path.parent.exists()


def test_log_file_that_is_a_directory(tmp_path: Path) -> None:
    with pytest.raises(IsADirectoryError, match=re.escape(str(tmp_path))):
        PerformanceMonitor(log_file=tmp_path)


def test_log_file_is_created_at_construction_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "calls.jsonl"
    path.write_text("earlier line\n")
    PerformanceMonitor(log_file=str(path))
    assert path.read_text() == "earlier line\n"
    fresh = tmp_path / "fresh.jsonl"
    assert PerformanceMonitor(log_file=fresh).log_file == fresh
    assert fresh.read_text() == ""


@pytest.mark.parametrize("target", [42, "not callable", object()])
def test_monitor_non_callable(perf, target: object) -> None:
    with pytest.raises(TypeError, match="callable"):
        perf.monitor(target)
    with pytest.raises(TypeError, match="callable"):
        perf.monitor(name="n")(target)


def test_monitor_a_class(perf) -> None:
    class Thing:
        pass

    with pytest.raises(TypeError, match="methods"):
        perf.monitor(Thing)


@pytest.mark.parametrize(("name", "error"), [(3, TypeError), (b"x", TypeError), ("", ValueError)])
def test_monitor_name(perf, name: object, error: type[Exception]) -> None:
    with pytest.raises(error, match="name"):
        perf.monitor(name=name)  # type: ignore[arg-type]
    with pytest.raises(error, match="name"):
        perf.monitor(len, name=name)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "attributes",
    [["a", 1], {"k": object()}, {"k": {"nested": 1}}, {3: "v"}, {"": "v"}, {"k": [1, None]}],
)
def test_monitor_attributes(perf, attributes: object) -> None:
    with pytest.raises(TypeError, match="attributes"):
        perf.monitor(len, attributes=attributes)  # type: ignore[arg-type]


def test_get_metrics_and_stats_name_type(perf) -> None:
    with pytest.raises(TypeError, match="function_name"):
        perf.get_metrics(3)  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="function_name"):
        perf.get_stats(b"x")  # type: ignore[arg-type]


def test_nothing_recorded_by_refused_calls(perf) -> None:
    for call in (lambda: perf.monitor(3), lambda: perf.track(""), lambda: perf.track_execution(1)):
        with pytest.raises((TypeError, ValueError)):
            call()
    assert perf.get_metrics() == []
