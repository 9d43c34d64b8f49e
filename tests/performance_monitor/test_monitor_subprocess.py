"""Behaviour without an SDK, with an ALWAYS_OFF sampler, and import hygiene (fresh interpreters)."""

from __future__ import annotations

import json
from pathlib import Path

from harness.subprocesses import run_python


def run_json(code: str, **env: str) -> dict:  # type: ignore[type-arg]
    result = run_python(code, env=env)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def test_import_leaves_heavy_modules_out() -> None:
    out = run_json(
        """
import json, sys
import codomyrmex.performance
from codomyrmex.performance import monitor

@monitor
def f():
    return 1

heavy = ("opentelemetry", "opentelemetry.sdk", "grpc", "psutil", "wrapt", "dataclasses")
print(json.dumps([m for m in heavy if m in sys.modules]))
"""
    )
    assert out == []


def test_calls_never_import_opentelemetry_when_nothing_else_does() -> None:
    out = run_json(
        """
import asyncio, json, sys
from codomyrmex.performance import monitor
from codomyrmex.performance.performance_monitor import PerformanceMonitor, default_monitor

@monitor
def add(a, b):
    return a + b

@monitor
def fail():
    raise KeyError("k")

@monitor
async def later(x):
    await asyncio.sleep(0)
    return x

@monitor
def numbers():
    yield from range(3)

@monitor
async def anumbers():
    for i in range(3):
        yield i

async def consume():
    return [i async for i in anumbers()]

assert add(1, 2) == 3
try:
    fail()
except KeyError:
    pass
assert asyncio.run(later(4)) == 4
assert list(numbers()) == [0, 1, 2]
assert asyncio.run(consume()) == [0, 1, 2]
with default_monitor().track("block"):
    pass
own = PerformanceMonitor()
own.track_execution(len, "abc")
stats = default_monitor().get_stats()
print(json.dumps({
    "loaded": sorted(m for m in sys.modules if m.split(".")[0] == "opentelemetry"),
    "count": stats["count"],
    "errors": stats["errors"],
    "own": own.get_stats()["count"],
}))
"""
    )
    assert out == {"loaded": [], "count": 6, "errors": 1, "own": 1}


def test_sdk_set_up_after_the_first_calls_gets_spans_and_points_from_then_on() -> None:
    out = run_json(
        """
import asyncio, json, sys
from codomyrmex.performance import monitor

@monitor(name="job")
def job():
    return 1

@monitor(name="ajob")
async def ajob():
    return 2

job()
asyncio.run(ajob())
before = "opentelemetry" in sys.modules

from opentelemetry import metrics, trace
from opentelemetry.sdk.metrics import MeterProvider
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
reader = InMemoryMetricReader()
metrics.set_meter_provider(MeterProvider(metric_readers=[reader]))
job()
asyncio.run(ajob())
job()
counts = {}
for resource_metrics in reader.get_metrics_data().resource_metrics:
    for scope_metrics in resource_metrics.scope_metrics:
        for metric in scope_metrics.metrics:
            if metric.name == "codomyrmex.function.duration":
                for point in metric.data.data_points:
                    counts[point.attributes["code.function.name"]] = point.count
print(json.dumps({
    "before": before,
    "spans": [s.name for s in exporter.get_finished_spans()],
    "points": counts,
}))
"""
    )
    assert out["before"] is False
    assert out["spans"] == ["job", "ajob", "job"]
    assert out["points"] == {"__main__.job": 2, "__main__.ajob": 1}


def test_meter_provider_set_through_the_metrics_api_alone_is_followed() -> None:
    out = run_json(
        """
import json, sys
from codomyrmex.performance import monitor

@monitor(name="job")
def job():
    return 1

job()
from opentelemetry import metrics
assert "opentelemetry.trace" not in sys.modules
recorded = []

class Histogram(metrics.NoOpHistogram):
    def record(self, amount, attributes=None, context=None):
        recorded.append(dict(attributes))

class Meter(metrics.NoOpMeter):
    def create_histogram(self, name, *args, **kwargs):
        return Histogram(name)

class Provider(metrics.NoOpMeterProvider):
    def get_meter(self, name, *args, **kwargs):
        return Meter(name)

metrics.set_meter_provider(Provider())
job()
print(json.dumps(recorded))
"""
    )
    assert out == [{"code.function.name": "__main__.job"}]


