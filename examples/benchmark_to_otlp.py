"""Benchmarks exported over OTLP: one span per suite run, one child per benchmark.

    OTEL_EXPORTER_OTLP_ENDPOINT=http://localhost:4317 OTEL_EXPORTER_OTLP_PROTOCOL=grpc \\
        python examples/benchmark_to_otlp.py
"""

from __future__ import annotations

from codomyrmex.performance import BenchmarkSuite, configure_telemetry, run_benchmark

handle = configure_telemetry("benchmark-example")
suite = BenchmarkSuite("string-building")
WORDS = ["word"] * 200


@suite.add
def join() -> str:
    return " ".join(WORDS)


@suite.add(name="concatenate")
def concatenate() -> str:
    text = ""
    for word in WORDS:
        text += word + " "
    return text


run = run_benchmark(suite, rounds=5)
for result in run.results:
    print(f"{result.name}: median {result.median * 1e6:.1f} µs, {result.ops_per_sec:,.0f} ops/s")
handle.shutdown()
