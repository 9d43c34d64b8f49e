"""The ``benchmark`` fixture's object: pytest-benchmark's API, measured by the engine.

Light on purpose: the engine is imported by the plugin's run (``_run``) when a benchmark
is measured, so ``--perf-disable`` sessions never load it.
"""

from __future__ import annotations

import asyncio
import inspect
import math
import statistics
import threading
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from codomyrmex.performance.profiling.result import BenchmarkResult
    from codomyrmex.performance.profiling.rounds import Benchmark

__all__ = ["BenchmarkFixture", "BenchmarkStats", "Pedantic"]


@dataclass(frozen=True)
class Pedantic:
    """The exact rounds, warm-up rounds and calls per round of ``benchmark.pedantic``."""

    rounds: int
    warmup: int
    iterations: int


#: How the plugin measures a fixture's benchmark: its result, or None in a worker.
Measure = Callable[["BenchmarkFixture", "Benchmark", "Pedantic | None"], "BenchmarkResult | None"]


class BenchmarkFixture:
    """The ``benchmark`` fixture: time a function, as with pytest-benchmark.

    ``benchmark(fn, *args, **kwargs)`` calls ``fn`` once untimed (its result is returned,
    its exception fails the test as usual), then measures it in calibrated rounds;
    ``async def`` functions are awaited on one event loop reused for every round.
    ``benchmark.pedantic(...)`` runs exactly the rounds asked for. Set ``name``, ``group``
    and ``extra_info`` before the call; ``stats`` holds the figures after it (None when
    benchmarks are disabled). A fixture times one function per test.
    """

    def __init__(self, node: pytest.Item, group: str | None, measure: Measure | None) -> None:
        callspec = getattr(node, "callspec", None)
        self.name: str = node.nodeid.split("::", 1)[-1]
        self.fullname: str = node.nodeid
        self.param: str | None = callspec.id if callspec is not None else None
        self.params: dict[str, Any] | None = dict(callspec.params) if callspec else None
        self.group: str | None = group
        self.extra_info: dict[str, Any] = {}
        self.stats: BenchmarkStats | None = None
        self._used = False
        self._measurer = measure

    @property
    def enabled(self) -> bool:
        return self._measurer is not None

    @property
    def disabled(self) -> bool:
        return self._measurer is None

    def __call__(
        self, function_to_benchmark: Callable[..., Any], /, *args: Any, **kwargs: Any
    ) -> Any:
        """Measure ``function_to_benchmark(*args, **kwargs)``; returns its result."""
        self._start()
        function = function_to_benchmark
        result = function(*args, **kwargs)
        if inspect.isawaitable(result):
            result = _wait(result)
            if not inspect.iscoroutinefunction(function):
                function = _awaiting(function)
        if self._measurer is not None:
            from codomyrmex.performance.profiling.rounds import Benchmark

            bench = Benchmark(name=self.name, func=function, args=args, kwargs=dict(kwargs))
            self._measure(bench, None)
        return result

    def pedantic(
        self,
        target: Callable[..., Any],
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
        setup: Callable[[], Any] | None = None,
        teardown: Callable[..., Any] | None = None,
        rounds: int = 1,
        warmup_rounds: int = 0,
        iterations: int = 1,
    ) -> Any:
        """Time exactly ``rounds`` rounds of ``iterations`` calls after ``warmup_rounds``.

        ``setup`` runs before each round, untimed, and may return ``(args, kwargs)`` for
        it; ``teardown(*args, **kwargs)`` runs after each. Returns the last call's result
        (with ``iterations > 1``, one more call's).
        """
        self._start()
        for key, value, low in (("rounds", rounds, 1), ("warmup_rounds", warmup_rounds, 0),
                                ("iterations", iterations, 1)):  # fmt: skip
            if isinstance(value, bool) or not isinstance(value, int) or value < low:
                raise ValueError(f"{key} must be an integer >= {low}, got {value!r}")
        if iterations > 1 and setup is not None:
            raise ValueError("iterations > 1 cannot be used with setup: each round gets one call")
        arguments = _Arguments(tuple(args), dict(kwargs or {}), setup, teardown)
        if self._measurer is None:
            return arguments.call(target)
        from codomyrmex.performance.profiling.rounds import Benchmark

        keeper = _Keeper(target) if iterations == 1 else None
        bench = Benchmark(
            name=self.name,
            func=keeper.func if keeper is not None else target,
            args=arguments.args,
            kwargs=arguments.kwargs,
            setup=arguments.prepare if setup is not None or teardown is not None else None,
        )
        self._measure(bench, Pedantic(rounds, warmup_rounds, iterations))
        arguments.finish()
        if keeper is not None and keeper.called:
            return keeper.last
        return arguments.call(target)  # one more call, or the rounds ran in worker processes

    def _start(self) -> None:
        if self._used:
            raise RuntimeError("the benchmark fixture can time one function per test")
        self._used = True

    def _measure(self, bench: Benchmark, pedantic: Pedantic | None) -> None:
        measure = self._measurer
        assert measure is not None
        if bench.is_async and _loop_running():
            measured = _in_thread(lambda: measure(self, bench, pedantic))
        else:
            measured = measure(self, bench, pedantic)
        if measured is not None:
            self.stats = BenchmarkStats(
                measured, fullname=self.fullname, group=self.group, param=self.param,
                params=self.params, extra_info=self.extra_info,
            )  # fmt: skip