def test_no_sdk_calls_work_are_recorded_and_make_no_span() -> None:
    out = run_json(
        """
import asyncio, json, sys
from opentelemetry import trace
from codomyrmex.performance import monitor
from codomyrmex.performance.performance_monitor import default_monitor

@monitor
def add(a, b):
    return a + b

@monitor
async def later(x):
    return x

@monitor
def fail():
    raise ValueError("no sdk")

assert add(1, 2) == 3
assert asyncio.run(later(4)) == 4
try:
    fail()
except ValueError as exc:
    assert str(exc) == "no sdk"
metrics = default_monitor().get_metrics()
print(json.dumps({
    "names": [m.function_name.rsplit(".", 1)[-1] for m in metrics],
    "errors": [m.error for m in metrics],
    "ids": [[m.trace_id, m.span_id] for m in metrics],
    "sdk": "opentelemetry.sdk" in sys.modules,
    "provider": type(trace.get_tracer_provider()).__name__,
}))
"""
    )
    assert out["names"] == ["add", "later", "fail"]
    assert out["errors"] == [None, None, "ValueError"]
    assert out["ids"] == [[None, None]] * 3
    assert out["sdk"] is False
    assert out["provider"] == "ProxyTracerProvider"


def test_provider_installed_after_first_calls_is_followed() -> None:
    out = run_json(
        """
import json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from codomyrmex.performance import monitor

@monitor(name="job")
def job():
    return 1

job()
exporter = InMemorySpanExporter()
provider = TracerProvider()
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)
job()
print(json.dumps([s.name for s in exporter.get_finished_spans()]))
"""
    )
    assert out == ["job"]


def test_always_off_sampler_does_no_attribute_work() -> None:
    out = run_json(
        """
import json
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.sdk.trace.sampling import ALWAYS_OFF
import opentelemetry.trace.span as span_module
from codomyrmex.performance import monitor
from codomyrmex.performance.performance_monitor import default_monitor

exporter = InMemorySpanExporter()
provider = TracerProvider(sampler=ALWAYS_OFF)
provider.add_span_processor(SimpleSpanProcessor(exporter))
trace.set_tracer_provider(provider)

touched = []
for method in ("set_attribute", "set_attributes", "set_status", "record_exception"):
    original = getattr(span_module.NonRecordingSpan, method)
    def spy(self, *args, _name=method, _original=original, **kwargs):
        touched.append(_name)
        return _original(self, *args, **kwargs)
    setattr(span_module.NonRecordingSpan, method, spy)

@monitor
def ok():
    return trace.get_current_span().is_recording()

@monitor
def bad():
    raise KeyError("k")

recording = ok()
try:
    bad()
except KeyError:
    pass
metrics = default_monitor().get_metrics()
print(json.dumps({
    "recording": recording,
    "spans": len(exporter.get_finished_spans()),
    "ids": [[m.trace_id, m.span_id] for m in metrics],
    "errors": [m.error for m in metrics],
    "touched": touched,
}))
"""
    )
    assert out == {
        "recording": False,
        "spans": 0,
        "ids": [[None, None], [None, None]],
        "errors": [None, "KeyError"],
        "touched": [],
    }


def test_sdk_disabled_makes_no_spans() -> None:
    out = run_json(
        """
import json
from codomyrmex.performance import configure_telemetry, monitor
from codomyrmex.performance.performance_monitor import default_monitor

handle = configure_telemetry("disabled")

@monitor
def f():
    return 1

f()
print(json.dumps([default_monitor().get_metrics()[0].span_id, handle.destination]))
""",
        OTEL_SDK_DISABLED="true",
    )
    assert out[0] is None
    assert "disabled" in out[1]


def test_log_file_gets_one_json_line_per_call(tmp_path: Path) -> None:
    log = tmp_path / "calls.jsonl"
    out = run_json(
        f"""
import json
from codomyrmex.performance.performance_monitor._log import LOG_BATCH
from codomyrmex.performance.performance_monitor import PerformanceMonitor

perf = PerformanceMonitor(log_file={str(log)!r})

@perf.monitor(name="logged")
def logged(i):
    if i == 3:
        raise ValueError(i)
    return i

for i in range(LOG_BATCH + 10):
    try:
        logged(i)
    except ValueError:
        pass
with open({str(log)!r}) as handle:
    before_exit = sum(1 for _ in handle)
print(json.dumps([LOG_BATCH, before_exit]))
"""
    )
    batch, before_exit = out
    assert before_exit == batch
    rows = [json.loads(line) for line in log.read_text().splitlines()]
    assert len(rows) == batch + 10
    assert {row["function_name"] for row in rows} == {"logged"}
    assert [row["error"] for row in rows].count("ValueError") == 1


def test_log_file_that_becomes_unwritable_never_breaks_calls(tmp_path: Path) -> None:
    directory = tmp_path / "logs"
    directory.mkdir()
    out = run_json(
        f"""
import json, shutil
from codomyrmex.performance.performance_monitor import PerformanceMonitor

perf = PerformanceMonitor(log_file={str(directory / "calls.jsonl")!r})
shutil.rmtree({str(directory)!r})

@perf.monitor
def f():
    return 1

total = sum(f() for _ in range(600))
perf.flush()
print(json.dumps([total, perf.get_stats()["count"]]))
"""
    )
    assert out == [600, 600]
