"""End to end over real OTLP: cache lookups, evictions and sizes reach a real collector."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex.performance.telemetry import SCOPE_NAME, package_version
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import CollectedPoint, Telemetry

PROGRAM = """
import time
from codomyrmex.performance import CacheManager, cached_function

@cached_function(max_size=2, name="squares")
def square(x):
    return x * x

for x in (1, 1, 1, 2, 3):  # miss hit hit miss miss, and 3 evicts 1 (size)
    square(x)

short = CacheManager(ttl_seconds=0.05, name="short-lived")
short.set("k", "v")
time.sleep(0.1)
assert short.get("k") is None  # expired
print("INFO", square.cache_info(), short.stats())
"""


def only(points: list[CollectedPoint]) -> CollectedPoint:
    assert len(points) == 1, points
    return points[0]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_cache_metrics_arrive_with_spec_names(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"e2e-cache-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(tmp_path, PROGRAM, service=service, protocol=protocol)
    assert result.returncode == 0, result.stderr

    def arrived(telemetry: Telemetry) -> Telemetry | None:
        names = telemetry.metric_names()
        wanted = {
            "codomyrmex.cache.requests",
            "codomyrmex.cache.evictions",
            "codomyrmex.cache.entries",
        }
        return telemetry if wanted <= names else None

    got: Telemetry = otel_collector.wait_for(arrived, service_name=service)
    for point in got.points:
        assert point.service_name == service
        assert (point.scope_name, point.scope_version) == (SCOPE_NAME, package_version())

    def requests(cache: str, outcome: str) -> CollectedPoint:
        return only(
            got.latest_points(
                "codomyrmex.cache.requests",
                codomyrmex__cache__name=cache,
                codomyrmex__cache__result=outcome,
            )
        )

    hits, misses = requests("squares", "hit"), requests("squares", "miss")
    assert (hits.value, misses.value) == (2, 3)
    for point in (hits, misses):
        assert (point.data_type, point.is_monotonic, point.unit) == ("Sum", True, "{request}")
        assert set(point.attributes) == {"codomyrmex.cache.name", "codomyrmex.cache.result"}
    assert requests("short-lived", "miss").value == 1

    size_evictions = only(
        got.latest_points(
            "codomyrmex.cache.evictions",
            codomyrmex__cache__name="squares",
            codomyrmex__cache__reason="size",
        )
    )
    assert (size_evictions.value, size_evictions.unit, size_evictions.is_monotonic) == (
        1,
        "{entry}",
        True,
    )
    ttl_evictions = only(
        got.latest_points(
            "codomyrmex.cache.evictions",
            codomyrmex__cache__name="short-lived",
            codomyrmex__cache__reason="ttl",
        )
    )
    assert ttl_evictions.value == 1

    entries = only(got.latest_points("codomyrmex.cache.entries", codomyrmex__cache__name="squares"))
    assert entries.value == 2
    assert entries.unit == "{entry}"
    assert entries.attributes == {"codomyrmex.cache.name": "squares"}
    assert entries.is_monotonic is not True
