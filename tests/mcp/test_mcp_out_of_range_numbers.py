"""Numbers beyond a float answer ``"status": "error"``: an integer too large to convert,
or finite arguments whose change overflows (no OverflowError, no inf in a JSON answer)."""

from __future__ import annotations

import json

import pytest

from codomyrmex.performance.mcp.tools import (
    performance_check_regression,
    performance_compare_benchmarks,
)

HUGE = 10**400


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"measured_value": HUGE}, "measured_value must be a finite number, got a 1329-bit"),
        ({"baseline_mean": -HUGE}, "baseline_mean must be a finite number, got a 1329-bit"),
        ({"baseline_stddev": HUGE}, "baseline_stddev must be a finite number"),
        ({"warning_threshold": HUGE}, "warning_threshold must be a finite number"),
        ({"baseline_mean": 5e-324}, "the arguments are too far apart: deviation overflows"),
        ({"baseline_stddev": 1e308}, "the arguments are too far apart: noise_band overflows"),
        ({"measured_value": 1e308, "baseline_mean": -1e308}, "the arguments are too far apart"),
    ],
    ids=["huge-measured", "huge-mean", "huge-stddev", "huge-threshold", "tiny-mean",
         "huge-noise", "far-apart"],
)  # fmt: skip
def test_check_regression(arguments: dict[str, object], message: str) -> None:
    answer = performance_check_regression(
        **{"benchmark_name": "b", "measured_value": 1.0, "baseline_mean": 1.0, **arguments}
    )
    assert answer["status"] == "error"
    assert answer["message"].startswith(message)
    assert answer["error_type"] == "ValueError"
    json.dumps(answer, allow_nan=False)


@pytest.mark.parametrize(
    ("before", "after", "message"),
    [
        (HUGE, 2.0, "before must be a finite number, got a 1329-bit integer"),
        (1.0, HUGE, "after must be a finite number, got a 1329-bit integer"),
        (5e-324, 2.0, "the arguments are too far apart: relative_delta_pct overflows"),
        (-1e308, 1e308, "the arguments are too far apart: absolute_delta overflows"),
    ],
    ids=["huge-before", "huge-after", "tiny-before", "far-apart"],
)
def test_compare_benchmarks(before: float, after: float, message: str) -> None:
    answer = performance_compare_benchmarks("n", before, after)
    assert answer["status"] == "error"
    assert answer["message"].startswith(message)
    assert answer["error_type"] == "ValueError"
    json.dumps(answer, allow_nan=False)
