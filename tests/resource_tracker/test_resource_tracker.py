"""ResourceTracker: exact peaks, CPU time, own windows, decorator shapes, spans, bad input."""

from __future__ import annotations

import asyncio
import gc
import inspect
import math
import threading
import time
from collections.abc import Iterator

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance import ResourceTracker, ResourceUsage
from codomyrmex.performance.resource_tracker._sampler import sampler
from harness.subprocesses import run_python

MIB = 1024 * 1024
SAMPLER_THREAD = "codomyrmex-resource-sampler"


def allocate_and_free(mib: int) -> None:
    buffer = bytearray(mib * MIB)  # zero-filled: every page is touched
    del buffer


def spin(seconds: float) -> None:
    end = time.process_time() + seconds
    while time.process_time() < end:
        pass


def sampler_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name == SAMPLER_THREAD]


def wait_for_sampler_exit(timeout: float = 5.0) -> None:
    deadline = time.monotonic() + timeout
    while sampler_threads() and time.monotonic() < deadline:
        time.sleep(0.01)


def test_short_lived_200_mb_buffer_shows_in_peak() -> None:
    # A 60 s interval means no background sample can see the buffer: only the kernel mark can.
    with ResourceTracker(sample_interval=60) as tracker:
        allocate_and_free(200)
    usage = tracker.usage
    assert usage is not None
    assert usage.peak_rss_exact is True
    assert usage.peak_rss_mb >= usage.start_rss_mb + 195
    assert abs(usage.rss_delta_mb) < 50
    assert usage.samples == 2  # the start and stop samples


def test_peak_is_not_inherited_from_before_the_window() -> None:
    allocate_and_free(150)
    with ResourceTracker() as tracker:
        time.sleep(0.01)
    assert tracker.usage is not None
    assert tracker.usage.peak_rss_mb < tracker.usage.start_rss_mb + 100


def test_cpu_time_matches_process_time() -> None:
    with ResourceTracker() as tracker:
        before, started = time.process_time(), time.perf_counter()
        spin(0.25)
        measured, wall = time.process_time() - before, time.perf_counter() - started
    usage = tracker.usage
    assert usage is not None
    assert usage.cpu_time == pytest.approx(measured, abs=0.03)
    assert usage.cpu_time == pytest.approx(usage.user_time + usage.system_time)
    assert usage.cpu_percent == pytest.approx(usage.cpu_time / usage.duration * 100)
    # A shared machine may give the spin less than a core; the figure must follow.
    assert usage.cpu_percent == pytest.approx(measured / wall * 100, rel=0.15)


def test_sleeping_block_is_sampled_and_idle() -> None:
    with ResourceTracker(sample_interval=0.01) as tracker:
        time.sleep(0.2)
    usage = tracker.usage
    assert usage is not None
    assert usage.duration >= 0.2
    assert usage.samples >= 5
    assert usage.cpu_percent < 50
    assert usage.peak_threads >= 2  # this thread and the sampler
    assert usage.peak_fds is not None and usage.peak_fds > 0
    assert usage.peak_rss_mb >= max(usage.start_rss_mb, usage.end_rss_mb)


def test_start_stop_returns_usage_and_restarts() -> None:
    tracker = ResourceTracker()
    assert tracker.start() is tracker
    assert tracker.running
    first = tracker.stop()
    assert isinstance(first, ResourceUsage)
    assert tracker.usage is first
    assert not tracker.running
    tracker.start()
    second = tracker.stop()
    assert second is not first
    assert tracker.usage is second


def test_nested_trackers_each_see_their_own_window() -> None:
    with ResourceTracker() as outer:
        allocate_and_free(150)
        with ResourceTracker() as inner:
            allocate_and_free(60)
        time.sleep(0.01)
    assert outer.usage is not None and inner.usage is not None
    base = outer.usage.start_rss_mb
    assert outer.usage.peak_rss_mb >= base + 145
    assert base + 55 <= inner.usage.peak_rss_mb < base + 100
    assert outer.usage.duration > inner.usage.duration
    assert outer.usage.peak_rss_exact and inner.usage.peak_rss_exact


