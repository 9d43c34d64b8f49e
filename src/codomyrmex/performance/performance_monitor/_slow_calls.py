"""``@monitor(profile_slower_than=...)``: stack samples of the calls that run too long.

One daemon thread (``codomyrmex-slow-call-sampler``), started when the first function is
decorated with a threshold, looks at every thread's stack (``sys._current_frames``). A
monitored call registers nothing: the sampler recognizes the monitor's own frames on the
stacks (the traced path of a function, the wrapper of a coroutine) and reads their start
and threshold, and only a call already running longer than its threshold gets sampled:
its stack below the monitor's frame, counted per distinct stack. When the call ends it
compares its duration with its threshold (the one comparison every traced call pays)
and, over it, takes its samples and adds them to its span as the event
``codomyrmex.slow_call``:

* ``codomyrmex.profile.threshold`` (seconds);
* ``codomyrmex.profile.samples``: how many stacks were sampled, and ``.interval``: the
  mean seconds between two of them (the sampler needs the GIL, so a call that holds it
  is sampled about every ``sys.getswitchinterval()``);
* ``codomyrmex.profile.top_frames`` / ``.top_frame_samples``: the functions seen most
  often as the innermost frame (``module.qualname (file:first line)``, at most
  ``TOP_FRAMES``) and their counts: where the slow call spent its time comes first;
* ``code.stacktrace``: the stack sampled most often, outermost first, like a traceback.

While no call is over its threshold the thread only looks every half threshold
(``WATCH_INTERVAL`` bounds), so a slow call is seen at most half a threshold late; while
one is, it samples every twentieth of the threshold (``SAMPLE_INTERVAL`` bounds).
Coroutines are sampled while their steps run (a coroutine suspended on I/O is on no
stack). A call with no sample (it ended before the thread saw it) gets no event.
"""

from __future__ import annotations

import os
import sys
from collections import Counter

from codomyrmex.performance import semconv
from codomyrmex.performance._safe import encodable, report_telemetry_error
from codomyrmex.performance.performance_monitor._core import perf_counter

TYPE_CHECKING = False
if TYPE_CHECKING:
    import threading
    from collections.abc import Iterable
    from types import CodeType, FrameType

    from opentelemetry.trace import Span

    #: One sampled frame: module, qualified name, file, first line, line.
    FrameKey = tuple[str, str, str, int, int]

__all__ = ["MAX_THRESHOLD", "MIN_THRESHOLD", "TOP_FRAMES", "check_threshold", "sampler"]

#: Bounds of ``profile_slower_than`` (seconds): shorter would make the thread look at the
#: stacks too often for a program that has no slow call.
MIN_THRESHOLD = 0.01
MAX_THRESHOLD = 86_400.0
#: Bounds of the sampling interval while a call is over its threshold, and of the
#: interval the thread looks at the stacks otherwise.
SAMPLE_INTERVAL = (0.001, 0.01)
WATCH_INTERVAL = (0.005, 0.1)
#: Frames kept from the innermost one; distinct stacks kept per call.
MAX_DEPTH = 64
MAX_STACKS = 1_000
TOP_FRAMES = 10
#: A sampled call whose frame has not been seen for this long has ended without
#: taking its samples (its thread died): they are dropped.
FORGET_AFTER = 5.0


