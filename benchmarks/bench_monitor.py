"""Per-call cost of ``@monitor`` on each of its paths, next to each path's floor written by hand.

Every variant lives in this one process and runs in the same interleaved short rounds
(shuffled each round), so a CPU that changes speed for seconds at a time moves them all
alike. A variant's figure is the 10th percentile of its rounds: on a shared machine a
round that another process preempted only ever reads slower, never faster.
The SDK variants get explicit provider objects, so the global providers stay unset and
``@monitor, no SDK`` runs with the OpenTelemetry API imported and no provider set. The
duration histogram is collected every ``--collect-every`` seconds, as a periodic reader
would (12x more often than the SDK's default of 60 s), so that the exemplar rule's
"offer again after a collection" is paid in the figures. Run it alone on a quiet
machine::

    python benchmarks/bench_monitor.py [--rounds 100] [--breakdown] [--clock wall|cpu]

The floors are the least the same work can cost with the same API calls:

* sampled: ``start_span`` with the same three attributes, ``attach``, ``Histogram.record``
  while the span is current, ``detach``, ``end``, the same clocks and history append;
* unsampled parent and suppressed: the clocks, ``Histogram.record`` and the history
  append (no span can be recorded or seen);
* no SDK and ``OTEL_SDK_DISABLED``: the clocks and the history append;
* ALWAYS_OFF root: the sampled floor with an ALWAYS_OFF tracer (the sampler is asked).

Peers (``pip install -r benchmarks/requirements-peers.txt``), measured when installed:
ddtrace ``tracer.wrap()`` with its agent pointed at a closed port, and
``logfire.instrument`` from a local ``logfire.configure(send_to_logfire=False)``. They emit
one span per call and no metric.
"""

from __future__ import annotations

import argparse
import functools
import os
import random
import sys
import time
from collections import deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from opentelemetry import context, trace
from opentelemetry.context import Context
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
from opentelemetry.trace import NonRecordingSpan, SpanContext, TraceFlags, TraceState

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from codomyrmex.performance.performance_monitor._core import cpu_time, peak_rss, perf_counter
from codomyrmex.performance.telemetry import DURATION_BUCKETS

ROUND_SECONDS = 0.002
NAME = f"{__name__}.target"
SPAN_ATTRIBUTES = {"code.function.name": NAME, "code.file.path": __file__, "code.line.number": 1}
METRIC_ATTRIBUTES = {"code.function.name": NAME}


class DropExporter(SpanExporter):
    """Accepts every batch and keeps nothing."""

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def target(x: int) -> int:
    return x


@dataclass
class Variant:
    """One measured callable, run with ``context`` attached (an unsampled parent, ...)."""

    func: Callable[[int], int]
    context: Context | None = None


