"""Bad option values are usage errors when the session starts (exit 4, one ``ERROR:``
line), never a failure inside the first test that uses the ``benchmark`` fixture."""

from __future__ import annotations

import pytest

TEST = "def test_b(benchmark):\n    benchmark(lambda: None)\n"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--perf-otlp="], "--perf-otlp must be an http:// or https:// URL, got ''"),
        (
            ["--benchmark-storage=file://stored", "--benchmark-autosave"],
            "--benchmark-storage: not a directory: stored",
        ),
    ],
)
def test_a_bad_value_stops_the_session_before_any_test(
    pytester: pytest.Pytester, options: list[str], message: str
) -> None:
    pytester.makepyfile(test_b=TEST)
    (pytester.path / "stored").write_text("a file, not a directory")
    result = pytester.runpytest("-p", "no:cacheprovider", *options)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    assert result.errlines[0] == f"ERROR: {message}"
    assert (pytester.path / "stored").read_text() == "a file, not a directory"


def test_a_storage_that_is_a_file_is_ignored_until_a_run_is_saved_or_compared(
    pytester: pytest.Pytester,
) -> None:
    pytester.makepyfile(test_b=TEST)
    (pytester.path / "stored").write_text("a file, not a directory")
    result = pytester.runpytest("-p", "no:cacheprovider", "--benchmark-storage=file://stored")
    result.assert_outcomes(passed=1)
