"""Assertions on monitored calls: their span, code attributes and duration points."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import pytest
from opentelemetry.sdk.trace import ReadableSpan

from codomyrmex.performance.telemetry import DURATION_BUCKETS
from harness.metrics import MetricPoint, MetricsProbe

DURATION = "codomyrmex.function.duration"


def only_span(spans: Any, name: str) -> ReadableSpan:
    found = [span for span in spans.get_finished_spans() if span.name == name]
    assert len(found) == 1, [span.name for span in spans.get_finished_spans()]
    return found[0]


def duration_points(probe: MetricsProbe, function_name: str) -> list[MetricPoint]:
    return probe.points(DURATION, **{"code.function.name": function_name})


def assert_duration_point(
    point: MetricPoint, *, count: int, total: float | None = None, error: str | None = None
) -> None:
    assert point.name == DURATION
    assert point.unit == "s"
    assert point.scope == "codomyrmex.performance"
    assert point.point.count == count
    assert tuple(point.point.explicit_bounds) == DURATION_BUCKETS
    if total is not None:
        assert point.point.sum == pytest.approx(total, rel=1e-9, abs=1e-12)
    assert point.attributes.get("error.type") == error


def assert_code_attributes(
    span: ReadableSpan, function_name: str, file_path: str, extra: Sequence[str] = ()
) -> None:
    attributes = dict(span.attributes or {})
    assert attributes["code.function.name"] == function_name
    assert isinstance(attributes["code.function.name"], str)
    assert attributes["code.file.path"] == file_path
    assert isinstance(attributes["code.file.path"], str)
    assert isinstance(attributes["code.line.number"], int)
    assert not isinstance(attributes["code.line.number"], bool)
    expected = {"code.function.name", "code.file.path", "code.line.number", *extra}
    assert set(attributes) == expected
