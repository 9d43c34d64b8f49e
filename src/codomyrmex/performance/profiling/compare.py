"""Verdicts: is the candidate slower, faster, unchanged, or can this run not tell?

Two modes. **Interleaved** (baseline and candidate alternating in one run): round *i* of
both sides ran under the same machine conditions, so the comparison is paired: the ratio
is the median of per-pair ratios, its CI a bootstrap over pairs, the p-value the Wilcoxon
signed-rank test of log ratios. This is the mode that gates. **Stored** (a baseline saved
earlier): ratio of medians with an independent bootstrap CI and the Mann–Whitney U test,
and a *noise floor* estimated from both runs (spread of rounds and of worker processes
within each run, the drift of the speed probes between the runs, and the change in the
share of CPU time the rounds got, which falls when other processes compete); the change
must exceed the minimum effect *times* that floor to be a regression, otherwise the answer
is ``inconclusive``: a machine whose CPU switches speed modes cannot be trusted across runs.

Decision, with ``p`` Holm-adjusted across the benchmarks of a run:
``regression`` if ``p < alpha``, ``ratio >= threshold`` and the absolute slowdown reaches
the absolute floor; ``improvement`` symmetrically; ``no_change`` if the whole CI lies
within the minimum-effect band and the noise floor is below it; else ``inconclusive``.
"""

from __future__ import annotations

import math
import re
import statistics
from collections.abc import Sequence
from dataclasses import dataclass, replace

from codomyrmex.performance.profiling.result import BenchmarkResult, Comparison, Verdict
from codomyrmex.performance.profiling.stats import (
    bootstrap_median_ci,
    bootstrap_ratio_ci,
    holm,
    mann_whitney_u,
    percentile,
    wilcoxon_signed_rank,
)

__all__ = ["Criteria", "decide", "interleaved", "parse_duration", "parse_effect", "stored"]

_UNITS = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0}


def parse_effect(value: float | str) -> float:
    """A minimum effect as a fraction: ``0.05``, ``"5%"`` or ``"2.5 %"``."""
    if isinstance(value, str):
        text = value.strip()
        try:
            fraction = float(text[:-1]) / 100 if text.endswith("%") else float(text)
        except ValueError:
            raise ValueError(f"minimum effect must look like 0.05 or '5%', got {value!r}") from None
    else:
        fraction = float(value)
    if not 0 <= fraction < 10 or math.isnan(fraction):
        raise ValueError(f"minimum effect must be a fraction within 0 and 10, got {value!r}")
    return fraction


def parse_duration(value: float | str) -> float:
    """An absolute floor in seconds: ``2e-6``, ``"2us"``, ``"1.5 ms"``."""
    if isinstance(value, str):
        match = re.fullmatch(r"\s*([0-9.eE+-]+)\s*(ns|us|µs|ms|s)?\s*", value)
        if match is None:
            raise ValueError(f"duration must look like 0.001 or '1ms', got {value!r}")
        seconds = float(match.group(1)) * _UNITS[match.group(2) or "s"]
    else:
        seconds = float(value)
    if not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"duration must be finite and non-negative, got {value!r}")
    return seconds


@dataclass(frozen=True)
class Criteria:
    """What counts as a change: relative and absolute minimum effects, alpha, bootstrap."""

    min_effect: float = 0.05
    min_effect_abs: float = 0.0
    alpha: float = 0.05
    noise_floor: float = 1.0
    resamples: int = 2000
    seed: int = 0


def _spread(values: Sequence[float]) -> float:
    """p90 / p10: how far apart the slow and fast readings of one run are."""
    if len(values) < 3:
        return 1.0
    low = percentile(values, 10)
    return percentile(values, 90) / low if low > 0 else math.inf


def _group_spread(result: BenchmarkResult) -> float:
    by_group: dict[int, list[float]] = {}
    for group, sample in zip(result.groups, result.samples, strict=False):
        by_group.setdefault(group, []).append(sample)
    medians = [statistics.median(v) for v in by_group.values()]
    return max(medians) / min(medians) if len(medians) > 1 and min(medians) > 0 else 1.0


def noise_floor(baseline: BenchmarkResult, candidate: BenchmarkResult, minimum: float) -> float:
    """A ratio (>= 1) that timing differences between these two runs can reach by chance.

    The largest of: the spread of rounds and of worker processes within either run, and
    the machine's change of conditions between the runs, the product of the speed-probe
    drift (CPU speed mode) and of the CPU-share drift (other processes competing).
    """
    floors = [minimum, 1.0]
    for result in (baseline, candidate):
        floors += [_spread(result.samples), _group_spread(result)]
    drift = 1.0
    if baseline.probes and candidate.probes:
        speed = statistics.median(candidate.probes) / statistics.median(baseline.probes)
        drift *= max(speed, 1 / speed)
    if baseline.cpu_shares and candidate.cpu_shares:
        base_share = statistics.median(baseline.cpu_shares)
        cand_share = statistics.median(candidate.cpu_shares)
        # Meaningful for code that kept the CPU busy in the baseline; a sleeping benchmark
        # has a tiny, noisy share and does not stretch when the CPU is contended.
        if base_share > 0.5 and cand_share > 0:
            drift *= max(base_share / cand_share, cand_share / base_share)
    floors.append(drift)
    return max(floors)