class _Arguments:
    """Per-round arguments of ``pedantic``: from ``setup`` or fixed, torn down after."""

    def __init__(
        self,
        args: tuple[Any, ...],
        kwargs: dict[str, Any],
        setup: Callable[[], Any] | None,
        teardown: Callable[..., Any] | None,
    ) -> None:
        self.args, self.kwargs = args, kwargs
        self._setup, self._teardown = setup, teardown
        self._pending: tuple[tuple[Any, ...], dict[str, Any]] | None = None

    def prepare(self) -> tuple[tuple[Any, ...], dict[str, Any]]:
        """The next round's arguments (the previous round torn down first)."""
        self.finish()
        args, kwargs = self.args, self.kwargs
        if self._setup is not None:
            prepared = self._setup()
            if prepared is not None:
                if args or kwargs:
                    raise TypeError("setup cannot return arguments when args or kwargs are given")
                args, kwargs = prepared
                args, kwargs = tuple(args), dict(kwargs)
        self._pending = (args, kwargs)
        return args, kwargs

    def finish(self) -> None:
        """Tear the last prepared round down (once)."""
        pending, self._pending = self._pending, None
        if pending is not None and self._teardown is not None:
            self._teardown(*pending[0], **pending[1])

    def call(self, target: Callable[..., Any]) -> Any:
        """One untimed call of ``target`` with its own setup and teardown; its result."""
        args, kwargs = self.prepare()
        value = _resolved(target(*args, **kwargs))
        self.finish()
        return value


class _Keeper:
    """``target`` wrapped to keep its last result (pedantic rounds of a single call)."""

    def __init__(self, target: Callable[..., Any]) -> None:
        self.last: Any = None
        self.called = False
        self.func: Callable[..., Any]
        if inspect.iscoroutinefunction(target):

            async def keep_awaited(*args: Any, **kwargs: Any) -> None:
                self.last = await target(*args, **kwargs)
                self.called = True

            self.func = keep_awaited
        else:

            def keep(*args: Any, **kwargs: Any) -> None:
                self.last = target(*args, **kwargs)
                self.called = True

            self.func = keep


def _loop_running() -> bool:
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


def _in_thread(work: Callable[[], Any]) -> Any:
    """Run ``work`` in a helper thread (an event loop already runs in this one)."""
    outcome: dict[str, Any] = {}

    def run() -> None:
        try:
            outcome["value"] = work()
        except BaseException as exc:
            outcome["error"] = exc

    thread = threading.Thread(target=run, name="codomyrmex-benchmark")
    thread.start()
    thread.join()
    if "error" in outcome:
        raise outcome["error"]
    return outcome.get("value")


async def _awaited(awaitable: Awaitable[Any]) -> Any:
    return await awaitable


def _wait(awaitable: Awaitable[Any]) -> Any:
    """The value of ``awaitable``, run on a fresh event loop (in a thread if one runs here)."""
    if _loop_running():
        return _in_thread(lambda: asyncio.run(_awaited(awaitable)))
    return asyncio.run(_awaited(awaitable))


