"""Verdicts (interleaved and stored), minimum effects, Holm, and baseline files."""

from __future__ import annotations

import json
import math
import os
import time
from pathlib import Path
from typing import Any

import pytest

from codomyrmex.performance import BenchmarkResult, BenchmarkSuite, run_benchmark
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling import compare
from codomyrmex.performance.profiling.benchmark import BaselineError
from codomyrmex.performance.profiling.result import Comparison

PAIRS: dict[str, Any] = {"rounds": 10, "loops": 1, "warmup": 0}


def _sleeper(seconds: float) -> Any:
    def sleep() -> None:
        time.sleep(seconds)

    return sleep


def test_interleaved_flags_a_1_6x_slowdown() -> None:
    result = run_benchmark(_sleeper(0.0064), baseline=_sleeper(0.004), **PAIRS)
    c = result.comparison
    assert c is not None and c.mode == "interleaved" and c.test == "wilcoxon-signed-rank"
    assert c.verdict == "regression"
    assert 1.3 < c.ratio < 1.9 and c.ci_low <= c.ratio <= c.ci_high
    assert c.p_value < 0.05 and c.p_adjusted == c.p_value
    assert len(c.baseline_samples) == 10 and len(result.samples) == 10


def test_interleaved_identical_code_is_not_flagged() -> None:
    result = run_benchmark(_sleeper(0.003), baseline=_sleeper(0.003), **PAIRS)
    assert result.comparison.verdict != "regression"
    assert 0.9 < result.comparison.ratio < 1.1


def test_interleaved_speedup_is_an_improvement() -> None:
    result = run_benchmark(_sleeper(0.002), baseline=_sleeper(0.005), **PAIRS)
    assert result.comparison.verdict == "improvement"


def test_a_raising_interleaved_baseline_is_named_as_such() -> None:
    def old() -> None:
        raise RuntimeError("old code broke")

    def new() -> None:
        raise RuntimeError("new code broke")

    result = run_benchmark(_sleeper(0), baseline=old, **PAIRS)
    assert result.failed and result.error == "baseline: RuntimeError: old code broke"
    assert result.comparison is None
    result = run_benchmark(new, baseline=_sleeper(0), **PAIRS)
    assert result.error == "RuntimeError: new code broke"


def test_interleaved_suites_match_by_name_and_holm_adjusts() -> None:
    old, new = BenchmarkSuite("old"), BenchmarkSuite("new")
    for suite, slow in ((old, 0.002), (new, 0.0045)):
        suite.add(_sleeper(0.002), name="same")
        suite.add(_sleeper(slow), name="slower")
    run = run_benchmark(new, baseline=old, **PAIRS)
    assert run["slower"].verdict == "regression" and run["same"].verdict != "regression"
    for result in run:
        c = result.comparison
        assert c is not None and c.p_adjusted >= c.p_value
    assert run.regressions == [run["slower"]]


def _draft(p_value: float) -> Comparison:
    """A 1.5x slowdown, well past the minimum effect, with a given unadjusted p-value."""
    return Comparison(
        ratio=1.5, ci_low=1.4, ci_high=1.6, p_value=p_value, verdict="inconclusive",
        mode="interleaved", threshold=1.05, baseline_median=1e-3, candidate_median=1.5e-3,
    )  # fmt: skip


def test_decide_applies_holm_across_the_run() -> None:
    criteria = compare.Criteria()
    (alone,) = compare.decide([_draft(0.04)], criteria)
    assert alone is not None and alone.p_adjusted == 0.04 and alone.verdict == "regression"
    # Holm with m = 3: sorted 0.01, 0.03, 0.04 -> 0.03, max(0.03, 2 * 0.03), max(0.06, 0.04).
    decided = compare.decide([_draft(0.01), None, _draft(0.04), _draft(0.03)], criteria)
    first, missing, second, third = decided
    assert missing is None and first is not None and second is not None and third is not None
    assert [c.p_value for c in (first, second, third)] == [0.01, 0.04, 0.03]
    assert [c.p_adjusted for c in (first, second, third)] == pytest.approx([0.03, 0.06, 0.06])
    assert first.verdict == "regression"
    assert second.verdict == "inconclusive"  # significant alone, not after the correction
    assert third.verdict == "inconclusive"
    (capped,) = compare.decide([_draft(0.9), _draft(0.8)], criteria)[:1]
    assert capped is not None and capped.p_adjusted == 1.0


