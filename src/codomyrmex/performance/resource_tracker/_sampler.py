"""The process sampler behind ``ResourceTracker``: one daemon thread for every tracker.

Each active tracker owns a window of running maxima (RSS, threads, fds). The sampler
thread reads a persistent ``psutil.Process`` at the fastest interval any window asks for
and folds each sample into the windows that were open before it was taken. Peak RSS is
made exact with the kernel's high-water mark, reset at each window start where the
platform allows it (Linux: ``/proc/self/clear_refs``). A failing sample or wait is
reported once (``_safe.report_telemetry_error``) and the thread carries on; if it ever
ends, the next tracker starts a new one.
"""

from __future__ import annotations

import math
import os
import sys
import threading
import time
from collections.abc import Callable, Collection
from dataclasses import dataclass
from typing import TYPE_CHECKING

from codomyrmex.performance._safe import report_telemetry_error

if TYPE_CHECKING:
    import psutil

#: How long the sampler thread waits for a new tracker before it exits.
IDLE_LINGER_SECONDS = 1.0

#: Bounds of a tracker's ``sample_interval`` (seconds): shorter would only spin the
#: sampler thread (a sample takes about a tenth of a millisecond), longer samples only
#: at start and stop anyway.
MIN_SAMPLE_INTERVAL = 0.001
MAX_SAMPLE_INTERVAL = 3600.0

#: How long the sampler thread pauses after a failed round, so that a failure that
#: repeats cannot make it spin.
FAILURE_PAUSE_SECONDS = 0.1


@dataclass(frozen=True)
class Sample:
    rss: int
    threads: int
    fds: int | None


class Window:
    """One tracker's running maxima; the sampler updates it under its lock."""

    __slots__ = (
        "exact",
        "first_rss",
        "full_epoch",
        "interval",
        "kernel_mark_at_start",
        "last_rss",
        "peak_fds",
        "peak_rss",
        "peak_threads",
        "samples",
    )

    def __init__(self, interval: float, first: Sample) -> None:
        self.interval = interval
        self.first_rss = self.last_rss = first.rss
        self.peak_rss = first.rss
        self.peak_threads = first.threads
        self.peak_fds = first.fds
        self.samples = 1
        self.exact = False
        self.full_epoch = 0
        self.kernel_mark_at_start = 0

    def add(self, sample: Sample) -> None:
        self.samples += 1
        self.peak_rss = max(self.peak_rss, sample.rss)
        self.peak_threads = max(self.peak_threads, sample.threads)
        if sample.fds is not None:
            self.peak_fds = sample.fds if self.peak_fds is None else max(self.peak_fds, sample.fds)

    def see_kernel_mark(self, mark: int, epoch: int) -> None:
        """Fold in the kernel high-water mark read during ``epoch``.

        The mark covers everything since the last reset. It belongs to this window when
        the window started at or before that reset, or when the mark grew since the
        window started (then its new maximum was reached inside the window).
        """
        if epoch >= self.full_epoch or mark > self.kernel_mark_at_start:
            self.peak_rss = max(self.peak_rss, mark)
            self.exact = True


class ProcessSampler:
    """The process-wide sampler: one daemon thread shared by every active tracker."""

    def __init__(self) -> None:
        self._cond = threading.Condition()
        self._windows: set[Window] = set()
        self._thread: threading.Thread | None = None
        self._process: psutil.Process | None = None
        self._epoch = 0
        self._can_reset = sys.platform.startswith("linux")

    def after_fork(self) -> None:
        """In a forked child the sampler thread is gone: start from scratch."""
        self.__init__()  # type: ignore[misc]

    def open(self, interval: float) -> Window:
        first = self._sample()
        with self._cond:
            self._fold_kernel_mark(list(self._windows))
            window = Window(interval, first)
            if self._reset_kernel_mark():
                self._epoch += 1
                window.full_epoch = self._epoch
            else:
                window.full_epoch = self._epoch + 1
                window.kernel_mark_at_start = kernel_peak_rss() or 0
            fastest = min((w.interval for w in self._windows), default=math.inf)
            self._windows.add(window)
            if self._thread is None:
                self._thread = threading.Thread(
                    target=self._run, name="codomyrmex-resource-sampler", daemon=True
                )
                self._thread.start()
            elif interval < fastest:
                self._cond.notify_all()
        return window

    def close(self, window: Window) -> None:
        last = self._sample()
        with self._cond:
            window.add(last)
            window.last_rss = last.rss
            self._fold_kernel_mark((window,))
            self._windows.discard(window)
            if not self._windows:
                self._cond.notify_all()

    def abandon(self, window: Window) -> None:
        """Forget a window whose tracker was garbage-collected while running."""
        with self._cond:
            self._windows.discard(window)
            if not self._windows:
                self._cond.notify_all()

    def _fold_kernel_mark(self, windows: Collection[Window]) -> None:
        if not windows:
            return
        mark = kernel_peak_rss()
        if mark is not None:
            for window in windows:
                window.see_kernel_mark(mark, self._epoch)

    def _reset_kernel_mark(self) -> bool:
        if not self._can_reset:
            return False
        try:
            with open("/proc/self/clear_refs", "w") as clear_refs:
                clear_refs.write("5")
        except OSError:
            self._can_reset = False
            return False
        return True

    def _run(self) -> None:
        try:
            while self._round():
                pass
        finally:
            with self._cond:
                if self._thread is threading.current_thread():
                    self._thread = None

    def _round(self) -> bool:
        """Wait one interval and sample for the open windows; False once none is left.

        Linger a little when idle: back-to-back trackers reuse the thread (starting one
        costs ~0.3 ms) and an idle process has none.
        """
        try:
            with self._cond:
                if not self._windows:
                    self._cond.wait(IDLE_LINGER_SECONDS)
                    if not self._windows:
                        return False
                self._cond.wait(min(w.interval for w in self._windows))
                targets = list(self._windows)
            if targets:
                sample = self._sample()
                with self._cond:
                    for window in targets:
                        if window in self._windows:
                            window.add(sample)
        except Exception as failure:  # never let the sampler die or raise anywhere
            report_telemetry_error(failure, "resource sampling")
            time.sleep(FAILURE_PAUSE_SECONDS)
        return True

    def _sample(self) -> Sample:
        process = self._process
        if process is None:
            import psutil

            process = self._process = psutil.Process()
        with process.oneshot():
            rss = process.memory_info().rss
            threads = process.num_threads()
            fds: int | None
            try:
                count: Callable[[], int] | None = getattr(process, "num_fds", None) or getattr(
                    process, "num_handles", None
                )
                fds = count() if count is not None else None
            except Exception:
                fds = None
        return Sample(rss, threads, fds)


def kernel_peak_rss() -> int | None:
    """The kernel's peak-RSS high-water mark of this process in bytes, if it has one."""
    if sys.platform.startswith("linux"):
        try:
            with open("/proc/self/status", "rb") as status:
                for line in status:
                    if line.startswith(b"VmHWM:"):
                        return int(line.split()[1]) * 1024
        except (OSError, ValueError, IndexError):
            return None
        return None
    if sys.platform == "darwin":
        import resource

        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    if sys.platform == "win32":
        import psutil

        return int(getattr(psutil.Process().memory_info(), "peak_wset", 0)) or None
    return None


def process_cpu_times() -> tuple[float, float]:
    """(user, system) CPU seconds of the whole process."""
    try:
        import resource
    except ImportError:  # Windows
        import psutil

        times = psutil.Process().cpu_times()
        return times.user, times.system
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


sampler = ProcessSampler()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=sampler.after_fork)
