"""Benchmarks in pytest: the ``benchmark`` fixture pytest-benchmark's users write, measured here.

Installed with codomyrmex-performance, this plugin (the ``pytest11`` entry point
``codomyrmex_performance``; ``-p no:codomyrmex_performance`` turns it off) provides the
``benchmark`` fixture with pytest-benchmark's everyday API::

    import pytest

    @pytest.mark.benchmark(group="parsing", min_rounds=20)
    def test_parse(benchmark):
        benchmark.extra_info["size"] = len(SMALL)
        document = benchmark(parse, SMALL)      # calibrated rounds; returns parse's result
        assert document.ok

    def test_insert(benchmark):                 # exactly 50 rounds, a fresh table each
        benchmark.pedantic(insert, setup=fresh_table, rounds=50)

    def test_fetch(benchmark):
        benchmark(fetch)                        # async def: awaited on one reused loop

Each benchmark is measured by the engine of ``run_benchmark``: the same calibration,
statistics, baseline files, and verdicts with a ratio, its 95 % CI and a p-value
(:mod:`codomyrmex.performance.profiling.benchmark`). The marker takes ``group``,
``min_rounds``, ``min_time`` (seconds per round), ``max_time`` (caps the rounds at
``max_time / min_time``, at least 5), ``warmup`` (one round, or none), ``timer`` (a wall
or a CPU clock of ``time``) and ``disable_gc``; ``pedantic`` also takes ``teardown``.
``benchmark.stats`` holds pytest-benchmark's figures (``stats["median"]``,
``stats.stats.ops``) and ``stats.result`` the engine's result.

A benchmark's suite is its group, else its test module; its name is the test's name
within the module (``test_parse[small]``, ``TestDb::test_insert``) unless
``benchmark.name`` is set. Those are the suite and benchmark names of the baseline files,
so a file saved here compares with ``codomyrmex-perf bench --baseline`` and back.

Options:

``--perf-save FILE``
    save the session's benchmarks as a baseline (only when none failed or regressed).
``--perf-baseline FILE``
    compare with a baseline; a ``regression`` fails its test with the ratio, CI and
    p-value (``inconclusive`` and ``no_change`` pass). Each test's p-value is its own.
``--perf-against DIR``
    the gate for noisy CI: each benchmark runs in two worker processes, rounds
    alternating, one of them importing the code under ``DIR`` first (a checkout of the main
    branch); a regression fails its test.
``--perf-json FILE``, ``--perf-otlp URL``
    every result as ``codomyrmex-perf bench --json`` writes it; the run exported over
    OTLP (a span per group, a child per benchmark, ``codomyrmex.benchmark.duration``). The
    run is also recorded by whatever OpenTelemetry SDK the session itself set up.
``--perf-disable``, ``--perf-only``, ``--perf-skip``
    run benchmarked functions once, unmeasured; run only benchmark tests; skip them.

A bad value (an unreadable baseline, a missing directory, an unreachable endpoint, an
output file that cannot be written) stops the session at once with one line. The summary
at the end is one section per group; under ``-q`` it is one line per regression.

pytest-benchmark's options work without it: ``--benchmark-disable``, ``-skip``, ``-only``,
``-json`` (its report format), ``-save``/``-autosave`` and ``-compare`` (baselines in
``.benchmarks/<machine>/``), ``-compare-fail`` (its threshold becomes the minimum effect),
``-min-rounds``, ``-min-time``, ``-max-time``, ``-warmup``, ``-warmup-iterations``,
``-timer``, ``-disable-gc``, ``-sort``, ``-group-by``; the others are accepted with one
warning. Where pytest-benchmark is installed it keeps the ``benchmark`` fixture and its
options; ``-p no:benchmark`` gives both to this plugin. Under pytest-xdist (``-n``)
benchmarks run unmeasured, with one warning: parallel tests would distort the timings.

Until a benchmark is measured (or an option names a file or an endpoint to check),
nothing beyond this module and its options is imported: no engine, no OpenTelemetry.
"""

from __future__ import annotations

import functools
import sys
import warnings
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import pytest

from codomyrmex.performance.pytest_plugin import _settings

if TYPE_CHECKING:
    from codomyrmex.performance.profiling.result import BenchmarkResult
    from codomyrmex.performance.profiling.rounds import Benchmark
    from codomyrmex.performance.pytest_plugin._fixture import BenchmarkFixture, Pedantic
    from codomyrmex.performance.pytest_plugin._run import Run

__all__ = ["pytest_addoption", "pytest_configure"]

_SESSION_PLUGIN = "codomyrmex_performance.session"
_XDIST_DISABLED = "codomyrmex_performance.disabled"
_MARKER = (
    "benchmark(group=None, min_rounds=None, min_time=None, max_time=None, warmup=True, "
    "timer=None, disable_gc=False): how the benchmark fixture measures this test"
)


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    _settings.add_options(parser, compat=not _settings.pytest_benchmark_loaded(pluginmanager))


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", _MARKER)
    manager = config.pluginmanager
    if manager.has_plugin("benchmark") or manager.has_plugin("pytest_benchmark.plugin"):
        for dest in _settings.OPTION_DESTS:
            if config.getoption(dest, None):
                raise pytest.UsageError(
                    f"--{dest.replace('_', '-')}: pytest-benchmark provides the benchmark "
                    "fixture in this session; -p no:benchmark gives it to codomyrmex-performance"
                )
        return
    manager.register(_Plugin(config, _settings.read(config)), _SESSION_PLUGIN)


