"""Monitors under concurrent use: no lost history entries, exact counts."""

from __future__ import annotations

import contextlib
import threading
import time

from codomyrmex.performance.performance_monitor import PerformanceMonitor

THREADS = 8
CALLS = 2000


def hammer(perf: PerformanceMonitor, work) -> None:  # type: ignore[no-untyped-def]
    barrier = threading.Barrier(THREADS)

    def run() -> None:
        barrier.wait()
        for i in range(CALLS):
            work(i)

    threads = [threading.Thread(target=run) for _ in range(THREADS)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()


def test_concurrent_calls_are_all_recorded(spans) -> None:
    perf = PerformanceMonitor(max_metrics=THREADS * CALLS)

    @perf.monitor(name="shared")
    def shared(i: int) -> int:
        if i % 100 == 0:
            raise ValueError(i)
        return i

    def work(i: int) -> None:
        with contextlib.suppress(ValueError):
            shared(i)

    hammer(perf, work)
    stats = perf.get_stats("shared")
    assert stats["count"] == THREADS * CALLS
    assert stats["errors"] == THREADS * (CALLS // 100)
    assert len(spans.get_finished_spans()) == THREADS * CALLS
    span_ids = {m.span_id for m in perf.get_metrics()}
    assert len(span_ids) == THREADS * CALLS


def test_bounded_history_under_threads_keeps_exactly_max() -> None:
    perf = PerformanceMonitor(max_metrics=1000)

    @perf.monitor(name="bounded")
    def bounded(i: int) -> int:
        return i

    hammer(perf, bounded)
    assert perf.get_stats()["count"] == 1000


def test_reading_while_writing(spans) -> None:
    perf = PerformanceMonitor(max_metrics=500)
    stop = threading.Event()
    problems: list[BaseException] = []

    @perf.monitor(name="w")
    def w(i: int) -> int:
        return i

    def reader() -> None:
        while not stop.is_set():
            try:
                perf.get_stats()
                perf.get_metrics("w")
                time.sleep(0.01)
            except BaseException as exc:  # pragma: no cover - the failure being tested
                problems.append(exc)

    readers = [threading.Thread(target=reader) for _ in range(2)]
    for thread in readers:
        thread.start()
    try:
        hammer(perf, w)
    finally:
        stop.set()
        for thread in readers:
            thread.join()
    assert problems == []
    assert perf.get_stats()["count"] == 500
