"""``codomyrmex-perf view`` on 100,000 spans: time to write the page, its size, first render.

Writes OTLP-JSON files like the embedded default's (1,000 traces of 100 spans over 40
functions, one error in fifty traces, cumulative duration histograms with exemplars,
rotated into a backup), then, for ``--repeat`` rounds: reads them and writes the page
(``read_telemetry`` + ``write_page``), and opens it in headless Chromium from ``file://``
(the time to the ``load`` event and to first contentful paint, and to a waterfall of
the slowest trace after its link is clicked)::

    python benchmarks/bench_view.py [--spans 100000] [--repeat 3]

Goals (issue 15): the index renders in under 2 s, the file stays under 20 MB.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from codomyrmex.performance import semconv
from codomyrmex.performance.telemetry import DURATION_BUCKETS
from codomyrmex.performance.view import read_telemetry, write_page

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
SPANS_PER_TRACE = 100
FUNCTIONS = [f"shop.orders.step_{index:02d}" for index in range(40)]


def _attribute(key: str, value: Any) -> dict[str, Any]:
    if isinstance(value, int):
        return {"key": key, "value": {"intValue": str(value)}}
    return {"key": key, "value": {"stringValue": str(value)}}


def _resource(kind: str, items: list[dict[str, Any]]) -> str:
    scope = "scopeSpans" if kind == "resourceSpans" else "scopeMetrics"
    inner = "spans" if kind == "resourceSpans" else "metrics"
    resource = {"attributes": [_attribute("service.name", "shop")]}
    return json.dumps({kind: [{"resource": resource, scope: [{inner: items}]}]})


def write_telemetry(directory: Path, spans: int, seed: int = 1) -> None:
    """OTLP-JSON lines of ``spans`` spans and their duration histograms in ``directory``."""
    rng = random.Random(seed)
    lines: list[str] = []
    batch: list[dict[str, Any]] = []
    durations: dict[str, list[tuple[float, str, str]]] = {name: [] for name in FUNCTIONS}
    start = 1_800_000_000_000_000_000
    for trace in range(spans // SPANS_PER_TRACE):
        trace_id = f"{rng.getrandbits(128):032x}"
        ids = [f"{rng.getrandbits(64):016x}" for _ in range(SPANS_PER_TRACE)]
        begin = start + trace * 50_000_000
        for index, span_id in enumerate(ids):
            parent = "" if index == 0 else ids[(index - 1) // 4]
            name = "shop.checkout" if index == 0 else FUNCTIONS[index % len(FUNCTIONS)]
            offset = 0 if index == 0 else index * 200_000
            length = 30_000_000 if index == 0 else int(rng.lognormvariate(11, 1))
            failed = index == 57 and trace % 50 == 0
            batch.append(
                {
                    "traceId": trace_id, "spanId": span_id, "parentSpanId": parent,
                    "name": name, "kind": "SPAN_KIND_INTERNAL",
                    "startTimeUnixNano": str(begin + offset),
                    "endTimeUnixNano": str(begin + offset + length),
                    "attributes": [
                        _attribute(semconv.CODE_FUNCTION_NAME, name),
                        _attribute(semconv.CODE_FILE_PATH, "shop/orders.py"),
                        _attribute(semconv.CODE_LINE_NUMBER, 10 + index % len(FUNCTIONS)),
                        _attribute("order.id", trace),
                    ],
                    "status": {"code": "STATUS_CODE_ERROR", "message": "no"} if failed else {},
                }
            )  # fmt: skip
            if name in durations:
                durations[name].append((length / 1e9, trace_id, span_id))
            if len(batch) == 512:
                lines.append(_resource("resourceSpans", batch))
                batch = []
    if batch:
        lines.append(_resource("resourceSpans", batch))
    half = len(lines) // 2
    (directory / "traces.jsonl.1").write_text("\n".join(lines[:half]) + "\n", encoding="utf-8")
    (directory / "traces.jsonl").write_text("\n".join(lines[half:]) + "\n", encoding="utf-8")
    metrics = [_histogram(name, values, start) for name, values in durations.items()]
    (directory / "metrics.jsonl").write_text(
        _resource("resourceMetrics", metrics) + "\n", encoding="utf-8"
    )


def _histogram(name: str, values: list[tuple[float, str, str]], start: int) -> dict[str, Any]:
    counts = [0] * (len(DURATION_BUCKETS) + 1)
    exemplars: dict[int, dict[str, Any]] = {}
    for value, trace_id, span_id in values:
        bucket = next((i for i, b in enumerate(DURATION_BUCKETS) if value <= b), len(counts) - 1)
        counts[bucket] += 1
        exemplars[bucket] = {
            "asDouble": value, "timeUnixNano": str(start), "traceId": trace_id, "spanId": span_id,
        }  # fmt: skip
    point = {
        "attributes": [_attribute(semconv.CODE_FUNCTION_NAME, name)],
        "startTimeUnixNano": str(start), "timeUnixNano": str(start + 10**11),
        "count": str(len(values)), "sum": sum(v for v, _, _ in values),
        "bucketCounts": [str(c) for c in counts], "explicitBounds": list(DURATION_BUCKETS),
        "exemplars": list(exemplars.values()),
        "min": min(v for v, _, _ in values), "max": max(v for v, _, _ in values),
    }  # fmt: skip
    return {
        "name": semconv.FUNCTION_DURATION, "unit": "s",
        "histogram": {"dataPoints": [point], "aggregationTemporality": 2},
    }  # fmt: skip


def first_render(page_path: Path) -> tuple[float, float, float]:
    """Seconds to the load event, to first contentful paint, and to a waterfall after a click."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        page = browser.new_page(viewport={"width": 1280, "height": 860})
        began = time.perf_counter()
        page.goto(page_path.resolve().as_uri(), wait_until="load")
        loaded = time.perf_counter() - began
        paint = page.evaluate(
            "performance.getEntriesByName('first-contentful-paint')[0]?.startTime ?? NaN"
        )
        clicked = time.perf_counter()
        page.locator("#slowest-traces a").first.click()
        page.locator("#waterfall-rows .wf-row").first.wait_for()
        waterfall = time.perf_counter() - clicked
        browser.close()
    return loaded, paint / 1000, waterfall


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--spans", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        directory = Path(scratch)
        write_telemetry(directory, args.spans)
        size_in = sum(p.stat().st_size for p in directory.iterdir())
        writes, renders = [], []
        page_path = directory / "view.html"
        for _ in range(args.repeat):
            began = time.perf_counter()
            write_page(read_telemetry(directory), page_path)
            writes.append(time.perf_counter() - began)
            renders.append(first_render(page_path))
        size = page_path.stat().st_size
    print(f"{args.spans} spans, {size_in / 1e6:.1f} MB of OTLP-JSON in")
    print(f"write the page: median {statistics.median(writes):.2f} s of {args.repeat}")
    print(f"page size: {size / 1e6:.1f} MB (goal < 20 MB)")
    for label, index in (("load event", 0), ("first contentful paint", 1), ("waterfall", 2)):
        print(f"{label}: median {statistics.median(r[index] for r in renders):.2f} s")
    print("goal: index rendered < 2 s")


if __name__ == "__main__":
    main()