def _paired(ratio: float, n: int = 20) -> tuple[list[float], list[float]]:
    base = [1e-3 * (1 + 0.001 * i) for i in range(n)]
    return base, [b * ratio * (1 + (0.002 if i % 2 else -0.002)) for i, b in enumerate(base)]


def test_a_change_below_the_minimum_effect_is_never_a_regression() -> None:
    criteria = compare.Criteria()
    base, cand = _paired(1.04)
    (c,) = compare.decide([compare.interleaved(base, cand, criteria)], criteria)
    assert c is not None and c.p_adjusted < 0.001  # clearly real, but only 4 %
    assert c.verdict == "no_change"
    (c,) = compare.decide([compare.interleaved(*_paired(1.08), criteria)], criteria)
    assert c is not None and c.verdict == "regression"
    strict = compare.Criteria(min_effect=compare.parse_effect("10%"))
    (c,) = compare.decide([compare.interleaved(*_paired(1.08), strict)], strict)
    assert c is not None and c.verdict == "no_change"
    floor = compare.Criteria(min_effect_abs=compare.parse_duration("200us"))
    (c,) = compare.decide([compare.interleaved(*_paired(1.08), floor)], floor)
    assert c is not None and c.verdict != "regression"  # 80 µs slower: below the floor


def test_parsing_effects_and_durations() -> None:
    assert compare.parse_effect("2.5 %") == pytest.approx(0.025)
    assert compare.parse_effect(0.05) == 0.05
    assert compare.parse_duration("2us") == pytest.approx(2e-6)
    assert compare.parse_duration("1.5 ms") == pytest.approx(1.5e-3)
    for bad in ("fast", "-1%"):
        with pytest.raises(ValueError):
            compare.parse_effect(bad)
    with pytest.raises(ValueError):
        compare.parse_duration("1 hour")


def _result(samples: list[float], probes: list[float]) -> BenchmarkResult:
    return BenchmarkResult(
        "b", samples, 100, len(samples), groups=[0] * len(samples), probes=probes
    )


def test_stored_comparison_is_inconclusive_when_the_machine_changed_speed() -> None:
    # The same code measured in the fast and then the slow CPU mode (1.75x): the probes
    # moved as much as the benchmark, so the change is within the noise.
    base = _result([1.00e-3 + i * 1e-6 for i in range(10)], [1e-4] * 10)
    cand = _result([1.72e-3 + i * 1e-6 for i in range(10)], [1.75e-4] * 10)
    criteria = compare.Criteria()
    (c,) = compare.decide([compare.stored(base, cand, criteria)], criteria)
    assert c is not None and c.p_value < 0.001 and c.ratio > 1.7
    assert c.noise_floor == pytest.approx(1.75) and c.verdict == "inconclusive"
    steady = _result(cand.samples, [1e-4] * 10)
    (c,) = compare.decide([compare.stored(base, steady, criteria)], criteria)
    assert c is not None and c.verdict == "regression"


def test_stored_comparison_accounts_for_cpu_contention() -> None:
    # CPU-bound rounds that got half the CPU (other processes running) look 2x slower.
    base = _result([1.00e-3 + i * 1e-6 for i in range(10)], [1e-4] * 10)
    base.cpu_shares = [0.99] * 10
    cand = _result([1.95e-3 + i * 1e-6 for i in range(10)], [1e-4] * 10)
    cand.cpu_shares = [0.5] * 10
    criteria = compare.Criteria()
    (c,) = compare.decide([compare.stored(base, cand, criteria)], criteria)
    assert c is not None and c.noise_floor == pytest.approx(1.98) and c.verdict == "inconclusive"
    sleeping = _result(base.samples, [1e-4] * 10)
    sleeping.cpu_shares = [0.01] * 10  # waits, so contention does not stretch it
    cand.cpu_shares = [0.005] * 10
    (c,) = compare.decide([compare.stored(sleeping, cand, criteria)], criteria)
    assert c is not None and c.verdict == "regression"


