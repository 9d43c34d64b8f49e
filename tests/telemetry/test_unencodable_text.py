"""Text UTF-8 cannot encode (lone surrogates) never costs the other spans of a batch.

``os.fsdecode(b"caf\\xe9.csv")`` is ``"caf\\udce9.csv"``: a file name that is not valid
UTF-8 becomes a string with a lone surrogate, which protobuf (every OTLP exporter) refuses
to encode. What this package puts in spans is cleaned at the source (``_safe.encodable``,
``fail_span``); the exporters clean whatever else reaches them (the host's own spans and
metric attributes) span by span, so the rest of the batch is exported, and say so once.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from opentelemetry.exporter.otlp.proto.common.trace_encoder import encode_spans
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import StatusCode

from codomyrmex.performance._safe import encodable, fail_span
from codomyrmex.performance.telemetry import scope_telemetry
from harness.otel_collector import OtelCollector
from harness.rotel_debug_log import Telemetry
from harness.subprocesses import run_python

BAD = os.fsdecode(b"caf\xe9.csv")
CLEAN = "caf\ufffd.csv"


def test_encodable_replaces_lone_surrogates_and_keeps_everything_else() -> None:
    assert BAD == "caf\udce9.csv"
    assert encodable(BAD) == CLEAN
    assert encodable("\ud83d\ude00 ok \udfff") == "\ufffd\ufffd ok \ufffd"
    text = "naïve 🐜 ascii"
    assert encodable(text) is text


@given(st.text())
def test_encodable_output_always_encodes(text: str) -> None:
    cleaned = encodable(text)
    cleaned.encode("utf-8")
    assert len(cleaned) == len(text)
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return
    assert cleaned == text


def test_fail_span_cleans_status_and_exception_event(spans: InMemorySpanExporter) -> None:
    tracer = scope_telemetry().tracer()
    assert tracer is not None
    span = tracer.start_span("read")
    try:
        raise FileNotFoundError(f"no such file: {BAD}")
    except FileNotFoundError as exc:
        fail_span(span, exc, "FileNotFoundError")
    span.end()
    (finished,) = spans.get_finished_spans()
    assert finished.status.status_code is StatusCode.ERROR
    assert finished.status.description == f"FileNotFoundError: no such file: {CLEAN}"
    (event,) = finished.events
    assert event.attributes is not None
    assert event.attributes["exception.message"] == f"no such file: {CLEAN}"
    stacktrace = event.attributes["exception.stacktrace"]
    assert isinstance(stacktrace, str) and f"no such file: {CLEAN}" in stacktrace
    encode_spans([finished]).SerializeToString()


# The host's own spans (not cleaned at the source) with the surrogate in each place an
# exporter meets text: span name, attribute, status, exception event, event name; and good
# spans around them in the same batch.
BATCH = f"""
import logging, os
from opentelemetry.trace import Status, StatusCode
from codomyrmex.performance.telemetry import scope_telemetry
tracer = scope_telemetry().tracer()
BAD = {BAD!r}
tracer.start_span("good-1").end()
tracer.start_span(BAD).end()
tracer.start_span("attribute", attributes={{"file": BAD, "files": [BAD, "ok"]}}).end()
span = tracer.start_span("status")
span.set_status(Status(StatusCode.ERROR, BAD))
span.end()
span = tracer.start_span("exception")
try:
    open(os.path.join("/nonexistent", BAD))
except OSError as exc:
    span.record_exception(exc)
span.add_event(BAD, {{BAD: 1}})
span.end()
tracer.start_span("good-2").end()
scope_telemetry().duration_histogram("codomyrmex.function.duration", "d").record(
    0.5, {{"code.function.name": BAD}})
scope_telemetry().duration_histogram("codomyrmex.function.duration", "d").record(
    0.5, {{"code.function.name": "good"}})
"""

NAMES = {"good-1", CLEAN, "attribute", "status", "exception", "good-2"}


def assert_one_encoding_warning(stderr: str) -> None:
    warnings = [line for line in stderr.splitlines() if "UTF-8" in line]
    assert len(warnings) == 1, stderr
    assert "lone surrogate" in warnings[0] and "U+FFFD" in warnings[0]
    assert "queue full" not in stderr and "Traceback" not in stderr, stderr


def test_file_exporter_exports_the_whole_batch_cleaned(tmp_path: Path) -> None:
    result = run_python(
        "from codomyrmex.performance import configure_telemetry\n"
        "handle = configure_telemetry('surrogates')\n"
        + BATCH
        + "print(handle.shutdown(), handle.stats())\n",
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == (
        "True TelemetryStats(ended=6, exported=6, failed=0, dropped=0)"
    )
    assert_one_encoding_warning(result.stderr)
    exported = [
        span
        for line in (tmp_path / "traces.jsonl").read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    by_name = {span["name"]: span for span in exported}
    assert set(by_name) == NAMES
    attributes = {a["key"]: a["value"] for a in by_name["attribute"]["attributes"]}
    assert attributes["file"] == {"stringValue": CLEAN}
    assert by_name["status"]["status"]["message"] == CLEAN
    event_names = [event["name"] for event in by_name["exception"]["events"]]
    assert event_names == ["exception", CLEAN]
    metrics = (tmp_path / "metrics.jsonl").read_text()
    assert json.dumps(CLEAN)[1:-1] in metrics or CLEAN in metrics
    assert '"stringValue":"good"' in metrics


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_otlp_exporters_export_the_whole_batch_cleaned(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"surrogates-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(tmp_path, BATCH, service=service, protocol=protocol)
    assert result.returncode == 0, result.stderr
    assert "STATS TelemetryStats(ended=6, exported=6, failed=0, dropped=0)" in result.stdout
    assert_one_encoding_warning(result.stderr)

    def arrived(telemetry: Telemetry) -> Telemetry | None:
        points = telemetry.points_named("codomyrmex.function.duration")
        return telemetry if telemetry.span_names() >= NAMES and len(points) >= 2 else None

    got = otel_collector.wait_for(arrived, service_name=service)
    assert got.span_names() == NAMES
    (status,) = got.spans_named("status")
    assert status.status_message == CLEAN
    (attribute,) = got.spans_named("attribute")
    assert attribute.attributes["file"] == CLEAN
    functions = {p.attributes["code.function.name"] for p in got.points_named(
        "codomyrmex.function.duration")}  # fmt: skip
    assert functions == {CLEAN, "good"}
