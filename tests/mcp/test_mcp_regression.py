"""performance_check_regression and performance_compare_benchmarks as plain functions.

Both keep the contract of the codomyrmex tools they replace: ``"status": "success"``, and
bad input answered as ``{"status": "error", "message": ...}`` (plus ``error_type``),
never raised.
"""

from __future__ import annotations

import math

import pytest

from codomyrmex.performance.mcp.tools import (
    NOISE_SIGMAS,
    performance_check_regression,
    performance_compare_benchmarks,
)

KEYS = {"status", "benchmark", "is_regression", "severity", "deviation", "message"}


def check(measured: float, mean: float, stddev: float = 0.0, **options: object) -> dict:
    return dict(performance_check_regression("parse", measured, mean, stddev, **options))


@pytest.mark.parametrize(
    ("measured", "severity", "deviation"),
    [
        (100.0, "info", 0.0),
        (105.0, "info", 0.05),  # worse, under the 10 % warning threshold
        (110.0, "warning", 0.10),  # thresholds are inclusive
        (124.0, "warning", 0.24),
        (125.0, "critical", 0.25),
        (300.0, "critical", 2.0),
        (50.0, "info", -0.5),  # faster: never a regression
    ],
)
def test_lower_is_better_without_noise(measured: float, severity: str, deviation: float) -> None:
    result = check(measured, 100.0)
    assert result.keys() >= KEYS
    assert result["status"] == "success"
    assert result["benchmark"] == "parse"
    assert result["severity"] == severity
    assert result["is_regression"] is (severity != "info")
    assert result["deviation"] == pytest.approx(deviation)
    assert result["deviation_kind"] == "relative"
    assert result["z_score"] is None
    assert result["noise_band"] == 0.0


def test_the_existing_tools_parameters_and_keys() -> None:
    result = performance_check_regression(
        benchmark_name="api.latency",
        measured_value=130.0,
        baseline_mean=100.0,
        baseline_stddev=5.0,
        warning_threshold=0.10,
        critical_threshold=0.25,
        higher_is_better=False,
        unit="ms",
    )
    assert result["severity"] == "critical"
    assert result["unit"] == "ms"
    assert "api.latency" in result["message"]
    assert "130 ms" in result["message"]
    assert "critical regression" in result["message"]


def test_a_change_within_the_noise_is_not_a_regression() -> None:
    # +30 % is past the critical threshold, but the baseline varies by 20 per run:
    # 30 < 2 * 20, so the measurement is within the noise.
    result = check(130.0, 100.0, 20.0)
    assert NOISE_SIGMAS == 2.0
    assert result["is_regression"] is False
    assert result["severity"] == "info"
    assert result["deviation"] == pytest.approx(0.30)
    assert result["z_score"] == pytest.approx(1.5)
    assert result["noise_band"] == pytest.approx(40.0)
    assert "within the baseline's noise" in result["message"]


def test_just_beyond_the_noise_it_is() -> None:
    inside = check(140.0, 100.0, 20.0)  # exactly 2 standard deviations: still noise
    beyond = check(140.5, 100.0, 20.0)
    assert inside["is_regression"] is False
    assert beyond["is_regression"] is True
    assert beyond["severity"] == "critical"
    assert beyond["z_score"] == pytest.approx(2.025)


def test_beyond_the_noise_but_under_the_threshold_is_not_a_regression() -> None:
    result = check(105.0, 100.0, 1.0)  # 5 standard deviations, but only 5 %
    assert result["is_regression"] is False
    assert "under the warning threshold" in result["message"]


def test_higher_is_better_turns_the_direction() -> None:
    slower = check(70.0, 100.0, 5.0, higher_is_better=True)  # throughput dropped 30 %
    faster = check(130.0, 100.0, 5.0, higher_is_better=True)
    assert slower["severity"] == "critical"
    assert slower["deviation"] == pytest.approx(-0.30)
    assert faster["is_regression"] is False
    assert "better than the baseline" in faster["message"]


def test_zero_baseline_uses_the_absolute_change() -> None:
    result = check(5.0, 0.0, unit="ms")
    assert result["deviation_kind"] == "absolute"
    assert result["deviation"] == 5.0
    assert result["severity"] == "critical"
    assert "baseline mean is 0" in result["message"]
    assert "+5 ms" in result["message"]


