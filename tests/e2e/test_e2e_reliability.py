"""A dead, crashing or flooded collector costs the host program nothing but dropped data.

- Collector down: monitored calls run without blocking or raising, ``shutdown()`` returns
  within its timeout, and every span that could not be delivered is counted and reported.
- Collector killed and restarted mid-run: telemetry resumes on both OTLP protocols.
- A burst of 100,000 spans: exported + failed + dropped == ended, and the collector
  received exactly the spans counted as exported.

The speed side of "collector down" (< 5 % slower than up) is measured by interleaving in
``benchmarks/bench_collector_down.py``; here only a non-flaky bound is asserted: no call
waits for the network.
"""

from __future__ import annotations

import re
import socket
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from harness.otel_collector import OtelCollector
from harness.subprocesses import run_python


def dead_endpoint() -> str:
    """A loopback URL nobody listens on."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


DOWN = """
import logging, time
from codomyrmex.performance import configure_telemetry, monitor

logging.basicConfig(level=logging.WARNING)
handle = configure_telemetry("e2e-down", endpoint={endpoint!r}, protocol={protocol!r},
                             timeout={timeout})

@monitor
def work(i):
    return i * 2

slowest = 0.0
for i in range(2000):
    t0 = time.perf_counter()
    assert work(i) == i * 2
    slowest = max(slowest, time.perf_counter() - t0)
t0 = time.perf_counter()
done = handle.shutdown(10_000)
took = time.perf_counter() - t0
stats = handle.stats()
print("RESULT", done, round(took, 3), round(slowest, 4), stats.ended, stats.exported,
      stats.failed, stats.dropped, handle.dropped_spans)
"""


@pytest.mark.parametrize(
    ("protocol", "exporter_timeout"),
    [("grpc", None), ("http/protobuf", 2)],
    ids=["grpc-default-timeout", "http-2s-timeout"],
)
def test_collector_down_costs_nothing_but_dropped_data(
    protocol: str, exporter_timeout: float | None
) -> None:
    code = DOWN.format(endpoint=dead_endpoint(), protocol=protocol, timeout=exporter_timeout)
    result = run_python(code, timeout=60)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT")]
    _, done, took, slowest, ended, exported, failed, dropped, lost = line.split()
    assert float(took) < 10.5  # shutdown(10_000) is bounded whatever the exporter does
    assert float(slowest) < 1.0  # no call waited for a connection or an export
    assert int(ended) == 2000
    assert int(exported) == 0
    assert int(failed) + int(dropped) == 2000 == int(lost)
    assert "2000 span(s) were not delivered" in result.stderr
    assert done in ("True", "False")
    assert "Traceback" not in result.stderr


RESUME = """
import sys, time
from codomyrmex.performance import configure_telemetry, monitor

handle = configure_telemetry("e2e-resume-{tag}", endpoint={endpoint!r}, protocol={protocol!r},
                             schedule_delay_millis=100, metric_export_interval_millis=300,
                             timeout=1)

@monitor
def before_kill():
    return 1

@monitor
def while_down():
    return 2

@monitor
def after_restart():
    return 3

def step(func, count=20):
    for _ in range(count):
        func()
    handle.force_flush(3000)

step(before_kill)
print("killme", flush=True)
sys.stdin.readline()
step(while_down)
print("restartme", flush=True)
sys.stdin.readline()
deadline = time.monotonic() + 60
while time.monotonic() < deadline:
    step(after_restart)
    if sys.stdin.readline().strip() == "stop":
        break
handle.shutdown(5000)
print("STATS", handle.stats(), flush=True)
"""


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_telemetry_resumes_after_the_collector_is_killed_and_restarted(
    private_otel_collector: OtelCollector, protocol: str, tmp_path: Path
) -> None:
    collector = private_otel_collector
    child_log = tmp_path / "child-stderr.txt"
    tag = protocol.replace("/", "-")
    service = f"e2e-resume-{tag}"
    code = RESUME.format(tag=tag, endpoint=collector.endpoint(protocol), protocol=protocol)
    with child_log.open("w") as stderr_file:  # a file: export warnings never fill a pipe
        process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(code)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=stderr_file,
            text=True,
        )
    assert process.stdin is not None and process.stdout is not None
    try:
        assert process.stdout.readline().strip() == "killme"
        collector.wait_for(lambda t: t.spans_named("__main__.before_kill"), service_name=service)
        collector.kill()
        process.stdin.write("\n")
        process.stdin.flush()
        assert process.stdout.readline().strip() == "restartme"
        collector.restart()
        resumed = False
        deadline = time.monotonic() + 60
        while not resumed and time.monotonic() < deadline:
            process.stdin.write("\n")  # one more round of calls and a flush
            process.stdin.flush()
            time.sleep(0.5)
            telemetry = collector.telemetry(service)
            resumed = bool(
                telemetry.spans_named("__main__.after_restart")
                and telemetry.points_named(
                    "codomyrmex.function.duration", code__function__name="__main__.after_restart"
                )
            )
        process.stdin.write("stop\n")
        process.stdin.flush()
        stdout, _ = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
    stderr = child_log.read_text()
    assert resumed, f"no telemetry after the restart; child stderr:\n{stderr}"
    assert process.returncode == 0, stderr
    telemetry = collector.telemetry(service)
    assert len(telemetry.spans_named("__main__.before_kill")) == 20
    stats_line = next(line for line in stdout.splitlines() if line.startswith("STATS"))
    counts = dict(part.split("=") for part in re.findall(r"\w+=\d+", stats_line))
    ended, exported, failed, dropped = (
        int(counts[key]) for key in ("ended", "exported", "failed", "dropped")
    )
    assert ended == exported + failed + dropped
    assert exported >= 40  # before the kill and after the restart


BURST = """
from codomyrmex.performance import configure_telemetry, monitor

handle = configure_telemetry("e2e-burst", endpoint={endpoint!r}, protocol="grpc")

@monitor
def tick():
    return None

for _ in range(100_000):
    tick()
handle.shutdown(10_000)
stats = handle.stats()
print("RESULT", stats.ended, stats.exported, stats.failed, stats.dropped)
"""


def test_a_burst_of_100_000_spans_is_delivered_or_counted(
    private_otel_collector: OtelCollector,
) -> None:
    collector = private_otel_collector
    result = run_python(BURST.format(endpoint=collector.grpc_endpoint), timeout=240)
    assert result.returncode == 0, result.stderr
    (line,) = [line for line in result.stdout.splitlines() if line.startswith("RESULT")]
    ended, exported, failed, dropped = (int(value) for value in line.split()[1:])
    assert ended == 100_000
    assert exported + failed + dropped == ended
    assert exported > 0
    if failed + dropped:
        assert f"{failed + dropped} span(s) were not delivered" in result.stderr
    marker = "    Name           : __main__.tick\n"
    deadline = time.monotonic() + 60
    while collector.log_text().count(marker) < exported and time.monotonic() < deadline:
        time.sleep(0.5)
    assert collector.log_text().count(marker) == exported
