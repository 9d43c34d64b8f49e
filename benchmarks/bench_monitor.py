"""Per-call cost of ``@monitor`` against plain wrappers and the raw OpenTelemetry decorator.

Every variant lives in this one process: the SDK variants get explicit provider objects,
so the global providers stay unset ("no SDK"). Variants run interleaved in short rounds
(shuffled each round) and the table shows medians, so a CPU that changes speed for
seconds at a time moves all variants alike. Run it alone on a quiet machine::

    python benchmarks/bench_monitor.py [--rounds 40]

Goals: sampled ``@monitor`` (span + histogram + history) at most 1.0x the raw
``@tracer.start_as_current_span`` decorator; unsampled or no-SDK ``@monitor`` at most 2x a
``functools.wraps`` pass-through.
"""

from __future__ import annotations

import argparse
import functools
import random
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from typing import Any

import wrapt
from opentelemetry import trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from codomyrmex.performance.performance_monitor._core import cpu_time, peak_rss
from codomyrmex.performance.telemetry import DURATION_BUCKETS

ROUND_SECONDS = 0.01


class DropExporter(SpanExporter):
    """Accepts every batch and keeps nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def target(x: int) -> int:
    return x


def functools_passthrough(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


@wrapt.decorator
def wrapt_passthrough(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
    return wrapped(*args, **kwargs)


def raw_otel_with_histogram(tracer: Any, histogram: Any, name: str) -> Callable[..., Any]:
    """``start_as_current_span`` plus a histogram point recorded inside the span."""
    attributes = {"code.function.name": name}

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            with tracer.start_as_current_span(name):
                start = time.perf_counter()
                result = func(*args, **kwargs)
                histogram.record(time.perf_counter() - start, attributes)
                return result

        return wrapper

    return decorate


def manual_span_with_histogram(tracer: Any, histogram: Any, name: str) -> Callable[..., Any]:
    """The least the SDK can do for the same telemetry: a span with the three ``code.*``
    attributes made current by hand, and a histogram point recorded inside it."""
    from opentelemetry import context

    attributes = {"code.function.name": name, "code.file.path": __file__, "code.line.number": 1}
    metric_attributes = {"code.function.name": name}

    def decorate(func: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(func)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            span = tracer.start_span(name, attributes=attributes)
            token = context.attach(trace.set_span_in_context(span))
            start = time.perf_counter()
            result = func(*args, **kwargs)
            histogram.record(time.perf_counter() - start, metric_attributes)
            context.detach(token)
            span.end()
            return result

        return wrapper

    return decorate


def resource_clocks(x: int) -> int:
    """What per-call CPU time and peak RSS cost: two thread CPU clock reads, one getrusage."""
    cpu_time()
    cpu_time()
    peak_rss()
    return x


def build_variants() -> tuple[dict[str, Callable[[int], int]], list[Any]]:
    assert trace._TRACER_PROVIDER is None, "the global tracer provider must stay unset"
    sampled_tp = TracerProvider()
    sampled_tp.add_span_processor(BatchSpanProcessor(DropExporter()))
    unsampled_tp = TracerProvider(sampler=ALWAYS_OFF)
    unsampled_tp.add_span_processor(BatchSpanProcessor(DropExporter()))
    meter_provider = MeterProvider(metric_readers=[InMemoryMetricReader()])

    tracer = sampled_tp.get_tracer("bench.raw")
    histogram = meter_provider.get_meter("bench.raw").create_histogram(
        "bench.raw.duration", unit="s", explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS)
    )
    name = f"{__name__}.target"
    sampled = PerformanceMonitor(tracer_provider=sampled_tp, meter_provider=meter_provider)
    unsampled = PerformanceMonitor(tracer_provider=unsampled_tp, meter_provider=meter_provider)
    no_sdk = PerformanceMonitor()
    variants: dict[str, Callable[[int], int]] = {
        "plain call": target,
        "functools.wraps pass-through": functools_passthrough(target),
        "wrapt pass-through": wrapt_passthrough(target),
        "raw OTel @start_as_current_span": tracer.start_as_current_span(name)(target),
        "raw OTel + Histogram.record": raw_otel_with_histogram(tracer, histogram, name)(target),
        "SDK floor: manual span + record": manual_span_with_histogram(tracer, histogram, name)(
            target
        ),
        "(reference: CPU clocks + peak RSS)": resource_clocks,
        "@monitor, SDK sampled": sampled.monitor(target),
        "@monitor, SDK ALWAYS_OFF sampler": unsampled.monitor(target),
        "@monitor, no SDK": no_sdk.monitor(target),
    }
    return variants, [sampled_tp, unsampled_tp, meter_provider]


def loops_for(func: Callable[[int], int]) -> int:
    """Calls per round so that one round takes about ``ROUND_SECONDS``."""
    loops = 10
    while True:
        start = time.perf_counter()
        for _ in range(loops):
            func(1)
        if time.perf_counter() - start >= ROUND_SECONDS / 4:
            return max(int(loops * ROUND_SECONDS / (time.perf_counter() - start)), 10)
        loops *= 4


def measure(variants: dict[str, Callable[[int], int]], rounds: int) -> dict[str, float]:
    loops = {name: loops_for(func) for name, func in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            func, count = variants[name], range(loops[name])
            start = time.perf_counter()
            for _ in count:
                func(1)
            samples[name].append((time.perf_counter() - start) / loops[name])
    return {name: statistics.median(values) * 1e9 for name, values in samples.items()}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args(argv)
    variants, providers = build_variants()
    for func in variants.values():  # warm up: resolve lazy telemetry, fill caches
        for _ in range(200):
            func(1)
    results = measure(variants, options.rounds)
    wraps = results["functools.wraps pass-through"]
    raw = results["raw OTel @start_as_current_span"]
    print(f"python {sys.version.split()[0]}, {options.rounds} interleaved rounds, medians")
    print(f"{'variant':36} {'ns/call':>10} {'x wraps':>9} {'x raw OTel':>11}")
    for name, ns in results.items():
        print(f"{name:36} {ns:10.0f} {ns / wraps:9.2f} {ns / raw:11.2f}")
    print()
    sampled = results["@monitor, SDK sampled"] / raw
    unsampled = results["@monitor, SDK ALWAYS_OFF sampler"] / wraps
    no_sdk = results["@monitor, no SDK"] / wraps
    floor = results["@monitor, SDK sampled"] - results["SDK floor: manual span + record"]
    print(f"goal sampled  <= 1.0x raw OTel decorator : {sampled:.2f}x")
    print(f"     sampled @monitor above the SDK floor : {floor:+.0f} ns/call")
    print(f"goal ALWAYS_OFF <= 2x functools.wraps   : {unsampled:.2f}x")
    print(f"goal no SDK   <= 2x functools.wraps     : {no_sdk:.2f}x")
    rest = results["@monitor, no SDK"] - results["(reference: CPU clocks + peak RSS)"]
    print(f"     no SDK without the resource clocks    : {rest / wraps:.2f}x")
    for provider in providers:
        provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
