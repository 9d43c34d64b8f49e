"""End to end over real OTLP: monitored calls reach a real collector as SPEC spans and metrics."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex.performance.telemetry import DURATION_BUCKETS, SCOPE_NAME, package_version
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry

PROGRAM = """
import asyncio
from codomyrmex.performance import PerformanceMonitor, monitor

@monitor
def add(a, b):
    return a + b

class Shop:
    @monitor(name="shop.checkout", attributes={"shop.region": "eu"})
    def checkout(self):
        raise KeyError("cart")

@monitor
async def fetch():
    await asyncio.sleep(0)
    return 1

for i in range(3):
    add(i, 1)
try:
    Shop().checkout()
except KeyError:
    pass
asyncio.run(fetch())
with PerformanceMonitor().track("batch.step", items=3):
    pass
"""


def first_line_of(script: Path, definition: str) -> int:
    """The line where a decorated definition starts (``co_firstlineno``: its first decorator)."""
    lines = script.read_text().splitlines()
    index = lines.index(definition)
    while lines[index - 1].lstrip().startswith("@"):
        index -= 1
    return index + 1


def received(collector: OtelCollector, service: str) -> Telemetry:
    def complete(telemetry: Telemetry) -> Telemetry | None:
        calls = telemetry.latest_points("codomyrmex.function.duration")
        if len(telemetry.spans) >= 6 and calls:
            return telemetry
        return None

    return collector.wait_for(complete, service_name=service)  # type: ignore[no-any-return]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_monitored_calls_arrive_with_spec_names(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"e2e-monitor-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(tmp_path, PROGRAM, service=service, protocol=protocol)
    assert result.returncode == 0, result.stderr
    assert "ended=6, exported=6, failed=0, dropped=0" in result.stdout
    script = tmp_path / f"{service}.py"
    got = received(otel_collector, service)

    assert sorted(span.name for span in got.spans) == sorted(
        ["__main__.add"] * 3 + ["shop.checkout", "__main__.fetch", "batch.step"]
    )
    for span in got.spans:
        assert span.service_name == service
        assert (span.scope_name, span.scope_version) == (SCOPE_NAME, package_version())
        assert span.kind == "INTERNAL"

    add = got.spans_named("__main__.add")[0]
    assert add.status_code == "UNSET"
    assert add.attributes == {
        "code.function.name": "__main__.add",
        "code.file.path": str(script),
        "code.line.number": first_line_of(script, "def add(a, b):"),
    }
    assert add.parent_span_id is None

    (checkout,) = got.spans_named("shop.checkout")
    assert checkout.status_code == "ERROR"
    assert checkout.attributes["error.type"] == "KeyError"
    assert checkout.attributes["shop.region"] == "eu"
    assert checkout.attributes["code.line.number"] == first_line_of(
        script, "    def checkout(self):"
    )
    assert isinstance(checkout.attributes["code.function.name"], str)

    (step,) = got.spans_named("batch.step")
    assert step.attributes["items"] == 3

    points = got.latest_points("codomyrmex.function.duration")
    for point in points:
        assert point.data_type == "Histogram"
        assert point.unit == "s"
        assert point.explicit_bounds == list(DURATION_BUCKETS)
        assert (point.scope_name, point.scope_version) == (SCOPE_NAME, package_version())
    (add_point,) = got.latest_points(
        "codomyrmex.function.duration", code__function__name="__main__.add"
    )
    assert add_point.attributes == {"code.function.name": "__main__.add"}
    assert add_point.count == 3
    assert add_point.sum is not None and 0 < add_point.sum < 1
    assert sum(add_point.bucket_counts) == 3
    failed = [point for point in points if point.attributes.get("error.type") == "KeyError"]
    assert len(failed) == 1 and failed[0].count == 1
    assert failed[0].attributes["code.function.name"] == checkout.attributes["code.function.name"]
    span_ids = {span.span_id for span in got.spans}
    exemplar_spans = {exemplar.span_id for point in points for exemplar in point.exemplars}
    assert exemplar_spans <= span_ids  # an exemplar links a latency bucket to a real span


def test_monitor_without_spans_still_reports_durations(
    otel_collector: OtelCollector, tmp_path: Path
) -> None:
    """With traces sampled out, the calls still count in the duration histogram."""
    service = "e2e-monitor-unsampled"
    body = """
    from codomyrmex.performance import monitor

    @monitor
    def work():
        return 1

    for _ in range(5):
        work()
    """
    result = otel_collector.run_program(
        tmp_path, body, service=service, env={"OTEL_TRACES_SAMPLER": "always_off"}
    )
    assert result.returncode == 0, result.stderr
    got = otel_collector.wait_for(
        lambda t: t.latest_points("codomyrmex.function.duration"), service_name=service
    )
    (point,) = got
    assert point.count == 5
    assert otel_collector.telemetry(service).spans == []
