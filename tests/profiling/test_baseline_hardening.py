"""Corrupt baselines are a BaselineError naming the file; modes never compare as regressions."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from codomyrmex.performance import BenchmarkSuite, run_benchmark
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling.benchmark import BaselineError

QUICK: dict[str, Any] = {"rounds": 6, "loops": 1, "warmup": 0, "resamples": 200}


def _spinning() -> int:  # module level: worker processes import it
    return sum(range(int(os.environ.get("CODOMYRMEX_TEST_SPIN", "20000"))))


spin_suite = BenchmarkSuite("modes")
spin_suite.add(_spinning, name="spin")


def _saved(tmp_path: Path) -> dict[str, Any]:
    suite = BenchmarkSuite("corrupt")
    suite.add(lambda: time.sleep(0.0005), name="work")
    path = tmp_path / "good.json"
    run_benchmark(suite, save_baseline=path, **QUICK)
    document: dict[str, Any] = json.loads(path.read_text())
    return document


def _work(document: dict[str, Any]) -> dict[str, Any]:
    work: dict[str, Any] = document["suites"]["corrupt"]["benchmarks"]["work"]
    return work


def _deep(depth: int) -> str:
    return "[" * depth + "]" * depth


MUTATIONS: list[tuple[str, Callable[[dict[str, Any]], Any], str]] = [
    ("zero probe", lambda d: _work(d).update(probes=[0.0]), "probes"),
    ("infinite sample", lambda d: _work(d).update(samples=[float("inf")] * 6), "samples"),
    ("NaN sample", lambda d: _work(d).update(samples=[float("nan")] * 6), "samples"),
    ("negative sample", lambda d: _work(d).update(samples=[-1.0] * 6), "samples"),
    ("zero sample", lambda d: _work(d).update(samples=[0.0] * 6), "samples"),
    ("string sample", lambda d: _work(d).update(samples=["inf"] * 6), "samples"),
    ("boolean sample", lambda d: _work(d).update(samples=[True] * 6), "samples"),
    ("zero iterations", lambda d: _work(d).update(iterations=0), "iterations"),
    ("string iterations", lambda d: _work(d).update(iterations="10"), "iterations"),
    ("negative cpu share", lambda d: _work(d).update(cpu_shares=[-1.0]), "cpu_shares"),
    ("huge group", lambda d: _work(d).update(groups=[10**30] * 6), "groups"),
    ("warnings not text", lambda d: _work(d).update(warnings=[{}]), "warnings"),
    ("benchmarks a list", lambda d: d["suites"]["corrupt"].update(benchmarks=[]), "benchmarks"),
    ("fingerprint a list", lambda d: d.update(fingerprint=[1]), "fingerprint"),
]


@pytest.mark.parametrize(("_", "mutate", "reason"), MUTATIONS, ids=[m[0] for m in MUTATIONS])
def test_invalid_values_are_a_baseline_error_naming_the_file(
    tmp_path: Path, _: str, mutate: Callable[[dict[str, Any]], Any], reason: str
) -> None:
    document = _saved(tmp_path)
    mutate(document)
    path = tmp_path / "corrupt.json"
    path.write_text(json.dumps(document))
    before = path.read_bytes()
    with pytest.raises(BaselineError, match=reason) as caught:
        baselines.load(path)
    assert caught.value.path == str(path)
    assert path.read_bytes() == before


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (_deep(100_000), "nested"),
        ('{"schema": 1' + "0" * 5000 + "}", "number"),
    ],
    ids=["100k-deep", "5000-digit int"],
)
def test_hostile_json_is_a_baseline_error(tmp_path: Path, text: str, reason: str) -> None:
    path = tmp_path / "hostile.json"
    path.write_text(text)
    with pytest.raises(BaselineError, match=reason):
        baselines.load(path)


def test_a_two_million_sample_baseline_is_refused_quickly(tmp_path: Path) -> None:
    document = _saved(tmp_path)
    _work(document).update(samples=[0.001] * 2_000_000, groups=[0] * 2_000_000)
    path = tmp_path / "huge.json"
    path.write_text(json.dumps(document))
    suite = BenchmarkSuite("corrupt")
    suite.add(lambda: None, name="work")
    started = time.perf_counter()
    with pytest.raises(BaselineError, match="samples"):
        run_benchmark(suite, baseline=path, **QUICK)
    assert time.perf_counter() - started < 10


def test_a_valid_baseline_still_loads(tmp_path: Path) -> None:
    document = _saved(tmp_path)
    path = tmp_path / "good.json"
    (suite,) = baselines.load(path)
    assert suite["work"].samples == _work(document)["samples"]


@pytest.mark.parametrize(
    ("saved_with", "compared_with", "named"),
    [
        ({"processes": 1}, {"processes": 0}, "in-process"),
        ({"timer": "cpu"}, {"timer": "wall"}, "wall"),
    ],
    ids=["workers vs in-process", "cpu vs wall timer"],
)
def test_a_baseline_of_another_measurement_mode_is_never_a_regression(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    saved_with: dict[str, Any],
    compared_with: dict[str, Any],
    named: str,
) -> None:
    path = tmp_path / "base.json"
    monkeypatch.setenv("CODOMYRMEX_TEST_SPIN", "20000")
    saved = run_benchmark(spin_suite, save_baseline=path, **QUICK, **saved_with)
    assert not saved.failures, [r.error for r in saved.results]
    assert json.loads(path.read_text())["fingerprint"]["measurement"]
    monkeypatch.setenv("CODOMYRMEX_TEST_SPIN", "80000")  # four times slower
    run = run_benchmark(spin_suite, baseline=path, **QUICK, **compared_with)
    comparison = run["spin"].comparison
    assert comparison is not None and comparison.verdict == "inconclusive"
    assert any("measurement" in w and named in w for w in comparison.warnings)
    same_mode = run_benchmark(spin_suite, baseline=path, **QUICK, **saved_with)
    assert same_mode["spin"].verdict == "regression"


def test_a_stored_baseline_and_an_interleaved_source_are_not_combined(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    run_benchmark(spin_suite, save_baseline=path, **QUICK)
    with pytest.raises(ValueError, match="baseline_source"):
        run_benchmark(spin_suite, baseline=path, baseline_source=[tmp_path], **QUICK)