def check_threshold(value: object) -> float | None:
    """``profile_slower_than`` as seconds, or None; ``TypeError``/``ValueError`` otherwise."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise TypeError(
            f"profile_slower_than must be a number of seconds, not {type(value).__name__}"
        )
    if not MIN_THRESHOLD <= value <= MAX_THRESHOLD:
        raise ValueError(
            f"profile_slower_than must be between {MIN_THRESHOLD} and {MAX_THRESHOLD:g} "
            f"seconds, got {value!r}"
        )
    return float(value)


def _bounded(value: float, bounds: tuple[float, float]) -> float:
    return min(max(value, bounds[0]), bounds[1])


def _key(frame: FrameType) -> FrameKey:
    code = frame.f_code
    module = frame.f_globals.get("__name__")
    return (
        module if isinstance(module, str) else "?",
        getattr(code, "co_qualname", code.co_name),
        code.co_filename,
        code.co_firstlineno,
        frame.f_lineno or 0,
    )


def _describe(function: tuple[str, str, str, int]) -> str:
    module, qualname, file, line = function
    return encodable(f"{module}.{qualname} ({file}:{line})")


class _Samples:
    """The stacks sampled from one running call, innermost frame first."""

    __slots__ = ("first", "seen", "stacks", "total")

    def __init__(self, now: float) -> None:
        self.stacks: Counter[tuple[FrameKey, ...]] = Counter()
        self.total = 0
        self.first = self.seen = now

    def add(self, stack: tuple[FrameKey, ...], now: float) -> None:
        self.total += 1
        self.seen = now
        if stack in self.stacks or len(self.stacks) < MAX_STACKS:
            self.stacks[stack] += 1

    def attributes(self, threshold: float) -> dict[str, object]:
        own: Counter[tuple[str, str, str, int]] = Counter()
        for stack, count in self.stacks.items():
            if stack:
                own[stack[0][:4]] += count
        top = own.most_common(TOP_FRAMES)
        hottest = max(self.stacks.items(), key=lambda item: item[1])[0]
        return {
            semconv.PROFILE_THRESHOLD: threshold,
            semconv.PROFILE_SAMPLES: self.total,
            semconv.PROFILE_INTERVAL: (self.seen - self.first) / max(self.total - 1, 1),
            semconv.PROFILE_TOP_FRAMES: [_describe(function) for function, _ in top],
            semconv.PROFILE_TOP_FRAME_SAMPLES: [count for _, count in top],
            semconv.CODE_STACKTRACE: encodable(
                "".join(
                    f'  File "{file}", line {line}, in {qualname}\n'
                    for _, qualname, file, _first, line in reversed(hottest)
                )
            ),
        }


class SlowCallSampler:
    """The process's slow-call sampler thread and the samples of the calls it watches."""

    def __init__(self) -> None:
        from _thread import allocate_lock

        self._lock = allocate_lock()
        self._samples: dict[FrameType, _Samples] = {}
        self._entries: frozenset[CodeType] = frozenset()
        self._own: frozenset[CodeType] = frozenset()
        self._threshold = float("inf")
        self._thread: threading.Thread | None = None

    @property
    def interval(self) -> float:
        """Seconds between two samples of a slow call."""
        return _bounded(self._threshold / 20, SAMPLE_INTERVAL)

    def watch(self, threshold: float, entries: Iterable[CodeType], own: Iterable[CodeType]) -> None:
        """Sample calls slower than ``threshold`` (seconds) from now on.

        ``entries`` are the code of the monitor's frames whose locals ``t0`` (the call's
        ``perf_counter`` start) and ``site`` (its ``CallSite``) say how long the call has
        run and its threshold; ``own`` the monitor's frames left out of the stacks.
        """
        with self._lock:
            self._threshold = min(self._threshold, threshold)
            self._entries |= frozenset(entries)
            self._own |= frozenset(own) | self._entries
            if self._thread is None:
                self._start()

    def _start(self) -> None:
        import threading

        self._thread = threading.Thread(
            target=self._run, name="codomyrmex-slow-call-sampler", daemon=True
        )
        self._thread.start()

    def after_fork(self) -> None:
        """In a forked child the thread is gone and no call of the parent runs: restart."""
        from _thread import allocate_lock

        self._lock = allocate_lock()
        self._samples = {}
        self._thread = None
        if self._entries:
            self._start()

    def take(self, frame: FrameType, threshold: float) -> dict[str, object] | None:
        """The event attributes of the slow call running in ``frame``; None if unsampled."""
        with self._lock:
            samples = self._samples.pop(frame, None)
        if samples is None:
            return None
        return samples.attributes(threshold)

    def _run(self) -> None:
        import threading
        import time

        own_thread = threading.get_ident()
        while True:
            try:
                busy = self._sample(sys._current_frames(), own_thread)
            except Exception as failure:  # never let the sampler die or raise anywhere
                report_telemetry_error(failure, "slow-call sampling")
                busy = False
            time.sleep(self.interval if busy else _bounded(self._threshold / 2, WATCH_INTERVAL))

    def _sample(self, frames: dict[int, FrameType], own_thread: int) -> bool:
        """Sample every call over its threshold on every other thread; True if any."""
        now = perf_counter()
        entries, own = self._entries, self._own
        busy = False
        for ident, innermost in frames.items():
            if ident == own_thread:
                continue
            stack: list[FrameKey] = []
            frame: FrameType | None = innermost
            while frame is not None:
                code = frame.f_code
                if code in entries and self._is_slow(frame, now):
                    busy = True
                    self._add(frame, tuple(stack), now)
                if code not in own and len(stack) < MAX_DEPTH:
                    stack.append(_key(frame))
                frame = frame.f_back
        with self._lock:
            for frame, samples in list(self._samples.items()):
                if now - samples.seen > FORGET_AFTER:
                    del self._samples[frame]
        return busy

    @staticmethod
    def _is_slow(frame: FrameType, now: float) -> bool:
        local = frame.f_locals
        t0, site = local.get("t0"), local.get("site")
        if not isinstance(t0, float) or site is None:
            return False
        threshold: float = site.profile_slower_than
        return now - t0 > threshold

    def _add(self, frame: FrameType, stack: tuple[FrameKey, ...], now: float) -> None:
        with self._lock:
            samples = self._samples.get(frame)
            if samples is None:
                samples = self._samples[frame] = _Samples(now)
            samples.add(stack, now)


def add_profile(span: Span | None, frame: FrameType, threshold: float) -> None:
    """Put the samples of the slow call running in ``frame`` on its span as an event."""
    attributes = sampler.take(frame, threshold)
    if attributes is None or span is None:
        return
    try:
        if span.is_recording():
            span.add_event(semconv.SLOW_CALL_EVENT, attributes)  # type: ignore[arg-type]
    except Exception as failure:
        report_telemetry_error(failure)


sampler = SlowCallSampler()
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=sampler.after_fork)