class _Plugin:
    """The session's side of the plugin: the fixture, test selection, the end of the run."""

    def __init__(self, config: pytest.Config, settings: _settings.Settings) -> None:
        self.config, self.settings = config, settings
        self.host = config.stash.get(_settings.WORKER_HOST, None)
        self.xdist_worker = hasattr(config, "workerinput")
        self.xdist_controller = not self.xdist_worker and (
            getattr(config.option, "dist", "no") != "no"
        )
        self.plugin_name = config.pluginmanager.get_name(sys.modules[__name__]) or __name__
        self.disabled_by_xdist = 0
        self._run: Run | None = None
        self._warned: set[str] = set()
        if settings.ignored and self.host is None:
            config.issue_config_time_warning(
                pytest.PytestConfigWarning(
                    "codomyrmex-performance has no equivalent of "
                    f"{', '.join(settings.ignored)}: ignored"
                ),
                stacklevel=2,
            )
        if settings.uses_files and self.host is None and not self.xdist_worker:
            self.run()

    @property
    def measuring(self) -> bool:
        if self.host is not None:
            return True
        return not (self.settings.disabled or self.xdist_worker or self.xdist_controller)

    def run(self) -> Run:
        if self._run is None:
            from codomyrmex.performance.pytest_plugin._run import Run

            self._run = Run(self.settings)
        return self._run

    @pytest.fixture
    def benchmark(self, request: pytest.FixtureRequest) -> Iterator[BenchmarkFixture]:
        """Time a function: ``benchmark(fn, *args, **kwargs)`` or ``benchmark.pedantic(...)``."""
        from codomyrmex.performance.pytest_plugin._fixture import BenchmarkFixture

        item = request.node
        try:
            tuning, group, ignored = _settings.tuning_from_marker(
                self.settings.tuning, item.get_closest_marker("benchmark")
            )
        except (TypeError, ValueError) as exc:
            pytest.fail(str(exc), pytrace=False)
        for name in ignored:
            if name not in self._warned:
                self._warned.add(name)
                warnings.warn(
                    pytest.PytestWarning(
                        f"@pytest.mark.benchmark({name}=...) has no equivalent in "
                        "codomyrmex-performance: ignored"
                    ),
                    stacklevel=1,
                )
        if not self.measuring and not self.settings.disabled:
            self.disabled_by_xdist += 1
        measure = functools.partial(self._measure, item, tuning) if self.measuring else None
        yield BenchmarkFixture(item, group, measure)

    def _measure(
        self,
        item: pytest.Item,
        tuning: _settings.Tuning,
        fixture: BenchmarkFixture,
        bench: Benchmark,
        pedantic: Pedantic | None,
    ) -> BenchmarkResult | None:
        if self.host is not None:
            self.host.serve(bench)
            return None
        worker = None
        if self.settings.against:
            from codomyrmex.performance.pytest_plugin._worker import CODE, worker_target

            worker = (CODE, worker_target(self.config, item, self.plugin_name))
        return self.run().measure(fixture, bench, tuning, pedantic, worker=worker).result

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        if not (self.settings.only or self.settings.skip):
            return
        for item in items:
            benchmarked = "benchmark" in getattr(item, "fixturenames", ())
            if self.settings.skip and benchmarked:
                item.add_marker(pytest.mark.skip(reason="a benchmark (--perf-skip)"))
            elif self.settings.only and not benchmarked:
                item.add_marker(pytest.mark.skip(reason="not a benchmark (--perf-only)"))

    @pytest.hookimpl(optionalhook=True)
    def pytest_testnodedown(self, node: Any) -> None:
        self.disabled_by_xdist += int(getattr(node, "workeroutput", {}).get(_XDIST_DISABLED, 0))

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        if self.xdist_worker:
            session.config.workeroutput[_XDIST_DISABLED] = self.disabled_by_xdist  # type: ignore[attr-defined]
            return
        if self.disabled_by_xdist:
            self.config.issue_config_time_warning(
                pytest.PytestWarning(
                    f"{self.disabled_by_xdist} benchmark(s) ran unmeasured under pytest-xdist: "
                    "parallel tests share the CPU and would distort the timings; run "
                    "benchmarks without -n (-p no:xdist or -n 0)"
                ),
                stacklevel=2,
            )
        if self._run is not None:
            self._run.finish()
            if self._run.errors and session.exitstatus == pytest.ExitCode.OK:
                session.exitstatus = pytest.ExitCode.TESTS_FAILED

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if self._run is not None:
            from codomyrmex.performance.pytest_plugin._summary import write_summary

            write_summary(terminalreporter, self._run)
