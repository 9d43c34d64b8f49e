"""End to end over real OTLP: lazy imports reach a real collector as spans and durations."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex.performance.telemetry import DURATION_BUCKETS, SCOPE_NAME, package_version
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry

PROGRAM = """
import sys
from codomyrmex.performance import lazy_import

assert "colorsys" not in sys.modules
colorsys = lazy_import("colorsys")
assert colorsys.rgb_to_hsv(1.0, 0.0, 0.0)[0] == 0.0
missing = lazy_import("codomyrmex_e2e_no_such_module")
try:
    missing.anything
except ImportError as error:
    assert "codomyrmex_e2e_no_such_module" in str(error)
else:
    raise AssertionError("a missing module must raise ImportError at first use")
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_lazy_imports_arrive_with_spec_names(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"e2e-lazy-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(tmp_path, PROGRAM, service=service, protocol=protocol)
    assert result.returncode == 0, result.stderr

    def arrived(telemetry: Telemetry) -> Telemetry | None:
        points = telemetry.latest_points("codomyrmex.import.duration")
        return telemetry if len(telemetry.spans) == 2 and len(points) == 2 else None

    got: Telemetry = otel_collector.wait_for(arrived, service_name=service)
    (ok,) = got.spans_named("import colorsys")
    assert ok.kind == "INTERNAL"
    assert ok.status_code == "UNSET"
    assert ok.attributes == {"codomyrmex.module.name": "colorsys"}
    assert (ok.scope_name, ok.scope_version) == (SCOPE_NAME, package_version())
    assert ok.service_name == service

    (failed,) = got.spans_named("import codomyrmex_e2e_no_such_module")
    assert failed.status_code == "ERROR"
    assert failed.attributes["codomyrmex.module.name"] == "codomyrmex_e2e_no_such_module"
    assert failed.attributes["error.type"] == "ModuleNotFoundError"
    assert [event.name for event in failed.events] == ["exception"]

    (duration,) = got.latest_points(
        "codomyrmex.import.duration", codomyrmex__module__name="colorsys"
    )
    assert duration.attributes == {"codomyrmex.module.name": "colorsys"}
    assert (duration.data_type, duration.unit, duration.count) == ("Histogram", "s", 1)
    assert duration.explicit_bounds == list(DURATION_BUCKETS)
    assert duration.sum is not None and 0 < duration.sum < 5
    (failure,) = got.latest_points(
        "codomyrmex.import.duration", codomyrmex__module__name="codomyrmex_e2e_no_such_module"
    )
    assert failure.attributes["error.type"] == "ModuleNotFoundError"