def test_trackers_in_threads_share_one_sampler_and_keep_their_windows() -> None:
    wait_for_sampler_exit()
    freed = threading.Event()
    b_done = threading.Event()
    usages: dict[str, ResourceUsage] = {}
    seen_sampler_threads: list[int] = []

    def thread_a() -> None:
        with ResourceTracker(sample_interval=0.01) as tracker:
            allocate_and_free(150)
            freed.set()
            b_done.wait(5)
        assert tracker.usage is not None
        usages["a"] = tracker.usage

    def thread_b() -> None:
        freed.wait(5)
        with ResourceTracker(sample_interval=0.02) as tracker:
            time.sleep(0.05)
            seen_sampler_threads.append(len(sampler_threads()))
        b_done.set()
        assert tracker.usage is not None
        usages["b"] = tracker.usage

    workers = [threading.Thread(target=thread_a), threading.Thread(target=thread_b)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(10)
    assert set(usages) == {"a", "b"}
    assert seen_sampler_threads == [1]
    base = usages["a"].start_rss_mb
    assert usages["a"].peak_rss_mb >= base + 145
    assert usages["b"].peak_rss_mb < base + 100
    assert usages["a"].duration > usages["b"].duration
    wait_for_sampler_exit()
    assert sampler_threads() == []


def test_many_concurrent_trackers() -> None:
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for _ in range(20):
                with ResourceTracker(sample_interval=0.001) as tracker:
                    time.sleep(0.001)
                assert tracker.usage is not None and tracker.usage.samples >= 2
        except BaseException as exc:
            errors.append(exc)

    workers = [threading.Thread(target=work) for _ in range(6)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join(30)
    assert errors == []
    assert len(sampler_threads()) <= 1


def test_sampler_thread_failure_never_reaches_user_code(monkeypatch: pytest.MonkeyPatch) -> None:
    wait_for_sampler_exit()
    real_sample = type(sampler)._sample
    hook_calls: list[object] = []
    monkeypatch.setattr(threading, "excepthook", hook_calls.append)

    def failing_in_sampler_thread(self: object) -> object:
        if threading.current_thread().name == SAMPLER_THREAD:
            raise OSError("simulated /proc failure")
        return real_sample(self)  # type: ignore[arg-type]

    monkeypatch.setattr(type(sampler), "_sample", failing_in_sampler_thread)
    with ResourceTracker(sample_interval=0.005) as tracker:
        time.sleep(0.05)
    assert tracker.usage is not None
    assert tracker.usage.samples == 2
    assert hook_calls == []


def test_a_tracker_dropped_while_running_releases_the_sampler() -> None:
    wait_for_sampler_exit()
    ResourceTracker(sample_interval=0.01).start()  # never stopped, immediately garbage
    gc.collect()
    wait_for_sampler_exit()
    assert sampler_threads() == []


def test_trackers_work_in_a_forked_child() -> None:
    result = run_python(
        """
        import os, time
        from codomyrmex.performance import ResourceTracker
        parent = ResourceTracker(sample_interval=0.01).start()
        pid = os.fork()
        if pid == 0:
            with ResourceTracker(sample_interval=0.01) as child:
                time.sleep(0.05)
            inherited = parent.stop()
            os._exit(0 if child.usage.samples >= 3 and inherited.samples >= 2 else 1)
        _, status = os.waitpid(pid, 0)
        assert parent.stop().samples >= 2
        print("child exit", os.waitstatus_to_exitcode(status))
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "child exit 0"


# decorator shapes


def test_decorates_a_function() -> None:
    tracker = ResourceTracker(sample_interval=0.01)

    @tracker
    def double(value: int) -> int:
        """Twice the value."""
        allocate_and_free(50)
        return value * 2

    assert double(21) == 42
    assert double.__name__ == "double"
    assert double.__doc__ == "Twice the value."
    assert list(inspect.signature(double).parameters) == ["value"]
    assert tracker.usage is not None
    assert tracker.usage.peak_rss_mb >= tracker.usage.start_rss_mb + 45
    assert not tracker.running


def test_decorated_function_reraises_unchanged_and_still_records() -> None:
    tracker = ResourceTracker()
    error = KeyError("missing")

    @tracker
    def fail() -> None:
        raise error

    with pytest.raises(KeyError) as caught:
        fail()
    assert caught.value is error
    assert tracker.usage is not None


async def test_decorates_a_coroutine_function() -> None:
    tracker = ResourceTracker(sample_interval=0.01)

    @tracker
    async def fetch(delay: float) -> str:
        await asyncio.sleep(delay)
        return "done"

    assert inspect.iscoroutinefunction(fetch)
    coroutine = fetch(0.05)
    assert tracker.usage is None  # creating the coroutine tracks nothing
    assert await coroutine == "done"
    assert tracker.usage is not None
    assert tracker.usage.duration >= 0.05


async def test_concurrent_coroutines_get_separate_windows() -> None:
    tracker = ResourceTracker()

    @tracker
    async def nap(delay: float) -> float:
        await asyncio.sleep(delay)
        return delay

    assert await asyncio.gather(nap(0.01), nap(0.06)) == [0.01, 0.06]
    assert tracker.usage is not None
    assert tracker.usage.duration >= 0.06  # the call that finished last


def test_decorates_a_generator_over_its_whole_run() -> None:
    tracker = ResourceTracker()

    @tracker
    def countdown(start: int) -> Iterator[int]:
        for value in range(start, 0, -1):
            time.sleep(0.01)
            yield value

    generator = countdown(3)
    assert tracker.usage is None
    assert list(generator) == [3, 2, 1]
    assert tracker.usage is not None
    assert tracker.usage.duration >= 0.03


def test_decorates_methods() -> None:
    tracker = ResourceTracker()

    class Service:
        def __init__(self) -> None:
            self.factor = 3

        @tracker
        def scale(self, value: int) -> int:
            return value * self.factor

        @classmethod
        @tracker
        def name(cls) -> str:
            return cls.__name__

        @staticmethod
        @tracker
        def add(a: int, b: int) -> int:
            return a + b

        @tracker
        @classmethod
        def outer_name(cls) -> str:
            return cls.__name__

        @tracker
        @staticmethod
        async def outer_add(a: int, b: int) -> int:
            await asyncio.sleep(0.01)
            return a + b

    assert Service().scale(2) == 6
    assert Service.name() == "Service"
    assert Service.add(1, 2) == 3
    assert Service.outer_name() == "Service"
    assert Service().outer_name() == "Service"
    tracker.usage = None
    assert asyncio.run(Service.outer_add(1, 2)) == 3
    assert tracker.usage is not None and tracker.usage.duration >= 0.01


def test_rejects_async_generator_functions_and_non_callables() -> None:
    async def stream() -> object:
        yield 1

    with pytest.raises(TypeError, match="async generator"):
        ResourceTracker()(stream)
    with pytest.raises(TypeError, match="callables"):
        ResourceTracker()(42)  # type: ignore[type-var]


async def test_async_context_manager() -> None:
    async with ResourceTracker(sample_interval=0.01) as tracker:
        await asyncio.sleep(0.02)
    assert tracker.usage is not None and tracker.usage.duration >= 0.02


# telemetry


def test_usage_goes_on_the_recording_span(spans: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("tests.resource_tracker")
    with tracer.start_as_current_span("block"), ResourceTracker() as tracker:
        allocate_and_free(20)
    (span,) = spans.get_finished_spans()
    usage = tracker.usage
    assert usage is not None
    attributes = dict(span.attributes or {})
    expected = {
        "codomyrmex.resource.duration": (float, usage.duration),
        "codomyrmex.resource.cpu_time": (float, usage.cpu_time),
        "codomyrmex.resource.cpu_percent": (float, usage.cpu_percent),
        "codomyrmex.resource.peak_rss_mb": (float, usage.peak_rss_mb),
        "codomyrmex.resource.rss_delta_mb": (float, usage.rss_delta_mb),
        "codomyrmex.resource.samples": (int, usage.samples),
        "codomyrmex.resource.peak_threads": (int, usage.peak_threads),
        "codomyrmex.resource.peak_fds": (int, usage.peak_fds),
    }
    assert set(attributes) == set(expected)
    for name, (kind, value) in expected.items():
        assert type(attributes[name]) is kind, name
        assert attributes[name] == value, name


def test_decorator_annotates_the_callers_span(spans: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("tests.resource_tracker")

    @tracer.start_as_current_span("call")
    @ResourceTracker()
    def work() -> None:
        time.sleep(0.01)

    work()
    (span,) = spans.get_finished_spans()
    assert span.name == "call"
    assert (span.attributes or {})["codomyrmex.resource.duration"] >= 0.01


def test_no_attributes_on_a_non_recording_span(spans: InMemorySpanExporter) -> None:
    tracer = trace.get_tracer("tests.resource_tracker")
    with tracer.start_as_current_span("outer") as outer:
        context = trace.set_span_in_context(trace.NonRecordingSpan(outer.get_span_context()))
        from opentelemetry import context as otel_context

        token = otel_context.attach(context)
        try:
            with ResourceTracker():
                pass
        finally:
            otel_context.detach(token)
    (span,) = spans.get_finished_spans()
    assert not any(key.startswith("codomyrmex.resource.") for key in span.attributes or {})


def test_usage_to_dict() -> None:
    with ResourceTracker() as tracker:
        pass
    assert tracker.usage is not None
    data = tracker.usage.to_dict()
    assert list(data)[:6] == [
        "duration",
        "peak_rss_mb",
        "rss_delta_mb",
        "cpu_time",
        "cpu_percent",
        "samples",
    ]
    assert all(isinstance(v, (int, float, bool)) for v in data.values())


# bad input


@pytest.mark.parametrize("interval", [0, -0.5, math.nan, math.inf])
def test_non_positive_interval_is_a_value_error(interval: float) -> None:
    with pytest.raises(ValueError, match="sample_interval"):
        ResourceTracker(sample_interval=interval)


@pytest.mark.parametrize("interval", ["0.1", None, True, [0.1]])
def test_non_number_interval_is_a_type_error(interval: object) -> None:
    with pytest.raises(TypeError, match="sample_interval"):
        ResourceTracker(sample_interval=interval)  # type: ignore[arg-type]


def test_bare_decorator_use_explains_itself() -> None:
    with pytest.raises(TypeError, match=r"@ResourceTracker\(\)"):

        @ResourceTracker  # type: ignore[arg-type]
        def work() -> None:
            pass


def test_stop_without_start_and_double_start_are_runtime_errors() -> None:
    tracker = ResourceTracker()
    with pytest.raises(RuntimeError, match="before start"):
        tracker.stop()
    tracker.start()
    with pytest.raises(RuntimeError, match="already running"):
        tracker.start()
    tracker.stop()
    with pytest.raises(RuntimeError):
        tracker.stop()


def test_import_is_light() -> None:
    result = run_python(
        """
        import sys
        from codomyrmex.performance import ResourceTracker
        heavy = [m for m in ("psutil", "wrapt", "opentelemetry.trace") if m in sys.modules]
        assert not heavy, heavy
        with ResourceTracker() as tracker:
            pass
        assert tracker.usage.samples == 2
        print("ok")
        """
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "ok"
