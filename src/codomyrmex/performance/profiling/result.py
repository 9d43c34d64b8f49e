"""Result types of a benchmark run: ``BenchmarkResult``, ``Comparison``, ``SuiteResult``."""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cached_property
from typing import Any, Literal

from codomyrmex.performance.profiling.profiles import Profile, ProfileDiff
from codomyrmex.performance.profiling.stats import Summary, summarize

__all__ = ["BenchmarkResult", "Comparison", "SuiteResult", "Verdict"]

Verdict = Literal["regression", "improvement", "no_change", "inconclusive"]


def _json_number(value: float) -> float | None:
    """``value``, or None for NaN and infinities (JSON has no such numbers)."""
    return value if math.isfinite(value) else None


@dataclass(frozen=True)
class Comparison:
    """How a benchmark compares with its baseline.

    ``ratio`` is ``median(candidate) / median(baseline)`` (above 1: slower), with a seeded
    bootstrap confidence interval ``ci_low``-``ci_high``. ``p_value`` is the two-sided
    test's p-value and ``p_adjusted`` its Holm-corrected value across the benchmarks of
    the run, which is what the verdict uses. ``threshold`` is the smallest ratio that
    counts as a regression: ``1 + min_effect``, widened by ``noise_floor`` against a stored
    baseline (the machine's speed can drift between two runs; it cannot within an
    interleaved run).

    With profiles (``profile=``), ``baseline_profile`` is the baseline side's (profiled in
    the run when interleaved, read from the baseline file when stored) and, on a
    ``regression`` only, ``profile_diff`` lists the functions that grew most.
    """

    ratio: float
    ci_low: float
    ci_high: float
    p_value: float
    verdict: Verdict
    p_adjusted: float = math.nan
    mode: Literal["interleaved", "stored"] = "stored"
    test: str = "mann-whitney-u"
    min_effect: float = 0.05
    noise_floor: float = 1.0
    threshold: float = 1.05
    baseline_median: float = math.nan
    candidate_median: float = math.nan
    baseline_samples: tuple[float, ...] = ()
    warnings: tuple[str, ...] = ()
    baseline_profile: Profile | None = None
    profile_diff: ProfileDiff | None = None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form (baseline samples omitted; NaN and infinities become None)."""
        return {
            "ratio": _json_number(self.ratio),
            "ci_low": _json_number(self.ci_low),
            "ci_high": _json_number(self.ci_high),
            "p_value": _json_number(self.p_value),
            "p_adjusted": _json_number(self.p_adjusted),
            "verdict": self.verdict,
            "mode": self.mode,
            "test": self.test,
            "min_effect": self.min_effect,
            "noise_floor": _json_number(self.noise_floor),
            "threshold": _json_number(self.threshold),
            "baseline_median": _json_number(self.baseline_median),
            "candidate_median": _json_number(self.candidate_median),
            "warnings": list(self.warnings),
            "baseline_profile": _optional_dict(self.baseline_profile),
            "profile_diff": _optional_dict(self.profile_diff),
        }


def _optional_dict(value: Profile | ProfileDiff | None) -> dict[str, Any] | None:
    return None if value is None else value.to_dict()


@dataclass
class BenchmarkResult:
    """Timings of one benchmark: ``samples`` are seconds per call, one per round.

    Each round times ``iterations`` calls. ``groups`` gives the worker process of each
    sample (all 0 in-process). A benchmark that raised has ``error`` set, no samples and
    NaN statistics. ``probes`` are timings of a fixed reference loop taken between rounds,
    used to estimate how much the machine's speed moved between runs; ``cpu_shares`` are
    CPU time / wall time of each round (below 1 when waiting or when other processes took
    the CPU). ``profile`` is the profiled pass run after the timed rounds with ``profile=``.
    """

    name: str
    samples: list[float]
    iterations: int
    rounds: int
    suite: str | None = None
    groups: list[int] = field(default_factory=list)
    probes: list[float] = field(default_factory=list)
    cpu_shares: list[float] = field(default_factory=list)
    error: str | None = None
    memory_peak: int | None = None
    warnings: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    profile: Profile | None = None

    @cached_property
    def summary(self) -> Summary:
        """All descriptive statistics at once."""
        return summarize(self.samples)

    @property
    def failed(self) -> bool:
        return self.error is not None

    @property
    def min(self) -> float:
        return self.summary.min

    @property
    def max(self) -> float:
        return self.summary.max

    @property
    def mean(self) -> float:
        return self.summary.mean

    @property
    def median(self) -> float:
        return self.summary.median

    @property
    def stdev(self) -> float:
        return self.summary.stdev

    @property
    def iqr(self) -> float:
        return self.summary.iqr

    @property
    def mad(self) -> float:
        """Median absolute deviation from the median (unscaled)."""
        return self.summary.mad

    @property
    def p95(self) -> float:
        return self.summary.p95

    @property
    def p99(self) -> float:
        return self.summary.p99

    @property
    def cv(self) -> float:
        return self.summary.cv

    @property
    def outliers(self) -> tuple[int, int]:
        """Samples beyond Tukey's low and high fences (counted, never dropped)."""
        return self.summary.low_outliers, self.summary.high_outliers

    @property
    def ops_per_sec(self) -> float:
        """Calls per second over all timed calls (``1 / mean``)."""
        mean = self.summary.mean
        return 1.0 / mean if mean > 0 else math.nan

    @property
    def verdict(self) -> Verdict | None:
        return self.comparison.verdict if self.comparison is not None else None

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready form: raw samples, statistics (None where undefined, as for a failed
        benchmark), comparison."""
        s = self.summary
        return {
            "name": self.name,
            "suite": self.suite,
            "error": self.error,
            "iterations": self.iterations,
            "rounds": self.rounds,
            "samples": list(self.samples),
            "groups": list(self.groups),
            "probes": list(self.probes),
            "cpu_shares": list(self.cpu_shares),
            "stats": {
                "min": _json_number(s.min),
                "max": _json_number(s.max),
                "mean": _json_number(s.mean),
                "median": _json_number(s.median),
                "stdev": _json_number(s.stdev),
                "iqr": _json_number(s.iqr),
                "mad": _json_number(s.mad),
                "p95": _json_number(s.p95),
                "p99": _json_number(s.p99),
                "cv": _json_number(s.cv),
                "ops_per_sec": _json_number(self.ops_per_sec),
                "low_outliers": s.low_outliers,
                "high_outliers": s.high_outliers,
            },
            "memory_peak": self.memory_peak,
            "warnings": list(self.warnings),
            "comparison": self.comparison.to_dict() if self.comparison else None,
            "profile": _optional_dict(self.profile),
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> BenchmarkResult:
        """Rebuild a result saved by ``to_dict`` (statistics are recomputed)."""
        samples = [float(v) for v in data["samples"]]
        return cls(
            name=str(data["name"]),
            samples=samples,
            iterations=int(data["iterations"]),
            rounds=int(data.get("rounds", len(samples))),
            suite=data.get("suite"),
            groups=[int(g) for g in data.get("groups") or [0] * len(samples)],
            probes=[float(v) for v in data.get("probes") or []],
            cpu_shares=[float(v) for v in data.get("cpu_shares") or []],
            error=data.get("error"),
            memory_peak=data.get("memory_peak"),
            warnings=[str(w) for w in data.get("warnings") or []],
        )


@dataclass
class SuiteResult:
    """Results of one suite run, in the order the benchmarks were added."""

    name: str
    results: list[BenchmarkResult]
    run_id: str = ""
    commit: str | None = None
    fingerprint: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    baseline_saved: str | None = None

    def __iter__(self) -> Iterator[BenchmarkResult]:
        return iter(self.results)

    def __len__(self) -> int:
        return len(self.results)

    def __getitem__(self, name: str) -> BenchmarkResult:
        for result in self.results:
            if result.name == name:
                return result
        raise KeyError(name)

    @property
    def regressions(self) -> list[BenchmarkResult]:
        return [r for r in self.results if r.verdict == "regression"]

    @property
    def failures(self) -> list[BenchmarkResult]:
        return [r for r in self.results if r.failed]

    def to_dict(self) -> dict[str, Any]:
        return {
            "suite": self.name,
            "run_id": self.run_id,
            "commit": self.commit,
            "fingerprint": dict(self.fingerprint),
            "warnings": list(self.warnings),
            "results": [r.to_dict() for r in self.results],
        }
