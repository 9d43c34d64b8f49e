"""What a dead collector costs: monitored calls with the collector down vs up.

Two worker processes run the same loop of 2,000 ``@monitor``-ed calls with the SDK and
OTLP exporters configured: one sends to a real collector (``rotel``, started here on free
loopback ports), the other to a loopback port nobody listens on. A third runs the loop
with no SDK at all, for scale. The driver interleaves short rounds (A B B A ...) so the
CPU's speed changes hit every side alike, and compares medians. Goal: down costs less
than 5 % more than up. Run it alone:

    python benchmarks/bench_collector_down.py [--protocol grpc]
"""

from __future__ import annotations

import argparse
import socket
import statistics
import subprocess
import sys
import tempfile
import textwrap
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

from harness.otel_collector import OtelCollector

CALLS = 2_000

WORKER = """
import sys, time
from codomyrmex.performance import configure_telemetry, monitor

endpoint, protocol = sys.argv[1], sys.argv[2]
handle = None
if endpoint != "none":
    handle = configure_telemetry("bench-collector-down", endpoint=endpoint, protocol=protocol)

@monitor
def work(i):
    return i + 1

def one_round(calls):
    t0 = time.perf_counter()
    for i in range(calls):
        work(i)
    return time.perf_counter() - t0

print("ready", flush=True)
for line in sys.stdin:
    command = line.split()
    if command[0] == "round":
        print(one_round(int(command[1])), flush=True)
    else:
        break
if handle is not None:
    t0 = time.perf_counter()
    done = handle.shutdown(10_000)
    print("shutdown", done, round(time.perf_counter() - t0, 2), handle.stats(), flush=True)
else:
    print("shutdown -", flush=True)
"""


class Worker:
    def __init__(self, label: str, endpoint: str, protocol: str) -> None:
        self.label = label
        self.times: list[float] = []
        self.process = subprocess.Popen(
            [sys.executable, "-c", textwrap.dedent(WORKER), endpoint, protocol],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,  # the down side logs every failed export
            text=True,
        )
        assert self.process.stdout is not None
        if self.process.stdout.readline().strip() != "ready":
            raise RuntimeError(f"{label} worker did not start")

    def round(self, calls: int) -> float:
        assert self.process.stdin is not None and self.process.stdout is not None
        self.process.stdin.write(f"round {calls}\n")
        self.process.stdin.flush()
        return float(self.process.stdout.readline())

    def finish(self) -> str:
        stdout, _ = self.process.communicate("quit\n", timeout=60)
        return stdout.strip()


def dead_endpoint() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{sock.getsockname()[1]}"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--protocol", choices=["grpc", "http/protobuf"], default="grpc")
    parser.add_argument("--rounds", type=int, default=40)
    options = parser.parse_args()

    with tempfile.TemporaryDirectory() as work_dir:
        collector = OtelCollector(Path(work_dir))
        collector.start()
        try:
            workers = [
                Worker("up", collector.endpoint(options.protocol), options.protocol),
                Worker("down", dead_endpoint(), options.protocol),
                Worker("no SDK", "none", options.protocol),
            ]
            for worker in workers:  # warm up: first calls, first exports
                for _ in range(3):
                    worker.round(CALLS)
            for index in range(options.rounds):
                order = workers if index % 2 == 0 else workers[::-1]
                for worker in order:
                    worker.times.append(worker.round(CALLS))
            summaries = [worker.finish() for worker in workers]
        finally:
            collector.stop()

    up, down, bare = (statistics.median(worker.times) for worker in workers)
    print(f"{CALLS} monitored calls per round, {options.rounds} interleaved rounds, "
          f"OTLP {options.protocol}; median per call:")  # fmt: skip
    for worker in workers:
        median = statistics.median(worker.times)
        print(f"  {worker.label:<7} {median / CALLS * 1e6:7.2f} µs")
    ratio = down / up
    print(f"collector down / up: {ratio:.3f} (goal < 1.05)   up / no SDK: {up / bare:.2f}")
    for worker, summary in zip(workers, summaries, strict=True):
        print(f"  {worker.label:<7} {summary}")
    return 0 if ratio < 1.05 else 1


if __name__ == "__main__":
    raise SystemExit(main())
