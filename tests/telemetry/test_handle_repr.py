"""``print(handle)`` says where the telemetry goes and what happened to the spans."""

from __future__ import annotations

from pathlib import Path

from codomyrmex.performance.telemetry import TelemetryHandle
from codomyrmex.performance.telemetry._handle import SpanCounter


def test_the_repr_names_the_destination_and_the_counts(tmp_path: Path) -> None:
    handle = TelemetryHandle(
        None,
        None,
        destination=str(tmp_path),
        owns_tracer_provider=False,
        owns_meter_provider=False,
        counter=SpanCounter(),
    )
    assert repr(handle) == (
        f"<TelemetryHandle running destination={str(tmp_path)!r} spans: "
        "0 ended, 0 exported, 0 failed, 0 dropped>"
    )
    assert handle.shutdown() is True
    assert repr(handle).startswith("<TelemetryHandle shut down destination=")
