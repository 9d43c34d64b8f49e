"""Quickstart: monitor functions, track a block, export the numbers and the telemetry.

python examples/quickstart.py                        # OTLP-JSON files, no server needed
OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4318 python examples/quickstart.py
"""

from __future__ import annotations

import asyncio
import json
import tempfile
from pathlib import Path

from codomyrmex.performance import PerformanceMonitor, configure_telemetry

handle = configure_telemetry("quickstart")
perf = PerformanceMonitor()


@perf.monitor
def parse(line: str) -> list[int]:
    return [int(field) for field in line.split(",")]


@perf.monitor(name="quickstart.fetch", attributes={"peer.service": "inventory"})
async def fetch(item: int) -> int:
    await asyncio.sleep(0.001)
    return item * 2


for _ in range(100):
    parse("1,2,3,4,5")
print("fetched", asyncio.run(fetch(21)))
with perf.track("quickstart.batch", items=3):
    sum(parse("7,8,9"))

print("parse stats:", {k: perf.get_stats("__main__.parse")[k] for k in ("count", "p50", "p99")})
with tempfile.TemporaryDirectory() as directory:  # removed again: the example leaves nothing
    out = perf.export_metrics(Path(directory) / "metrics.json", format="json")
    print("exported", len(json.loads(out.read_text())), "calls as JSON")
handle.shutdown()
print(handle)
