"""The collector fixture itself: the debug-log parser is strict and the rotel process is real."""

from __future__ import annotations

import socket

import pytest

from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import CollectorLogError, parse_any_value, parse_debug_log
from harness.subprocesses import run_python

SAMPLE = """\
\x1b[2m2026-01-01T00:00:00.000001Z\x1b[0m \x1b[32m INFO\x1b[0m Starting Rotel.
ResourceSpans #0
Resource SchemaURL:
Resource attributes:
     -> service.name: Str(svc-sample)
     -> process.pid: Int(42)
ScopeSpans #0
ScopeSpans SchemaURL:
InstrumentationScope codomyrmex.performance 0.1.0
Span #0
    Trace ID       : 11d3e15b6184d7e01f019f5e100d38fd
    Parent ID      : 84a2a557dda859a2
    ID             : 588f0e3e31040191
    Name           : pkg.mod.work
    Kind           : SPAN_KIND_INTERNAL
Start time: 1000
End time: 3000
    Status code    : STATUS_CODE_ERROR
    Status message : boom
Attributes:
     -> error.type: Str(ValueError)
     -> code.line.number: Int(12)
     -> ratio: Double(1.5)
     -> flag: Bool(false)
     -> tags: Slice(Str(a), Str(b))
Events:
SpanEvent #0
     -> Name: exception
     -> Timestamp: 2000
     -> DroppedAttributesCount: 0
     -> Attributes::
          -> exception.type: Str(ValueError)
          -> exception.stacktrace: Str(Traceback (most recent call last):
  File "x.py", line 1, in f(x)
ValueError: boom
)
ResourceMetrics #0
Resource SchemaURL:
Resource attributes:
     -> service.name: Str(svc-sample)
ScopeMetrics #0
ScopeMetrics SchemaURL:
InstrumentationScope codomyrmex.performance 0.1.0
Metric #0
Descriptor:
     -> Name: codomyrmex.function.duration
     -> Description: Duration of monitored calls
     -> Unit: s
     -> DataType: Histogram
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_CUMULATIVE
HistogramDataPoints #0
Data point attributes:
     -> code.function.name: Str(work)
StartTimestamp: 1
Timestamp: 2
Count: 2
Sum: 0.003
Min: 0.001
Max: 0.002
ExplicitBounds #0: 0.001
ExplicitBounds #1: 0.01
Buckets #0, Count: 1
Buckets #1, Count: 1
Buckets #2, Count: 0
Exemplars:
Exemplar #0
     -> Trace ID: 11d3e15b6184d7e01f019f5e100d38fd
     -> Span ID: 588f0e3e31040191
     -> Timestamp: 5
     -> Value: 0.002
Metric #1
Descriptor:
     -> Name: codomyrmex.cache.requests
     -> Description:
     -> Unit: {request}
     -> DataType: Sum
     -> IsMonotonic: true
     -> AggregationTemporality: AGGREGATION_TEMPORALITY_DELTA
NumberDataPoints #0
Data point attributes:
     -> codomyrmex.cache.name: Str(c)
     -> codomyrmex.cache.result: Str(hit)
StartTimestamp: 1
Timestamp: 2
Value: 3
"""


def test_parser_reads_spans_with_typed_attributes_events_and_resource() -> None:
    telemetry = parse_debug_log(SAMPLE)
    (span,) = telemetry.spans
    assert span.name == "pkg.mod.work"
    assert span.kind == "INTERNAL"
    assert (span.trace_id, span.span_id) == ("11d3e15b6184d7e01f019f5e100d38fd", "588f0e3e31040191")
    assert span.parent_span_id == "84a2a557dda859a2"
    assert (span.status_code, span.status_message) == ("ERROR", "boom")
    assert span.duration_seconds == pytest.approx(2e-6)
    assert span.attributes == {
        "error.type": "ValueError",
        "code.line.number": 12,
        "ratio": 1.5,
        "flag": False,
        "tags": ["a", "b"],
    }
    assert span.service_name == "svc-sample"
    assert span.resource["process.pid"] == 42
    assert (span.scope_name, span.scope_version) == ("codomyrmex.performance", "0.1.0")
    (event,) = span.events
    assert event.name == "exception"
    assert event.attributes["exception.stacktrace"] == (
        'Traceback (most recent call last):\n  File "x.py", line 1, in f(x)\nValueError: boom\n'
    )
    assert telemetry.log_lines == ["2026-01-01T00:00:00.000001Z  INFO Starting Rotel."]


