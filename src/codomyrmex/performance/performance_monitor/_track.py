"""``TrackedBlock``: a ``with``/``async with`` block recorded as one monitored call.

A block's ``cpu_time`` is the thread's CPU clock read at entry and exit. In ``async with``
that includes other tasks that ran on the event loop while the block awaited: unlike a
coroutine, a block has no steps to measure one by one. It is clamped to the block's wall
time like every ``cpu_time``.
"""

from __future__ import annotations

import sys

from codomyrmex.performance.performance_monitor import _shapes as shapes
from codomyrmex.performance.performance_monitor._core import (
    CallSite,
    Record,
    cpu_time,
    perf_counter,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from types import TracebackType

    from opentelemetry.trace import Span

    from codomyrmex.performance.performance_monitor import PerformanceMonitor
    from codomyrmex.performance.performance_monitor._history import PerformanceMetrics

__all__ = ["TrackedBlock"]


def _not_errors() -> tuple[type[BaseException], ...]:
    """Exceptions that end a tracked block without marking it failed."""
    asyncio = sys.modules.get("asyncio")
    if asyncio is None:
        return (GeneratorExit,)
    return (GeneratorExit, asyncio.CancelledError)


class TrackedBlock:
    """A block recorded as one call; made by ``PerformanceMonitor.track``."""

    def __init__(self, monitor: PerformanceMonitor, site: CallSite) -> None:
        self._monitor = monitor
        self._site = site
        self._run: shapes._Run | None = None
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

    def _keep(self, record: Record) -> None:
        from codomyrmex.performance.performance_monitor._history import to_metrics

        self._monitor._record(record)
        self._metrics = to_metrics(record, self._monitor._epoch_offset)

    def __enter__(self) -> TrackedBlock:
        if self._run is not None:
            raise RuntimeError("a tracked block cannot be entered twice at once")
        run = shapes._Run(self._site, self._monitor._telemetry, self._keep, _not_errors())
        self._run = run
        self._token = shapes._attach(run.context)
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
        shapes._detach(self._token)
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