def _resolved(value: Any) -> Any:
    return _wait(value) if inspect.isawaitable(value) else value


def _awaiting(function: Callable[..., Any]) -> Callable[..., Awaitable[Any]]:
    """An ``async def`` calling ``function`` (which returns awaitables) and awaiting it."""

    async def call(*args: Any, **kwargs: Any) -> Any:
        return await function(*args, **kwargs)

    return call


class BenchmarkStats:
    """``benchmark.stats``: pytest-benchmark's figures (seconds per call) and the result.

    Read as ``stats["median"]``, ``stats.median`` or ``stats.stats.median``. Quartiles
    interpolate linearly, like every figure of codomyrmex-performance; ``result`` is the
    engine's :class:`~codomyrmex.performance.profiling.result.BenchmarkResult`, with its
    ``comparison`` against the baseline.
    """

    fields = ("min", "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3",
              "iqr_outliers", "stddev_outliers", "outliers", "ld15iqr", "hd15iqr", "ops",
              "total")  # fmt: skip

    def __init__(
        self,
        result: BenchmarkResult,
        *,
        fullname: str,
        group: str | None = None,
        param: str | None = None,
        params: dict[str, Any] | None = None,
        extra_info: dict[str, Any] | None = None,
    ) -> None:
        self.result = result
        self.name, self.fullname, self.group = result.name, fullname, group
        self.param, self.params, self.extra_info = param, params, extra_info or {}
        self.data = list(result.samples)
        self.iterations = result.iterations
        self.rounds = len(self.data)

    @property
    def stats(self) -> BenchmarkStats:
        return self

    def __getitem__(self, key: str) -> Any:
        return getattr(self, key)

    def get(self, key: str, default: Any = None) -> Any:
        return getattr(self, key, default)

    def _quantile(self, q: float) -> float:
        from codomyrmex.performance.profiling.stats import percentile

        return percentile(self.data, q)

    @property
    def min(self) -> float:
        return min(self.data, default=math.nan)

    @property
    def max(self) -> float:
        return max(self.data, default=math.nan)

    @property
    def mean(self) -> float:
        return statistics.fmean(self.data) if self.data else math.nan

    @property
    def stddev(self) -> float:
        return statistics.stdev(self.data) if len(self.data) > 1 else 0.0

    @property
    def median(self) -> float:
        return statistics.median(self.data) if self.data else math.nan

    @property
    def q1(self) -> float:
        return self._quantile(25)

    @property
    def q3(self) -> float:
        return self._quantile(75)

    @property
    def iqr(self) -> float:
        return self.q3 - self.q1

    @property
    def ld15iqr(self) -> float:
        """The lowest sample within 1.5 IQR below Q1 (Tukey)."""
        fence = self.q1 - 1.5 * self.iqr
        return min((v for v in self.data if v >= fence), default=math.nan)

    @property
    def hd15iqr(self) -> float:
        """The highest sample within 1.5 IQR above Q3 (Tukey)."""
        fence = self.q3 + 1.5 * self.iqr
        return max((v for v in self.data if v <= fence), default=math.nan)

    @property
    def iqr_outliers(self) -> int:
        low, high = self.q1 - 1.5 * self.iqr, self.q3 + 1.5 * self.iqr
        return sum(1 for v in self.data if v < low or v > high)

    @property
    def stddev_outliers(self) -> int:
        low, high = self.mean - self.stddev, self.mean + self.stddev
        return sum(1 for v in self.data if v < low or v > high)

    @property
    def outliers(self) -> str:
        return f"{self.stddev_outliers};{self.iqr_outliers}"

    @property
    def ops(self) -> float:
        """Calls per second (``1 / mean``)."""
        mean = self.mean
        return 1.0 / mean if mean > 0 else 0.0

    @property
    def total(self) -> float:
        return math.fsum(self.data)

    def as_dict(self) -> dict[str, Any]:
        """The figures by pytest-benchmark's field names."""
        return {name: getattr(self, name) for name in self.fields}

    def __repr__(self) -> str:
        return f"BenchmarkStats({self.fullname!r}, median={self.median!r}, rounds={self.rounds})"
