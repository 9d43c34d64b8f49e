"""``TrackedBlock``: a ``with``/``async with`` block recorded as one monitored call.

A block's ``cpu_time`` is the thread's CPU clock read at entry and exit. In ``async with``
that includes other tasks that ran on the event loop while the block awaited: unlike a
coroutine, a block has no steps to measure one by one. It is clamped to the block's wall
time like every ``cpu_time``.
"""

from __future__ import annotations

import sys

from codomyrmex.performance.performance_monitor._core import CallSite, cpu_time, perf_counter
from codomyrmex.performance.performance_monitor._shapes import Run

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from types import TracebackType

    from opentelemetry.trace import Span

    from codomyrmex.performance.performance_monitor._binding import TelemetryBinding
    from codomyrmex.performance.performance_monitor._core import RawRecord
    from codomyrmex.performance.performance_monitor._history import PerformanceMetrics

__all__ = ["TrackedBlock"]


def _not_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that end a tracked block without marking it failed."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return (GeneratorExit,)
    return (GeneratorExit, asyncio.CancelledError)


class TrackedBlock:
    """A block recorded as one call; made by ``PerformanceMonitor.track``.

    ``record`` appends the block's history entry; ``epoch_offset`` turns its
    ``perf_counter`` start into Unix time for :attr:`metrics`.
    """

    def __init__(
        self,
        site: CallSite,
        telemetry: TelemetryBinding,
        record: Callable[[RawRecord], None],
        epoch_offset: float,
    ) -> None:
        self._site = site
        self._telemetry = telemetry
        self._record = record
        self._epoch_offset = epoch_offset
        self._run: Run | None = None
        self._token: object = None
        self._start: tuple[float, float] | None = None
        self._metrics: PerformanceMetrics | None = None

    @property
    def span(self) -> Span | None:
        """The block's span (None when tracing is off or outside the block)."""
        return None if self._run is None else self._run.span

    @property
    def metrics(self) -> PerformanceMetrics:
        """The block's ``PerformanceMetrics`` once it has ended."""
        if self._metrics is None:
            raise RuntimeError("the tracked block has not ended yet")
        return self._metrics

    def _keep(self, record: RawRecord) -> None:
        from codomyrmex.performance.performance_monitor._history import to_metrics

        self._record(record)
        self._metrics = to_metrics(record, self._epoch_offset)

    def __enter__(self) -> TrackedBlock:
        if self._run is not None:
            raise RuntimeError("a tracked block cannot be entered twice at once")
        run = Run(self._site, self._telemetry, self._keep, _not_errors())
        self._run = run
        self._token = run.attach()
        self._start = (perf_counter(), cpu_time())
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        run, start = self._run, self._start
        if run is None or start is None:
            raise RuntimeError("the tracked block was not entered")
        run.add(*start)
        if exc is not None:
            run.failed(exc)
        run.detach(self._token)
        try:
            run.finish()
        finally:
            self._run = self._start = self._token = None

    async def __aenter__(self) -> TrackedBlock:
        return self.__enter__()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.__exit__(exc_type, exc, traceback)
