"""``BenchmarkSuite``: a named collection of benchmarks, registered with ``add``."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from typing import Any, TypeVar, overload

from codomyrmex.performance.profiling._source import CheckedSource
from codomyrmex.performance.profiling.rounds import Benchmark

__all__ = ["BenchmarkSuite"]

F = TypeVar("F", bound=Callable[..., Any])


class BenchmarkSuite:
    """A named group of benchmarks run together by :func:`run_benchmark`.

    ``baseline`` is the default for ``run_benchmark(suite)``: a baseline JSON path, a
    previous ``SuiteResult``, or another ``BenchmarkSuite`` whose benchmarks of the same
    names run interleaved with this one's. ::

        suite = BenchmarkSuite("parsing")

        @suite.add
        def parse_small():
            parse(SMALL)

        @suite.add(name="parse-large", setup=load_large)
        def parse_large(document):
            parse(document)
    """

    def __init__(self, name: str, *, baseline: Any = None) -> None:
        if not isinstance(name, str) or not name:
            raise ValueError("a benchmark suite needs a non-empty name")
        self.name = name
        self.baseline = baseline
        self._benchmarks: dict[str, Benchmark] = {}
        caller = sys._getframe(1).f_globals
        file = caller.get("__file__")
        self._origin = (str(caller.get("__name__", "")), os.path.abspath(file) if file else None)
        loader = caller.get("__loader__")
        self._source = loader.text if isinstance(loader, CheckedSource) else None

    @property
    def benchmarks(self) -> list[Benchmark]:
        """The registered benchmarks, in the order they were added."""
        return list(self._benchmarks.values())

    @overload
    def add(self, func: F, /) -> F: ...

    @overload
    def add(
        self,
        func: None = None,
        /,
        *,
        name: str | None = None,
        setup: Callable[[], Any] | None = None,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Callable[[F], F]: ...

    @overload
    def add(
        self,
        func: F,
        /,
        *,
        name: str | None = None,
        setup: Callable[[], Any] | None = None,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> F: ...

    def add(
        self,
        func: Callable[..., Any] | None = None,
        /,
        *,
        name: str | None = None,
        setup: Callable[[], Any] | None = None,
        args: tuple[Any, ...] = (),
        kwargs: Mapping[str, Any] | None = None,
    ) -> Any:
        """Register ``func`` (also as ``@suite.add`` or ``@suite.add(name=...)``); returns it.

        ``args``/``kwargs`` are passed on every call; ``setup`` runs untimed before each
        round and may return ``(args, kwargs)`` for that round. Names must be unique.
        """

        def register(function: F) -> F:
            if not callable(function):
                raise TypeError(f"a benchmark must be callable, got {function!r}")
            bench_name = name or getattr(function, "__name__", None) or repr(function)
            if bench_name in self._benchmarks:
                raise ValueError(f"suite {self.name!r} already has a benchmark {bench_name!r}")
            self._benchmarks[bench_name] = Benchmark(
                name=bench_name,
                func=function,
                setup=setup,
                args=tuple(args),
                kwargs=dict(kwargs or {}),
                suite=self.name,
                origin=self._origin,
                source=self._source,
            )
            return function

        if func is None:
            return register
        return register(func)

    def __len__(self) -> int:
        return len(self._benchmarks)

    def __repr__(self) -> str:
        return f"BenchmarkSuite({self.name!r}, benchmarks={list(self._benchmarks)!r})"
