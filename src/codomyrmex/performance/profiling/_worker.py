"""Benchmark worker process: runs one benchmark's rounds on request (pyperf-style isolation).

The parent writes one JSON command per line on stdin and reads one JSON reply per line
from a private copy of the original stdout; the benchmark's own output goes to stderr so
it can never corrupt the protocol. Commands: ``load`` (target spec), ``calibrate``,
``time`` (one round), ``memory``, ``profile`` (a profiled pass). End of input ends the process.
"""

from __future__ import annotations

import importlib
import importlib.util
import json
import os
import runpy
import signal
import sys
from collections.abc import Iterable
from typing import Any, TextIO

from codomyrmex.performance.profiling.rounds import Benchmark, InProcessRounds


def _namespace(target: dict[str, Any]) -> dict[str, Any]:
    module = target.get("module")
    if module and target.get("importable"):
        return vars(importlib.import_module(module))
    file = target.get("file")
    if not file:
        raise LookupError(f"cannot locate module {module!r} in a worker process")
    source = target.get("source")
    if source is None:
        return runpy.run_path(file, run_name="__codomyrmex_bench__")
    namespace: dict[str, Any] = {"__name__": "__codomyrmex_bench__", "__file__": file}
    exec(compile(source, file, "exec", dont_inherit=True), namespace)
    return namespace


def resolve(target: dict[str, Any]) -> Benchmark:
    """Find the benchmark described by ``target`` (see ``runner.worker_target``)."""
    from codomyrmex.performance.profiling.suite import BenchmarkSuite

    namespace = _namespace(target)
    suite_name = target.get("suite")
    if suite_name is not None:
        for value in list(namespace.values()):
            if isinstance(value, BenchmarkSuite) and value.name == suite_name:
                for bench in value.benchmarks:
                    if bench.name == target["benchmark"]:
                        return bench
        raise LookupError(f"benchmark {target['benchmark']!r} of suite {suite_name!r} not found")
    obj: Any = namespace[target["qualname"].split(".")[0]]
    for part in target["qualname"].split(".")[1:]:
        obj = getattr(obj, part)
    return Benchmark(name=target["benchmark"], func=obj)


def _reply(channel: Any, message: dict[str, Any]) -> None:
    channel.write(json.dumps(message) + "\n")
    channel.flush()


def main() -> None:
    """Serve commands until stdin closes.

    Ctrl-C reaches the whole process group: the worker then ends at once and silently
    (the default SIGINT action), and the parent reports the interruption once.
    """
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    serve(sys.stdin, private_channel())


def private_channel() -> TextIO:
    """A private copy of stdout for the replies; stdout itself then writes to stderr."""
    channel = os.fdopen(os.dup(1), "w", encoding="utf-8")
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return channel


def serve(commands: Iterable[str], channel: TextIO, sampler: InProcessRounds | None = None) -> None:
    """Answer ``commands`` (JSON lines) on ``channel`` until they end.

    ``sampler``: the benchmark of a ``load`` command that a host program read and answered
    by loading the benchmark itself (the pytest plugin re-runs a test up to its benchmark);
    it is acknowledged first.
    """
    if sampler is not None:
        _reply(channel, {"ok": True})
    for line in commands:
        command = json.loads(line)
        op = command["op"]
        try:
            if op == "load":
                target = command["target"]
                sys.path[:0] = [p for p in target.get("sys_path", []) if p not in sys.path]
                sampler = InProcessRounds(
                    resolve(target), disable_gc=command["disable_gc"], timer=command["timer"]
                )
                _reply(channel, {"ok": True})
                continue
            if sampler is None:
                raise RuntimeError("no benchmark loaded")
            if op == "calibrate":
                _reply(channel, {"loops": sampler.calibrate(command["min_time"])})
            elif op == "time":
                sample, share = sampler.time(command["loops"])
                _reply(channel, {"sample": sample, "cpu_share": share})
            elif op == "memory":
                _reply(channel, {"peak": sampler.peak_memory()})
            elif op == "profile":
                _reply(channel, {"capture": sampler.profile(command["loops"]).to_message()})
            else:
                raise ValueError(f"unknown command {op!r}")
        except Exception as exc:
            _reply(channel, {"error": f"{type(exc).__name__}: {exc}", "load": op == "load"})
    if sampler is not None:
        sampler.close()


if __name__ == "__main__":
    main()
