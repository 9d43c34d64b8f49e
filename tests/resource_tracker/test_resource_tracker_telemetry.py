"""A span that cannot take the usage attributes: reported once, the usage still returned."""

from __future__ import annotations

import logging

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance import ResourceTracker


class BrokenSpanError(RuntimeError):
    pass


def test_a_span_that_refuses_attributes_is_reported_once(
    spans: InMemorySpanExporter, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    tracer = trace.get_tracer("tests.resource_tracker")
    with tracer.start_as_current_span("block") as span:

        def refuse(attributes: object) -> None:
            raise BrokenSpanError("set_attributes broke")

        monkeypatch.setattr(span, "set_attributes", refuse)
        with caplog.at_level(logging.WARNING, logger="codomyrmex.performance"):
            usages = [ResourceTracker().start().stop() for _ in range(3)]
    assert [usage.samples for usage in usages] == [2, 2, 2]
    assert [record.getMessage() for record in caplog.records] == [
        "codomyrmex.performance: telemetry failed and was skipped: "
        "BrokenSpanError('set_attributes broke')"
    ]
