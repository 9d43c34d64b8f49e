"""MCP tools that judge numbers: is a measurement a regression, how did a value change.

``performance_check_regression`` and ``performance_compare_benchmarks``; the regression
rule is documented in :mod:`codomyrmex.performance.mcp.tools`. Like the codomyrmex tools
they replace, they answer bad input rather than raise: ``{"status": "error", "message":
..., "error_type": ...}``.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable
from typing import Literal, ParamSpec, TypeVar, cast

from codomyrmex.performance._safe import error_type_name
from codomyrmex.performance.mcp._args import check_finite, check_number, check_text
from codomyrmex.performance.mcp._results import ComparisonResult, RegressionCheck, Severity

__all__ = ["NOISE_SIGMAS", "performance_check_regression", "performance_compare_benchmarks"]

#: A change within this many baseline standard deviations is noise, never a regression.
NOISE_SIGMAS = 2.0


_P = ParamSpec("_P")
_Answer = TypeVar("_Answer", RegressionCheck, ComparisonResult)


def _answering_bad_input(function: Callable[_P, _Answer]) -> Callable[_P, _Answer]:
    """``function``, answering an error status where it would raise TypeError or ValueError."""

    @functools.wraps(function)
    def answer(*args: _P.args, **kwargs: _P.kwargs) -> _Answer:
        try:
            return function(*args, **kwargs)
        except (TypeError, ValueError) as exc:
            failure = {"status": "error", "message": str(exc), "error_type": error_type_name(exc)}
            return cast(_Answer, failure)

    return answer


def _percent(fraction: float) -> str:
    return f"{fraction * 100:+.1f} %"


@_answering_bad_input
def performance_check_regression(
    benchmark_name: str,
    measured_value: float,
    baseline_mean: float,
    baseline_stddev: float = 0.0,
    warning_threshold: float = 0.10,
    critical_threshold: float = 0.25,
    higher_is_better: bool = False,
    unit: str = "ms",
) -> RegressionCheck:
    """Check one measurement against a baseline (mean and standard deviation) for a regression.

    A regression is a change in the worse direction (up, or down when higher_is_better)
    that is both outside the baseline's noise (more than 2 standard deviations) and at
    least warning_threshold of the baseline mean (fractions: 0.10 = 10 %); critical from
    critical_threshold on. deviation is the relative change (measured - mean) / |mean|, or
    the absolute change in unit when the baseline mean is 0.
    status: "success"; "error" when an argument is wrong (message says which; no other
    key but error_type).
    """
    check_text(benchmark_name, "benchmark_name")
    measured = check_number(measured_value, "measured_value")
    mean = check_number(baseline_mean, "baseline_mean")
    stddev = check_number(baseline_stddev, "baseline_stddev")
    warning = check_number(warning_threshold, "warning_threshold")
    critical = check_number(critical_threshold, "critical_threshold")
    if not isinstance(higher_is_better, bool):
        raise TypeError(f"higher_is_better must be a bool, not {type(higher_is_better).__name__}")
    if not isinstance(unit, str):
        raise TypeError(f"unit must be a string, not {type(unit).__name__}")
    if stddev < 0:
        raise ValueError(f"baseline_stddev must be >= 0, got {stddev}")
    if not 0 <= warning <= critical:
        raise ValueError(
            "thresholds must satisfy 0 <= warning_threshold <= critical_threshold, got "
            f"warning_threshold={warning}, critical_threshold={critical}"
        )

    change = measured - mean
    worse_by = -change if higher_is_better else change  # > 0: worse
    noise_band = NOISE_SIGMAS * stddev
    z_score = change / stddev if stddev > 0 else None
    kind: Literal["relative", "absolute"] = "relative"
    if mean != 0:
        deviation = change / abs(mean)
        worse_fraction = worse_by / abs(mean)
    else:
        deviation, kind = change, "absolute"
        worse_fraction = math.copysign(math.inf, worse_by) if worse_by else 0.0
    check_finite(deviation=deviation, z_score=z_score, noise_band=noise_band)
    beyond_noise = abs(change) > noise_band

    severity: Severity = "info"
    if worse_by > 0 and beyond_noise:
        if worse_fraction >= critical:
            severity = "critical"
        elif worse_fraction >= warning:
            severity = "warning"

    spread = f" ± {stddev:g}" if stddev else ""
    head = f"{benchmark_name}: {measured:g} {unit} vs baseline {mean:g}{spread} {unit}"
    if kind == "absolute":
        head += f" (baseline mean is 0: absolute change {change:+g} {unit})"
    else:
        head += f" ({_percent(deviation)})"
    if z_score is not None:
        head += f", {z_score:+.2f} standard deviations"
    if severity != "info":
        limit = critical if severity == "critical" else warning
        verdict = (
            f"worse beyond the noise and at least the {severity} threshold "
            f"({limit * 100:g} %): {severity} regression"
        )
    elif change == 0:
        verdict = "unchanged"
    elif not beyond_noise:
        verdict = (
            f"within the baseline's noise (|change| <= {NOISE_SIGMAS:g} standard deviations "
            f"= {noise_band:g} {unit}): not a regression"
        )
    elif worse_by < 0:
        verdict = "better than the baseline: not a regression"
    else:
        verdict = f"worse, but under the warning threshold ({warning * 100:g} %): not a regression"
    return {
        "status": "success",
        "benchmark": benchmark_name,
        "is_regression": severity != "info",
        "severity": severity,
        "deviation": deviation,
        "deviation_kind": kind,
        "z_score": z_score,
        "noise_band": noise_band,
        "measured_value": measured,
        "baseline_mean": mean,
        "baseline_stddev": stddev,
        "higher_is_better": higher_is_better,
        "unit": unit,
        "message": f"{head}: {verdict}",
    }


@_answering_bad_input
def performance_compare_benchmarks(
    name: str, before: float, after: float, higher_is_better: bool = False
) -> ComparisonResult:
    """Compare two values of a benchmark: absolute and relative change, improved or not.

    relative_delta_pct is (after - before) / |before| * 100, null when before is 0 and
    after is not. Lower is better unless higher_is_better.
    status: "success"; "error" when an argument is wrong (message says which; no other
    key but error_type).
    """
    check_text(name, "name")
    first = check_number(before, "before")
    second = check_number(after, "after")
    if not isinstance(higher_is_better, bool):
        raise TypeError(f"higher_is_better must be a bool, not {type(higher_is_better).__name__}")
    delta = second - first
    relative: float | None
    relative = delta / abs(first) * 100.0 if first != 0 else 0.0 if delta == 0 else None
    check_finite(absolute_delta=delta, relative_delta_pct=relative)
    improved = delta > 0 if higher_is_better else delta < 0
    regressed = delta != 0 and not improved
    change = "unchanged" if delta == 0 else "improved" if improved else "regressed"
    shown = "relative change undefined (before is 0)" if relative is None else f"{relative:+.1f} %"
    return {
        "status": "success",
        "name": name,
        "before": first,
        "after": second,
        "absolute_delta": delta,
        "relative_delta_pct": relative,
        "improved": improved,
        "regressed": regressed,
        "higher_is_better": higher_is_better,
        "message": f"{name}: {first:g} -> {second:g} ({delta:+g}, {shown}): {change}",
    }