def functools_passthrough(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return func(*args, **kwargs)

    return wrapper


def span_floor(tracer: Any, histogram: Any) -> Callable[[int], int]:
    """What the monitor does on a traced call, written out with the same API calls."""
    start_span, set_span_in_context = tracer.start_span, trace.set_span_in_context
    attach, detach, record = context.attach, context.detach, histogram.record
    history: deque[tuple[Any, ...]] = deque(maxlen=10_000)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
        token = attach(set_span_in_context(span))
        t0 = perf_counter()
        c0 = cpu_time()
        result = target(*args, **kwargs)
        c1 = cpu_time()
        t1 = perf_counter()
        record(t1 - t0, METRIC_ATTRIBUTES)
        detach(token)
        ids = span.get_span_context()
        span.end()
        history.append(
            (NAME, t0, t1 - t0, c1 - c0, peak_rss(), None, ids.trace_id, ids.span_id, None)
        )
        return result

    return wrapper


def ladder(tracer: Any, histogram: Any) -> dict[str, Variant]:
    """The sampled call built up one piece at a time: each step's extra cost is that piece's."""
    start_span, set_span_in_context = tracer.start_span, trace.set_span_in_context
    attach, detach, record = context.attach, context.detach, histogram.record
    no_span = trace.set_span_in_context(trace.INVALID_SPAN)
    history: deque[tuple[Any, ...]] = deque(maxlen=10_000)

    def span_only(x: int) -> int:
        span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
        result = target(x)
        span.end()
        return result

    def current(x: int) -> int:
        span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
        token = attach(set_span_in_context(span))
        result = target(x)
        detach(token)
        span.end()
        return result

    def clocks(x: int) -> int:
        span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
        token = attach(set_span_in_context(span))
        t0 = perf_counter()
        c0 = cpu_time()
        result = target(x)
        c1 = cpu_time()
        t1 = perf_counter()
        detach(token)
        span.end()
        _measured = (t1 - t0, c1 - c0, peak_rss())
        return result

    def recorded(exemplar: bool) -> Callable[[int], int]:
        def wrapper(x: int) -> int:
            span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
            span_context = set_span_in_context(span)
            token = attach(span_context)
            t0 = perf_counter()
            c0 = cpu_time()
            result = target(x)
            c1 = cpu_time()
            t1 = perf_counter()
            record(t1 - t0, METRIC_ATTRIBUTES, span_context if exemplar else no_span)
            detach(token)
            span.end()
            _measured = (c1 - c0, peak_rss())
            return result

        return wrapper

    def kept(x: int) -> int:
        span = start_span(NAME, attributes=SPAN_ATTRIBUTES)
        span_context = set_span_in_context(span)
        token = attach(span_context)
        t0 = perf_counter()
        c0 = cpu_time()
        result = target(x)
        c1 = cpu_time()
        t1 = perf_counter()
        record(t1 - t0, METRIC_ATTRIBUTES, no_span)
        detach(token)
        ids = span.get_span_context()
        span.end()
        history.append(
            (NAME, t0, t1 - t0, c1 - c0, peak_rss(), None, ids.trace_id, ids.span_id, None)
        )
        return result

    return {
        "ladder: start_span + end": Variant(span_only),
        "ladder: + attach, detach": Variant(current),
        "ladder: + clocks": Variant(clocks),
        "ladder: + record, no exemplar": Variant(recorded(exemplar=False)),
        "ladder: + record, exemplar": Variant(recorded(exemplar=True)),
        "ladder: + record, no ex., history": Variant(kept),
    }


#: Each piece of a sampled call: (what, the step with it, the step before it).
PIECES = [
    ("the span: start_span (3 attributes) + end", "ladder: start_span + end", None),
    ("make it current: attach + detach", "ladder: + attach, detach", "ladder: start_span + end"),
    (
        "clocks: 2 perf_counter, 2 thread_time, getrusage",
        "ladder: + clocks",
        "ladder: + attach, detach",
    ),
    ("Histogram.record, no exemplar", "ladder: + record, no exemplar", "ladder: + clocks"),
    (
        "an exemplar offer (skipped by the rule)",
        "ladder: + record, exemplar",
        "ladder: + record, no exemplar",
    ),
    (
        "history tuple + span ids",
        "ladder: + record, no ex., history",
        "ladder: + record, no exemplar",
    ),
    (
        "@monitor's own work (binding, rule, closures)",
        "@monitor, SDK sampled",
        "ladder: + record, no ex., history",
    ),
]


def record_floor(histogram: Any) -> Callable[[int], int]:
    """The clocks, one histogram point and the history append: no span."""
    record = histogram.record
    history: deque[tuple[Any, ...]] = deque(maxlen=10_000)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = perf_counter()
        c0 = cpu_time()
        result = target(*args, **kwargs)
        c1 = cpu_time()
        t1 = perf_counter()
        record(t1 - t0, METRIC_ATTRIBUTES)
        history.append((NAME, t0, t1 - t0, c1 - c0, peak_rss(), None, None, None, None))
        return result

    return wrapper


def clocks_floor() -> Callable[[int], int]:
    """The clocks and the history append: what no telemetry at all still costs."""
    history: deque[tuple[Any, ...]] = deque(maxlen=10_000)

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = perf_counter()
        c0 = cpu_time()
        result = target(*args, **kwargs)
        c1 = cpu_time()
        t1 = perf_counter()
        history.append((NAME, t0, t1 - t0, c1 - c0, peak_rss(), None, None, None, None))
        return result

    return wrapper


def unsampled_parent() -> Context:
    """A remote parent that was not sampled, as a service sampled at its edge receives."""
    parent = SpanContext(
        trace_id=0x5B8EFFF798038103D269B633813FC60C,
        span_id=0xEEE19B7EC3C1B174,
        is_remote=True,
        trace_flags=TraceFlags(TraceFlags.DEFAULT),
        trace_state=TraceState([("vendor", "value")]),
    )
    return trace.set_span_in_context(NonRecordingSpan(parent))


def suppressed() -> Context:
    return context.set_value(context._SUPPRESS_INSTRUMENTATION_KEY, True)


def disabled_providers() -> tuple[TracerProvider, MeterProvider]:
    """SDK providers made under ``OTEL_SDK_DISABLED=true`` (they read it when created)."""
    previous = os.environ.get("OTEL_SDK_DISABLED")
    os.environ["OTEL_SDK_DISABLED"] = "true"
    try:
        return TracerProvider(), MeterProvider()
    finally:
        if previous is None:
            del os.environ["OTEL_SDK_DISABLED"]
        else:
            os.environ["OTEL_SDK_DISABLED"] = previous


def peer_variants() -> tuple[dict[str, Variant], list[str]]:
    """ddtrace and logfire decorators, when installed; and what was not found."""
    found: dict[str, Variant] = {}
    missing: list[str] = []
    os.environ.setdefault("DD_TRACE_AGENT_URL", "http://127.0.0.1:9")  # a closed port
    os.environ.setdefault("DD_INSTRUMENTATION_TELEMETRY_ENABLED", "false")
    os.environ.setdefault("DD_REMOTE_CONFIGURATION_ENABLED", "false")
    try:
        from ddtrace.trace import tracer as dd_tracer
    except ImportError:
        missing.append("ddtrace")
    else:
        found["peer: ddtrace tracer.wrap()"] = Variant(dd_tracer.wrap(NAME)(target))
    try:
        import logfire
    except ImportError:
        missing.append("logfire")
    else:
        local = logfire.configure(
            local=True, send_to_logfire=False, console=False, metrics=False, inspect_arguments=False
        )
        found["peer: logfire.instrument"] = Variant(
            local.instrument(span_name=NAME, extract_args=False)(target)
        )
    return found, missing


def build(
    breakdown: bool = False,
) -> tuple[dict[str, Variant], list[Any], InMemoryMetricReader, list[str]]:
    assert trace._TRACER_PROVIDER is None, "the global tracer provider must stay unset"
    sampled_tp = TracerProvider()  # default sampler: ParentBased(ALWAYS_ON)
    sampled_tp.add_span_processor(BatchSpanProcessor(DropExporter()))
    always_off_tp = TracerProvider(sampler=ALWAYS_OFF)
    always_off_tp.add_span_processor(BatchSpanProcessor(DropExporter()))
    reader = InMemoryMetricReader()
    meter_provider = MeterProvider(metric_readers=[reader])
    disabled_tp, disabled_mp = disabled_providers()

    tracer = sampled_tp.get_tracer("bench.floor")
    histogram = meter_provider.get_meter("bench.floor").create_histogram(
        "bench.floor.duration", unit="s", explicit_bucket_boundaries_advisory=list(DURATION_BUCKETS)
    )
    sampled = PerformanceMonitor(tracer_provider=sampled_tp, meter_provider=meter_provider)
    always_off = PerformanceMonitor(tracer_provider=always_off_tp, meter_provider=meter_provider)
    disabled = PerformanceMonitor(tracer_provider=disabled_tp, meter_provider=disabled_mp)
    no_sdk = PerformanceMonitor()
    parent, quiet = unsampled_parent(), suppressed()
    variants = {
        "plain call": Variant(target),
        "functools.wraps pass-through": Variant(functools_passthrough(target)),
        "raw OTel @start_as_current_span": Variant(tracer.start_as_current_span(NAME)(target)),
        "floor: span + record + clocks": Variant(span_floor(tracer, histogram)),
        "@monitor, SDK sampled": Variant(sampled.monitor(target)),
        "floor: record + clocks, parent": Variant(record_floor(histogram), parent),
        "@monitor, unsampled parent": Variant(sampled.monitor(target), parent),
        "floor: record + clocks, suppressed": Variant(record_floor(histogram), quiet),
        "@monitor, suppressed": Variant(sampled.monitor(target), quiet),
        "floor: clocks": Variant(clocks_floor()),
        "@monitor, no SDK": Variant(no_sdk.monitor(target)),
        "@monitor, OTEL_SDK_DISABLED": Variant(disabled.monitor(target)),
        "floor: ALWAYS_OFF span + record": Variant(
            span_floor(always_off_tp.get_tracer("bench.floor"), histogram)
        ),
        "@monitor, ALWAYS_OFF root": Variant(always_off.monitor(target)),
    }
    if breakdown:
        variants.update(ladder(tracer, histogram))
    peers, missing = peer_variants()
    variants.update(peers)
    providers = [sampled_tp, always_off_tp, meter_provider, disabled_tp, disabled_mp]
    return variants, providers, reader, missing


#: What a round is timed with: ``--clock cpu`` counts only this thread's CPU time, which
#: other processes on a shared machine do not inflate (work done by the SDK's export
#: threads is left out either way: it is not on the calling thread's path).
CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}
clock = CLOCKS["wall"]


