"""profile=DIR: pstats and speedscope files, top functions, the differential profile."""

from __future__ import annotations

import json
import os
import pstats
import sys
from pathlib import Path
from typing import Any

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from codomyrmex.performance import BenchmarkSuite, run_benchmark, semconv
from codomyrmex.performance.profiling import baseline as baselines
from codomyrmex.performance.profiling.benchmark import BaselineError
from codomyrmex.performance.profiling.profiles import (
    MIN_SECONDS,
    FunctionStat,
    Profile,
    diff,
    file_stem,
)

QUICK: dict[str, Any] = {"rounds": 10, "warmup": 0, "min_time": 0.002, "resamples": 500}


def work() -> int:
    return sum(i * i for i in range(3000))


def slow_helper() -> int:
    total = 0
    for i in range(10_000):  # about three times work()
        total += i % 7
    return total


def candidate() -> None:
    work()
    slow_helper()


def light() -> int:
    return sum(i * i for i in range(300))


def light_then_slow() -> None:  # so slow that even a loaded machine's noise cannot hide it
    light()
    slow_helper()


def assert_speedscope(path: str | None) -> None:
    """The flame graph parses as speedscope's file format (the parts its viewer reads)."""
    assert path is not None and path.endswith(".speedscope.json")
    document = json.loads(Path(path).read_text())
    assert document["$schema"] == "https://www.speedscope.app/file-format-schema.json"
    frames = document["shared"]["frames"]
    assert frames and all(isinstance(frame["name"], str) for frame in frames)
    (profile,) = document["profiles"]
    assert profile["type"] in ("evented", "sampled") and profile["unit"] == "seconds"
    if profile["type"] == "evented":
        assert profile["events"] and all(0 <= e["frame"] < len(frames) for e in profile["events"])
    assert any(frame["name"] == "slow_helper" for frame in frames)


def test_interleaved_regression_names_the_function_that_grew(
    tmp_path: Path, spans: InMemorySpanExporter
) -> None:
    result = run_benchmark(candidate, baseline=work, profile=tmp_path, **QUICK)
    comparison = result.comparison
    assert comparison is not None and comparison.verdict == "regression"
    profile = result.profile
    assert profile is not None and profile.calls >= result.iterations
    assert profile.seconds >= MIN_SECONDS
    assert profile.top[0].name == "slow_helper" and profile.top[0].calls == 1.0
    assert profile.top[0].where == f"{Path(__file__).name}:{slow_helper.__code__.co_firstlineno}"
    assert comparison.baseline_profile is not None
    assert "slow_helper" not in {f.name for f in comparison.baseline_profile.functions}
    grown = comparison.profile_diff
    assert grown is not None and grown.top is not None
    assert grown.top.name == "slow_helper"
    assert grown.top.own_before == 0 and grown.top.own_delta == grown.top.own_after > 0
    assert grown.by_cumulative[0].name == "candidate"  # the benchmark itself grew most overall
    stem = "candidate.candidate"
    assert sorted(os.listdir(tmp_path)) == sorted(
        f"{stem}{side}.{kind}"
        for side in ("", ".baseline")
        for kind in ("pstats", "speedscope.json")
    )
    assert profile.pstats == str(tmp_path / f"{stem}.pstats")
    loaded = pstats.Stats(profile.pstats)
    assert any(name == "slow_helper" for (_, _, name) in loaded.stats)  # type: ignore[attr-defined]
    pstats.Stats(str(tmp_path / f"{stem}.baseline.pstats"))
    assert_speedscope(profile.flamegraph)
    document = result.to_dict()
    assert document["profile"]["functions"][0]["name"] == "slow_helper"
    assert document["comparison"]["profile_diff"]["by_own"][0]["name"] == "slow_helper"
    json.dumps(document, allow_nan=False)
    (child,) = [s for s in spans.get_finished_spans() if s.name == f"benchmark {stem}"]
    attributes = child.attributes or {}
    assert attributes[semconv.BENCHMARK_PROFILE_FILE] == profile.pstats
    assert attributes[semconv.BENCHMARK_PROFILE_FLAMEGRAPH] == profile.flamegraph
    assert attributes[semconv.BENCHMARK_PROFILE_TOP_REGRESSED] == (
        f"slow_helper ({grown.top.where})"
    )
    assert attributes[semconv.BENCHMARK_PROFILE_TOP_REGRESSED_DELTA] == grown.top.own_delta


