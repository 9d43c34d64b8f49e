"""A failed benchmark says why wherever it is reported: its result and the warning."""

from __future__ import annotations

from pathlib import Path

import pytest

from codomyrmex.performance import BenchmarkSuite, run_benchmark


def test_the_unwritten_baseline_warning_gives_each_failures_exception(tmp_path: Path) -> None:
    suite = BenchmarkSuite("parsing")

    @suite.add
    def parse_small() -> None:
        parse(SMALL)  # type: ignore[name-defined]  # noqa: F821 - the README mistake

    suite.add(lambda: int("x"), name="to_int")
    baseline = tmp_path / "baseline.json"
    with pytest.warns(RuntimeWarning) as caught:
        result = run_benchmark(suite, save_baseline=baseline, rounds=2, min_time=0.001)
    assert [r.error for r in result.results] == [
        "NameError: name 'parse' is not defined",
        "ValueError: invalid literal for int() with base 10: 'x'",
    ]
    (warning,) = [str(w.message) for w in caught if "not written" in str(w.message)]
    assert warning == (
        f"baseline {baseline} not written: parse_small, to_int failed (parse_small: "
        "NameError: name 'parse' is not defined; to_int: ValueError: invalid literal for "
        "int() with base 10: 'x')"
    )
    assert not baseline.exists()
