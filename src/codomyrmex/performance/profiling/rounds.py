"""Measurement: loop calibration, warm-up, rounds, interleaving and worker processes.

A *sampler* times one benchmark: ``calibrate(min_time)`` finds how many calls make a
timed value last at least ``min_time``; ``time(loops)`` runs one round and returns
seconds per call. :class:`InProcessRounds` runs in this interpreter (async benchmarks on
one event loop kept for all rounds, so loop start-up is never timed; the clock is read
inside the coroutine); :class:`WorkerRounds` drives the same sampler in a fresh
subprocess. :func:`collect` runs rounds of one sampler, or of two in ABBA order
(interleaved A/B): both sides then see the same machine conditions.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import inspect
import json
import math
import os
import subprocess
import sys
import tracemalloc
from collections.abc import Awaitable, Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from time import perf_counter, process_time
from typing import Any, Protocol, TypeVar

from codomyrmex.performance.profiling.profiles import Capture, capture

__all__ = [
    "Benchmark",
    "BenchmarkFailure",
    "Collected",
    "InProcessRounds",
    "RoundSource",
    "WorkerRounds",
    "WorkerUnavailable",
    "collect",
    "describe",
    "probe",
    "worker_target",
]

#: Upper bound on calls per round, whatever calibration finds.
MAX_LOOPS = 1 << 30
#: Upper bound on timed rounds of one benchmark (and on samples read from a baseline).
MAX_ROUNDS = 10_000
#: Upper bound on worker processes of one benchmark.
MAX_PROCESSES = 1_024

#: ``wall``: ``perf_counter`` (the default; right for anything that waits); ``cpu``:
#: ``process_time``, immune to other processes competing for the CPU, blind to waiting.
TIMERS = ("wall", "cpu")


@dataclass
class Benchmark:
    """One benchmark: a callable with its per-round ``setup`` and arguments.

    ``setup`` runs before every round, untimed; when it returns a value other than None,
    that value must be an ``(args, kwargs)`` pair used for the round's calls.
    """

    name: str
    func: Callable[..., Any]
    setup: Callable[[], Any] | None = None
    args: tuple[Any, ...] = ()
    kwargs: Mapping[str, Any] = field(default_factory=dict)
    suite: str | None = None
    origin: tuple[str, str | None] | None = None  # (module name, file) of the suite
    source: str | None = None  # the suite file's code as discovery read it
    #: How a worker process gets this benchmark when a host program must rebuild it (the
    #: pytest plugin re-runs the test): the code the worker runs and its ``load`` target.
    worker: tuple[str, Mapping[str, Any]] | None = None

    @property
    def is_async(self) -> bool:
        return inspect.iscoroutinefunction(self.func)


class BenchmarkFailure(Exception):
    """The benchmark raised (in a worker process: the message is the remote exception)."""


def describe(exc: BaseException) -> str:
    """The error text of a failed benchmark: ``Type: message`` (a failure's own message)."""
    return str(exc) if isinstance(exc, BenchmarkFailure) else f"{type(exc).__name__}: {exc}"


class WorkerUnavailable(Exception):
    """The benchmark cannot be located from a fresh interpreter (e.g. a local function)."""


class RoundSource(Protocol):
    def calibrate(self, min_time: float) -> int: ...
    def time(self, loops: int) -> tuple[float, float]: ...
    def peak_memory(self) -> int: ...
    def profile(self, loops: int) -> Capture: ...
    def close(self) -> None: ...


def _next_loops(loops: int, elapsed: float, min_time: float) -> int:
    if elapsed <= 0:
        return loops * 10
    wanted = math.ceil(loops * min_time / elapsed * 1.2)
    return min(max(wanted, loops * 2), loops * 100, MAX_LOOPS)


class InProcessRounds:
    """Times a benchmark in this interpreter."""

    def __init__(self, bench: Benchmark, *, disable_gc: bool = False, timer: str = "wall") -> None:
        if timer not in TIMERS:
            raise ValueError(f"timer must be one of {', '.join(TIMERS)}, got {timer!r}")
        self.bench = bench
        self.disable_gc = disable_gc
        self.cpu_timer = timer == "cpu"
        self._loop = asyncio.new_event_loop() if bench.is_async else None

    def _arguments(self) -> tuple[tuple[Any, ...], Mapping[str, Any]]:
        bench = self.bench
        if bench.setup is not None:
            prepared = bench.setup()
            if prepared is not None:
                args, kwargs = prepared
                return tuple(args), dict(kwargs)
        return bench.args, bench.kwargs

    def _total(
        self, loops: int, around: AbstractContextManager[Any] | None = None
    ) -> tuple[float, float]:
        """Wall-clock and process CPU seconds of ``loops`` calls (``around`` only them)."""
        args, kwargs = self._arguments()
        func = self.bench.func
        gc_was_enabled = gc.isenabled()
        if self.disable_gc:
            gc.disable()
        cpu_start = process_time()
        try:
            with around or nullcontext():
                if self._loop is not None:
                    wall = self._loop.run_until_complete(_time_async(func, args, kwargs, loops))
                else:
                    wall = _time_sync(func, args, kwargs, loops)
        finally:
            cpu = process_time() - cpu_start
            if self.disable_gc and gc_was_enabled:
                gc.enable()
        return wall, cpu

    def calibrate(self, min_time: float) -> int:
        loops = 1
        while True:
            wall, cpu = self._total(loops)
            elapsed = cpu if self.cpu_timer else wall
            if elapsed >= min_time or loops >= MAX_LOOPS:
                return loops
            loops = _next_loops(loops, elapsed, min_time)

    def time(self, loops: int) -> tuple[float, float]:
        """Seconds per call (by the chosen timer) and the round's CPU share (CPU / wall)."""
        wall, cpu = self._total(loops)
        share = cpu / wall if wall > 0 else 1.0
        return (cpu if self.cpu_timer else wall) / loops, share

    def profile(self, loops: int) -> Capture:
        """One profiled pass of rounds of ``loops`` calls (never while timing)."""
        return capture(lambda profiler: self._total(loops, profiler), loops, excluded=[__file__])

    def peak_memory(self) -> int:
        """Peak bytes allocated by one call, traced with ``tracemalloc`` (never while timing)."""
        started = not tracemalloc.is_tracing()
        if started:
            tracemalloc.start()
        try:
            tracemalloc.reset_peak()
            base, _ = tracemalloc.get_traced_memory()
            self._total(1)
            _, peak = tracemalloc.get_traced_memory()
            return max(peak - base, 0)
        finally:
            if started:
                tracemalloc.stop()

    def close(self) -> None:
        if self._loop is not None:
            self._loop.close()


def _time_sync(
    func: Callable[..., Any], args: tuple[Any, ...], kwargs: Mapping[str, Any], loops: int
) -> float:
    iterations = range(loops)
    if args or kwargs:
        start = perf_counter()
        for _ in iterations:
            func(*args, **kwargs)
        return perf_counter() - start
    start = perf_counter()
    for _ in iterations:
        func()
    return perf_counter() - start


async def _time_async(
    func: Callable[..., Awaitable[Any]],
    args: tuple[Any, ...],
    kwargs: Mapping[str, Any],
    loops: int,
) -> float:
    start = perf_counter()
    for _ in range(loops):
        await func(*args, **kwargs)
    return perf_counter() - start


def worker_target(bench: Benchmark, extra_path: Sequence[str] = ()) -> dict[str, Any]:
    """How a fresh interpreter finds ``bench``; raises ``WorkerUnavailable`` when it cannot."""
    if bench.suite is not None and bench.origin is not None:
        module, file = bench.origin
        target: dict[str, Any] = {"suite": bench.suite, "benchmark": bench.name}
    else:
        module = getattr(bench.func, "__module__", None) or ""
        qualname = getattr(bench.func, "__qualname__", "")
        if not qualname or "<" in qualname:
            raise WorkerUnavailable(f"{qualname or bench.func!r} is not importable")
        file = getattr(sys.modules.get(module), "__file__", None)
        target = {"suite": None, "benchmark": bench.name, "qualname": qualname}
    importable = False
    if module != "__main__" and bench.source is None:
        try:
            spec = importlib.util.find_spec(module) if module else None
        except (ImportError, ValueError):
            spec = None
        importable = spec is not None and (file is None or spec.origin == file)
    if not importable and not file:
        raise WorkerUnavailable(f"module {module!r} has no file to load in a worker")
    beside = [] if importable or not file else [os.path.dirname(file)]
    target.update(
        module=module,
        file=file,
        importable=importable,
        source=None if importable else bench.source,
        sys_path=[*extra_path, *beside, *sys.path],
    )
    return target


_WORKER_CODE = "from codomyrmex.performance.profiling._worker import main; main()"


class WorkerRounds:
    """Times a benchmark in a fresh Python subprocess, one round per request."""

    def __init__(
        self,
        bench: Benchmark,
        *,
        disable_gc: bool = False,
        timer: str = "wall",
        extra_path: Sequence[str] = (),
    ) -> None:
        if bench.worker is not None:
            code, located = bench.worker
            target = {**located, "sys_path": [*extra_path, *sys.path]}
        else:
            code, target = _WORKER_CODE, worker_target(bench, extra_path)
        package_root = [p for p in sys.path if p]
        bootstrap = f"import sys; sys.path[:0] = {package_root!r}; {code}"
        self._process = subprocess.Popen(
            [sys.executable, "-c", bootstrap],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=None,
            text=True,
        )
        try:
            self._request(
                {"op": "load", "target": target, "disable_gc": disable_gc, "timer": timer}
            )
        except BaseException:
            self.close()
            raise

    def _request(self, command: dict[str, Any]) -> dict[str, Any]:
        stdin, stdout = self._process.stdin, self._process.stdout
        assert stdin is not None and stdout is not None
        try:
            stdin.write(json.dumps(command) + "\n")
            stdin.flush()
            line = stdout.readline()
        except OSError as exc:
            raise BenchmarkFailure(f"worker process failed: {exc}") from None
        if not line:
            code = self._process.wait()
            raise BenchmarkFailure(f"worker process exited with status {code}")
        reply: dict[str, Any] = json.loads(line)
        if "error" in reply:
            if reply.get("load"):
                raise WorkerUnavailable(reply["error"])
            raise BenchmarkFailure(reply["error"])
        return reply

    def calibrate(self, min_time: float) -> int:
        return int(self._request({"op": "calibrate", "min_time": min_time})["loops"])

    def time(self, loops: int) -> tuple[float, float]:
        reply = self._request({"op": "time", "loops": loops})
        return float(reply["sample"]), float(reply["cpu_share"])

    def peak_memory(self) -> int:
        return int(self._request({"op": "memory"})["peak"])

    def profile(self, loops: int) -> Capture:
        return Capture.from_message(self._request({"op": "profile", "loops": loops})["capture"])

    def close(self) -> None:
        process = self._process
        if process.stdin is not None and not process.stdin.closed:
            process.stdin.close()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _probe_work() -> int:
    total = 0
    for i in range(5_000):
        total += i * i
    return total


def probe() -> float:
    """Seconds taken by a fixed reference loop: a reading of the machine's current speed."""
    start = perf_counter()
    _probe_work()
    return perf_counter() - start


class _BaselineSide:
    """The baseline's sampler of an interleaved pair: its failures say ``baseline: ...``."""

    def __init__(self, sampler: RoundSource) -> None:
        self._sampler = sampler

    def calibrate(self, min_time: float) -> int:
        return _as_baseline_failure(self._sampler.calibrate, min_time)

    def time(self, loops: int) -> tuple[float, float]:
        return _as_baseline_failure(self._sampler.time, loops)

    def peak_memory(self) -> int:
        return _as_baseline_failure(self._sampler.peak_memory)

    def profile(self, loops: int) -> Capture:
        return _as_baseline_failure(self._sampler.profile, loops)

    def close(self) -> None:
        self._sampler.close()


_T = TypeVar("_T")


def _as_baseline_failure(method: Callable[..., _T], *args: Any) -> _T:
    try:
        return method(*args)
    except Exception as exc:
        raise BenchmarkFailure(f"baseline: {describe(exc)}") from exc


@dataclass
class Collected:
    """Samples of one or two (interleaved) samplers."""

    samples: list[list[float]]
    cpu_shares: list[list[float]]
    groups: list[int]
    probes: list[float]
    loops: int
    memory_peak: list[int] | None = None
    profiles: list[Capture] | None = None  # one per sampler, after the last timed round
    profile_error: str | None = None  # why the profiled pass failed


def collect(
    make_samplers: Callable[[], list[RoundSource]],
    *,
    rounds: int,
    warmup: int,
    min_time: float,
    loops: int | None,
    processes: int,
    memory: bool,
    profile: bool = False,
    on_round: Callable[[], None] | None = None,
) -> Collected:
    """Run ``rounds`` rounds of each sampler, spread over ``processes`` batches of samplers.

    With two samplers, each round is a pair taken in alternating order (A B, B A, ...),
    so drifts and speed-mode flips hit both sides alike. Calibration happens once, on the
    last sampler (the candidate), and every sampler uses the same loop count.
    """
    batches = max(processes, 1)
    per_batch = [rounds // batches + (1 if b < rounds % batches else 0) for b in range(batches)]
    samples: list[list[float]] = []
    shares: list[list[float]] = []
    groups: list[int] = []
    probes: list[float] = []
    peaks: list[int] | None = None
    captures: list[Capture] | None = None
    profile_error: str | None = None
    last_batch = max(b for b, count in enumerate(per_batch) if count)
    chosen = loops
    pair_index = 0
    for batch, count in enumerate(per_batch):
        if count == 0:
            continue
        samplers = make_samplers()
        if len(samplers) == 2:
            samplers[0] = _BaselineSide(samplers[0])
        try:
            if not samples:
                samples = [[] for _ in samplers]
                shares = [[] for _ in samplers]
            if chosen is None:
                chosen = samplers[-1].calibrate(min_time)
                for sampler in samplers[:-1]:
                    sampler.time(chosen)
            for _ in range(warmup):
                for sampler in samplers:
                    sampler.time(chosen)
            for _ in range(count):
                order = list(enumerate(samplers))
                if pair_index % 2:
                    order.reverse()
                pair_index += 1
                probes.append(probe())
                for side, sampler in order:
                    sample, share = sampler.time(chosen)
                    samples[side].append(sample)
                    shares[side].append(share)
                groups.append(batch)
                if on_round is not None:
                    on_round()
            if memory and peaks is None:
                peaks = [sampler.peak_memory() for sampler in samplers]
            if profile and batch == last_batch:
                try:
                    captures = [sampler.profile(chosen) for sampler in samplers]
                except Exception as exc:  # the timed rounds stand; the profile is lost
                    profile_error = describe(exc)
        finally:
            for sampler in samplers:
                sampler.close()
    return Collected(samples, shares, groups, probes, chosen or 1, peaks, captures, profile_error)