def test_no_differential_profile_without_a_regression(tmp_path: Path) -> None:
    result = run_benchmark(work, baseline=candidate, profile=True, **QUICK)
    comparison = result.comparison
    assert comparison is not None and comparison.verdict == "improvement"
    assert comparison.profile_diff is None and comparison.baseline_profile is not None
    assert result.profile is not None and result.profile.pstats is None
    assert os.listdir(tmp_path) == []


def test_stored_baseline_keeps_the_profile_and_a_regression_diffs_against_it(
    tmp_path: Path,
) -> None:
    path = tmp_path / "base.json"
    before, after = BenchmarkSuite("stored-profile"), BenchmarkSuite("stored-profile")
    before.add(light, name="parse")
    after.add(light_then_slow, name="parse")
    run_benchmark(before, save_baseline=path, profile=True, **QUICK)
    saved = json.loads(path.read_text())["suites"]["stored-profile"]["benchmarks"]["parse"]
    assert saved["profile"]["functions"] and saved["profile"]["pstats"] is None
    (stored,) = baselines.load(path)
    assert stored["parse"].profile is not None
    run = run_benchmark(after, baseline=path, profile=tmp_path / "profiles", **QUICK)
    comparison = run["parse"].comparison
    assert comparison is not None and comparison.verdict == "regression"
    assert comparison.mode == "stored"
    assert comparison.profile_diff is not None and comparison.profile_diff.top is not None
    assert comparison.profile_diff.top.name == "slow_helper"
    assert sorted(os.listdir(tmp_path / "profiles")) == [
        "stored-profile.parse.pstats",
        "stored-profile.parse.speedscope.json",
    ]
    plain = run_benchmark(after, baseline=path, **QUICK)  # no profile asked: no diff
    assert plain["parse"].profile is None and plain["parse"].comparison.profile_diff is None


def test_a_corrupt_profile_in_a_baseline_is_a_baseline_error(tmp_path: Path) -> None:
    path = tmp_path / "base.json"
    suite = BenchmarkSuite("corrupt-profile")
    suite.add(work, name="parse")
    run_benchmark(suite, save_baseline=path, profile=True, **QUICK)
    document = json.loads(path.read_text())
    benchmark = document["suites"]["corrupt-profile"]["benchmarks"]["parse"]
    benchmark["profile"]["functions"][0]["own"] = float("nan")
    path.write_text(json.dumps(document))
    with pytest.raises(BaselineError, match="profile own time"):
        baselines.load(path)


seen: list[bool] = []


def spy() -> int:
    seen.append(sys.getprofile() is not None)
    return sum(range(200))


def test_profiling_never_runs_during_the_timed_rounds(tmp_path: Path) -> None:
    seen.clear()
    result = run_benchmark(spy, profile=tmp_path, memory=True, **QUICK)
    assert result.profile is not None and result.profile.calls > 0
    first_profiled = seen.index(True)
    assert not any(seen[:first_profiled]) and all(seen[first_profiled:])
    assert first_profiled >= result.rounds * result.iterations
    assert len(seen) - first_profiled > result.profile.calls  # cProfile, then sampling


def test_profiling_one_side_of_identical_code_changes_no_verdict(tmp_path: Path) -> None:
    result = run_benchmark(work, baseline=work, profile=tmp_path, **{**QUICK, "rounds": 16})
    comparison = result.comparison
    assert comparison is not None and comparison.verdict != "regression"
    # Within the 5 % minimum effect (a 95 % CI of identical code misses 1.0 one run in 20).
    assert 0.95 <= comparison.ratio <= 1.05, comparison


def test_worker_processes_profile_in_the_worker(tmp_path: Path) -> None:
    suite = BenchmarkSuite("in-workers")
    suite.add(candidate, name="candidate")
    run = run_benchmark(suite, processes=2, profile=tmp_path, **{**QUICK, "rounds": 4})
    (result,) = run.results
    assert not result.failed, result.error
    assert result.groups == [0, 0, 1, 1] and result.profile is not None
    assert result.profile.top[0].name == "slow_helper"
    assert result.profile.top[0].file.endswith("test_profiles.py")
    pstats.Stats(result.profile.pstats)
    assert_speedscope(result.profile.flamegraph)


