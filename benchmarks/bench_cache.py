"""Cost of a cache hit: ``cached_function`` against what users pick today.

Runs with OpenTelemetry live (an SDK ``MeterProvider`` with a reader, so the cache's
observable instruments are registered and collected) and compares, in interleaved short
rounds so that CPU frequency changes hit every candidate alike:

* ``functools.lru_cache(128)`` (C, no TTL, no telemetry);
* ``cachetools.cached(TTLCache(128, 300), lock=Lock())`` (the usual TTL cache);
* a dict cache that calls ``Counter.add`` per hit (telemetry done the naive way);
* ``cached_function(ttl_seconds=300, max_size=128)``;
* ``cached_function(cache_manager=...)``: a function sharing one ``CacheManager`` (its
  keys carry a namespace, its counts are its own).

Prints ns per hit (median over rounds) and, per round, our time divided by each other's
(median and range). Goal: ours <= 0.35x the cachetools TTLCache+Lock hit.

    python benchmarks/bench_cache.py [--rounds 31] [--calls 20000]
"""

from __future__ import annotations

import argparse
import functools
import statistics
import threading
import time
from collections.abc import Callable
from typing import Any

import cachetools
from opentelemetry import metrics
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader

from codomyrmex.performance import CacheManager, cached_function


def target(x: Any, y: Any = 0) -> Any:
    return x


def counter_add_cache(func: Callable[..., Any]) -> Callable[..., Any]:
    """A minimal dict cache that reports every lookup with ``Counter.add``."""
    counter = metrics.get_meter("bench").create_counter("bench.cache.requests", unit="{request}")
    hit = {"codomyrmex.cache.name": "bench", "codomyrmex.cache.result": "hit"}
    miss = {"codomyrmex.cache.name": "bench", "codomyrmex.cache.result": "miss"}
    data: dict[Any, Any] = {}
    lock = threading.Lock()

    def wrapper(*args: Any) -> Any:
        try:
            value = data[args]
        except KeyError:
            counter.add(1, miss)
            value = func(*args)
            with lock:
                data[args] = value
            return value
        counter.add(1, hit)
        return value

    return wrapper


def candidates() -> dict[str, Callable[..., Any]]:
    return {
        "functools.lru_cache": functools.lru_cache(maxsize=128)(target),
        "cachetools TTLCache+Lock": cachetools.cached(
            cachetools.TTLCache(maxsize=128, ttl=300), lock=threading.Lock()
        )(target),
        "dict + Counter.add per hit": counter_add_cache(target),
        "cached_function": cached_function(ttl_seconds=300, max_size=128)(target),
        "cached_function, shared cache": cached_function(
            cache_manager=CacheManager(ttl_seconds=300, max_size=128, name="bench.shared")
        )(target),
    }


def time_hits(func: Callable[..., Any], calls: int, two_args: bool) -> float:
    """ns per call of ``func`` on an argument already cached."""
    loop = range(calls)
    if two_args:
        func("k", 2)
        start = time.perf_counter()
        for _ in loop:
            func("k", 2)
    else:
        func(5)
        start = time.perf_counter()
        for _ in loop:
            func(5)
    return (time.perf_counter() - start) / calls * 1e9


def run(funcs: dict[str, Callable[..., Any]], rounds: int, calls: int, two_args: bool) -> None:
    samples: dict[str, list[float]] = {name: [] for name in funcs}
    ratios: dict[str, list[float]] = {name: [] for name in funcs}
    for round_index in range(rounds):
        order = list(funcs.items())
        if round_index % 2:
            order.reverse()
        this_round = {name: time_hits(func, calls, two_args) for name, func in order}
        for name, ns in this_round.items():
            samples[name].append(ns)
            ratios[name].append(this_round["cached_function"] / ns)
    shape = "f('k', 2)" if two_args else "f(5)"
    print(f"\nhit {shape}: {rounds} interleaved rounds x {calls} calls")
    print(f"  {'candidate':<30}{'ns/hit':>9}   cached_function / candidate")
    for name in funcs:
        spread = ratios[name]
        print(
            f"  {name:<30}{statistics.median(samples[name]):>9.0f}   "
            f"{statistics.median(spread):.3f}x (range {min(spread):.3f}-{max(spread):.3f})"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=31)
    parser.add_argument("--calls", type=int, default=20_000)
    options = parser.parse_args()

    reader = InMemoryMetricReader()
    metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
    funcs = candidates()  # kept alive: a cache's series disappears when it is collected
    run(funcs, options.rounds, options.calls, two_args=False)
    run(funcs, options.rounds, options.calls, two_args=True)

    start = time.perf_counter()
    data = reader.get_metrics_data()
    collect_ms = (time.perf_counter() - start) * 1e3
    names = sorted(
        {m.name for rm in data.resource_metrics for sm in rm.scope_metrics for m in sm.metrics}
        if data
        else set()
    )
    print(f"\ncollection with telemetry live: {collect_ms:.2f} ms, metrics: {', '.join(names)}")


if __name__ == "__main__":
    main()
