"""What a block of code costs the process: wall time, CPU time, peak memory, threads, fds.

Use it as a context manager, a decorator, or with explicit ``start``/``stop``::

    from codomyrmex.performance import ResourceTracker

    with ResourceTracker() as tracker:
        build_index()
    print(tracker.usage.peak_rss_mb, tracker.usage.cpu_percent)

    @ResourceTracker(sample_interval=0.01)   # every call gets its own window;
    def build_index(): ...                   # the tracker keeps the last call's usage

How the numbers are made:

- ``duration``: ``time.perf_counter`` around the block.
- ``cpu_time`` (= ``user_time + system_time``): the process's CPU time delta, from
  ``getrusage(RUSAGE_SELF)`` (microsecond resolution) where it exists, else psutil's
  ``cpu_times``. It is process-wide, so it counts every thread: ``cpu_percent``
  (``cpu_time / duration * 100``) exceeds 100 when threads run in parallel.
- ``peak_rss_mb``: the largest resident set size in the window, from one shared
  background thread sampling a persistent ``psutil.Process`` at start, every
  ``sample_interval`` and at stop, combined with the kernel's high-water mark
  (``VmHWM`` on Linux, ``ru_maxrss`` on macOS, ``peak_wset`` on Windows). On Linux the
  tracker resets that mark when it starts, by writing ``5`` to ``/proc/self/clear_refs``
  (allowed for a process on itself since Linux 4.0), so a buffer allocated and freed
  between two samples still shows. ``peak_rss_exact`` tells whether the kernel mark
  backed the number; when it is False the peak is the largest sample. Side effect: the
  process's ``VmHWM``/``ru_maxrss`` count from the last tracker start.
- ``peak_threads`` and ``peak_fds`` are sampled (``peak_fds`` is None where the platform
  cannot count descriptors).

Trackers nest and run in several threads at once: each sees its own window while a
single daemon sampler thread serves all of them, started with the first active tracker
and ended a second after the last one stops. Nothing from the sampler thread ever raises
into user code; a tracker garbage-collected while running releases its window.

``sample_interval`` is between ``MIN_SAMPLE_INTERVAL`` (1 ms: shorter would only spin the
sampler) and ``MAX_SAMPLE_INTERVAL`` (an hour) seconds.

Cost: a ``start()``/``stop()`` pair takes two samples (a few hundred microseconds), and
sampling at the default 20 Hz uses under 1 % of a core. That suits blocks and jobs; for
per-call timing of hot functions use ``@monitor``, which reads only clocks and
``getrusage``.

When a span is recording at ``stop()``, the usage is added to it as attributes
``codomyrmex.resource.duration``, ``.cpu_time``, ``.cpu_percent``, ``.peak_rss_mb``,
``.rss_delta_mb`` (floats, seconds / percent / MiB), ``.samples``, ``.peak_threads``
and ``.peak_fds`` (ints). Sizes are in MiB (2**20 bytes).
"""

from __future__ import annotations

import inspect
import threading
import time
import weakref
from collections.abc import Callable
from dataclasses import asdict, dataclass
from types import TracebackType
from typing import Any, TypeVar, cast

from codomyrmex.performance._safe import opentelemetry_imported, report_telemetry_error
from codomyrmex.performance.resource_tracker._sampler import (
    MAX_SAMPLE_INTERVAL,
    MIN_SAMPLE_INTERVAL,
    Window,
    process_cpu_times,
    sampler,
)
from codomyrmex.performance.semconv import RESOURCE_PREFIX

__all__ = ["MAX_SAMPLE_INTERVAL", "MIN_SAMPLE_INTERVAL", "ResourceTracker", "ResourceUsage"]

_MIB = 1024 * 1024

F = TypeVar("F", bound=Callable[..., Any])