def test_parser_reads_metric_descriptors_points_buckets_and_exemplars() -> None:
    telemetry = parse_debug_log(SAMPLE)
    assert telemetry.metric_names() == {"codomyrmex.function.duration", "codomyrmex.cache.requests"}
    (histogram,) = telemetry.points_named("codomyrmex.function.duration")
    assert histogram.data_type == "Histogram"
    assert histogram.unit == "s"
    assert histogram.description == "Duration of monitored calls"
    assert histogram.temporality == "CUMULATIVE"
    assert histogram.attributes == {"code.function.name": "work"}
    assert (histogram.count, histogram.sum, histogram.min, histogram.max) == (
        2,
        0.003,
        0.001,
        0.002,
    )
    assert histogram.explicit_bounds == [0.001, 0.01]
    assert histogram.bucket_counts == [1, 1, 0]
    assert histogram.exemplars[0].span_id == "588f0e3e31040191"
    (counter,) = telemetry.points_named(
        "codomyrmex.cache.requests", codomyrmex__cache__result="hit"
    )
    assert (counter.data_type, counter.is_monotonic, counter.temporality) == ("Sum", True, "DELTA")
    assert counter.value == 3
    assert counter.service_name == "svc-sample"
    assert (
        telemetry.points_named("codomyrmex.cache.requests", codomyrmex__cache__result="miss") == []
    )


@pytest.mark.parametrize(
    "bad_line",
    ["Totally new section #0", "Attributes:\n     -> key: Uuid(1234)", "     -> orphan: Str(x)"],
)
def test_parser_rejects_what_it_does_not_understand(bad_line: str) -> None:
    with pytest.raises(CollectorLogError):
        parse_debug_log(f"ResourceSpans #0\nSpan #0\n{bad_line}\n")


def test_any_values() -> None:
    assert parse_any_value("Str(a (b) c)") == "a (b) c"
    assert parse_any_value("Slice(Int(1), Double(2.5), Bool(true))") == [1, 2.5, True]
    with pytest.raises(CollectorLogError):
        parse_any_value("Bool(yes)")


SEND = """
import sys
from opentelemetry import metrics, trace
from codomyrmex.performance import configure_telemetry

handle = configure_telemetry({service!r}, endpoint={endpoint!r}, protocol={protocol!r})
tracer = trace.get_tracer("fixture-probe", "9.9")
with tracer.start_as_current_span("probe.outer", attributes={{"probe.n": 7}}):
    with tracer.start_as_current_span("probe.inner"):
        pass
metrics.get_meter("fixture-probe").create_counter("probe.count", unit="{{item}}").add(
    5, {{"probe.kind": "x"}}
)
assert handle.shutdown(5000)
print(handle.stats())
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_spans_and_metrics_arrive_over_each_protocol(
    otel_collector: OtelCollector, protocol: str
) -> None:
    service = f"fixture-probe-{protocol.replace('/', '-')}"
    endpoint = otel_collector.endpoint(protocol)
    result = run_python(SEND.format(service=service, endpoint=endpoint, protocol=protocol))
    assert result.returncode == 0, result.stderr
    assert "ended=2, exported=2, failed=0, dropped=0" in result.stdout
    got = otel_collector.wait_for(
        lambda t: t if t.points_named("probe.count") and len(t.spans) == 2 else None,
        service_name=service,
    )
    outer, inner = got.spans_named("probe.outer")[0], got.spans_named("probe.inner")[0]
    assert inner.parent_span_id == outer.span_id
    assert inner.trace_id == outer.trace_id
    assert outer.attributes == {"probe.n": 7}
    assert (outer.scope_name, outer.scope_version) == ("fixture-probe", "9.9")
    (point,) = got.points_named("probe.count", probe__kind="x")
    assert (point.value, point.unit, point.is_monotonic) == (5, "{item}", True)


def test_kill_closes_the_ports_and_restart_reopens_them(
    private_otel_collector: OtelCollector,
) -> None:
    collector = private_otel_collector
    first_pid = collector.pid
    collector.kill()
    assert not collector.is_running()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", collector.grpc_port), timeout=0.5).close()
    collector.restart()
    assert collector.is_running()
    assert collector.pid != first_pid
    service = "fixture-after-restart"
    result = run_python(
        SEND.format(service=service, endpoint=collector.http_endpoint, protocol="http/protobuf")
    )
    assert result.returncode == 0, result.stderr
    collector.wait_for(lambda t: len(t.spans) == 2, service_name=service)
    assert collector.log_text().count("Starting Rotel") == 2
