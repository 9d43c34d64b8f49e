"""Benchmarks and profiles: the engine behind ``run_benchmark`` and ``codomyrmex-perf bench``.

The face is :mod:`codomyrmex.performance.profiling.benchmark` (``BenchmarkSuite``,
``BenchmarkResult``, ``run_benchmark``). Behind it: ``suite`` (what to run), ``rounds``
(calibrated timed rounds, in process or in worker processes through ``_worker``),
``stats`` and ``compare`` (figures and verdicts), ``result`` (what a run returns),
``baseline`` (the JSON files runs are compared with), ``export`` (spans and metrics of a
run) and ``discover`` (suites found in ``bench_*.py`` files).
"""
