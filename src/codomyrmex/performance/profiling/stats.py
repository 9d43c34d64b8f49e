"""Statistics for benchmark samples, in pure standard-library Python.

Descriptive statistics (percentiles with linear interpolation, the NumPy/SciPy default),
Tukey outlier counts, seeded bootstrap confidence intervals (ratio of medians, median),
the two-sided Mann–Whitney U test (exact distribution for small samples without ties,
normal approximation with tie and continuity correction otherwise), the Wilcoxon
signed-rank test for paired samples, and Holm's step-down correction.
"""

from __future__ import annotations

import math
import random
import statistics
from collections.abc import Sequence
from dataclasses import dataclass

from codomyrmex.performance._shared.quantiles import percentile as sorted_quantile

__all__ = [
    "Summary",
    "TestResult",
    "bootstrap_median_ci",
    "bootstrap_ratio_ci",
    "holm",
    "mann_whitney_u",
    "percentile",
    "summarize",
    "wilcoxon_signed_rank",
]

#: Largest sample size for which exact null distributions are computed.
EXACT_LIMIT = 50


def percentile(values: Sequence[float], q: float) -> float:
    """The ``q``-th percentile (0-100) with linear interpolation between order statistics."""
    if not values:
        return math.nan
    if not 0 <= q <= 100:
        raise ValueError(f"percentile must be within 0 and 100, got {q!r}")
    return sorted_quantile(sorted(values), q / 100)


@dataclass(frozen=True)
class Summary:
    """Descriptive statistics of per-call timings (seconds)."""

    count: int
    min: float
    max: float
    mean: float
    median: float
    stdev: float
    iqr: float
    mad: float
    p95: float
    p99: float
    low_outliers: int
    high_outliers: int

    @property
    def cv(self) -> float:
        """Coefficient of variation (stdev / mean)."""
        return self.stdev / self.mean if self.mean > 0 else math.nan


def summarize(values: Sequence[float]) -> Summary:
    """Statistics of ``values``; NaN everywhere for an empty sequence.

    Outliers are counted with Tukey's fences (1.5 IQR beyond the quartiles) and kept.
    """
    if not values:
        nan = math.nan
        return Summary(0, nan, nan, nan, nan, nan, nan, nan, nan, nan, 0, 0)
    q1, median, q3 = (percentile(values, q) for q in (25, 50, 75))
    iqr = q3 - q1
    low_fence, high_fence = q1 - 1.5 * iqr, q3 + 1.5 * iqr
    return Summary(
        count=len(values),
        min=min(values),
        max=max(values),
        mean=statistics.fmean(values),
        median=median,
        stdev=statistics.stdev(values) if len(values) > 1 else 0.0,
        iqr=iqr,
        mad=statistics.median(abs(v - median) for v in values),
        p95=percentile(values, 95),
        p99=percentile(values, 99),
        low_outliers=sum(1 for v in values if v < low_fence),
        high_outliers=sum(1 for v in values if v > high_fence),
    )


