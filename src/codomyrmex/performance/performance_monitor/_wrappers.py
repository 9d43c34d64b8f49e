"""The call paths behind ``PerformanceMonitor.monitor``: one plain closure per function shape.

The shape (sync, coroutine, generator, async generator) is decided once, when a function
is decorated; each call then runs a closure with no branch it does not need. Per call:
``telemetry.tracing()`` (None when the call gets no span, and then no span or attribute
work is done at all), two ``perf_counter`` reads and, inside them, two thread CPU clock
reads (so the CPU window never encloses the wall window), one ``getrusage`` for the
process's peak RSS, one histogram point and one plain tuple appended to the monitor's
bounded history (``PerformanceMetrics`` objects are built later, when someone reads
the history).
"""

from __future__ import annotations

import sys
from functools import update_wrapper

from codomyrmex.performance._safe import error_type_name, fail_span, report_telemetry_error
from codomyrmex.performance._shared.callables import (
    CO_ASYNC_GENERATOR,
    CO_COROUTINE,
    CO_GENERATOR,
    code_flags,
)
from codomyrmex.performance.performance_monitor._core import (
    INFINITY,
    CallSite,
    cpu_time,
    nested_code,
    peak_rss,
    perf_counter,
    span_ids,
)

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Any

    from codomyrmex.performance.performance_monitor._binding import TelemetryBinding, Tracing
    from codomyrmex.performance.performance_monitor._core import RawRecord

__all__ = ["sync_wrapper", "wrap_callable"]


def wrap_callable(
    func: Callable[..., Any],
    site: CallSite,
    telemetry: TelemetryBinding,
    record: Callable[[RawRecord], None],
    flags: int | None = None,
) -> Callable[..., Any]:
    """The monitoring wrapper for ``func``: shape chosen now, metadata copied from ``func``.

    ``flags``: the shape when ``func`` only returns what the real function makes (see
    ``calling_through``); by default read from ``func``.
    """
    if flags is None:
        flags = code_flags(func)
    profiled = site.profile_slower_than < INFINITY
    if profiled and flags & (CO_GENERATOR | CO_ASYNC_GENERATOR):
        raise TypeError(
            "profile_slower_than profiles functions and coroutine functions; "
            f"{site.function_name} is a generator function"
        )
    factory: Callable[..., Callable[..., Any]] = sync_wrapper
    frames = SYNC_FRAMES
    if flags:
        from codomyrmex.performance.performance_monitor import _shapes as shapes

        if flags & CO_ASYNC_GENERATOR:
            factory = shapes.async_generator_wrapper
        elif flags & CO_COROUTINE:
            factory, frames = shapes.coroutine_wrapper, shapes.COROUTINE_FRAMES
        else:
            factory = shapes.generator_wrapper
    wrapper = factory(func, site, telemetry, record)
    update_wrapper(wrapper, func)
    if profiled:
        from codomyrmex.performance.performance_monitor._slow_calls import sampler

        sampler.watch(site.profile_slower_than, *frames)
    return wrapper


def sync_wrapper(
    func: Callable[..., Any],
    site: CallSite,
    telemetry: TelemetryBinding,
    record: Callable[[RawRecord], None],
) -> Callable[..., Any]:
    """Wrapper for a plain function: the hot path of the package.

    With no span the whole call is inlined in ``wrapper``; a traced call goes to
    ``call_traced``, whose span work costs far more than the extra function call.
    """
    name = site.name
    span_attributes = site.span_attributes
    metric_attributes = site.metric_attributes
    metadata = site.metadata
    error_attributes = site.error_attributes
    slow = site.profile_slower_than

    def record_failure(
        exc: BaseException,
        t0: float,
        t1: float,
        cpu: float,
        tracing: Tracing | None,
        span: Any,
        token: object,
    ) -> None:
        error_type = error_type_name(exc)
        trace_id = span_id = None
        record_duration = telemetry.record
        if record_duration is not None:
            try:
                record_duration(t1 - t0, error_attributes(error_type), None)
            except Exception as failure:
                report_telemetry_error(failure)
        if t1 - t0 > slow:
            _add_profile(span, sys._getframe(1), slow)
        if tracing is not None and span is not None:
            try:
                tracing.detach(token)
                fail_span(span, exc, error_type)
                trace_id, span_id = span_ids(span)
                span.end()
            except Exception as failure:
                report_telemetry_error(failure)
        record(
            (name, t0, t1 - t0, cpu,
             peak_rss(), error_type, trace_id, span_id, metadata)
        )  # fmt: skip

    def call_traced(tracing: Tracing, args: tuple[Any, ...], kwargs: dict[str, Any]) -> Any:
        span = token = context = None
        try:
            span = tracing.start_span(name, attributes=span_attributes)
            context = tracing.set_span_in_context(span)
            token = tracing.attach(context)
        except Exception as failure:
            report_telemetry_error(failure)
            if span is not None:
                _end_quietly(span)
            span = token = context = None
        t0 = perf_counter()
        c0 = cpu_time()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            c1 = cpu_time()
            record_failure(exc, t0, perf_counter(), c1 - c0, tracing, span, token)
            raise
        c1 = cpu_time()
        t1 = perf_counter()
        duration = t1 - t0
        trace_id = span_id = None
        record_duration = telemetry.record
        if record_duration is not None:
            exemplars = telemetry.exemplars
            try:
                if exemplars is not None and context is not None:
                    context = exemplars.context_for(site, duration, t1, context)
                record_duration(duration, metric_attributes, context)
            except Exception as failure:
                report_telemetry_error(failure)
        if duration > slow:
            _add_profile(span, sys._getframe(), slow)
        if span is not None:
            try:
                tracing.detach(token)
                trace_id, span_id = span_ids(span)
                span.end()
            except Exception as failure:
                report_telemetry_error(failure)
        record(
            (name, t0, duration, c1 - c0,
             peak_rss(), None, trace_id, span_id, metadata)
        )  # fmt: skip
        return result

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        tracing = telemetry.tracing()
        if tracing is not None:
            return call_traced(tracing, args, kwargs)
        t0 = perf_counter()
        c0 = cpu_time()
        try:
            result = func(*args, **kwargs)
        except BaseException as exc:
            c1 = cpu_time()
            record_failure(exc, t0, perf_counter(), c1 - c0, None, None, None)
            raise
        c1 = cpu_time()
        t1 = perf_counter()
        record_duration = telemetry.record
        if record_duration is not None:
            try:
                record_duration(t1 - t0, metric_attributes, None)
            except Exception as failure:
                report_telemetry_error(failure)
        record(
            (name, t0, t1 - t0, c1 - c0,
             peak_rss(), None, None, None, metadata)
        )  # fmt: skip
        return result

    return wrapper


#: For ``_slow_calls``: the frames whose locals ``t0`` and ``site`` tell how long a traced
#: call has run, and the monitor's frames left out of the sampled stacks.
SYNC_FRAMES = (
    (nested_code(sync_wrapper, "call_traced"),),
    tuple(nested_code(sync_wrapper, name) for name in ("wrapper", "record_failure")),
)


def _add_profile(span: Any, frame: Any, threshold: float) -> None:
    from codomyrmex.performance.performance_monitor._slow_calls import add_profile

    add_profile(span, frame, threshold)


def _end_quietly(span: Any) -> None:
    try:
        span.end()
    except Exception as failure:
        report_telemetry_error(failure)