@dataclass(frozen=True)
class ResourceUsage:
    """What one tracked window cost the process (times in seconds, sizes in MiB).

    ``duration`` wall time; ``peak_rss_mb`` largest resident set size in the window
    (``peak_rss_exact``: backed by the kernel high-water mark, not only by samples);
    ``start_rss_mb``/``end_rss_mb`` and ``rss_delta_mb`` (end - start); ``cpu_time``
    (``user_time + system_time``, all threads) and ``cpu_percent`` (can exceed 100);
    ``samples`` taken (start, every interval, stop); ``peak_threads``; ``peak_fds``
    (open file descriptors, or handles on Windows; None if they cannot be counted).
    """

    duration: float
    peak_rss_mb: float
    rss_delta_mb: float
    cpu_time: float
    cpu_percent: float
    samples: int
    start_rss_mb: float
    end_rss_mb: float
    user_time: float
    system_time: float
    peak_threads: int
    peak_fds: int | None
    peak_rss_exact: bool

    def to_dict(self) -> dict[str, Any]:
        """The fields as a JSON-ready dict."""
        return asdict(self)

    def span_attributes(self) -> dict[str, float | int]:
        """The ``codomyrmex.resource.*`` attributes this usage puts on a span."""
        attributes: dict[str, float | int] = {
            RESOURCE_PREFIX + "duration": self.duration,
            RESOURCE_PREFIX + "cpu_time": self.cpu_time,
            RESOURCE_PREFIX + "cpu_percent": self.cpu_percent,
            RESOURCE_PREFIX + "peak_rss_mb": self.peak_rss_mb,
            RESOURCE_PREFIX + "rss_delta_mb": self.rss_delta_mb,
            RESOURCE_PREFIX + "samples": self.samples,
            RESOURCE_PREFIX + "peak_threads": self.peak_threads,
        }
        if self.peak_fds is not None:
            attributes[RESOURCE_PREFIX + "peak_fds"] = self.peak_fds
        return attributes


def _annotate_current_span(usage: ResourceUsage) -> None:
    if not opentelemetry_imported():  # no OpenTelemetry in use: no span to add to
        return
    from opentelemetry import trace

    span = trace.get_current_span()
    if span.is_recording():
        span.set_attributes(usage.span_attributes())