def test_a_bad_profile_directory_fails_before_anything_runs(
    tmp_path: Path, immutable: Path
) -> None:
    calls: list[None] = []

    def counted() -> None:
        calls.append(None)

    file = tmp_path / "a_file"
    file.write_text("keep")
    for directory, error in (
        (file, NotADirectoryError),
        (tmp_path / "missing" / "profiles", FileNotFoundError),
        (immutable, PermissionError),
    ):
        with pytest.raises(error) as caught:
            run_benchmark(counted, profile=directory, **QUICK)
        assert caught.value.filename == str(directory)
    with pytest.raises(TypeError, match="profile"):
        run_benchmark(counted, profile=3, **QUICK)
    assert calls == [] and file.read_text() == "keep"
    assert not (tmp_path / "missing").exists() and os.listdir(immutable) == []


def _function(name: str, file: str, line: int, own: float, cumulative: float) -> FunctionStat:
    return FunctionStat(name, file, line, 1.0, own, cumulative)


def test_diff_matches_functions_by_file_and_name_across_lines() -> None:
    before = Profile(100, 0.1, (
        _function("parse", "pkg/parse.py", 10, 2e-6, 9e-6),
        _function("__init__", "pkg/parse.py", 3, 1e-6, 1e-6),
        _function("__init__", "pkg/parse.py", 30, 1e-6, 1e-6),
        _function("gone", "pkg/old.py", 1, 1e-6, 1e-6),
    ))  # fmt: skip
    after = Profile(100, 0.1, (
        _function("parse", "pkg/parse.py", 14, 5e-6, 13e-6),  # moved 4 lines down
        _function("__init__", "pkg/parse.py", 7, 1e-6, 1e-6),
        _function("__init__", "pkg/parse.py", 34, 4e-6, 4e-6),
        _function("new", "pkg/new.py", 1, 0.5e-6, 0.5e-6),
    ))  # fmt: skip
    changes = diff(before, after)
    assert [(d.name, d.line) for d in changes.by_own] == [
        ("parse", 14),
        ("__init__", 34),
        ("new", 1),
    ]
    top = changes.top
    assert top is not None and top.own_before == 2e-6 and top.own_after == 5e-6
    assert top.to_dict()["own_delta"] == pytest.approx(3e-6)
    assert [d.name for d in changes.by_cumulative] == ["parse", "__init__", "new"]
    assert diff(after, after).top is None


def test_profile_file_names_are_safe() -> None:
    assert file_stem("parsing", "small") == "parsing.small"
    assert file_stem("parsing", "small", "baseline") == "parsing.small.baseline"
    odd = file_stem("../etc", "a/b c")
    assert "/" not in odd and " " not in odd and not odd.startswith(".")
    assert odd != file_stem("../etc", "a_b c")  # a hash keeps changed names apart


def test_a_baseline_without_profile_says_no_differential_profile_can_follow(
    tmp_path: Path,
) -> None:
    path = tmp_path / "base.json"
    suite = BenchmarkSuite("unprofiled")
    suite.add(light, name="parse")
    run_benchmark(suite, save_baseline=path, **QUICK)
    run = run_benchmark(suite, baseline=path, profile=True, **QUICK)
    assert any("baseline has no profile" in w for w in run.warnings)
    assert run["parse"].comparison is not None
    assert run["parse"].comparison.baseline_profile is None


def test_a_benchmark_that_fails_only_while_profiled_keeps_its_timings(tmp_path: Path) -> None:
    def fragile() -> None:
        if sys.getprofile() is not None:
            raise RuntimeError("cannot stand a profiler")

    result = run_benchmark(fragile, profile=tmp_path, **QUICK)
    assert not result.failed and len(result.samples) == QUICK["rounds"]
    assert result.profile is None
    assert "not profiled: RuntimeError: cannot stand a profiler" in result.warnings
    assert os.listdir(tmp_path) == []
