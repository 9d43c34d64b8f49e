"""What ``@monitor(profile_slower_than=...)`` costs, under and over its threshold.

Pairs of variants run in interleaved short rounds in this one process, each timed with
the calling thread's CPU time by default (``--clock wall`` for wall time):

* under the threshold: a trivial function monitored with ``profile_slower_than=1.0``
  against the same function monitored without it (SDK sampled, both traced): the price of
  the one comparison;
* over it: a function doing ``--work`` seconds of fixed CPU work with
  ``profile_slower_than`` a quarter of that, against the same function unprofiled: what
  sampling its stack costs the call (the sampler thread takes the GIL for each sample).

It also reads the sampler thread's own CPU time while no call is slow (it looks at the
stacks every half threshold) and while slow calls run. Run it alone on a quiet machine::

    python benchmarks/bench_slow_calls.py [--rounds 40] [--work 0.2]
"""

from __future__ import annotations

import argparse
import sys
import threading
import time
from collections.abc import Callable, Sequence
from typing import Any

from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter, SpanExportResult

from codomyrmex.performance.performance_monitor import PerformanceMonitor

CLOCKS = {"wall": time.perf_counter, "cpu": time.thread_time}


class DropExporter(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


def trivial(x: int) -> int:
    return x


def fixed_work(seconds: float) -> Callable[[int], int]:
    """A function doing the same loop on every call: about ``seconds`` of CPU time."""

    def spin(iterations: int) -> int:
        total = 0
        for i in range(iterations):
            total += i
        return total

    start = time.thread_time()
    spin(1_000_000)
    iterations = max(1, int(1_000_000 * seconds / (time.thread_time() - start)))

    def work(x: int) -> int:
        spin(iterations)
        return x

    return work


def figure(values: list[float]) -> float:
    """The 10th percentile: preempted rounds only ever read slower."""
    return sorted(values)[len(values) // 10]


def measure(
    pairs: dict[str, tuple[Callable[[int], int], Callable[[int], int], int]],
    rounds: int,
    clock: Callable[[], float],
) -> dict[str, tuple[float, float]]:
    """Per pair: (profiled, unprofiled) seconds per call."""
    samples: dict[str, tuple[list[float], list[float]]] = {name: ([], []) for name in pairs}
    for index in range(rounds):
        for name, (profiled, plain, loops) in pairs.items():
            order = [(0, profiled), (1, plain)] if index % 2 else [(1, plain), (0, profiled)]
            for slot, func in order:
                start = clock()
                for _ in range(loops):
                    func(1)
                samples[name][slot].append((clock() - start) / loops)
    return {name: (figure(a), figure(b)) for name, (a, b) in samples.items()}


def sampler_cpu(seconds: float, busy: Callable[[int], int] | None) -> float:
    """The sampler thread's CPU time over ``seconds`` of wall time, as a share of a core."""
    (thread,) = [t for t in threading.enumerate() if t.name == "codomyrmex-slow-call-sampler"]
    assert thread.ident is not None
    cpu_clock = time.pthread_getcpuclockid(thread.ident)
    start, wall = time.clock_gettime(cpu_clock), time.perf_counter()
    if busy is None:
        time.sleep(seconds)
    else:
        while time.perf_counter() - wall < seconds:
            busy(1)
    return (time.clock_gettime(cpu_clock) - start) / (time.perf_counter() - wall)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--rounds", type=int, default=40)
    parser.add_argument("--work", type=float, default=0.2, metavar="SECONDS")
    parser.add_argument("--clock", choices=sorted(CLOCKS), default="cpu")
    options = parser.parse_args(argv)
    provider = TracerProvider()
    provider.add_span_processor(BatchSpanProcessor(DropExporter()))
    perf = PerformanceMonitor(tracer_provider=provider)
    slow = fixed_work(options.work)
    threshold = options.work / 4
    slow_profiled = perf.monitor(slow, profile_slower_than=threshold)
    pairs: dict[str, tuple[Any, Any, int]] = {
        "under the threshold (trivial call)": (
            perf.monitor(trivial, profile_slower_than=1.0),
            perf.monitor(trivial),
            300,
        ),
        f"over it ({options.work * 1e3:g} ms call, threshold {threshold * 1e3:g} ms)": (
            slow_profiled,
            perf.monitor(slow),
            1,
        ),
    }
    for profiled, plain, _ in pairs.values():
        profiled(1), plain(1)
    results = measure(pairs, options.rounds, CLOCKS[options.clock])
    timed = "thread CPU time" if options.clock == "cpu" else "wall time"
    print(f"python {sys.version.split()[0]}, {options.rounds} interleaved rounds of {timed}")
    print(f"{'':44} {'profiled':>12} {'unprofiled':>12} {'ratio':>7}")
    for name, (profiled_s, plain_s) in results.items():
        ratio = profiled_s / plain_s
        print(f"{name:44} {profiled_s * 1e6:10.2f}us {plain_s * 1e6:10.2f}us {ratio:7.3f}")
    idle, active = sampler_cpu(2.0, None), sampler_cpu(2.0, slow_profiled)
    print(
        f"sampler thread CPU time: {idle * 100:.3f} % of a core while no call is slow "
        f"(it looks every {threshold / 2 * 1e3:g} ms), {active * 100:.2f} % while slow "
        "calls run back to back"
    )
    provider.shutdown()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
