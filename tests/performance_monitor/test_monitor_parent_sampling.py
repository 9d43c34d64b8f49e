"""Under a parent that was not sampled no span is made, and what propagates is unchanged.

With the SDK's default ``ParentBased`` sampler a child of an unsampled parent is a
non-recording span that only carries the parent's trace id, flags and ``tracestate``; the
monitor skips making it. A W3C ``traceparent`` injected inside the call must then be
exactly the one that came in, and equal to what the SDK's own child would propagate in
everything but the parent id (which the SDK draws at random).
"""

from __future__ import annotations

from typing import Any

import pytest
from opentelemetry import context, trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF, ALWAYS_ON, ParentBased, Sampler
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from codomyrmex.performance.performance_monitor import PerformanceMonitor
from harness.metrics import MetricsProbe

W3C = TraceContextTextMapPropagator()
TRACE_ID = "0af7651916cd43dd8448eb211c80319c"
PARENT_ID = "b7ad6b7169203331"
UNSAMPLED = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-00", "tracestate": "vendor=opaque,b=2"}
SAMPLED = {"traceparent": f"00-{TRACE_ID}-{PARENT_ID}-01", "tracestate": "vendor=opaque,b=2"}


def injected() -> dict[str, str]:
    carrier: dict[str, str] = {}
    W3C.inject(carrier)
    return carrier


def monitored(sampler: Sampler | None = None) -> tuple[Any, InMemorySpanExporter, Any]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider() if sampler is None else TracerProvider(sampler=sampler)
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    perf = PerformanceMonitor(tracer_provider=provider)
    return perf, exporter, provider


def under(carrier: dict[str, str], func: Any) -> Any:
    token = context.attach(W3C.extract(carrier))
    try:
        return func()
    finally:
        context.detach(token)


def parts(carrier: dict[str, str]) -> tuple[str, str, str, str]:
    _version, trace_id, parent_id, flags = carrier["traceparent"].split("-")
    return trace_id, parent_id, flags, carrier.get("tracestate", "")


def test_unsampled_remote_parent_propagates_exactly_what_came_in(
    metric_probe: MetricsProbe,
) -> None:
    perf, exporter, provider = monitored()
    call = perf.monitor(name="handler")(injected)
    inside = under(UNSAMPLED, call)
    assert inside == UNSAMPLED
    assert exporter.get_finished_spans() == ()
    (metric,) = perf.get_metrics()
    assert (metric.trace_id, metric.span_id) == (None, None)
    (point,) = metric_probe.points("codomyrmex.function.duration")
    assert point.point.count == 1

    def sdk_child() -> dict[str, str]:
        with provider.get_tracer("reference").start_as_current_span("child") as child:
            assert not child.is_recording()
            return injected()

    reference = under(UNSAMPLED, sdk_child)
    trace_id, parent_id, flags, state = parts(inside)
    sdk_trace_id, sdk_parent_id, sdk_flags, sdk_state = parts(reference)
    assert (trace_id, flags, state) == (sdk_trace_id, sdk_flags, sdk_state)
    assert parent_id == PARENT_ID != sdk_parent_id


def test_unsampled_local_parent_is_skipped_too() -> None:
    perf, exporter, _ = monitored(ParentBased(ALWAYS_OFF))

    @perf.monitor(name="inner")
    def inner() -> dict[str, str]:
        return injected()

    @perf.monitor(name="outer")
    def outer() -> tuple[dict[str, str], dict[str, str]]:
        return injected(), inner()

    around, inside = outer()
    assert inside == around
    assert int(parts(around)[2], 16) & 1 == 0  # not sampled
    assert exporter.get_finished_spans() == ()


def test_sampled_parent_gets_a_child_span() -> None:
    perf, exporter, _ = monitored()
    inside = under(SAMPLED, perf.monitor(name="handler")(injected))
    (span,) = exporter.get_finished_spans()
    assert span.parent is not None and span.parent.span_id == int(PARENT_ID, 16)
    assert parts(inside) == (
        TRACE_ID,
        format(span.context.span_id, "016x"),
        "01",
        "vendor=opaque,b=2",
    )


def test_root_calls_still_ask_the_sampler() -> None:
    perf, exporter, _ = monitored()
    perf.monitor(name="root")(injected)()
    assert [span.name for span in exporter.get_finished_spans()] == ["root"]


@pytest.mark.parametrize(
    ("sampler", "recorded"),
    [
        (ParentBased(ALWAYS_ON, remote_parent_not_sampled=ALWAYS_ON), True),
        (ParentBased(ALWAYS_ON, local_parent_not_sampled=ALWAYS_ON), False),
        (ALWAYS_ON, True),
    ],
    ids=["remote unsampled parents sampled", "local unsampled parents sampled", "ALWAYS_ON"],
)
def test_a_sampler_that_may_record_such_children_is_asked(sampler: Sampler, recorded: bool) -> None:
    perf, exporter, _ = monitored(sampler)
    inside = under(UNSAMPLED, perf.monitor(name="handler")(injected))
    trace_id, parent_id, flags, state = parts(inside)
    assert (trace_id, state) == (TRACE_ID, UNSAMPLED["tracestate"])
    assert parent_id != PARENT_ID  # the call had a span of its own, recorded or not
    spans = exporter.get_finished_spans()
    assert [span.name for span in spans] == (["handler"] if recorded else [])
    assert flags == ("01" if recorded else "00")
    assert trace.get_current_span() is trace.INVALID_SPAN
