"""OpenTelemetry export of a benchmark run (API only; nothing here raises into the caller).

Spans, when a tracer can record: ``benchmark <suite>`` for the run, with one child span
``benchmark <suite>.<name>`` per benchmark covering its measurement. Attributes (all under
``codomyrmex.benchmark.``): ``suite``, ``name``, ``run_id``, ``commit``, ``iterations``,
``rounds``, the statistics in seconds (``min``, ``max``, ``mean``, ``median``, ``stdev``,
``iqr``, ``mad``, ``p95``, ``p99``), ``ops_per_sec``, ``outliers.low``/``outliers.high``,
``memory.peak`` (bytes, when measured) and, with a baseline, ``ratio``, ``ci_low``,
``ci_high``, ``p_value``, ``p_adjusted``, ``verdict``, ``comparison.mode``,
``noise_floor``; with ``profile=DIR``, ``profile.file`` and ``profile.flamegraph`` (the
files written), and on a regression with profiles of both sides
``profile.top_regressed.function`` (``name (file:line)`` of the function whose own time
per call grew most) and ``profile.top_regressed.delta`` (seconds per call). A failed
benchmark's span has status ERROR and ``error.type``.

Metric: ``codomyrmex.benchmark.duration`` (histogram, seconds), one point per per-call
sample, with only ``codomyrmex.benchmark.name`` and ``codomyrmex.benchmark.suite``.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Sequence
from typing import Any

from codomyrmex.performance import semconv
from codomyrmex.performance._safe import encodable, report_telemetry_error
from codomyrmex.performance.environment_variables import CODOMYRMEX_BENCH_COMMIT
from codomyrmex.performance.profiling.result import BenchmarkResult, SuiteResult
from codomyrmex.performance.telemetry import scope_telemetry

__all__ = ["current_commit", "export_run"]

_PREFIX = semconv.BENCHMARK_PREFIX
_COMMIT_VARIABLES = (CODOMYRMEX_BENCH_COMMIT, "GITHUB_SHA", "CI_COMMIT_SHA", "GIT_COMMIT")


def current_commit() -> str | None:
    """The commit under test: from CI variables, else ``git rev-parse HEAD``, else None."""
    for variable in _COMMIT_VARIABLES:
        value = os.environ.get(variable)
        if value:
            return value
    try:
        completed = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5, check=False
        )
    except (OSError, subprocess.SubprocessError):
        return None
    commit = completed.stdout.strip()
    return commit if completed.returncode == 0 and commit else None


def _attributes(result: BenchmarkResult, run: SuiteResult) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        _PREFIX + "suite": run.name,
        _PREFIX + "name": result.name,
        _PREFIX + "run_id": run.run_id,
        _PREFIX + "iterations": result.iterations,
        _PREFIX + "rounds": result.rounds,
    }
    if run.commit:
        attributes[_PREFIX + "commit"] = run.commit
    if not result.failed:
        s = result.summary
        for key in ("min", "max", "mean", "median", "stdev", "iqr", "mad", "p95", "p99"):
            attributes[_PREFIX + key] = float(getattr(s, key))
        attributes[_PREFIX + "ops_per_sec"] = result.ops_per_sec
        attributes[_PREFIX + "outliers.low"] = s.low_outliers
        attributes[_PREFIX + "outliers.high"] = s.high_outliers
    if result.memory_peak is not None:
        attributes[_PREFIX + "memory.peak"] = result.memory_peak
    if result.profile is not None:
        for key, path in (
            (semconv.BENCHMARK_PROFILE_FILE, result.profile.pstats),
            (semconv.BENCHMARK_PROFILE_FLAMEGRAPH, result.profile.flamegraph),
        ):
            if path is not None:
                attributes[key] = path
    c = result.comparison
    if c is not None:
        attributes.update(
            {
                _PREFIX + "ratio": c.ratio,
                _PREFIX + "ci_low": c.ci_low,
                _PREFIX + "ci_high": c.ci_high,
                _PREFIX + "p_value": c.p_value,
                _PREFIX + "p_adjusted": c.p_adjusted,
                _PREFIX + "verdict": c.verdict,
                _PREFIX + "comparison.mode": c.mode,
                _PREFIX + "noise_floor": c.noise_floor,
            }
        )
        grew = None if c.profile_diff is None else c.profile_diff.top
        if grew is not None:
            attributes[semconv.BENCHMARK_PROFILE_TOP_REGRESSED] = f"{grew.name} ({grew.where})"
            attributes[semconv.BENCHMARK_PROFILE_TOP_REGRESSED_DELTA] = grew.own_delta
    return attributes


def export_run(
    run: SuiteResult, windows: Sequence[tuple[int, int]], started: int, ended: int
) -> None:
    """Record spans and histogram points of ``run``; ``windows`` are (start, end) ns per result."""
    try:
        _export(run, windows, started, ended)
    except Exception as failure:  # telemetry never breaks a benchmark run
        report_telemetry_error(failure, "benchmark export")


def _export(run: SuiteResult, windows: Sequence[tuple[int, int]], started: int, ended: int) -> None:
    from opentelemetry import trace

    telemetry = scope_telemetry()
    histogram = telemetry.duration_histogram(
        semconv.BENCHMARK_DURATION, semconv.BENCHMARK_DURATION_DESCRIPTION
    )
    for result in run.results:
        labels = {semconv.BENCHMARK_NAME: result.name, semconv.BENCHMARK_SUITE: run.name}
        for sample in result.samples:
            histogram.record(sample, labels)
    tracer = telemetry.tracer()
    if tracer is not None:
        root = tracer.start_span(
            encodable(f"{semconv.BENCHMARK_SPAN_PREFIX}{run.name}"), start_time=started
        )
        if root.is_recording():
            root.set_attributes(
                {
                    _PREFIX + "suite": run.name,
                    _PREFIX + "run_id": run.run_id,
                    _PREFIX + "count": len(run.results),
                    _PREFIX + "regressions": len(run.regressions),
                    _PREFIX + "failures": len(run.failures),
                    **({_PREFIX + "commit": run.commit} if run.commit else {}),
                }
            )
        parent = trace.set_span_in_context(root)
        for result, (start, end) in zip(run.results, windows, strict=False):
            child = tracer.start_span(
                encodable(f"{semconv.BENCHMARK_SPAN_PREFIX}{run.name}.{result.name}"),
                context=parent,
                start_time=start,
            )
            if child.is_recording():
                child.set_attributes(_attributes(result, run))
                if result.error is not None:
                    child.set_attribute(semconv.ERROR_TYPE, result.error.split(":", 1)[0])
                    child.set_status(trace.Status(trace.StatusCode.ERROR, encodable(result.error)))
            child.end(end_time=end)
        if run.failures:
            root.set_status(trace.Status(trace.StatusCode.ERROR, "benchmark failures"))
        root.end(end_time=ended)
    _flush()


def _flush() -> None:
    """Hand everything to the exporters before returning (bounded by the SDK's timeouts)."""
    from opentelemetry import metrics, trace

    for provider in (trace.get_tracer_provider(), metrics.get_meter_provider()):
        flush = getattr(provider, "force_flush", None)
        if flush is not None:
            try:
                flush(timeout_millis=10_000)
            except Exception as failure:
                report_telemetry_error(failure, "benchmark telemetry flush")