def run_round(variant: Variant, loops: int) -> float:
    """Seconds per call over ``loops`` calls, with the variant's context attached."""
    func = variant.func
    token = None if variant.context is None else context.attach(variant.context)
    try:
        start = clock()
        for _ in range(loops):
            func(1)
        return (clock() - start) / loops
    finally:
        if token is not None:
            context.detach(token)


def loops_for(variant: Variant) -> int:
    """Calls per round so that one round takes about ``ROUND_SECONDS``."""
    loops = 10
    while True:
        elapsed = run_round(variant, loops) * loops
        if elapsed >= ROUND_SECONDS / 4:
            return max(int(loops * ROUND_SECONDS / elapsed), 10)
        loops *= 4


def measure(
    variants: dict[str, Variant], rounds: int, reader: InMemoryMetricReader, collect_every: float
) -> dict[str, list[float]]:
    """ns per call of every variant, one value per round."""
    loops = {name: loops_for(variant) for name, variant in variants.items()}
    samples: dict[str, list[float]] = {name: [] for name in variants}
    order = list(variants)
    next_collection = time.monotonic() + collect_every
    for _ in range(rounds):
        random.shuffle(order)
        for name in order:
            samples[name].append(run_round(variants[name], loops[name]) * 1e9)
            if time.monotonic() >= next_collection:
                reader.get_metrics_data()
                next_collection = time.monotonic() + collect_every
    return samples


