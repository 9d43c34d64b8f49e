"""configure_telemetry and the scope tracer, each case in a fresh interpreter."""

from __future__ import annotations

import http.server
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

from harness.subprocesses import run_python

PRELUDE = """
import json, sys, time
from opentelemetry import trace
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry
"""


def run_ok(code: str, **env: str) -> str:
    result = run_python(PRELUDE + code, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return result.stdout


def read_lines(path: Path) -> list[dict[str, object]]:
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_import_is_light() -> None:
    result = run_python(
        """
import sys
import codomyrmex.performance
heavy = [m for m in ("opentelemetry.sdk", "grpc", "psutil", "wrapt", "opentelemetry.trace")
         if m in sys.modules]
print(heavy)
"""
    )
    assert result.stdout.strip() == "[]", result.stderr


def test_embedded_default_writes_otlp_json_files(tmp_path: Path) -> None:
    out = run_ok(
        """
handle = configure_telemetry("files-svc")
tracer = scope_telemetry().tracer()
with tracer.start_as_current_span("outer"):
    with tracer.start_as_current_span("inner"):
        scope_telemetry().duration_histogram("codomyrmex.function.duration", "d").record(
            0.5, {"code.function.name": "m.f"})
print(handle.destination)
print(handle.shutdown())
print(handle.stats())
""",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    destination, shut, stats = out.splitlines()
    assert destination == str(tmp_path)
    assert shut == "True"
    assert stats == "TelemetryStats(ended=2, exported=2, failed=0, dropped=0)"
    requests = read_lines(tmp_path / "traces.jsonl")
    resource_spans = [rs for request in requests for rs in request["resourceSpans"]]  # type: ignore[attr-defined]
    attributes = {a["key"]: a["value"] for a in resource_spans[0]["resource"]["attributes"]}
    assert attributes["service.name"] == {"stringValue": "files-svc"}
    scope_spans = resource_spans[0]["scopeSpans"][0]
    assert scope_spans["scope"] == {"name": "codomyrmex.performance", "version": "0.1.0"}
    by_name = {span["name"]: span for span in scope_spans["spans"]}
    assert set(by_name) == {"outer", "inner"}
    assert by_name["inner"]["parentSpanId"] == by_name["outer"]["spanId"]
    assert len(by_name["inner"]["traceId"]) == 32
    int(by_name["inner"]["traceId"], 16)
    metrics_text = (tmp_path / "metrics.jsonl").read_text()
    assert '"name":"codomyrmex.function.duration"' in metrics_text
    assert '"unit":"s"' in metrics_text


def test_idempotent_and_keeps_existing_sdk_provider(tmp_path: Path) -> None:
    out = run_ok(
        """
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
host = TracerProvider()
mine = InMemorySpanExporter()
host.add_span_processor(SimpleSpanProcessor(mine))
trace.set_tracer_provider(host)
first = configure_telemetry("host-svc", console=True)
second = configure_telemetry("other")
print(first is second, trace.get_tracer_provider() is host, first.tracer_provider is host)
with scope_telemetry().tracer().start_as_current_span("kept"):
    pass
first.shutdown()
print([s.name for s in mine.get_finished_spans()])
"""
    )
    lines = out.splitlines()
    assert lines[0] == "True True True"
    assert lines[-1] == "['kept']"
    assert '"name": "kept"' in out  # the console exporter was added to the host's provider


def test_existing_provider_gets_no_default_exporter(tmp_path: Path) -> None:
    out = run_ok(
        """
from opentelemetry.sdk.trace import TracerProvider
trace.set_tracer_provider(TracerProvider())
handle = configure_telemetry()
print(handle.destination)
""",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert out.strip() == "none"
    assert not (tmp_path / "traces.jsonl").exists()


def test_sdk_disabled_means_no_spans(tmp_path: Path) -> None:
    out = run_ok(
        """
handle = configure_telemetry()
print(handle.destination, scope_telemetry().tracer())
""",
        OTEL_SDK_DISABLED="true",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert out.strip() == "disabled (OTEL_SDK_DISABLED) None"


def test_scope_tracer_follows_a_provider_set_later_and_suppression() -> None:
    out = run_ok(
        """
from opentelemetry import context
from opentelemetry.sdk.trace import TracerProvider
scope = scope_telemetry()
before = scope.tracer()
trace.set_tracer_provider(TracerProvider())
after = scope.tracer()
token = context.attach(context.set_value(context._SUPPRESS_INSTRUMENTATION_KEY, True))
suppressed = scope.tracer()
context.detach(token)
print(before, type(after).__module__, suppressed, scope.tracer() is after)
"""
    )
    assert out.strip() == "None opentelemetry.sdk.trace None True"


def test_env_exporter_choice(tmp_path: Path) -> None:
    out = run_ok(
        """
handle = configure_telemetry("console-svc")
with scope_telemetry().tracer().start_as_current_span("to-console"):
    pass
print("DEST", handle.destination)
handle.shutdown()
""",
        OTEL_TRACES_EXPORTER="console",
        OTEL_METRICS_EXPORTER="none",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert "DEST traces: console; metrics: none" in out
    assert '"name": "to-console"' in out
    assert not (tmp_path / "traces.jsonl").exists()


def test_full_queue_drops_are_counted(tmp_path: Path) -> None:
    out = run_ok(
        """
handle = configure_telemetry(max_queue_size=8, max_export_batch_size=8,
                             schedule_delay_millis=60_000)
tracer = scope_telemetry().tracer()
for i in range(500):
    tracer.start_span(f"s{i}").end()
handle.shutdown()
s = handle.stats()
print(s.ended, s.exported + s.failed + s.dropped, s.dropped > 0, handle.dropped_spans == s.dropped)
""",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert out.splitlines()[-1] == "500 500 True True"


def test_unreachable_collector_shutdown_is_bounded() -> None:
    for protocol in ("grpc", "http/protobuf"):
        out = run_ok(
            f"""
handle = configure_telemetry("dead", endpoint="http://127.0.0.1:9", protocol="{protocol}")
tracer = scope_telemetry().tracer()
for i in range(50):
    with tracer.start_as_current_span("lost"):
        pass
start = time.monotonic()
handle.shutdown()
elapsed = time.monotonic() - start
s = handle.stats()
print(elapsed < 10.5, s.ended, s.exported, s.failed + s.dropped)
"""
        )
        assert out.splitlines()[-1] == "True 50 0 50", protocol


def test_bad_arguments_raise_clear_errors() -> None:
    out = run_ok(
        """
cases = [
    dict(protocol="udp"),
    dict(max_queue_size=-1),
    dict(max_queue_size=True),
    dict(timeout=0),
    dict(endpoint=4317),
    dict(endpoint="localhost:4317"),
]
for kwargs in cases:
    try:
        configure_telemetry(**kwargs)
    except (TypeError, ValueError) as exc:
        print(type(exc).__name__)
print(trace.get_tracer_provider().__class__.__name__)
"""
    )
    assert out.split() == [
        "ValueError",
        "ValueError",
        "TypeError",
        "ValueError",
        "TypeError",
        "ValueError",
        "ProxyTracerProvider",
    ]


def test_wrong_argument_types_raise_type_error_naming_the_argument() -> None:
    out = run_ok(
        """
cases = [
    dict(service_name=5),
    dict(headers=5),
    dict(headers={1: 2}),
    dict(headers={"authorization": 2}),
    dict(resource_attributes=5),
    dict(resource_attributes={3: "x"}),
    dict(resource_attributes={"k": object()}),
]
for kwargs in cases:
    try:
        configure_telemetry(**kwargs)
    except TypeError as exc:
        print(exc)
    else:
        print("accepted", kwargs)
print(trace.get_tracer_provider().__class__.__name__)
"""
    )
    assert out.splitlines() == [
        "service_name must be a string, not int",
        "headers must be a mapping of strings, not int",
        "headers keys must be strings, got int 1",
        "headers values must be strings, got int for 'authorization'",
        "resource_attributes must be a mapping of strings, not int",
        "resource_attributes keys must be strings, got int 3",
        "resource_attributes values must be str, bool, int, float or a sequence of them, "
        "got object for 'k'",
        "ProxyTracerProvider",
    ]


def test_good_argument_types_are_accepted(tmp_path: Path) -> None:
    out = run_ok(
        """
handle = configure_telemetry(
    "typed", headers={"x-token": "t"},
    resource_attributes={"deployment.environment": "ci", "host.cpus": 2, "tags": ["a", "b"]},
)
print(handle.tracer_provider.resource.attributes["host.cpus"],
      handle.tracer_provider.resource.attributes["tags"])
handle.shutdown()
""",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert out.strip() == "2 ('a', 'b')"


SPAN_AND_METRIC = """
handle = configure_telemetry("per-signal")
with scope_telemetry().tracer().start_as_current_span("s"):
    scope_telemetry().duration_histogram("codomyrmex.function.duration", "d").record(0.1)
print(handle.destination)
handle.shutdown()
"""


def test_traces_exporter_none_leaves_metrics_on_the_default(tmp_path: Path) -> None:
    out = run_ok(
        SPAN_AND_METRIC, OTEL_TRACES_EXPORTER="none", CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path)
    )
    assert out.strip() == f"traces: none; metrics: {tmp_path}"
    assert not (tmp_path / "traces.jsonl").exists()
    assert "codomyrmex.function.duration" in (tmp_path / "metrics.jsonl").read_text()


def test_metrics_exporter_none_leaves_traces_on_the_default(tmp_path: Path) -> None:
    out = run_ok(
        SPAN_AND_METRIC, OTEL_METRICS_EXPORTER="none", CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path)
    )
    assert out.strip() == f"traces: {tmp_path}; metrics: none"
    assert not (tmp_path / "metrics.jsonl").exists()
    assert '"name":"s"' in (tmp_path / "traces.jsonl").read_text()


def test_unknown_exporter_name_is_one_warning_and_exports_nothing(tmp_path: Path) -> None:
    result = run_python(
        PRELUDE + SPAN_AND_METRIC,
        env={"OTEL_TRACES_EXPORTER": "zipkin", "CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path)},
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"traces: none; metrics: {tmp_path}"
    warnings = [line for line in result.stderr.splitlines() if "zipkin" in line]
    assert len(warnings) == 1, result.stderr
    assert "OTEL_TRACES_EXPORTER" in warnings[0] and "unknown exporter" in warnings[0]
    assert not (tmp_path / "traces.jsonl").exists()


class _OtlpRecorder(http.server.BaseHTTPRequestHandler):
    """Accepts OTLP/HTTP requests and records their paths (grpc gets an HTTP/1 error)."""

    paths: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.paths.append(self.path)
        self.send_response(200)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def otlp_http() -> Iterator[tuple[str, list[str]]]:
    paths: list[str] = []
    handler = type("Recorder", (_OtlpRecorder,), {"paths": paths})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}", paths
    finally:
        server.shutdown()
        server.server_close()


@pytest.mark.parametrize(
    ("grpc_signal", "http_path"), [("TRACES", "/v1/metrics"), ("METRICS", "/v1/traces")]
)
def test_per_signal_protocol_applies_to_its_signal_only(
    otlp_http: tuple[str, list[str]], grpc_signal: str, http_path: str
) -> None:
    url, paths = otlp_http
    out = run_ok(
        SPAN_AND_METRIC,
        OTEL_EXPORTER_OTLP_ENDPOINT=url,
        OTEL_EXPORTER_OTLP_TIMEOUT="1",
        **{f"OTEL_EXPORTER_OTLP_{grpc_signal}_PROTOCOL": "grpc"},
    )
    grpc_part, http_part = f"{url} (grpc)", f"{url} (http/protobuf)"
    traces, metrics = (grpc_part, http_part) if grpc_signal == "TRACES" else (http_part, grpc_part)
    assert out.strip() == f"traces: {traces}; metrics: {metrics}"
    assert paths == [http_path]


def test_per_signal_endpoint_sends_that_signal_only(
    otlp_http: tuple[str, list[str]], tmp_path: Path
) -> None:
    url, paths = otlp_http
    out = run_ok(
        SPAN_AND_METRIC,
        OTEL_EXPORTER_OTLP_METRICS_ENDPOINT=f"{url}/v1/metrics",
        CODOMYRMEX_PERF_TELEMETRY_DIR=str(tmp_path),
    )
    assert out.strip() == f"traces: {tmp_path}; metrics: {url}/v1/metrics (http/protobuf)"
    assert paths == ["/v1/metrics"]
    assert '"name":"s"' in (tmp_path / "traces.jsonl").read_text()
    assert not (tmp_path / "metrics.jsonl").exists()