class ResourceTracker:
    """Measures one window of the process: ``start()``/``stop()``, ``with``, or a decorator.

    ``sample_interval`` (seconds, from ``MIN_SAMPLE_INTERVAL`` to ``MAX_SAMPLE_INTERVAL``)
    is how often the shared sampler thread reads the process while this tracker runs.
    After ``stop()`` (or the end of the ``with`` block) the result is in :attr:`usage`.
    A tracker can be started again once stopped.
    """

    def __init__(self, sample_interval: float = 0.05) -> None:
        if isinstance(sample_interval, bool) or not isinstance(sample_interval, (int, float)):
            raise TypeError(
                f"sample_interval must be a number of seconds, not {type(sample_interval).__name__}"
                + ("; to decorate, use @ResourceTracker()" if callable(sample_interval) else "")
            )
        if not MIN_SAMPLE_INTERVAL <= sample_interval <= MAX_SAMPLE_INTERVAL:
            raise ValueError(
                f"sample_interval must be between {MIN_SAMPLE_INTERVAL} and "
                f"{MAX_SAMPLE_INTERVAL} seconds, got {sample_interval!r}"
            )
        self.sample_interval = float(sample_interval)
        #: The last finished window's usage (None before the first ``stop()``).
        self.usage: ResourceUsage | None = None
        self._lock = threading.Lock()
        self._window: Window | None = None
        self._finalizer: weakref.finalize[[Window], ResourceTracker] | None = None
        self._started_at = 0.0
        self._cpu_at_start = (0.0, 0.0)

    @property
    def running(self) -> bool:
        """True between ``start()`` and ``stop()``."""
        return self._window is not None

    def start(self) -> ResourceTracker:
        """Open a window; raises ``RuntimeError`` if this tracker is already running."""
        with self._lock:
            if self._window is not None:
                raise RuntimeError("ResourceTracker is already running; stop() it first")
            self._window = sampler.open(self.sample_interval)
            # A tracker dropped while running must not keep the sampler thread alive.
            self._finalizer = weakref.finalize(self, sampler.abandon, self._window)
            self._cpu_at_start = process_cpu_times()
            self._started_at = time.perf_counter()
        return self

    def stop(self) -> ResourceUsage:
        """Close the window, store and return its :class:`ResourceUsage`."""
        ended_at = time.perf_counter()
        user, system = process_cpu_times()
        with self._lock:
            window = self._window
            if window is None:
                raise RuntimeError("ResourceTracker.stop() called before start()")
            self._window = None
            if self._finalizer is not None:
                self._finalizer.detach()
            sampler.close(window)
        duration = ended_at - self._started_at
        user -= self._cpu_at_start[0]
        system -= self._cpu_at_start[1]
        cpu_time = user + system
        first_rss, last_rss = window.first_rss, window.last_rss
        usage = ResourceUsage(
            duration=duration,
            peak_rss_mb=window.peak_rss / _MIB,
            rss_delta_mb=(last_rss - first_rss) / _MIB,
            cpu_time=cpu_time,
            cpu_percent=cpu_time / duration * 100.0 if duration > 0 else 0.0,
            samples=window.samples,
            start_rss_mb=first_rss / _MIB,
            end_rss_mb=last_rss / _MIB,
            user_time=user,
            system_time=system,
            peak_threads=window.peak_threads,
            peak_fds=window.peak_fds,
            peak_rss_exact=window.exact,
        )
        self.usage = usage
        try:
            _annotate_current_span(usage)
        except Exception as failure:  # telemetry never raises into user code
            report_telemetry_error(failure)
        return usage

    def __enter__(self) -> ResourceTracker:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    async def __aenter__(self) -> ResourceTracker:
        return self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()

    def __call__(self, func: F) -> F:
        """Decorate a function, coroutine function or generator function.

        Each call (each generator run, from first step to exhaustion) is tracked in its
        own window, so concurrent calls do not interfere; :attr:`usage` holds the usage
        of the call that finished last.
        """
        target = func.__func__ if isinstance(func, (classmethod, staticmethod)) else func
        if not callable(target):
            raise TypeError(f"ResourceTracker decorates callables, not {type(func).__name__}")
        if inspect.isasyncgenfunction(target):
            raise TypeError(
                "ResourceTracker cannot decorate async generator functions; "
                "use 'async with ResourceTracker()' inside the generator"
            )
        import wrapt

        interval = self.sample_interval

        def finish(window_tracker: ResourceTracker) -> None:
            self.usage = window_tracker.stop()

        if inspect.iscoroutinefunction(target):

            @wrapt.decorator
            async def track_async(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
                tracker = ResourceTracker(interval).start()
                try:
                    return await wrapped(*args, **kwargs)
                finally:
                    finish(tracker)

            return cast(F, track_async(func))

        if inspect.isgeneratorfunction(target):

            def tracked_generator(generator: Any) -> Any:
                tracker = ResourceTracker(interval).start()
                try:
                    return (yield from generator)
                finally:
                    finish(tracker)

            @wrapt.decorator
            def track_generator(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
                return tracked_generator(wrapped(*args, **kwargs))

            return cast(F, track_generator(func))

        @wrapt.decorator
        def track(wrapped: Any, instance: Any, args: Any, kwargs: Any) -> Any:
            tracker = ResourceTracker(interval).start()
            try:
                return wrapped(*args, **kwargs)
            finally:
                finish(tracker)

        return cast(F, track(func))

    def __repr__(self) -> str:
        state = "running" if self.running else "stopped"
        return f"<ResourceTracker sample_interval={self.sample_interval} {state}>"