def figure(values: list[float]) -> float:
    """A variant's ns per call: the 10th percentile of its rounds."""
    return sorted(values)[len(values) // 10]


def ratio(samples: dict[str, list[float]], name: str, reference: str) -> float:
    return figure(samples[name]) / figure(samples[reference])


#: (path, its floor, goal as "x floor" or None, note)
PATHS = [
    ("@monitor, SDK sampled", "floor: span + record + clocks", None, ""),
    ("@monitor, unsampled parent", "floor: record + clocks, parent", 1.10, ""),
    ("@monitor, suppressed", "floor: record + clocks, suppressed", 1.15, ""),
    ("@monitor, no SDK", "floor: clocks", 1.15, ""),
    ("@monitor, OTEL_SDK_DISABLED", "floor: clocks", 1.15, ""),
    ("@monitor, ALWAYS_OFF root", "floor: ALWAYS_OFF span + record", None, "asks the sampler"),
]
RAW = "raw OTel @start_as_current_span"
WRAPS = "functools.wraps pass-through"
SAMPLED_GOAL = 1.35


def report(samples: dict[str, list[float]], rounds: int, missing: list[str]) -> None:
    figures = {name: figure(values) for name, values in samples.items()}
    timed = "thread CPU time" if clock is time.thread_time else "wall time"
    print(
        f"python {sys.version.split()[0]}, {rounds} interleaved rounds of {timed}, 10th percentiles"
    )
    print()
    print(f"{'variant':38} {'ns/call':>9} {'x raw OTel':>11}")
    for name, ns in figures.items():
        print(f"{name:38} {ns:9.0f} {ratio(samples, name, RAW):11.2f}")
    print()
    print(f"{'path':30} {'x its floor':>11} {'goal':>6}   {'floor':34} {'x raw':>6}")
    for path, floor, goal, note in PATHS:
        goal_text = "" if goal is None else f"{goal:.2f}"
        print(
            f"{path:30} {ratio(samples, path, floor):11.2f} {goal_text:>6}   {floor:34} "
            f"{ratio(samples, floor, RAW):6.2f}  {note}"
        )
    print()
    sampled = ratio(samples, "@monitor, SDK sampled", RAW)
    print(f"goal: sampled @monitor <= {SAMPLED_GOAL:.2f}x the raw OTel decorator: {sampled:.2f}x")
    for name in samples:
        if name.startswith("peer: "):
            print(f"      {name[6:]:34} {ratio(samples, name, RAW):.2f}x the raw OTel decorator")
    for name in missing:
        print(f"      {name}: not installed (pip install -r benchmarks/requirements-peers.txt)")
    print(
        f"ALWAYS_OFF root @monitor: {ratio(samples, '@monitor, ALWAYS_OFF root', WRAPS):.0f}x "
        "a functools.wraps pass-through"
    )
    if PIECES[0][1] in samples:
        print()
        print("where a sampled @monitor call's time goes (differences between the steps):")
        for what, step, before in PIECES:
            ns = figures[step] - (0.0 if before is None else figures[before])
            print(f"  {what:50} {ns / 1000:6.2f} us")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=100)
    parser.add_argument("--collect-every", type=float, default=5.0, metavar="SECONDS")
    parser.add_argument(
        "--breakdown", action="store_true", help="also time a sampled call piece by piece"
    )
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="wall")
    options = parser.parse_args(argv)
    global clock
    clock = CLOCKS[options.clock]
    variants, providers, reader, missing = build(options.breakdown)
    for variant in variants.values():  # warm up: resolve lazy telemetry, fill caches
        run_round(variant, 200)
    samples = measure(variants, options.rounds, reader, options.collect_every)
    report(samples, options.rounds, missing)
    for provider in providers:
        provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