def test_stored_baseline_file_round_trip_and_regression(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    suite = BenchmarkSuite("stored")
    suite.add(_sleeper(0.003), name="work")
    first = run_benchmark(suite, save_baseline=path, **PAIRS)
    assert first.baseline_saved == str(path)
    document = json.loads(path.read_text())
    assert document["schema_version"] == baselines.SCHEMA_VERSION
    assert document["fingerprint"]["cpu_count"] == os.cpu_count()
    assert {"python", "python_build", "platform", "cpu_model"} <= set(document["fingerprint"])
    assert document["package_version"]
    assert document["suites"]["stored"]["benchmarks"]["work"]["samples"] == first["work"].samples

    slower = BenchmarkSuite("stored")
    slower.add(_sleeper(0.009), name="work")
    run = run_benchmark(slower, baseline=str(path), **PAIRS)
    c = run["work"].comparison
    assert c is not None and c.mode == "stored" and c.test == "mann-whitney-u"
    assert c.verdict == "regression" and c.threshold >= 1.05

    again = run_benchmark(suite, baseline=first, **PAIRS)  # a previous result works too
    assert again["work"].verdict != "regression"


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        ("{not json", "not valid JSON"),
        ('{"schema": "other"}', "not a codomyrmex-performance benchmark baseline"),
        (json.dumps({"schema": baselines.SCHEMA, "schema_version": 99}), "schema version 99"),
        (json.dumps({"schema": baselines.SCHEMA, "schema_version": 1, "suites": 3}), "malformed"),
        (b"\xff\xfe\x00", "unreadable"),
    ],
)
def test_corrupt_baseline_names_the_file_and_is_left_untouched(
    tmp_path: Path, content: str | bytes, reason: str
) -> None:
    path = tmp_path / "corrupt.json"
    if isinstance(content, bytes):
        path.write_bytes(content)
    else:
        path.write_text(content)
    before = (path.read_bytes(), path.stat().st_mtime_ns)
    with pytest.raises(BaselineError, match=reason) as caught:
        run_benchmark(_sleeper(0), baseline=path, save_baseline=path, **PAIRS)
    assert str(path) in str(caught.value) and caught.value.path == str(path)
    assert isinstance(caught.value, ValueError)
    assert (path.read_bytes(), path.stat().st_mtime_ns) == before


def test_missing_baseline_file(tmp_path: Path) -> None:
    with pytest.raises(BaselineError, match="no such file"):
        run_benchmark(_sleeper(0), baseline=tmp_path / "absent.json")


def test_save_baseline_path_is_checked_before_running(tmp_path: Path) -> None:
    calls: list[None] = []
    suite = BenchmarkSuite("unsaved")
    suite.add(lambda: calls.append(None), name="work")
    missing = tmp_path / "nodir" / "b.json"
    with pytest.raises(FileNotFoundError, match="no such directory") as caught:
        run_benchmark(suite, save_baseline=missing, **PAIRS)
    assert caught.value.filename == str(missing)
    with pytest.raises(IsADirectoryError):
        run_benchmark(suite, save_baseline=tmp_path, **PAIRS)
    assert calls == []


def test_baseline_not_overwritten_when_a_benchmark_fails(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    path.write_text("previous")
    suite = BenchmarkSuite("failing")
    suite.add(_sleeper(0), name="ok")

    @suite.add
    def broken() -> None:
        raise RuntimeError("boom")

    with pytest.warns(RuntimeWarning, match="not written: broken failed"):
        run = run_benchmark(suite, save_baseline=path, **PAIRS)
    assert path.read_text() == "previous" and run.baseline_saved is None
    assert list(tmp_path.iterdir()) == [path]  # no temporary file left behind


def test_mismatched_fingerprint_warns(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    suite = BenchmarkSuite("machine")
    suite.add(_sleeper(0.001), name="work")
    run_benchmark(suite, save_baseline=path, **PAIRS)
    document = json.loads(path.read_text())
    document["fingerprint"]["cpu_model"] = "Imaginary CPU 9000"
    path.write_text(json.dumps(document))
    with pytest.warns(RuntimeWarning, match="Imaginary CPU 9000"):
        run = run_benchmark(suite, baseline=path, **PAIRS)
    assert any("different machine" in w for w in run.warnings)
    assert not math.isnan(run["work"].comparison.ratio)