def test_zero_baseline_unchanged_better_and_noisy() -> None:
    assert check(0.0, 0.0)["severity"] == "info"
    assert check(0.0, 0.0)["deviation"] == 0.0
    assert check(-1.0, 0.0)["is_regression"] is False
    noisy = check(1.0, 0.0, 1.0)  # within 2 standard deviations of a zero mean
    assert noisy["is_regression"] is False
    assert noisy["z_score"] == pytest.approx(1.0)
    assert check(3.0, 0.0, 1.0)["severity"] == "critical"
    assert check(0.0, 0.0, higher_is_better=True)["is_regression"] is False
    assert check(-3.0, 0.0, higher_is_better=True)["severity"] == "critical"


def test_negative_baseline_mean_is_relative_to_its_magnitude() -> None:
    result = check(-80.0, -100.0)  # went up by 20 % of |mean|
    assert result["deviation"] == pytest.approx(0.20)
    assert result["severity"] == "warning"


@pytest.mark.parametrize(
    ("kwargs", "error", "text"),
    [
        ({"baseline_stddev": -1.0}, ValueError, "baseline_stddev must be >= 0"),
        ({"warning_threshold": 0.5}, ValueError, "warning_threshold <= critical_threshold"),
        ({"warning_threshold": -0.1}, ValueError, "0 <= warning_threshold"),
        ({"measured_value": math.nan}, ValueError, "measured_value must be a finite number"),
        ({"baseline_mean": math.inf}, ValueError, "baseline_mean must be a finite number"),
        ({"measured_value": "fast"}, TypeError, "measured_value must be a number"),
        ({"measured_value": True}, TypeError, "measured_value must be a number"),
        ({"benchmark_name": ""}, ValueError, "benchmark_name must not be empty"),
        ({"higher_is_better": "yes"}, TypeError, "higher_is_better must be a bool"),
        ({"unit": 3}, TypeError, "unit must be a string"),
    ],
)
def test_bad_arguments_are_error_answers(kwargs: dict, error: type, text: str) -> None:
    arguments = {"benchmark_name": "b", "measured_value": 1.0, "baseline_mean": 1.0, **kwargs}
    answer = performance_check_regression(**arguments)
    assert answer.keys() == {"status", "message", "error_type"}
    assert answer["status"] == "error"
    assert text in answer["message"]
    assert answer["error_type"] == error.__name__


def test_a_missing_argument_is_an_error_answer_too() -> None:
    answer = performance_check_regression("b", 1.0)  # type: ignore[call-arg]
    assert answer["status"] == "error" and "baseline_mean" in answer["message"]
    assert answer["error_type"] == "TypeError"


def test_compare_slower_is_a_regression() -> None:
    result = performance_compare_benchmarks("parse", 10.0, 12.0)
    assert result == {
        "status": "success",
        "name": "parse",
        "before": 10.0,
        "after": 12.0,
        "absolute_delta": 2.0,
        "relative_delta_pct": pytest.approx(20.0),
        "improved": False,
        "regressed": True,
        "higher_is_better": False,
        "message": "parse: 10 -> 12 (+2, +20.0 %): regressed",
    }


def test_compare_higher_is_better() -> None:
    result = performance_compare_benchmarks("ops", 200.0, 150.0, higher_is_better=True)
    assert result["relative_delta_pct"] == pytest.approx(-25.0)
    assert result["improved"] is False
    assert result["regressed"] is True
    faster = performance_compare_benchmarks("ops", 200.0, 250.0, higher_is_better=True)
    assert faster["improved"] is True


def test_compare_from_zero() -> None:
    result = performance_compare_benchmarks("errors", 0.0, 3.0)
    assert result["relative_delta_pct"] is None
    assert result["absolute_delta"] == 3.0
    assert result["regressed"] is True
    assert "relative change undefined (before is 0)" in result["message"]
    same = performance_compare_benchmarks("errors", 0.0, 0.0)
    assert same["relative_delta_pct"] == 0.0
    assert same["improved"] is same["regressed"] is False
    assert same["message"].endswith("unchanged")


@pytest.mark.parametrize(
    ("arguments", "error", "message"),
    [
        (("x", 1.0, math.inf), "ValueError", "after must be a finite number, got inf"),
        (("x", None, 1.0), "TypeError", "before must be a number, not NoneType"),
        ((" ", 1.0, 1.0), "ValueError", "name must not be empty"),
        (("x", 1.0, 2.0, "yes"), "TypeError", "higher_is_better must be a bool, not str"),
    ],
)
def test_compare_answers_bad_values(arguments: tuple, error: str, message: str) -> None:
    answer = performance_compare_benchmarks(*arguments)
    assert answer == {"status": "error", "message": message, "error_type": error}
