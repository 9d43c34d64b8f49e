"""Benchmark statistics against SciPy (the test oracle) and hand-worked values."""

from __future__ import annotations

import math
import random

import pytest
from scipy import stats as scipy_stats

from codomyrmex.performance.profiling import stats


def _samples(seed: int, n: int, shift: float = 0.0, ties: bool = False) -> list[float]:
    rng = random.Random(seed)
    values = [rng.lognormvariate(shift, 0.3) for _ in range(n)]
    return [round(v, 1) for v in values] if ties else values


def test_descriptive_statistics_match_known_values() -> None:
    s = stats.summarize([1.0, 2.0, 3.0, 4.0, 100.0])
    assert (s.count, s.min, s.max, s.median) == (5, 1.0, 100.0, 3.0)
    assert s.mean == 22.0
    assert s.iqr == 2.0  # quartiles 2 and 4
    assert s.mad == 1.0
    assert s.p95 == pytest.approx(80.8)
    assert (s.low_outliers, s.high_outliers) == (0, 1)  # kept and counted, not dropped
    assert s.stdev == pytest.approx(math.sqrt(7610 / 4), rel=1e-12)  # sample stdev (n-1)


@pytest.mark.parametrize("seed", range(5))
def test_percentiles_median_iqr_mad_match_scipy(seed: int) -> None:
    values = _samples(seed, 7 + seed * 9)
    s = stats.summarize(values)
    import numpy as np

    assert s.median == pytest.approx(float(np.median(values)))
    assert s.iqr == pytest.approx(float(scipy_stats.iqr(values)))
    assert s.mad == pytest.approx(float(scipy_stats.median_abs_deviation(values)))
    for q in (5, 10, 25, 50, 75, 90, 95, 99):
        assert stats.percentile(values, q) == pytest.approx(float(np.percentile(values, q)))
    assert s.stdev == pytest.approx(float(np.std(values, ddof=1)))


def test_empty_summary_is_nan() -> None:
    s = stats.summarize([])
    assert s.count == 0 and math.isnan(s.median) and math.isnan(s.cv)


@pytest.mark.parametrize(
    ("n1", "n2", "ties"),
    [
        (3, 4, False),
        (8, 8, False),
        (12, 30, False),
        (50, 50, False),
        (9, 11, True),
        (60, 70, False),
    ],
)
def test_mann_whitney_matches_scipy(n1: int, n2: int, ties: bool) -> None:
    x, y = _samples(n1, n1, ties=ties), _samples(n2 + 100, n2, shift=0.2, ties=ties)
    ours = stats.mann_whitney_u(x, y)
    expected_method = "asymptotic" if ties or max(n1, n2) > stats.EXACT_LIMIT else "exact"
    assert ours.method == expected_method
    theirs = scipy_stats.mannwhitneyu(x, y, alternative="two-sided", method=ours.method)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_mann_whitney_known_exact_value() -> None:
    # Completely separated 3 vs 3: the most extreme of C(6,3)=20 arrangements, two-sided.
    result = stats.mann_whitney_u([1.0, 2.0, 3.0], [4.0, 5.0, 6.0])
    assert (result.statistic, result.p_value, result.method) == (0.0, 0.1, "exact")


@pytest.mark.parametrize(
    ("n", "ties"), [(6, False), (20, False), (50, False), (30, True), (80, False)]
)
def test_wilcoxon_signed_rank_matches_scipy(n: int, ties: bool) -> None:
    rng = random.Random(n)
    diffs = [rng.gauss(0.2, 1.0) for _ in range(n)]
    if ties:
        diffs = [round(d * 2) / 2 or 0.5 for d in diffs]
    ours = stats.wilcoxon_signed_rank(diffs)
    method = "exact" if ours.method == "exact" else "approx"
    theirs = scipy_stats.wilcoxon(diffs, method=method)
    assert ours.statistic == pytest.approx(theirs.statistic)
    assert ours.p_value == pytest.approx(theirs.pvalue, rel=1e-9)


def test_wilcoxon_known_exact_value() -> None:
    # Six positive differences: only 2 of 2**6 sign patterns are as extreme.
    result = stats.wilcoxon_signed_rank([1.0, 2.0, 3.0, 4.0, 5.0, 6.0])
    assert result.p_value == pytest.approx(2 / 64)


def test_holm_hand_worked_example() -> None:
    # Sorted 0.01, 0.03, 0.04, 0.20 with m=4, by hand: 4*0.01=0.04; 3*0.03=0.09;
    # 2*0.04=0.08 -> kept monotone at 0.09; 1*0.20=0.20.
    assert stats.holm([0.04, 0.01, 0.20, 0.03]) == pytest.approx([0.09, 0.04, 0.20, 0.09])
    assert stats.holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    adjusted = stats.holm([math.nan, 0.01])
    assert math.isnan(adjusted[0]) and adjusted[1] == pytest.approx(0.01)


def test_holm_matches_statsmodels_style_reference() -> None:
    ps = [0.001, 0.008, 0.039, 0.041, 0.042, 0.06, 0.074, 0.205]
    by_hand = [0.008, 0.056, 0.234, 0.234, 0.234, 0.234, 0.234, 0.234]
    # 8*.001=.008, 7*.008=.056, 6*.039=.234, 5*.041=.205->.234, 4*.042=.168->.234, ...
    assert stats.holm(ps) == pytest.approx(by_hand)


def test_bootstrap_is_seeded_and_brackets_the_ratio() -> None:
    base, cand = _samples(1, 30), [v * 1.5 for v in _samples(2, 30)]
    first = stats.bootstrap_ratio_ci(base, cand, seed=7)
    assert first == stats.bootstrap_ratio_ci(base, cand, seed=7)
    low, high = first
    point = stats.percentile(cand, 50) / stats.percentile(base, 50)
    assert low < point < high
    m_low, m_high = stats.bootstrap_median_ci([1.0, 2.0, 3.0, 4.0, 5.0], seed=1)
    assert 1.0 <= m_low <= 3.0 <= m_high <= 5.0
