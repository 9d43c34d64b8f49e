"""Monitoring wrappers for coroutines, generators and async generators.

They are timed over the real work, not over the creation of the coroutine or generator.
Every shape is driven step by step (a coroutine through ``_steps``, which does what
``await`` does), and its span, from the first step to the last, is current only while
the function itself runs: attached before each step and detached before control goes
back to the event loop or the consumer, so other code is never parented under it (tasks
the function creates copy its context, span included). ``cpu_time`` adds up the thread's
CPU time of the steps, so what other tasks ran while a coroutine was suspended is not
counted. ``execution_time`` of a coroutine runs from its first step to its last; that of
a generator or async generator adds up its steps (the consumer's time between steps is
not the generator's work). ``send``/``throw``/
``close`` and ``asend``/``athrow``/``aclose`` pass through; ``GeneratorExit`` and
``asyncio.CancelledError`` end the call without marking it failed.

Duplication policy: the generator and async-generator drivers repeat the same per-step
bookkeeping on purpose (one loop per protocol, ``send``/``throw`` against
``asend``/``athrow``); what they share outside the loop (starting, failing and ending the
call) is written once in the helpers here.
"""

from __future__ import annotations

import sys
from types import coroutine

from codomyrmex.performance._safe import error_type_name, fail_span, report_telemetry_error
from codomyrmex.performance.performance_monitor._core import (
    CallSite,
    cpu_time,
    nested_code,
    peak_rss,
    perf_counter,
    span_ids,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import AsyncGenerator, Callable, Coroutine, Generator
    from types import FrameType
    from typing import Any

    from opentelemetry.context import Context
    from opentelemetry.trace import Span

    from codomyrmex.performance.performance_monitor._binding import TelemetryBinding
    from codomyrmex.performance.performance_monitor._core import RawRecord

__all__ = [
    "COROUTINE_FRAMES",
    "Run",
    "async_generator_wrapper",
    "coroutine_wrapper",
    "generator_wrapper",
]


class Run:
    """One monitored call: its span, the time and CPU spent in it, and how it ended."""

    __slots__ = (
        "context",
        "cpu",
        "duration",
        "error",
        "not_errors",
        "record",
        "site",
        "span",
        "start",
        "telemetry",
        "tracing",
    )

    def __init__(
        self,
        site: CallSite,
        telemetry: TelemetryBinding,
        record: Callable[[RawRecord], None],
        not_errors: tuple[type[BaseException], ...],
    ) -> None:
        self.site = site
        self.telemetry = telemetry
        self.record = record
        self.not_errors = not_errors
        self.span: Span | None = None
        self.context: Context | None = None
        self.tracing = tracing = telemetry.tracing()
        if tracing is not None:
            try:
                self.span = tracing.start_span(site.name, attributes=site.span_attributes)
                self.context = tracing.set_span_in_context(self.span)
            except Exception as failure:
                report_telemetry_error(failure)
                self.context = None
        self.start: float | None = None
        self.duration = 0.0
        self.cpu = 0.0
        self.error: BaseException | None = None

    def attach(self) -> object:
        """Make the run's span current (for one step); the token for ``detach``."""
        if self.context is None or self.tracing is None:
            return None
        try:
            return self.tracing.attach(self.context)
        except Exception as failure:
            report_telemetry_error(failure)
            return None

    def detach(self, token: object) -> None:
        if token is not None and self.tracing is not None:
            try:
                self.tracing.detach(token)
            except Exception as failure:
                report_telemetry_error(failure)

    def add(self, t0: float, c0: float) -> None:
        """Account one step that started at ``t0`` (wall) and ``c0`` (CPU).

        The CPU clock is read inside the wall-clock reads on both ends, so a step's CPU
        time never encloses more than its wall time.
        """
        c1 = cpu_time()
        t1 = perf_counter()
        if self.start is None:
            self.start = t0
        self.duration += t1 - t0
        self.cpu += c1 - c0

    def add_wall(self, t0: float) -> None:
        """Account the wall time of one step whose CPU time ``_steps`` accounted."""
        if self.start is None:
            self.start = t0
        self.duration += perf_counter() - t0

    def failed(self, exc: BaseException) -> None:
        if not isinstance(exc, self.not_errors):
            self.error = exc

    def finish(self, slow_frame: FrameType | None = None) -> None:
        """Record the histogram point (in the span's context), end the span, append history.

        ``slow_frame``: the frame of a call slower than its ``profile_slower_than``, whose
        sampled stacks go on the span.
        """
        site, span, exc = self.site, self.span, self.error
        error_type = None if exc is None else error_type_name(exc)
        attributes = (
            site.metric_attributes if error_type is None else site.error_attributes(error_type)
        )
        record_duration = self.telemetry.record
        if record_duration is not None:
            context, exemplars = self.context, self.telemetry.exemplars
            try:
                if exemplars is not None and context is not None and error_type is None:
                    context = exemplars.context_for(site, self.duration, perf_counter(), context)
                record_duration(self.duration, attributes, context)
            except Exception as failure:
                report_telemetry_error(failure)
        trace_id = span_id = None
        if slow_frame is not None:
            from codomyrmex.performance.performance_monitor._slow_calls import add_profile

            add_profile(span, slow_frame, site.profile_slower_than)
        if span is not None:
            try:
                if exc is not None and error_type is not None:
                    fail_span(span, exc, error_type)
                trace_id, span_id = span_ids(span)
                span.end()
            except Exception as failure:
                report_telemetry_error(failure)
        start = perf_counter() if self.start is None else self.start
        self.record(
            (site.name, start, self.duration, self.cpu, peak_rss(), error_type,
             trace_id, span_id, site.metadata)
        )  # fmt: skip


@coroutine
def _steps(awaitable: Coroutine[Any, Any, Any], run: Run) -> Generator[Any, Any, Any]:
    """Await ``awaitable`` step by step, adding the CPU time of each step to ``run.cpu``.

    What ``await awaitable`` does (``send``/``throw`` each value or exception the task
    passes down, ``close`` on ``GeneratorExit``), plus: the run's span is made current
    for each step only, and the thread's CPU clock is read around each step, so the
    time other tasks run while this one is suspended is not counted.
    """
    sent: Any = None
    thrown: BaseException | None = None
    while True:
        token = run.attach()
        c0 = cpu_time()
        try:
            if thrown is None:
                item = awaitable.send(sent)
            else:
                exc, thrown = thrown, None
                item = awaitable.throw(exc)
        except StopIteration as stop:
            return stop.value
        finally:
            run.cpu += cpu_time() - c0
            run.detach(token)
        try:
            sent = yield item
        except GeneratorExit:
            token = run.attach()
            c0 = cpu_time()
            try:
                awaitable.close()
            finally:
                run.cpu += cpu_time() - c0
                run.detach(token)
            raise
        except BaseException as exc:
            sent, thrown = None, exc


def coroutine_wrapper(
    func: Callable[..., Coroutine[Any, Any, Any]],
    site: CallSite,
    telemetry: TelemetryBinding,
    record: Callable[[RawRecord], None],
) -> Callable[..., Coroutine[Any, Any, Any]]:
    from asyncio import CancelledError

    not_errors = (GeneratorExit, CancelledError)

    slow = site.profile_slower_than

    async def wrapper(*args: Any, **kwargs: Any) -> Any:
        run = Run(site, telemetry, record, not_errors)
        t0 = run.start = perf_counter()
        try:
            return await _steps(func(*args, **kwargs), run)
        except BaseException as exc:
            run.failed(exc)
            raise
        finally:
            run.duration = perf_counter() - t0
            run.finish(sys._getframe() if run.duration > slow else None)

    return wrapper


#: For ``_slow_calls``: the coroutine wrapper's frame (locals ``t0`` and ``site``), and
#: the monitor's frames left out of the sampled stacks.
COROUTINE_FRAMES = (
    (nested_code(coroutine_wrapper, "wrapper"),),
    (nested_code(coroutine_wrapper, "wrapper"), _steps.__code__),
)


def generator_wrapper(
    func: Callable[..., Generator[Any, Any, Any]],
    site: CallSite,
    telemetry: TelemetryBinding,
    record: Callable[[RawRecord], None],
) -> Callable[..., Generator[Any, Any, Any]]:
    not_errors = (GeneratorExit,)

    def wrapper(*args: Any, **kwargs: Any) -> Generator[Any, Any, Any]:
        run = Run(site, telemetry, record, not_errors)
        try:
            gen = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                token = run.attach()
                t0 = perf_counter()
                c0 = cpu_time()
                try:
                    if thrown is None:
                        item = gen.send(sent)
                    else:
                        exc, thrown = thrown, None
                        item = gen.throw(exc)
                except StopIteration as stop:
                    return stop.value
                finally:
                    run.add(t0, c0)
                    run.detach(token)
                try:
                    sent = yield item
                except GeneratorExit:
                    token = run.attach()
                    t0 = perf_counter()
                    c0 = cpu_time()
                    try:
                        gen.close()
                    finally:
                        run.add(t0, c0)
                        run.detach(token)
                    raise
                except BaseException as exc:
                    sent, thrown = None, exc
        except BaseException as exc:
            run.failed(exc)
            raise
        finally:
            run.finish()

    return wrapper


def async_generator_wrapper(
    func: Callable[..., AsyncGenerator[Any, Any]],
    site: CallSite,
    telemetry: TelemetryBinding,
    record: Callable[[RawRecord], None],
) -> Callable[..., AsyncGenerator[Any, Any]]:
    from asyncio import CancelledError

    not_errors = (GeneratorExit, CancelledError)

    async def wrapper(*args: Any, **kwargs: Any) -> AsyncGenerator[Any, Any]:
        run = Run(site, telemetry, record, not_errors)
        try:
            agen = func(*args, **kwargs)
            sent: Any = None
            thrown: BaseException | None = None
            while True:
                t0 = perf_counter()
                try:
                    if thrown is None:
                        item = await _steps(agen.asend(sent), run)
                    else:
                        exc, thrown = thrown, None
                        item = await _steps(agen.athrow(exc), run)
                except StopAsyncIteration:
                    return
                finally:
                    run.add_wall(t0)
                try:
                    sent = yield item
                except GeneratorExit:
                    t0 = perf_counter()
                    try:
                        await _steps(agen.aclose(), run)
                    finally:
                        run.add_wall(t0)
                    raise
                except BaseException as exc:
                    sent, thrown = None, exc
        except BaseException as exc:
            run.failed(exc)
            raise
        finally:
            run.finish()

    return wrapper