def bootstrap_ratio_ci(
    baseline: Sequence[float],
    candidate: Sequence[float],
    *,
    resamples: int = 2000,
    confidence: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``median(candidate) / median(baseline)`` (independent samples)."""
    if not baseline or not candidate:
        return math.nan, math.nan
    rng = random.Random(seed)
    median = statistics.median
    ratios: list[float] = []
    for _ in range(resamples):
        base = median(rng.choices(baseline, k=len(baseline)))
        cand = median(rng.choices(candidate, k=len(candidate)))
        ratios.append(cand / base if base > 0 else math.inf)
    return _percentile_interval(ratios, confidence)


def bootstrap_median_ci(
    values: Sequence[float], *, resamples: int = 2000, confidence: float = 0.95, seed: int = 0
) -> tuple[float, float]:
    """Percentile bootstrap CI of ``median(values)`` (e.g. of paired candidate/baseline ratios)."""
    if not values:
        return math.nan, math.nan
    rng = random.Random(seed)
    median = statistics.median
    medians = [median(rng.choices(values, k=len(values))) for _ in range(resamples)]
    return _percentile_interval(medians, confidence)


def _percentile_interval(estimates: Sequence[float], confidence: float) -> tuple[float, float]:
    if not 0 < confidence < 1:
        raise ValueError(f"confidence must be within 0 and 1, got {confidence!r}")
    tail = (1 - confidence) / 2 * 100
    return percentile(estimates, tail), percentile(estimates, 100 - tail)


@dataclass(frozen=True)
class TestResult:
    """A test statistic and its two-sided p-value."""

    statistic: float
    p_value: float
    method: str  # "exact" or "asymptotic"


def _ranks(values: Sequence[float]) -> tuple[list[float], list[int]]:
    """Average ranks (1-based) and the sizes of tied groups."""
    order = sorted(range(len(values)), key=values.__getitem__)
    ranks = [0.0] * len(values)
    ties: list[int] = []
    i = 0
    while i < len(order):
        j = i
        while j + 1 < len(order) and values[order[j + 1]] == values[order[i]]:
            j += 1
        rank = (i + j) / 2 + 1
        for k in range(i, j + 1):
            ranks[order[k]] = rank
        ties.append(j - i + 1)
        i = j + 1
    return ranks, ties


def _normal_sf(z: float) -> float:
    return 0.5 * math.erfc(z / math.sqrt(2))


def _mann_whitney_counts(m: int, n: int) -> list[int]:
    """Number of arrangements giving each U in 0..m*n: the Gaussian binomial [m+n, m]_q."""
    size = m * n + 1
    poly = [0] * size
    poly[0] = 1
    for i in range(1, m + 1):
        shift = n + i
        for u in range(size - 1, shift - 1, -1):  # multiply by (1 - q^(n+i))
            poly[u] -= poly[u - shift]
        for u in range(i, size):  # divide by (1 - q^i)
            poly[u] += poly[u - i]
    return poly


def mann_whitney_u(x: Sequence[float], y: Sequence[float], *, method: str = "auto") -> TestResult:
    """Two-sided Mann–Whitney U test; the statistic is U of ``x``.

    ``auto`` uses the exact distribution when there are no ties and both samples have at
    most ``EXACT_LIMIT`` values, else the normal approximation with tie correction and
    continuity correction (as ``scipy.stats.mannwhitneyu``).
    """
    n1, n2 = len(x), len(y)
    if n1 == 0 or n2 == 0:
        return TestResult(math.nan, math.nan, "asymptotic")
    ranks, ties = _ranks([*x, *y])
    u1 = sum(ranks[:n1]) - n1 * (n1 + 1) / 2
    u_big = max(u1, n1 * n2 - u1)
    has_ties = any(t > 1 for t in ties)
    if method == "auto":
        small = max(n1, n2) <= EXACT_LIMIT
        method = "exact" if small and not has_ties else "asymptotic"
    if method == "exact":
        counts = _mann_whitney_counts(min(n1, n2), max(n1, n2))
        tail = sum(counts[math.ceil(u_big) :])
        p = 2 * tail / sum(counts)
    elif method == "asymptotic":
        n = n1 + n2
        tie_term = sum(t**3 - t for t in ties) / (n * (n - 1)) if n > 1 else 0.0
        sigma = math.sqrt(n1 * n2 / 12 * ((n + 1) - tie_term))
        if sigma == 0:
            return TestResult(u1, 1.0, method)
        z = (u_big - n1 * n2 / 2 - 0.5) / sigma
        p = 2 * _normal_sf(z)
    else:
        raise ValueError(f"method must be auto, exact or asymptotic, got {method!r}")
    return TestResult(u1, min(p, 1.0), method)


def _signed_rank_counts(n: int) -> list[int]:
    """Number of sign assignments giving each positive-rank sum in 0..n(n+1)/2."""
    total = n * (n + 1) // 2
    counts = [0] * (total + 1)
    counts[0] = 1
    for k in range(1, n + 1):
        for s in range(total, k - 1, -1):
            counts[s] += counts[s - k]
    return counts


def wilcoxon_signed_rank(differences: Sequence[float], *, method: str = "auto") -> TestResult:
    """Two-sided Wilcoxon signed-rank test of paired differences against zero.

    Zero differences are dropped (Wilcoxon's method). The statistic is
    ``min(R+, R-)``; ``auto`` is exact for up to ``EXACT_LIMIT`` non-zero differences
    without tied magnitudes, else the normal approximation with tie correction.
    """
    nonzero = [d for d in differences if d != 0]
    n = len(nonzero)
    if n == 0:
        return TestResult(0.0, 1.0, "exact")
    ranks, ties = _ranks([abs(d) for d in nonzero])
    r_plus = sum(r for r, d in zip(ranks, nonzero, strict=False) if d > 0)
    r_minus = n * (n + 1) / 2 - r_plus
    statistic = min(r_plus, r_minus)
    if method == "auto":
        exact = n <= EXACT_LIMIT and all(t == 1 for t in ties)
        method = "exact" if exact else "asymptotic"
    if method == "exact":
        counts = _signed_rank_counts(n)
        p = 2 * sum(counts[: math.floor(statistic) + 1]) / 2**n
    elif method == "asymptotic":
        mean = n * (n + 1) / 4
        variance = n * (n + 1) * (2 * n + 1) / 24 - sum(t**3 - t for t in ties) / 48
        if variance <= 0:
            return TestResult(statistic, 1.0, method)
        z = (statistic - mean) / math.sqrt(variance)
        p = 2 * _normal_sf(abs(z))
    else:
        raise ValueError(f"method must be auto, exact or asymptotic, got {method!r}")
    return TestResult(statistic, min(p, 1.0), method)


def holm(p_values: Sequence[float]) -> list[float]:
    """Holm–Bonferroni adjusted p-values, in the input order (NaN stays NaN)."""
    indexed = [(p, i) for i, p in enumerate(p_values) if not math.isnan(p)]
    indexed.sort()
    m = len(indexed)
    adjusted = [math.nan] * len(p_values)
    running = 0.0
    for rank, (p, i) in enumerate(indexed):
        running = max(running, min(1.0, (m - rank) * p))
        adjusted[i] = running
    return adjusted