def interleaved(
    baseline: Sequence[float], candidate: Sequence[float], criteria: Criteria
) -> Comparison:
    """A draft comparison of paired interleaved rounds (verdict set by :func:`decide`)."""
    ratios = [c / b for b, c in zip(baseline, candidate, strict=False) if b > 0 and c > 0]
    if not ratios:
        return _empty("interleaved", criteria)
    ci_low, ci_high = bootstrap_median_ci(ratios, resamples=criteria.resamples, seed=criteria.seed)
    test = wilcoxon_signed_rank([math.log(r) for r in ratios])
    return Comparison(
        ratio=statistics.median(ratios),
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=test.p_value,
        verdict="inconclusive",
        mode="interleaved",
        test="wilcoxon-signed-rank",
        min_effect=criteria.min_effect,
        threshold=1 + criteria.min_effect,
        baseline_median=statistics.median(baseline),
        candidate_median=statistics.median(candidate),
        baseline_samples=tuple(baseline),
    )


def stored(baseline: BenchmarkResult, candidate: BenchmarkResult, criteria: Criteria) -> Comparison:
    """A draft comparison with a baseline measured at another time."""
    if not baseline.samples or not candidate.samples:
        return _empty("stored", criteria)
    base_median, cand_median = baseline.median, candidate.median
    ci_low, ci_high = bootstrap_ratio_ci(
        baseline.samples, candidate.samples, resamples=criteria.resamples, seed=criteria.seed
    )
    floor = noise_floor(baseline, candidate, criteria.noise_floor)
    warnings: list[str] = []
    if not baseline.probes or not candidate.probes:
        warnings.append("no speed probes in one of the runs: machine drift is not estimated")
    return Comparison(
        ratio=cand_median / base_median if base_median > 0 else math.inf,
        ci_low=ci_low,
        ci_high=ci_high,
        p_value=mann_whitney_u(baseline.samples, candidate.samples).p_value,
        verdict="inconclusive",
        mode="stored",
        test="mann-whitney-u",
        min_effect=criteria.min_effect,
        noise_floor=floor,
        threshold=(1 + criteria.min_effect) * floor,
        baseline_median=base_median,
        candidate_median=cand_median,
        baseline_samples=tuple(baseline.samples),
        warnings=tuple(warnings),
    )


def _empty(mode: str, criteria: Criteria) -> Comparison:
    nan = math.nan
    return Comparison(
        nan, nan, nan, nan, "inconclusive", mode=mode,  # type: ignore[arg-type]
        min_effect=criteria.min_effect, threshold=1 + criteria.min_effect,
    )  # fmt: skip


def _verdict(c: Comparison, criteria: Criteria) -> Verdict:
    if math.isnan(c.ratio) or math.isnan(c.p_adjusted):
        return "inconclusive"
    significant = c.p_adjusted < criteria.alpha
    difference = c.candidate_median - c.baseline_median
    if significant and c.ratio >= c.threshold and difference >= criteria.min_effect_abs:
        return "regression"
    if significant and c.ratio <= 1 / c.threshold and -difference >= criteria.min_effect_abs:
        return "improvement"
    band = 1 + criteria.min_effect
    if criteria.min_effect_abs and c.baseline_median > 0:
        band = max(band, 1 + criteria.min_effect_abs / c.baseline_median)
    if c.noise_floor <= band and 1 / band <= c.ci_low and c.ci_high <= band:
        return "no_change"
    return "inconclusive"


def decide(drafts: Sequence[Comparison | None], criteria: Criteria) -> list[Comparison | None]:
    """Holm-adjust the p-values across a run's comparisons and set each verdict.

    A draft's differential profile is kept only where the verdict is ``regression``.
    """
    present = [c for c in drafts if c is not None]
    adjusted = iter(holm([c.p_value for c in present]))
    decided: list[Comparison | None] = []
    for draft in drafts:
        if draft is None:
            decided.append(None)
            continue
        with_p = replace(draft, p_adjusted=next(adjusted))
        verdict = _verdict(with_p, criteria)
        kept = with_p.profile_diff if verdict == "regression" else None
        decided.append(replace(with_p, verdict=verdict, profile_diff=kept))
    return decided
