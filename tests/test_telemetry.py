"""configure_telemetry and the scope tracer, each case in a fresh interpreter."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import run_python

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
    assert "DEST console" in out
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
