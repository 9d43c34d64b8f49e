"""Forked children export their own spans, and a fork mid-export never hangs a child.

Each case runs in a fresh interpreter (with a timeout) writing to the embedded default in
tmp_path, or to the session's collector over OTLP.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.otel_collector import OtelCollector
from harness.subprocesses import run_python

PRELUDE = """
import multiprocessing, os, sys, threading
from codomyrmex.performance import configure_telemetry
from codomyrmex.performance.telemetry import scope_telemetry
handle = configure_telemetry("processes")
tracer = scope_telemetry().tracer()

def child(tag):
    tracer.start_span(f"child-{tag}").end()
"""


def run_processes(tmp_path: Path, body: str, timeout: float = 90) -> tuple[list[str], str]:
    result = run_python(
        PRELUDE + body + "\nprint('parent', handle.shutdown(), handle.stats())\n",
        env={"CODOMYRMEX_PERF_TELEMETRY_DIR": str(tmp_path), "OTEL_METRICS_EXPORTER": "none"},
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr, result.stderr
    names = [
        span["name"]
        for line in (tmp_path / "traces.jsonl").read_text().splitlines()
        for resource in json.loads(line)["resourceSpans"]
        for scope in resource["scopeSpans"]
        for span in scope["spans"]
    ]
    return sorted(names), result.stderr


def test_an_os_fork_child_exiting_normally_exports_and_counts_only_its_own(
    tmp_path: Path,
) -> None:
    names, stderr = run_processes(
        tmp_path,
        """
tracer.start_span("parent-queued").end()  # still queued in the parent when it forks
pid = os.fork()
if pid == 0:
    child("fork")
    sys.exit(0)  # atexit: the child's copy of the handle shuts down, flushing its span
os.waitpid(pid, 0)
""",
    )
    assert names == ["child-fork", "parent-queued"]
    assert "not delivered" not in stderr


def test_a_multiprocessing_fork_child_exports_at_its_exit(tmp_path: Path) -> None:
    names, _ = run_processes(
        tmp_path,
        """
process = multiprocessing.get_context("fork").Process(target=child, args=("process",))
process.start()
process.join(60)
assert process.exitcode == 0
""",
    )
    assert names == ["child-process"]


def test_pool_workers_export_when_the_pool_is_closed_and_joined(tmp_path: Path) -> None:
    names, _ = run_processes(
        tmp_path,
        """
pool = multiprocessing.get_context("fork").Pool(2)
pool.map(child, ["a", "b", "c"])
pool.close()
pool.join()
""",
    )
    assert names == ["child-a", "child-b", "child-c"]


def test_a_child_leaving_through_os_exit_exports_after_force_flush(tmp_path: Path) -> None:
    names, _ = run_processes(
        tmp_path,
        """
pid = os.fork()
if pid == 0:
    child("os-exit")
    handle.force_flush()
    os._exit(0)
os.waitpid(pid, 0)
""",
    )
    assert names == ["child-os-exit"]


def test_forking_while_a_thread_exports_never_hangs_a_child(tmp_path: Path) -> None:
    names, _ = run_processes(
        tmp_path,
        """
stop = threading.Event()

def churn():
    while not stop.is_set():
        tracer.start_span("parent-churn", attributes={"pad": "z" * 2000}).end()
        handle.force_flush()

thread = threading.Thread(target=churn)
thread.start()
children = []
for index in range(25):
    pid = os.fork()
    if pid == 0:
        child(f"{index:02d}")
        sys.exit(0)
    children.append(pid)
codes = [os.waitpid(pid, 0)[1] for pid in children]
stop.set()
thread.join()
assert codes == [0] * 25, codes
""",
        timeout=120,
    )
    assert [name for name in names if name.startswith("child-")] == [
        f"child-{index:02d}" for index in range(25)
    ]


@pytest.mark.parametrize("protocol", ["grpc", "http/protobuf"])
def test_a_multiprocessing_child_exports_over_otlp(
    otel_collector: OtelCollector, tmp_path: Path, protocol: str
) -> None:
    service = f"fork-child-{protocol.replace('/', '-')}"
    result = otel_collector.run_program(
        tmp_path,
        """
import multiprocessing
from codomyrmex.performance.telemetry import scope_telemetry

def child():
    scope_telemetry().tracer().start_span("in-child").end()

if __name__ == "__main__":
    scope_telemetry().tracer().start_span("in-parent").end()
    process = multiprocessing.get_context("fork").Process(target=child)
    process.start()
    process.join(60)
    print("child exit", process.exitcode)
""",
        service=service,
        protocol=protocol,
        timeout=90,
    )
    assert result.returncode == 0, result.stderr
    assert "child exit 0" in result.stdout
    got = otel_collector.wait_for(
        lambda t: t if {"in-child", "in-parent"} <= t.span_names() else None,
        service_name=service,
    )
    assert got.span_names() == {"in-child", "in-parent"}
